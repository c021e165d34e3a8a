/**
 * The paper fill model (the chapter's 19.10 "Realistic Simulation" and its paper trading engine),
 * shared by the backtester and the paper exchange:
 * - a buy limit can fill when the ask is at or below it, a sell limit when the bid is at or above it;
 * - a crossable limit fills in a given interval with `fillProbability`;
 * - the filled quantity is capped by a participation rate of the interval's volume, and with
 *   `partialFillProbability` only 30-80% of it fills (uniform, the chapter's `uniform(0.3, 0.8)`),
 *   rounded to whole contracts (the chapter rounds to hundredths; whole contracts keep every
 *   path of this codebase on integers);
 * - the price is the chapter's slippage model, p_fill = p_ref + |ε| for a buy and p_ref − |ε| for
 *   a sell, ε ~ N(0, slippageStd), in whole micros, off the tick grid, clamped to [tick, 1 − tick].
 *   p_ref is what the book gives: the limit when the market came to it (a resting order, the
 *   chapter's p_limit), the touch when that is better (a marketable order, or a market order).
 *   Like the chapter's engine it is a cost model, not a matching rule: a fill may be worse than
 *   the limit by |ε|, which is what makes the case study's "average slippage $0.003" measurable
 *   at all (capped at the limit, a passive order would never show any);
 * - an order reaches the book `latencyMeanMs` (log-normal) after it is placed;
 * - fees follow the prediction-market convention coefficient × qty × p × (1 − p), rounded up to a cent;
 *   with `feeSchedule: 'KALSHI'` (the `KALSHI_FILL_MODEL` preset) they follow Kalshi's schedule and
 *   rounding instead (domain/fees.ts): centicent trade fee, balance rounding, order accumulator.
 */
import { InvalidInput, type FieldProblem } from './errors';
import { MICROS, type Money, type Price, type Quantity } from './money';
import type { Side } from './market';
import { normal, type RandomSource } from './random';
import { kalshiFillFee, KALSHI_TAKER_RATE_PPM } from './fees';

export interface FillModelParams {
  /** Chance that a crossable limit order fills in one interval (case study: 0.8, later 0.7). */
  fillProbability: number;
  /** Chance that a fill is only 30-80% of what could fill (case study: 0.2). */
  partialFillProbability: number;
  /** Largest share of the interval's volume one order may take (the reference's paper fill model: 5-20%). */
  participationRate: number;
  /** Standard deviation of the slippage ε, in micros (case study: 0.2 cents = 2000, later 0.5 cents). */
  slippageStd: number;
  /** Fee coefficient in parts per million of qty × p × (1 − p); 0 for no fees. */
  feeCoefficientPpm: number;
  /**
   * Absent: the convention above. 'KALSHI': Kalshi's fee rounding (domain/fees.ts) at
   * `feeCoefficientPpm` as the rate, with the order's accumulator carried in `WorkingOrder.feeAccumulator`.
   */
  feeSchedule?: 'KALSHI';
  /**
   * Mean simulated latency from placing an order to its reaching the book, ms (log-normal;
   * chapter 100, case study 150). Absent or 0: none, the order can fill on the next interval.
   */
  latencyMeanMs?: number;
}

/** The share of an order a partial fill takes: uniform in [30%, 80%] (the chapter's engine). */
export const PARTIAL_FILL_SHARE = Object.freeze({ min: 0.3, max: 0.8 });

/**
 * The calibrations the references use:
 * - `chapter`: the chapter's paper trading engine defaults (0.8, 0.2 cents, 20% partial, 100 ms);
 * - `pre-live`: the case study's 21-day paper trading setup (0.8, 0.2 cents, 20% partial, 150 ms);
 * - `post-live`: the case study's recalibration after a month live ("fill probability from 80%
 *   to 70%", "slippage model to 0.5 cents std dev"), everything else as before.
 * The participation rate (the top of the chapter's 5-20%) and fees (none) are this codebase's.
 */
export const FILL_MODEL_PRESET_NAMES = ['chapter', 'pre-live', 'post-live'] as const;
export type FillModelPreset = (typeof FILL_MODEL_PRESET_NAMES)[number];

export const FILL_MODEL_PRESETS: Readonly<Record<FillModelPreset, Readonly<FillModelParams>>> = Object.freeze({
  chapter: Object.freeze({ fillProbability: 0.8, partialFillProbability: 0.2, participationRate: 0.2, slippageStd: 2_000, feeCoefficientPpm: 0, latencyMeanMs: 100 }),
  'pre-live': Object.freeze({ fillProbability: 0.8, partialFillProbability: 0.2, participationRate: 0.2, slippageStd: 2_000, feeCoefficientPpm: 0, latencyMeanMs: 150 }),
  'post-live': Object.freeze({ fillProbability: 0.7, partialFillProbability: 0.2, participationRate: 0.2, slippageStd: 5_000, feeCoefficientPpm: 0, latencyMeanMs: 150 }),
});

/** The default everywhere: the case study's paper trading calibration. */
export const DEFAULT_FILL_MODEL_PRESET: FillModelPreset = 'pre-live';
export const CASE_STUDY_FILL_MODEL: FillModelParams = FILL_MODEL_PRESETS[DEFAULT_FILL_MODEL_PRESET];

/** Longest simulated latency accepted, ms. */
const MAX_LATENCY_MS = 60_000;

/** The case study's fills with Kalshi's taker fees and their rounding (a non-direct member's $0.01 balances). */
export const KALSHI_FILL_MODEL: FillModelParams = {
  ...CASE_STUDY_FILL_MODEL,
  feeCoefficientPpm: KALSHI_TAKER_RATE_PPM,
  feeSchedule: 'KALSHI',
};

function fillModelProblems(p: FillModelParams): FieldProblem[] {
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
  const lat = p.latencyMeanMs;
  if (lat !== undefined && (typeof lat !== 'number' || !Number.isFinite(lat) || lat < 0 || lat > MAX_LATENCY_MS)) {
    problems.push({ field: 'latencyMeanMs', value: lat, problem: `must be a number of milliseconds between 0 and ${MAX_LATENCY_MS}` });
  }
  return problems;
}

export function validateFillModelParams(p: FillModelParams): FillModelParams {
  const problems = fillModelProblems(p);
  if (problems.length > 0) throw new InvalidInput(problems);
  return p;
}

const FILL_MODEL_FIELDS: readonly (keyof FillModelParams)[] = ['fillProbability', 'partialFillProbability', 'participationRate', 'slippageStd', 'feeCoefficientPpm', 'latencyMeanMs', 'feeSchedule'];

/**
 * A fill model from configuration: a preset name ("pre-live"), or an object naming a preset and
 * overriding some of its fields ({ "preset": "post-live", "latencyMeanMs": 0 }; without `preset`
 * the overrides apply to the default). Every bad field is reported at once, prefixed by `field`.
 */
export function parseFillModel(value: unknown, field = 'fillModel'): FillModelParams {
  const presetOf = (v: unknown, at: string): Readonly<FillModelParams> => {
    if (typeof v === 'string' && (FILL_MODEL_PRESET_NAMES as readonly string[]).includes(v)) return FILL_MODEL_PRESETS[v as FillModelPreset];
    throw InvalidInput.of(at, v, `must be one of ${FILL_MODEL_PRESET_NAMES.join(', ')}`);
  };
  if (typeof value === 'string') return presetOf(value, field);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw InvalidInput.of(field, value, `must be a preset name (${FILL_MODEL_PRESET_NAMES.join(', ')}) or an object of fill model settings`);
  }
  const problems: FieldProblem[] = [];
  const o = value as Record<string, unknown>;
  let base: Readonly<FillModelParams> = CASE_STUDY_FILL_MODEL;
  if (o.preset !== undefined) {
    try {
      base = presetOf(o.preset, `${field}.preset`);
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      problems.push(...e.problems);
    }
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, v] of Object.entries(o)) {
    if (key === 'preset') continue;
    if ((FILL_MODEL_FIELDS as readonly string[]).includes(key)) out[key] = v;
    else problems.push({ field: `${field}.${key}`, value: v, problem: 'is not a fill model setting' });
  }
  const params = out as unknown as FillModelParams;
  problems.push(...fillModelProblems(params).map((p) => ({ ...p, field: `${field}.${p.field}` })));
  if (problems.length > 0) throw new InvalidInput(problems);
  return params;
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
  if (rng.next() < params.partialFillProbability) {
    const share = PARTIAL_FILL_SHARE.min + rng.next() * (PARTIAL_FILL_SHARE.max - PARTIAL_FILL_SHARE.min);
    // A single contract cannot be split; otherwise at least one contract fills and one is left.
    if (qty > 1) qty = Math.min(qty - 1, Math.max(1, Math.round(qty * share)));
  }

  const touch = (order.side === 'BUY' ? quote.ask : quote.bid) as number;
  const ref = order.limitPrice === null ? touch : order.side === 'BUY' ? Math.min(touch, order.limitPrice) : Math.max(touch, order.limitPrice);
  const slip = Math.round(Math.abs(normal(rng) * params.slippageStd));
  let p = order.side === 'BUY' ? ref + slip : ref - slip;
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

/**
 * Milliseconds from placing an order to its reaching the book under `params`, whole ms; 0 (and no
 * random draw) when the model has no latency.
 */
export function orderLatencyMs(params: FillModelParams, rng: RandomSource): number {
  const mean = params.latencyMeanMs ?? 0;
  return mean > 0 ? Math.round(sampleLatencyMs(rng, mean)) : 0;
}
