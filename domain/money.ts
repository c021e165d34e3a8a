/**
 * Fixed-point money. Every price, cash amount, fee and P&L figure is an integer count of
 * micros (1e-6 of the account currency), held in a JS number and checked to stay a safe
 * integer. Binary floats never carry money; decimals enter and leave as strings.
 *
 * Prediction-market prices are micros per contract in the open interval (0, 1_000_000):
 * a contract pays 1.000000 if it resolves YES.
 *
 * Quantities are contracts with at most two decimal places: an order is sized in whole contracts
 * (`quantity`, `positiveQuantity`), but a venue may fill a fraction of one ("0.37", Kalshi's
 * `count_fp`), so fills, filled quantities and positions carry up to two decimals
 * (`contractQuantity`). A quantity is the JS number nearest its decimal; every sum or difference
 * is taken in integer hundredths of a contract ("lots", `addQuantity`/`subtractQuantity`), so the
 * result is again the number nearest the exact decimal and quantities compare exactly with ===.
 * The notional of a fractional quantity is price × lots / 100 in integer arithmetic: exact when
 * the price is a multiple of 100 micros (4-decimal dollars, as Kalshi prices are: a 4-decimal
 * price times a 2-decimal count needs 6 decimals, docs.kalshi.com/getting_started/fixed_point_migration),
 * otherwise rounded half away from zero to the micro. Whole-contract results are unchanged.
 */
import { ArithmeticOverflow, InvalidInput, type FieldProblem } from './errors';

export const MICROS = 1_000_000;
const DECIMALS = 6;

declare const moneyBrand: unique symbol;
declare const priceBrand: unique symbol;
declare const quantityBrand: unique symbol;

/** Signed amount of money in integer micros. */
export type Money = number & { readonly [moneyBrand]: true };
/** Price of one contract in integer micros. */
export type Price = number & { readonly [priceBrand]: true };
/** Contracts, at most two decimals (never negative; direction lives in the side). Orders are whole. */
export type Quantity = number & { readonly [quantityBrand]: true };

export const ZERO = 0 as Money;

function checkSafe(what: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new ArithmeticOverflow(what, value);
  return value;
}

/** Asserts an integer micros amount computed by integer arithmetic. */
export function money(micros: number, field = 'money'): Money {
  if (!Number.isSafeInteger(micros)) throw InvalidInput.of(field, micros, 'must be an integer number of micros');
  return micros as Money;
}

export function price(micros: number, field = 'price'): Price {
  if (!Number.isSafeInteger(micros)) throw InvalidInput.of(field, micros, 'must be an integer number of micros');
  if (micros <= 0 || micros >= MICROS) throw InvalidInput.of(field, formatDecimal(micros), 'must be inside (0, 1)');
  return micros as Price;
}

/** An order's size: whole contracts (strategies and sizing never order a fraction). */
export function quantity(contracts: number, field = 'quantity'): Quantity {
  if (!Number.isSafeInteger(contracts) || contracts < 0) {
    throw InvalidInput.of(field, contracts, 'must be a whole, non-negative number of contracts');
  }
  return contracts as Quantity;
}

export function positiveQuantity(contracts: number, field = 'quantity'): Quantity {
  const q = quantity(contracts, field);
  if (q === 0) throw InvalidInput.of(field, contracts, 'must be positive');
  return q;
}

/** Contracts carry at most two decimal places; sums are taken in hundredths ("lots"). */
export const QUANTITY_DECIMALS = 2;
export const LOTS_PER_CONTRACT = 100;

const isTwoDecimal = (q: number): boolean => {
  const lots = Math.round(q * LOTS_PER_CONTRACT);
  return Number.isSafeInteger(lots) && lots / LOTS_PER_CONTRACT === q;
};

/** The quantity in integer hundredths of a contract; throws if it has more than two decimals. */
export function quantityLots(q: number, field = 'quantity'): number {
  if (typeof q !== 'number' || !isTwoDecimal(q)) {
    throw InvalidInput.of(field, q, 'must be a number of contracts with at most 2 decimal places');
  }
  return Math.round(q * LOTS_PER_CONTRACT);
}

export const quantityFromLots = (lots: number): Quantity => (checkSafe('quantity lots', lots) / LOTS_PER_CONTRACT) as Quantity;

/** True for a number of contracts with at most two decimals (either sign). */
export const isContractQuantity = (q: unknown): q is number => typeof q === 'number' && isTwoDecimal(q);

/** A fill's or a position's size: non-negative contracts with at most two decimals ("0.37"). */
export function contractQuantity(contracts: number, field = 'quantity'): Quantity {
  if (!isContractQuantity(contracts) || contracts < 0) {
    throw InvalidInput.of(field, contracts, 'must be a non-negative number of contracts with at most 2 decimal places');
  }
  return (contracts === 0 ? 0 : contracts) as Quantity;
}

/** a + b exactly (in lots); signed for positions, a Quantity stays a Quantity. */
export function addQuantity<Q extends number>(a: Q, b: number): Q {
  if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) return checkSafe('quantity sum', a + b) as Q;
  return quantityFromLots(quantityLots(a) + quantityLots(b)) as number as Q;
}

/** a - b exactly (in lots). The caller decides whether a negative result is allowed. */
export function subtractQuantity<Q extends number>(a: Q, b: number): Q {
  if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) return checkSafe('quantity difference', a - b) as Q;
  return quantityFromLots(quantityLots(a) - quantityLots(b)) as number as Q;
}

/** Sum of quantities, exact (in lots). */
export function sumQuantities(quantities: Iterable<number>): Quantity {
  let lots = 0;
  for (const q of quantities) lots = checkSafe('quantity sum', lots + quantityLots(q));
  return quantityFromLots(lots);
}

const QUANTITY_RE = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

const SIGNED_QUANTITY_RE = /^([+-])?(\d{1,13})(?:\.(\d{1,2}))?$/;

/** Parses a signed fixed-point count ("-3.50": a short position) exactly; more than 2 decimals is an error. */
export function parseSignedQuantity(text: unknown, field = 'quantity'): number {
  if (typeof text !== 'string') throw InvalidInput.of(field, text, 'must be a fixed-point count string like "-10.00"');
  const m = SIGNED_QUANTITY_RE.exec(text);
  if (!m) throw InvalidInput.of(field, text, 'must be a signed count with at most 2 decimal places');
  const lots = Number(m[2]) * LOTS_PER_CONTRACT + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' && lots !== 0 ? quantityFromLots(-lots) : quantityFromLots(lots);
}

/** Parses a fixed-point count string ("10", "10.5", "0.37") exactly; more than 2 decimals is an error. */
export function parseQuantity(text: unknown, field = 'quantity'): Quantity {
  if (typeof text !== 'string') throw InvalidInput.of(field, text, 'must be a fixed-point count string like "10.00"');
  const m = QUANTITY_RE.exec(text);
  if (!m) throw InvalidInput.of(field, text, 'must be a non-negative count with at most 2 decimal places');
  return quantityFromLots(Number(m[1]) * LOTS_PER_CONTRACT + Number((m[2] ?? '').padEnd(2, '0')));
}

/** A quantity as the fixed-point string with two decimals ("10.00", "-0.37"): for venues and `numeric` columns. */
export function quantityText(q: number, field = 'quantity'): string {
  const lots = quantityLots(q, field);
  const sign = lots < 0 ? '-' : '';
  const abs = Math.abs(lots);
  return `${sign}${Math.floor(abs / LOTS_PER_CONTRACT)}.${String(abs % LOTS_PER_CONTRACT).padStart(2, '0')}`;
}

const DECIMAL_RE = /^([+-])?(\d{1,15})(?:\.(\d{1,6}))?$/;

/** Parses a decimal string ("12.34", "-0.000001") exactly into micros. More than 6 decimals is an error. */
export function parseMicros(text: string, field: string): number {
  if (typeof text !== 'string') throw InvalidInput.of(field, text, 'must be a decimal string');
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw InvalidInput.of(field, text, 'must be a decimal number with at most 6 decimal places');
  const whole = Number(m[2]);
  const frac = Number((m[3] ?? '').padEnd(DECIMALS, '0'));
  const value = whole * MICROS + frac;
  if (!Number.isSafeInteger(value)) throw InvalidInput.of(field, text, 'is too large');
  return m[1] === '-' ? -value || 0 : value;
}

export function parseMoney(text: string, field = 'money'): Money {
  return parseMicros(text, field) as Money;
}

export function parsePrice(text: string, field = 'price'): Price {
  return price(parseMicros(text, field), field);
}

/**
 * Converts a decimal literal written as a JS number (config files, tests) to micros, refusing
 * any value that is not exactly representable at 6 decimals, so a float never leaks in silently.
 */
export function microsFromNumber(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw InvalidInput.of(field, value, 'must be a finite number');
  const micros = Math.round(value * MICROS);
  if (Math.abs(micros / MICROS - value) > 1e-9 * Math.max(1, Math.abs(value))) {
    throw InvalidInput.of(field, value, 'must have at most 6 decimal places');
  }
  if (!Number.isSafeInteger(micros)) throw InvalidInput.of(field, value, 'is too large');
  return micros;
}

/**
 * Reads a decimal (a string like "200.00", or a number with at most 6 decimals) into micros,
 * recording a problem instead of throwing: for validators that report every bad field at once.
 */
export function collectMicros(field: string, value: unknown, problems: FieldProblem[]): number | undefined {
  try {
    if (typeof value === 'string') return parseMicros(value, field);
    if (typeof value === 'number') return microsFromNumber(value, field);
  } catch (e) {
    if (e instanceof InvalidInput) {
      problems.push(...e.problems);
      return undefined;
    }
    throw e;
  }
  problems.push({ field, value, problem: 'must be a decimal string like "200.00" or a number with at most 6 decimals' });
  return undefined;
}

export const usd = (value: number, field = 'money'): Money => microsFromNumber(value, field) as Money;
export const px = (value: number, field = 'price'): Price => price(microsFromNumber(value, field), field);

/** Renders micros as a decimal string, trimming trailing zeros down to `minDecimals`. */
export function formatDecimal(micros: number, minDecimals = 2): string {
  const negative = micros < 0;
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS);
  let frac = String(abs % MICROS).padStart(DECIMALS, '0');
  while (frac.length > minDecimals && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${negative ? '-' : ''}${whole}${frac.length > 0 ? `.${frac}` : ''}`;
}

/** Exact decimal string with all 6 places, the form written to `numeric` columns. */
export const toNumericString = (micros: number): string => formatDecimal(micros, DECIMALS);

export function add(a: Money, b: Money): Money {
  return checkSafe('sum', a + b) as Money;
}

export function sub(a: Money, b: Money): Money {
  return checkSafe('difference', a - b) as Money;
}

export function neg(a: Money): Money {
  return (a === 0 ? 0 : -a) as Money;
}

/**
 * Value of `qty` contracts (signed allowed) at `p` micros each. Whole contracts: the exact
 * product. A fraction: p × lots / 100, exact when p is a multiple of 100 micros, otherwise
 * rounded half away from zero to the micro.
 */
export function notional(p: Price | Money, qty: Quantity | number): Money {
  if (Number.isSafeInteger(qty)) return checkSafe('notional', p * qty) as Money;
  return mulDiv(p, quantityLots(qty), LOTS_PER_CONTRACT) as Money;
}

/**
 * round(a * b / c), half away from zero, exact for any safe integers (BigInt intermediate).
 * Used for proportional cost removal and averages.
 */
export function mulDiv(a: number, b: number, c: number): number {
  if (c === 0) throw new ArithmeticOverflow('division by zero in mulDiv', `${a}*${b}/0`);
  const product = a * b;
  if (Number.isSafeInteger(product)) {
    const q = product / c;
    if (Number.isInteger(q)) return q;
  }
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  let q = an / ad;
  if ((an % ad) * 2n >= ad) q += 1n;
  const result = Number(negative ? -q : q);
  return checkSafe('mulDiv result', result);
}

/** Price rounded to the nearest micro of an exact ratio (e.g. an average fill price). */
export function averagePrice(totalNotional: Money, qty: Quantity): Price {
  if (Number.isSafeInteger(qty)) return mulDiv(totalNotional, 1, qty) as Price;
  return mulDiv(totalNotional, LOTS_PER_CONTRACT, quantityLots(qty)) as Price;
}

/** Prediction-market price validity: strictly inside (0, 1) and on the market's tick grid. */
export function isOnTick(p: number, tickSize: number): boolean {
  return Number.isSafeInteger(p) && p % tickSize === 0;
}

export function roundToTick(p: number, tickSize: number, mode: 'down' | 'up' | 'nearest'): number {
  const r = p % tickSize;
  if (r === 0) return p;
  const down = p - r;
  if (mode === 'down') return down;
  if (mode === 'up') return down + tickSize;
  return r * 2 >= tickSize ? down + tickSize : down;
}

/** Basis points of `delta` relative to `base`, as a float: a ratio for reports, never money. */
export function bps(delta: number, base: number): number {
  return base === 0 ? 0 : (delta / base) * 10_000;
}

/** Micros as a float currency amount, for statistics and display only. */
export const toFloat = (micros: number): number => micros / MICROS;
