/**
 * Kalshi's trading fees and their rounding, exact in integers (no binary floats).
 *
 * Fee model (Kalshi's published schedule, as the fee guides quote it): a fill of C contracts at
 * price P (dollars) costs rate × C × P × (1 − P), rate 0.07 for a taker and 0.0175 for a maker on
 * the markets that charge makers (a series names its own schedule; both rates are parameters).
 *
 * Rounding, per https://docs.kalshi.com/getting_started/fee_rounding ("Fee Rounding") and the
 * 6-decimal intermediates of https://docs.kalshi.com/getting_started/fixed_point_migration:
 *  1. the trade fee is rounded UP to the nearest $0.0001 (centicent), per fill;
 *  2. balance_change = revenue − trade_fee (revenue signed, negative for a buyer);
 *  3. the balance moves by balance_change floored toward −∞ to the member's balance precision
 *     ($0.01 for non-direct members, $0.0001 for direct members);
 *  4. rounding_fee = balance_change − floor(balance_change);
 *  5. an order-level fee accumulator sums the rounding fees of all the order's fills (taker and
 *     maker alike); once it exceeds $0.01 a $0.01 rebate is paid and the accumulator drops by $0.01.
 *  Net fee of a fill = trade fee + rounding fee − rebate (the page says never negative; see below).
 * So the order's total fee is the sum of its fills' trade fees plus what is left in the
 * accumulator (between 0 and $0.01): the "order-level rounding" of the issue.
 *
 * Not confirmed by the pages: whether "exceeds" is strict at exactly $0.01 (taken as strict, as
 * written); the page's "net fee always >= $0.00", which the steps as written do not guarantee
 * when a fill with a tiny trade fee triggers the rebate (e.g. 0.01 contracts at $0.0001 then at
 * $0.01: the second fill's net fee is -$0.0001; kept as the steps compute it); and the fee-model figures in the worked examples (their trade fees are not
 * 0.07 × C × P × (1 − P); the tests take the examples' trade fees as given and check the rounding).
 *
 * Units: micros (1e-6 dollars) for every amount in and out; revenue and balance changes are taken
 * in 1e-8 dollars inside, which holds price (micros) × quantity (hundredths) exactly.
 */
import { InvalidInput } from './errors';
import { MICROS, quantityLots, type Money, type Price } from './money';
import type { Side } from './market';

/** Kalshi's taker rate, in parts per million (0.07). */
export const KALSHI_TAKER_RATE_PPM = 70_000;
/** Kalshi's maker rate where makers pay, in parts per million (0.0175). */
export const KALSHI_MAKER_RATE_PPM = 17_500;

/** A member's balance precision in micros: $0.01 for non-direct members, $0.0001 for direct members. */
export const BALANCE_PRECISION = { CENT: 10_000, CENTICENT: 100 } as const;

const CENTICENT_MICROS = 100n;
const REBATE_MICROS = 10_000n;
/** 1e-8 dollars per micro. */
const SUB = 100n;

function checkPrice(p: number): void {
  if (!Number.isSafeInteger(p) || p <= 0 || p >= MICROS) throw InvalidInput.of('price', p, 'must be integer micros inside (0, 1)');
}

function checkRate(ratePpm: number): void {
  if (!Number.isSafeInteger(ratePpm) || ratePpm < 0 || ratePpm > MICROS) throw InvalidInput.of('ratePpm', ratePpm, 'must be an integer between 0 and 1000000');
}

/** ceil(a / b) for a >= 0, b > 0. */
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
/** floor(a / b) toward −∞, b > 0. */
const floorDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** Trade fee of one fill: rate × C × P × (1 − P), rounded up to the centicent. Micros. */
export function kalshiTradeFee(ratePpm: number, quantity: number, price: Price): Money {
  checkRate(ratePpm);
  checkPrice(price);
  const lots = BigInt(quantityLots(quantity));
  if (lots < 0n) throw InvalidInput.of('quantity', quantity, 'must not be negative');
  // ppm × hundredths × micros × micros = 1e-20 dollars; a centicent is 1e16 of them.
  const raw = BigInt(ratePpm) * lots * BigInt(price) * BigInt(MICROS - price);
  return Number(ceilDiv(raw, 10n ** 16n) * CENTICENT_MICROS) as Money;
}

export interface KalshiFillFee {
  tradeFee: Money;
  roundingFee: Money;
  rebate: Money;
  /** tradeFee + roundingFee − rebate. */
  netFee: Money;
  /** floor(revenue − tradeFee) to the balance precision (before the rebate is credited). */
  balanceChange: Money;
  /** The order's accumulator after this fill (after any rebate). */
  accumulator: Money;
}

export interface KalshiFillInput {
  side: Side;
  quantity: number;
  price: Price;
  /** The fill's trade fee before rounding up to the centicent, in micros; default: `kalshiTradeFee(ratePpm, ...)`. */
  tradeFee?: Money;
  ratePpm?: number;
}

/**
 * One fill's fee components (steps 1-5 above), given the order's accumulator before it.
 * Rounding fees finer than a micro (a price off the $0.0001 grid with a fractional count) are
 * rounded up to the micro.
 */
export function kalshiFillFee(fill: KalshiFillInput, accumulatorBefore: Money, precision: number = BALANCE_PRECISION.CENT): KalshiFillFee {
  checkPrice(fill.price);
  if (precision !== BALANCE_PRECISION.CENT && precision !== BALANCE_PRECISION.CENTICENT) throw InvalidInput.of('precision', precision, 'must be 10000 ($0.01) or 100 ($0.0001) micros');
  if (!Number.isSafeInteger(accumulatorBefore) || accumulatorBefore < 0) throw InvalidInput.of('accumulator', accumulatorBefore, 'must be non-negative integer micros');
  const lots = BigInt(quantityLots(fill.quantity));
  if (lots <= 0n) throw InvalidInput.of('quantity', fill.quantity, 'must be positive');
  let tradeFee: bigint;
  if (fill.tradeFee !== undefined) {
    if (!Number.isSafeInteger(fill.tradeFee) || fill.tradeFee < 0) throw InvalidInput.of('tradeFee', fill.tradeFee, 'must be non-negative integer micros');
    tradeFee = ceilDiv(BigInt(fill.tradeFee), CENTICENT_MICROS) * CENTICENT_MICROS;
  } else {
    tradeFee = BigInt(kalshiTradeFee(fill.ratePpm ?? KALSHI_TAKER_RATE_PPM, fill.quantity, fill.price));
  }
  // price (micros) × hundredths = 1e-8 dollars.
  const notional = BigInt(fill.price) * lots;
  const revenue = fill.side === 'BUY' ? -notional : notional;
  const change = revenue - tradeFee * SUB;
  const step = BigInt(precision) * SUB;
  const floored = floorDiv(change, step) * step;
  const roundingFee = ceilDiv(change - floored, SUB);
  let accumulator = BigInt(accumulatorBefore) + roundingFee;
  let rebate = 0n;
  if (accumulator > REBATE_MICROS) {
    rebate = REBATE_MICROS;
    accumulator -= REBATE_MICROS;
  }
  return {
    tradeFee: Number(tradeFee) as Money,
    roundingFee: Number(roundingFee) as Money,
    rebate: Number(rebate) as Money,
    netFee: Number(tradeFee + roundingFee - rebate) as Money,
    balanceChange: Number(floored / SUB) as Money,
    accumulator: Number(accumulator) as Money,
  };
}

/** Every fill of one order, in order, with the accumulator carried from fill to fill; and the order's total fee. */
export function kalshiOrderFees(fills: readonly KalshiFillInput[], precision: number = BALANCE_PRECISION.CENT): { fills: KalshiFillFee[]; totalFee: Money } {
  let accumulator = 0 as Money;
  let total = 0;
  const out: KalshiFillFee[] = [];
  for (const f of fills) {
    const fee = kalshiFillFee(f, accumulator, precision);
    accumulator = fee.accumulator;
    total += fee.netFee;
    out.push(fee);
  }
  return { fills: out, totalFee: total as Money };
}
