/**
 * Paper exchange configuration: market specs, fault settings, rate limits. Every validator
 * reports all bad fields at once.
 */
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { CASE_STUDY_FILL_MODEL, type FillModelParams, validateFillModelParams } from '../domain/fill-model';
import { MICROS } from '../domain/money';
import { validateMarket } from '../domain/market';
import { seededRandom } from '../domain/random';

export const DAY_MS = 86_400_000;

/** Shortest signing secret or admin token the exchange and its clients accept. */
export const MIN_SECRET_LENGTH = 16;

/** Parameters of one synthetic market and its price process (rates are per day, in logit units). */
export interface MarketSpec {
  marketId: string;
  title: string;
  category: string;
  /** Tick size in micros; must divide 1.000000. */
  tickSize: number;
  resolvesAt: number | null;
  /** Starting mid price in micros. */
  initialPrice: number;
  /** Nominal average daily volume in contracts. */
  averageDailyVolume: number;
  /** Ornstein-Uhlenbeck mean-reversion speed of the logit mid toward fair value, per day. */
  meanReversionPerDay: number;
  /** Diffusion of the logit mid, per square-root day. */
  volatilityPerSqrtDay: number;
  /** Random-walk drift of the logit fair value, per square-root day. */
  fairDriftPerSqrtDay: number;
  /** Expected news jumps per day, and their standard deviation in logit units. */
  jumpsPerDay: number;
  jumpStd: number;
  /**
   * Order-flow noise on the mid (the touch taken and refilled): stationary standard deviation in
   * micros of price and reversion speed per day of a fast OU component. Absent or 0: none.
   */
  flowNoiseMicros?: number;
  flowNoiseReversionPerDay?: number;
  /** Quoted spread in ticks (>= 1). */
  spreadTicks: number;
  /** Displayed size at the touch; deeper levels show more. */
  depthBaseQuantity: number;
}

export interface FaultConfig {
  seed: number;
  errorRate: number;
  rateLimitStormRate: number;
  rateLimitStormRetryAfterSeconds: number;
  latencySpikeProbability: number;
  latencySpikeMs: number;
  hangProbability: number;
  hangMaxMs: number;
  dropAfterAcceptProbability: number;
  staleQuotes: boolean;
  missingFieldProbability: number;
}

export const NO_FAULTS: FaultConfig = {
  seed: 1,
  errorRate: 0,
  rateLimitStormRate: 0,
  rateLimitStormRetryAfterSeconds: 1,
  latencySpikeProbability: 0,
  latencySpikeMs: 0,
  hangProbability: 0,
  hangMaxMs: 30_000,
  dropAfterAcceptProbability: 0,
  staleQuotes: false,
  missingFieldProbability: 0,
};

export interface RateLimitConfig {
  capacity: number;
  refillPerSecond: number;
  orderWeight: number;
  readWeight: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { capacity: 200, refillPerSecond: 100, orderWeight: 2, readWeight: 1 };

export interface EngineConfig {
  seed: number;
  /** Engine step length: prices move and working orders are matched once per step. */
  stepMs: number;
  /** A market order still unfilled this long after placement expires. */
  marketOrderTtlMs: number;
  /** When the exchange was offline longer than this many steps, the gap is crossed in one jump. */
  maxCatchUpSteps: number;
  fillModel: FillModelParams;
  /** Cash of a new account, in micros. */
  startingCash: number;
  /** Quote history: one point per interval, kept for the window (GET /v1/markets/{id}/history). */
  historyIntervalMs: number;
  historyWindowMs: number;
  /**
   * History a fresh exchange (no saved state) simulates before it opens, a whole number of
   * intervals up to the window; 0 opens with none.
   */
  preRollMs: number;
  markets: MarketSpec[];
}

const FAULT_UNIT_FIELDS = [
  'errorRate',
  'rateLimitStormRate',
  'latencySpikeProbability',
  'hangProbability',
  'dropAfterAcceptProbability',
  'missingFieldProbability',
] as const;
const FAULT_MS_FIELDS = ['latencySpikeMs', 'hangMaxMs'] as const;

/**
 * Merges a partial fault setting (from config or the admin endpoint) into `base`, rejecting
 * unknown fields and bad values, all reported at once with the `faults.` prefix.
 */
export function mergeFaults(base: FaultConfig, patch: unknown, prefix = 'faults'): FaultConfig {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw InvalidInput.of(prefix, patch, 'must be an object');
  }
  const problems: FieldProblem[] = [];
  const out: FaultConfig = { ...base };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const field = `${prefix}.${key}`;
    if ((FAULT_UNIT_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
        problems.push({ field, value, problem: 'must be a probability between 0 and 1' });
      } else (out as unknown as Record<string, number>)[key] = value;
    } else if ((FAULT_MS_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 600_000) {
        problems.push({ field, value, problem: 'must be an integer number of milliseconds between 0 and 600000' });
      } else (out as unknown as Record<string, number>)[key] = value;
    } else if (key === 'rateLimitStormRetryAfterSeconds') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 3600) {
        problems.push({ field, value, problem: 'must be an integer number of seconds between 1 and 3600' });
      } else out.rateLimitStormRetryAfterSeconds = value;
    } else if (key === 'seed') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) problems.push({ field, value, problem: 'must be an integer' });
      else out.seed = value;
    } else if (key === 'staleQuotes') {
      if (typeof value !== 'boolean') problems.push({ field, value, problem: 'must be true or false' });
      else out.staleQuotes = value;
    } else {
      problems.push({ field, value, problem: 'is not a fault setting' });
    }
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return out;
}

/** How long a client may take and how many may connect at once (node:http server limits). */
export interface ServerLimits {
  /** Time to receive the request headers (server.headersTimeout). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (server.requestTimeout). */
  requestTimeoutMs: number;
  /** Open connections at most; further ones are dropped (server.maxConnections). */
  maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1_024 };

export function validateServerLimits(l: ServerLimits): ServerLimits {
  const problems: FieldProblem[] = [];
  const whole = (key: keyof ServerLimits, min: number, max: number) => {
    const v = l[key];
    if (!Number.isSafeInteger(v) || v < min || v > max) problems.push({ field: `limits.${key}`, value: v, problem: `must be a whole number from ${min} to ${max}` });
  };
  whole('headersTimeoutMs', 100, 300_000);
  whole('requestTimeoutMs', 100, 600_000);
  whole('maxConnections', 1, 1_000_000);
  if (problems.length === 0 && l.headersTimeoutMs > l.requestTimeoutMs) {
    problems.push({ field: 'limits.headersTimeoutMs', value: l.headersTimeoutMs, problem: `must not exceed limits.requestTimeoutMs (${l.requestTimeoutMs})` });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return l;
}

export function validateRateLimit(r: RateLimitConfig): RateLimitConfig {
  const problems: FieldProblem[] = [];
  for (const key of ['capacity', 'refillPerSecond', 'orderWeight', 'readWeight'] as const) {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) problems.push({ field: `rateLimit.${key}`, value: v, problem: 'must be a positive number' });
  }
  if (problems.length === 0 && (r.orderWeight > r.capacity || r.readWeight > r.capacity)) {
    problems.push({ field: 'rateLimit.capacity', value: r.capacity, problem: 'must be at least every endpoint weight' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return r;
}

export function validateMarketSpec(s: MarketSpec, index: number): FieldProblem[] {
  const prefix = `markets[${index}]`;
  const problems: FieldProblem[] = [];
  try {
    validateMarket({ marketId: s.marketId, category: s.category, tickSize: s.tickSize, resolvesAt: s.resolvesAt, outcome: null });
  } catch (e) {
    if (e instanceof InvalidInput) problems.push(...e.problems.map((p) => ({ ...p, field: `${prefix}.${p.field}` })));
    else throw e;
  }
  if (typeof s.title !== 'string' || s.title.length === 0 || s.title.length > 200) {
    problems.push({ field: `${prefix}.title`, value: s.title, problem: 'must be 1-200 characters' });
  }
  if (!Number.isSafeInteger(s.initialPrice) || s.initialPrice <= 0 || s.initialPrice >= MICROS) {
    problems.push({ field: `${prefix}.initialPrice`, value: s.initialPrice, problem: 'must be micros inside (0, 1)' });
  }
  const nonNegative = ['meanReversionPerDay', 'volatilityPerSqrtDay', 'fairDriftPerSqrtDay', 'jumpsPerDay', 'jumpStd'] as const;
  for (const key of nonNegative) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) problems.push({ field: `${prefix}.${key}`, value: v, problem: 'must be a non-negative number' });
  }
  for (const key of ['flowNoiseMicros', 'flowNoiseReversionPerDay'] as const) {
    const v = s[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) problems.push({ field: `${prefix}.${key}`, value: v, problem: 'must be a non-negative number when given' });
  }
  if ((s.flowNoiseMicros ?? 0) > 0 && !((s.flowNoiseReversionPerDay ?? 0) > 0)) {
    problems.push({ field: `${prefix}.flowNoiseReversionPerDay`, value: s.flowNoiseReversionPerDay, problem: 'must be positive when flowNoiseMicros is' });
  }
  const positiveInts = ['averageDailyVolume', 'spreadTicks', 'depthBaseQuantity'] as const;
  for (const key of positiveInts) {
    const v = s[key];
    if (!Number.isSafeInteger(v) || v <= 0) problems.push({ field: `${prefix}.${key}`, value: v, problem: 'must be a positive integer' });
  }
  return problems;
}

export function validateEngineConfig(c: EngineConfig): EngineConfig {
  const problems: FieldProblem[] = [];
  if (!Number.isSafeInteger(c.seed)) problems.push({ field: 'seed', value: c.seed, problem: 'must be an integer' });
  if (!Number.isSafeInteger(c.stepMs) || c.stepMs < 10 || c.stepMs > 3_600_000) {
    problems.push({ field: 'stepMs', value: c.stepMs, problem: 'must be an integer between 10 and 3600000' });
  }
  if (!Number.isSafeInteger(c.marketOrderTtlMs) || c.marketOrderTtlMs < 0) {
    problems.push({ field: 'marketOrderTtlMs', value: c.marketOrderTtlMs, problem: 'must be a non-negative integer' });
  }
  if (!Number.isSafeInteger(c.maxCatchUpSteps) || c.maxCatchUpSteps < 1) {
    problems.push({ field: 'maxCatchUpSteps', value: c.maxCatchUpSteps, problem: 'must be a positive integer' });
  }
  if (!Number.isSafeInteger(c.startingCash) || c.startingCash < 0) {
    problems.push({ field: 'startingCash', value: c.startingCash, problem: 'must be non-negative integer micros' });
  }
  problems.push(...historyProblems(c));
  try {
    validateFillModelParams(c.fillModel);
  } catch (e) {
    if (e instanceof InvalidInput) problems.push(...e.problems.map((p) => ({ ...p, field: `fillModel.${p.field}` })));
    else throw e;
  }
  if (!Array.isArray(c.markets) || c.markets.length === 0) {
    problems.push({ field: 'markets', value: c.markets, problem: 'must list at least one market' });
  } else {
    const seen = new Set<string>();
    c.markets.forEach((m, i) => {
      problems.push(...validateMarketSpec(m, i));
      if (seen.has(m.marketId)) problems.push({ field: `markets[${i}].marketId`, value: m.marketId, problem: 'is listed twice' });
      seen.add(m.marketId);
    });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return c;
}

/** A history point costs memory and state-file space: a market keeps at most this many. */
export const MAX_HISTORY_POINTS = 10_000;

function historyProblems(c: Pick<EngineConfig, 'historyIntervalMs' | 'historyWindowMs' | 'preRollMs'>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const interval = c.historyIntervalMs;
  const intervalOk = Number.isSafeInteger(interval) && interval >= 1_000 && interval <= DAY_MS;
  if (!intervalOk) problems.push({ field: 'historyIntervalMs', value: interval, problem: 'must be an integer between 1000 and 86400000' });
  const window = c.historyWindowMs;
  if (!Number.isSafeInteger(window) || window < 0 || (intervalOk && window > interval * MAX_HISTORY_POINTS)) {
    problems.push({ field: 'historyWindowMs', value: window, problem: `must be an integer between 0 and ${MAX_HISTORY_POINTS} history intervals` });
  }
  const preRoll = c.preRollMs;
  if (!Number.isSafeInteger(preRoll) || preRoll < 0 || (Number.isSafeInteger(window) && preRoll > window) || (intervalOk && preRoll % interval !== 0)) {
    problems.push({ field: 'preRollMs', value: preRoll, problem: 'must be a whole number of history intervals, at most historyWindowMs' });
  }
  return problems;
}

/**
 * The default markets and the days from the exchange's start to their resolution (null: never),
 * two per category. The case study trades markets 3 to 14 days before resolution (reference
 * 001: inside 3 days fundamental uncertainty dominates, beyond 14 the edge is too small), so
 * every dated market opens inside that window, at least two days clear of the strategy's 3-day
 * blackout; two never resolve, so an exchange that keeps running past the last date still has
 * markets to trade. Sixteen, because a mean-reversion signal is rare in any one market (the
 * case-study strategy wants a position about a sixth of the time) and the case study's own
 * backtest spans 45 markets: a session watching a handful could wait hours for its first trade.
 */
const DEFAULT_LISTINGS: readonly { category: string; resolvesInDays: number | null }[] = [
  { category: 'politics', resolvesInDays: 5 },
  { category: 'economics', resolvesInDays: 6 },
  { category: 'sports', resolvesInDays: 7 },
  { category: 'weather', resolvesInDays: 8 },
  { category: 'crypto', resolvesInDays: 10 },
  { category: 'science', resolvesInDays: null },
  { category: 'finance', resolvesInDays: 12 },
  { category: 'culture', resolvesInDays: 13 },
  { category: 'politics', resolvesInDays: 9 },
  { category: 'economics', resolvesInDays: 11 },
  { category: 'sports', resolvesInDays: 5 },
  { category: 'weather', resolvesInDays: 14 },
  { category: 'crypto', resolvesInDays: 6 },
  { category: 'science', resolvesInDays: 8 },
  { category: 'finance', resolvesInDays: 7 },
  { category: 'culture', resolvesInDays: null },
];

/**
 * How the default markets move, chosen to look like a liquid prediction market rather than to
 * suit a strategy (logit units; at a price of 0.5 one logit unit is about 25 cents):
 * - the fair value is the baseline: a random walk of 0.25 per square-root day (≈ 6 cents a
 *   day) plus real news about once a day (sd 0.35, ≈ 9 cents), which moves price and fair value
 *   together and does not revert;
 * - the price overreacts around it and reverts with a half-life of about 2.8 hours (6 per day;
 *   the case study holds a trade 14 hours on average), stationary sd 0.55/√12 ≈ 0.16 (≈ 4 cents);
 * - order flow moves the mid by about a cent (sd 10 000 micros, in price rather than logit units:
 *   a book moves in ticks at any price level) and forgets within seconds (time constant 10 s),
 *   as resting liquidity is taken and refilled; this is what fills a passive order resting at
 *   the touch;
 * - a one-cent spread, as liquid markets quote (the case-study risk limits refuse wider).
 * The earlier defaults moved the fair value by about 25 cents a day (two news jumps of sd 0.5 and
 * a drift of 0.3), several times what a market days from resolution moves, so the deviations
 * from a 48-hour EMA were mostly news that never reverts; their two-cent spread was refused by
 * the case-study risk limit (one cent) on every cent-tick market; and without order-flow noise a
 * passive order filled only when the price itself came back through it.
 */
const DEFAULT_DYNAMICS = {
  meanReversionPerDay: 6,
  volatilityPerSqrtDay: 0.55,
  fairDriftPerSqrtDay: 0.25,
  jumpsPerDay: 1,
  jumpStd: 0.35,
  flowNoiseMicros: 10_000,
  flowNoiseReversionPerDay: 8_640,
} as const;

const CENT = 10_000;

/**
 * The default set of synthetic markets, deterministic from the seed, in DEFAULT_LISTINGS order,
 * each starting its history at a price between 0.15 and 0.85.
 */
export function defaultMarkets(seed: number, startAt: number): MarketSpec[] {
  const rng = seededRandom(seed ^ 0x5eed);
  return DEFAULT_LISTINGS.map(({ category, resolvesInDays }, i) => {
    const initial = Math.round((0.15 + 0.7 * rng.next()) * 100) * CENT;
    const tickSize = category === 'crypto' ? CENT / 10 : CENT;
    return {
      marketId: `PX-${category.slice(0, 3).toUpperCase()}-${i + 1}`,
      title: `Synthetic ${category} event ${i + 1}`,
      category,
      tickSize,
      resolvesAt: resolvesInDays === null ? null : startAt + resolvesInDays * DAY_MS,
      initialPrice: initial,
      averageDailyVolume: 1_000_000,
      ...DEFAULT_DYNAMICS,
      spreadTicks: CENT / tickSize,
      depthBaseQuantity: 200,
    };
  });
}

/**
 * Five-minute points over four days: longer than the 72 h the case-study strategy needs before
 * it trades and as long as its 96 h deviation span, 1152 points a market.
 */
export const DEFAULT_HISTORY_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_HISTORY_WINDOW_MS = 96 * 3_600_000;

/**
 * The exchange's defaults. The fill model is the case study's paper trading calibration (the
 * `pre-live` preset, with its 150 ms order latency); choose another with `--fill-model` or the
 * `engine.fillModel` option (domain/fill-model.ts parseFillModel).
 */
export function defaultEngineConfig(seed: number, startAt: number, fillModel: FillModelParams = CASE_STUDY_FILL_MODEL): EngineConfig {
  return {
    seed,
    stepMs: 1_000,
    marketOrderTtlMs: 5_000,
    maxCatchUpSteps: 3_600,
    fillModel,
    startingCash: 10_000 * MICROS,
    historyIntervalMs: DEFAULT_HISTORY_INTERVAL_MS,
    historyWindowMs: DEFAULT_HISTORY_WINDOW_MS,
    preRollMs: DEFAULT_HISTORY_WINDOW_MS,
    markets: defaultMarkets(seed, startAt),
  };
}

/** A hand-driven clock for tests and drills. */
export class ManualClock {
  constructor(private t: number) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw InvalidInput.of('ms', ms, 'must be a non-negative number');
    this.t += ms;
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
}
