/**
 * The paper fill model (the reference's paper fill model), shared by the backtester and the paper exchange:
 * - a buy limit can fill when the ask is at or below it, a sell limit when the bid is at or above it;
 * - a crossable limit fills in a given interval with `fillProbability`;
 * - the filled quantity is capped by a participation rate of the interval's volume,
 *   and with `partialFillProbability` only part of what could fill does;
 * - the price is the touch plus normal noise (sigma `slippageStd`), on the tick grid,
 *   never worse than the limit;
 * - fees follow the prediction-market convention coefficient × qty × p × (1 − p), rounded up to a cent;
 *   with `feeSchedule: 'KALSHI'` (the `KALSHI_FILL_MODEL` preset) they follow Kalshi's schedule and
 *   rounding instead (domain/fees.ts): centicent trade fee, balance rounding, order accumulator.
 */
import { InvalidInput, type FieldProblem } from './errors';
import { MICROS, type Money, type Price, type Quantity, roundToTick } from './money';
import type { Side } from './market';
import { normal, type RandomSource } from './random';
import { kalshiFillFee, KALSHI_TAKER_RATE_PPM } from './fees';

export interface FillModelParams {
  /** Chance that a crossable limit order fills in one interval (case study: 0.8, later 0.7). */
  fillProbability: number;
  /** Chance that a fill is only part of what could fill (case study: 0.2). */
  partialFillProbability: number;
  /** Largest share of the interval's volume one order may take (the reference's paper fill model: 5-20%). */
  participationRate: number;
  /** Standard deviation of price noise, in micros (case study: 0.2 cents = 2000, later 0.5 cents). */
  slippageStd: number;
  /** Fee coefficient in parts per million of qty × p × (1 − p); 0 for no fees. */
  feeCoefficientPpm: number;
  /**
   * Absent: the convention above. 'KALSHI': Kalshi's fee rounding (domain/fees.ts) at
   * `feeCoefficientPpm` as the rate, with the order's accumulator carried in `WorkingOrder.feeAccumulator`.
   */
  feeSchedule?: 'KALSHI';
}

export const CASE_STUDY_FILL_MODEL: FillModelParams = {
  fillProbability: 0.8,
  partialFillProbability: 0.2,
  participationRate: 0.2,
  slippageStd: 2_000,
  feeCoefficientPpm: 0,
};

/** The case study's fills with Kalshi's taker fees and their rounding (a non-direct member's $0.01 balances). */
export const KALSHI_FILL_MODEL: FillModelParams = {
  ...CASE_STUDY_FILL_MODEL,
  feeCoefficientPpm: KALSHI_TAKER_RATE_PPM,
  feeSchedule: 'KALSHI',
};

export function validateFillModelParams(p: FillModelParams): FillModelParams {
  const problems: FieldProblem[] = [];
  const unit = (field: keyof FillModelParams) => {
    const v = p[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) problems.push({ field, value: v, problem: 'must be between 0 and 1' });
  };
  unit('fillProbability');
  unit('partialFillProbability');
  unit('participationRate');
  if (!Number.isSafeInteger(p.slippageStd) || p.slippageStd < 0) {
    problems.push({ field: 'slippageStd', value: p.slippageStd, problem: 'must be a non-negative integer number of micros' });
  }
  if (!Number.isSafeInteger(p.feeCoefficientPpm) || p.feeCoefficientPpm < 0 || p.feeCoefficientPpm > MICROS) {
    problems.push({ field: 'feeCoefficientPpm', value: p.feeCoefficientPpm, problem: 'must be an integer between 0 and 1000000' });
  }
  if (p.feeSchedule !== undefined && p.feeSchedule !== 'KALSHI') problems.push({ field: 'feeSchedule', value: p.feeSchedule, problem: 'must be KALSHI or absent' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return p;
}

export interface WorkingOrder {
  side: Side;
  /** Null for a market order. */
  limitPrice: Price | null;
  remaining: Quantity;
  /** Kalshi fee schedule only: the order's rounding accumulator before this fill (absent: 0). */
  feeAccumulator?: Money;
}

export interface TouchQuote {
  bid: Price | null;
  ask: Price | null;
  intervalVolume: Quantity;
}

export interface SimulatedFill {
  quantity: Quantity;
  price: Price;
  fee: Money;
  /** Kalshi fee schedule only: the order's rounding accumulator after this fill. */
  feeAccumulator?: Money;
}

export function isCrossable(order: WorkingOrder, quote: TouchQuote): boolean {
  const touch = order.side === 'BUY' ? quote.ask : quote.bid;
  if (touch === null) return false;
  if (order.limitPrice === null) return true;
  return order.side === 'BUY' ? touch <= order.limitPrice : touch >= order.limitPrice;
}

/** Prediction-market fee: ceil to a cent of coefficient × qty × p × (1 − p). */
export function predictionMarketFee(coefficientPpm: number, qty: number, p: number): Money {
  if (coefficientPpm === 0 || qty === 0) return 0 as Money;
  const raw = BigInt(coefficientPpm) * BigInt(qty) * BigInt(p) * BigInt(MICROS - p);
  const cent = BigInt(MICROS / 100) * BigInt(MICROS) * BigInt(MICROS);
  const cents = (raw + cent - 1n) / cent;
  return Number(cents * BigInt(MICROS / 100)) as Money;
}

/** One interval of the fill model for one working order; null when nothing fills. */
export function simulateFill(
  order: WorkingOrder,
  quote: TouchQuote,
  params: FillModelParams,
  tickSize: number,
  rng: RandomSource,
): SimulatedFill | null {
  if (order.remaining <= 0 || !isCrossable(order, quote)) return null;
  if (order.limitPrice !== null && rng.next() >= params.fillProbability) return null;

  let qty = Math.min(order.remaining, Math.floor(params.participationRate * quote.intervalVolume));
  if (qty <= 0) return null;
  if (qty > 1 && rng.next() < params.partialFillProbability) qty = 1 + Math.floor(rng.next() * (qty - 1));

  const touch = (order.side === 'BUY' ? quote.ask : quote.bid) as number;
  let p = roundToTick(Math.round(touch + normal(rng) * params.slippageStd), tickSize, 'nearest');
  if (order.limitPrice !== null) p = order.side === 'BUY' ? Math.min(p, order.limitPrice) : Math.max(p, order.limitPrice);
  p = Math.min(Math.max(p, tickSize), MICROS - tickSize);

  if (params.feeSchedule === 'KALSHI') {
    const fee = kalshiFillFee({ side: order.side, quantity: qty, price: p as Price, ratePpm: params.feeCoefficientPpm }, order.feeAccumulator ?? (0 as Money));
    return { quantity: qty as Quantity, price: p as Price, fee: fee.netFee, feeAccumulator: fee.accumulator };
  }
  return { quantity: qty as Quantity, price: p as Price, fee: predictionMarketFee(params.feeCoefficientPpm, qty, p) };
}

/** Simulated venue latency in ms: log-normal, mean about `meanMs` (the reference's paper fill model). */
export function sampleLatencyMs(rng: RandomSource, meanMs: number, sigma = 0.5): number {
  const mu = Math.log(meanMs) - (sigma * sigma) / 2;
  return Math.exp(mu + sigma * normal(rng));
}
