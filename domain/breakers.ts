/**
 * Trading circuit breakers (003, "Circuit Breakers"; 004, kill switch): account-level halts, as
 * opposed to the per-venue HTTP breaker of the reference's circuit breakers. The state is a small JSON value kept in a
 * long-lived workflow; every function here is pure and returns a new state.
 *
 * What lifts a trip:
 * - MANUAL, DRAWDOWN, ORDER_RATE, ERROR_RATE: an operator's `resume`.
 * - DAILY_LOSS: only `dailyReset` at the start of the next trading day; an operator cannot
 *   resume into a day whose loss limit is spent (the reference's essential pre-trade checks: "stop trading").
 * - ORDER_RATE and ERROR_RATE do not clear by themselves unless `rateTripCooldownMs` is set:
 *   a runaway order loop or a stream of venue errors at this level has already got past the
 *   pre-trade rate check and the venue breaker's own recovery, so by default a person looks
 *   first. With a cooldown, a rate trip clears at the first evaluation that is at least that long
 *   after the trip and finds the rate back within its limit.
 * - Lifting a DRAWDOWN trip forgets the equity peak: the next evaluation measures drawdown from
 *   the equity the operator resumed at, otherwise the unchanged drawdown would trip at once again.
 *
 * Limits are maxima as in risk-limits.ts: a value exactly at its limit does not trip.
 */
import { ErrorType, InvalidInput, type FieldProblem } from './errors';
import { MICROS, collectMicros, formatDecimal, type Money } from './money';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH } from './operator-request';

export const BreakerKind = {
  DRAWDOWN: 'DRAWDOWN',
  DAILY_LOSS: 'DAILY_LOSS',
  ORDER_RATE: 'ORDER_RATE',
  ERROR_RATE: 'ERROR_RATE',
  MANUAL: 'MANUAL',
} as const;
export type BreakerKind = (typeof BreakerKind)[keyof typeof BreakerKind];

export const BreakerStatus = {
  NORMAL: 'NORMAL',
  TRIPPED: 'TRIPPED',
  /** A manual halt is reported even when automatic trips are also active. */
  MANUALLY_HALTED: 'MANUALLY_HALTED',
} as const;
export type BreakerStatus = (typeof BreakerStatus)[keyof typeof BreakerStatus];

export interface BreakerTrip {
  kind: BreakerKind;
  reason: string;
  /**
   * The value that tripped it, in the kind's unit: DRAWDOWN a fraction of peak equity,
   * DAILY_LOSS micros of loss, ORDER_RATE orders, ERROR_RATE errors or an error fraction
   * (the reason says which); null for MANUAL or when it cannot be measured.
   */
  observed: number | null;
  limit: number | null;
  /** Epoch milliseconds when it tripped. */
  since: number;
  /** Who halted, for MANUAL; null for automatic trips. */
  operator: string | null;
}

/** JSON-serialisable; survives a worker restart as workflow state. */
export interface BreakerState {
  /** Active trips, at most one per kind, in the order they tripped. */
  trips: BreakerTrip[];
  /** Highest equity seen since start or since a drawdown trip was lifted; null before the first evaluation. */
  peakEquity: Money | null;
}

export interface BreakerMetrics {
  /** Cash plus positions marked to market, in micros. */
  equity: Money;
  /**
   * The trading day's P&L in micros, measured from the day's opening marks (ledger.ts
   * `dailyPnlSinceOpen`): realized today − fees + change in unrealized since the open. A position
   * carried over midnight brings none of yesterday's loss, so the reset is not undone at once.
   */
  dailyPnl: Money;
  /** Orders sent (or attempted) in the last `orderWindowMs`. */
  ordersInWindow: number;
  /** Failed venue requests in the last `errorWindowMs`. */
  errorsInWindow: number;
  /** All venue requests in the last `errorWindowMs`. */
  requestsInWindow: number;
}

export interface BreakerConfig {
  /** Fraction of peak equity, in (0, 1); 003 recommends 0.10. */
  readonly maxDrawdownFraction: number;
  /** Loss of the day in micros; the case study stops at $200. */
  readonly maxDailyLoss: Money;
  /** Window over which the caller counts orders, in ms. */
  readonly orderWindowMs: number;
  readonly maxOrdersInWindow: number;
  /** Window over which the caller counts requests and errors, in ms. */
  readonly errorWindowMs: number;
  readonly maxErrorsInWindow: number;
  /** Failed share of requests, in (0, 1]; judged only with at least `minRequestsForErrorRate` requests. */
  readonly maxErrorRate: number;
  readonly minRequestsForErrorRate: number;
  /** null: ORDER_RATE and ERROR_RATE trips wait for an operator; otherwise ms after which they may clear. */
  readonly rateTripCooldownMs: number | null;
}

/**
 * Defaults: drawdown 10% and errors 5 per 5 minutes from 003, the case study's $200 daily loss.
 * The order-rate breaker allows 20 per minute, twice the pre-trade ORDER_RATE limit
 * (CASE_STUDY_LIMITS.maxOrdersPerMinute = 10): the caller counts attempts, so a strategy that
 * keeps pushing against the pre-trade limit trips it. The error fraction (50% of at least 10
 * requests) is chosen here. No cooldown: rate trips wait for an operator.
 */
export const CASE_STUDY_BREAKERS: BreakerConfig = Object.freeze({
  maxDrawdownFraction: 0.1,
  maxDailyLoss: (200 * MICROS) as Money,
  orderWindowMs: 60_000,
  maxOrdersInWindow: 20,
  errorWindowMs: 300_000,
  maxErrorsInWindow: 5,
  maxErrorRate: 0.5,
  minRequestsForErrorRate: 10,
  rateTripCooldownMs: null,
});

export interface BreakerUpdate {
  state: BreakerState;
  /** Trips added by this call. */
  tripped: BreakerTrip[];
  /** Trips removed by this call. */
  lifted: BreakerTrip[];
}

export function initialBreakerState(): BreakerState {
  return { trips: [], peakEquity: null };
}

const isInt = Number.isSafeInteger;

function requireTime(now: number): void {
  if (!isInt(now) || now < 0) throw InvalidInput.of('now', now, 'must be epoch milliseconds');
}

function requireName(field: string, value: unknown, problems: FieldProblem[]): void {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > MAX_OPERATOR_LENGTH) {
    problems.push({ field, value, problem: `must be a non-empty string of at most ${MAX_OPERATOR_LENGTH} characters` });
  }
}

function validateMetrics(m: BreakerMetrics): void {
  const problems: FieldProblem[] = [];
  if (!isInt(m.equity)) problems.push({ field: 'equity', value: m.equity, problem: 'must be integer micros' });
  if (!isInt(m.dailyPnl)) problems.push({ field: 'dailyPnl', value: m.dailyPnl, problem: 'must be integer micros' });
  for (const field of ['ordersInWindow', 'errorsInWindow', 'requestsInWindow'] as const) {
    if (!isInt(m[field]) || m[field] < 0) problems.push({ field, value: m[field], problem: 'must be a non-negative whole number' });
  }
  if (problems.length === 0 && m.errorsInWindow > m.requestsInWindow) {
    problems.push({ field: 'errorsInWindow', value: m.errorsInWindow, problem: `must not exceed requestsInWindow (${m.requestsInWindow})` });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

interface Breach {
  observed: number | null;
  limit: number;
  reason: string;
}

function drawdownBreach(peak: number, equity: number, c: BreakerConfig): Breach | null {
  if (peak <= 0) {
    // No positive peak to measure a fraction from: any further fall trips.
    return equity < peak ? { observed: null, limit: c.maxDrawdownFraction, reason: `equity ${formatDecimal(equity)} fell below a non-positive peak ${formatDecimal(peak)}` } : null;
  }
  const dd = (peak - equity) / peak;
  if (!(dd > c.maxDrawdownFraction)) return null;
  return {
    observed: dd,
    limit: c.maxDrawdownFraction,
    reason: `equity ${formatDecimal(equity)} is ${percent(dd)} below its peak ${formatDecimal(peak)}, beyond the ${percent(c.maxDrawdownFraction)} limit`,
  };
}

function dailyLossBreach(m: BreakerMetrics, c: BreakerConfig): Breach | null {
  const loss = -m.dailyPnl;
  if (!(loss > c.maxDailyLoss)) return null;
  return { observed: loss, limit: c.maxDailyLoss, reason: `daily loss ${formatDecimal(loss)} exceeds the limit of ${formatDecimal(c.maxDailyLoss)}` };
}

function orderRateBreach(m: BreakerMetrics, c: BreakerConfig): Breach | null {
  if (!(m.ordersInWindow > c.maxOrdersInWindow)) return null;
  return {
    observed: m.ordersInWindow,
    limit: c.maxOrdersInWindow,
    reason: `${m.ordersInWindow} orders in ${c.orderWindowMs / 1_000} s exceed the limit of ${c.maxOrdersInWindow}`,
  };
}

function errorRateBreach(m: BreakerMetrics, c: BreakerConfig): Breach | null {
  if (m.errorsInWindow > c.maxErrorsInWindow) {
    return {
      observed: m.errorsInWindow,
      limit: c.maxErrorsInWindow,
      reason: `${m.errorsInWindow} venue errors in ${c.errorWindowMs / 1_000} s exceed the limit of ${c.maxErrorsInWindow}`,
    };
  }
  if (m.requestsInWindow >= c.minRequestsForErrorRate && m.requestsInWindow > 0) {
    const rate = m.errorsInWindow / m.requestsInWindow;
    if (rate > c.maxErrorRate) {
      return {
        observed: rate,
        limit: c.maxErrorRate,
        reason: `${m.errorsInWindow} of ${m.requestsInWindow} venue requests failed (${percent(rate)}), above the ${percent(c.maxErrorRate)} limit`,
      };
    }
  }
  return null;
}

const hasTrip = (trips: readonly BreakerTrip[], kind: BreakerKind): boolean => trips.some((t) => t.kind === kind);

/**
 * Updates the equity peak and trips every breaker whose condition holds. A kind already tripped
 * is left as it is (same metrics twice add nothing). With a cooldown configured, rate trips whose
 * condition has cleared are lifted.
 */
export function evaluateBreakers(state: BreakerState, metrics: BreakerMetrics, config: BreakerConfig, now: number): BreakerUpdate {
  requireTime(now);
  validateMetrics(metrics);
  const peak = state.peakEquity === null || metrics.equity > state.peakEquity ? metrics.equity : state.peakEquity;

  const lifted: BreakerTrip[] = [];
  let trips = state.trips;
  if (config.rateTripCooldownMs !== null) {
    const cooldown = config.rateTripCooldownMs;
    const clears = (t: BreakerTrip): boolean =>
      now - t.since >= cooldown &&
      ((t.kind === BreakerKind.ORDER_RATE && orderRateBreach(metrics, config) === null) || (t.kind === BreakerKind.ERROR_RATE && errorRateBreach(metrics, config) === null));
    lifted.push(...trips.filter(clears));
    if (lifted.length > 0) trips = trips.filter((t) => !clears(t));
  }

  const tripped: BreakerTrip[] = [];
  const check = (kind: BreakerKind, breach: Breach | null) => {
    if (breach !== null && !hasTrip(trips, kind)) tripped.push({ kind, reason: breach.reason, observed: breach.observed, limit: breach.limit, since: now, operator: null });
  };
  check(BreakerKind.DRAWDOWN, drawdownBreach(peak, metrics.equity, config));
  check(BreakerKind.DAILY_LOSS, dailyLossBreach(metrics, config));
  check(BreakerKind.ORDER_RATE, orderRateBreach(metrics, config));
  check(BreakerKind.ERROR_RATE, errorRateBreach(metrics, config));

  return { state: { trips: tripped.length > 0 ? [...trips, ...tripped] : trips.slice(), peakEquity: peak }, tripped, lifted };
}

/** The kill switch: halts trading until an operator resumes. A second halt keeps the first one's record. */
/**
 * A halt must never fail for the length of its reason (a long pre-flight report, a prefixed
 * operator reason): one longer than the records keep is clipped, never refused.
 */
function clipReason(reason: string): string {
  const r = reason.trim();
  return r.length <= MAX_REASON_LENGTH ? r : `${r.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

export function manualHalt(state: BreakerState, operator: string, reason: string, now: number): BreakerUpdate {
  const problems: FieldProblem[] = [];
  requireName('operator', operator, problems);
  if (typeof reason !== 'string' || reason.trim().length === 0) problems.push({ field: 'reason', value: reason, problem: 'must be a non-empty string' });
  if (!isInt(now) || now < 0) problems.push({ field: 'now', value: now, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  if (hasTrip(state.trips, BreakerKind.MANUAL)) return { state: { ...state, trips: state.trips.slice() }, tripped: [], lifted: [] };
  const trip: BreakerTrip = { kind: BreakerKind.MANUAL, reason: clipReason(reason), observed: null, limit: null, since: now, operator: operator.trim() };
  return { state: { ...state, trips: [...state.trips, trip] }, tripped: [trip], lifted: [] };
}

const RESUMABLE: ReadonlySet<BreakerKind> = new Set([BreakerKind.MANUAL, BreakerKind.DRAWDOWN, BreakerKind.ORDER_RATE, BreakerKind.ERROR_RATE]);

/** An operator lifts every trip except DAILY_LOSS, which waits for the daily reset. */
export function resume(state: BreakerState, operator: string, now: number): BreakerUpdate {
  const problems: FieldProblem[] = [];
  requireName('operator', operator, problems);
  if (!isInt(now) || now < 0) problems.push({ field: 'now', value: now, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  const lifted = state.trips.filter((t) => RESUMABLE.has(t.kind));
  const trips = state.trips.filter((t) => !RESUMABLE.has(t.kind));
  const peakEquity = hasTrip(lifted, BreakerKind.DRAWDOWN) ? null : state.peakEquity;
  return { state: { trips, peakEquity }, tripped: [], lifted };
}

/** Start of a trading day: lifts DAILY_LOSS trips only; manual halts and drawdown trips stay. */
/**
 * The daily reset lifts daily-loss trips, and nothing else. With `dayStartAt` (when the new trading
 * day began) only trips from before it: a loss limit hit today stays hit, however often the reset
 * of today is repeated or however late it arrives.
 */
export function dailyReset(state: BreakerState, now: number, dayStartAt?: number): BreakerUpdate {
  requireTime(now);
  const lifts = (t: BreakerTrip) => t.kind === BreakerKind.DAILY_LOSS && (dayStartAt === undefined || t.since < dayStartAt);
  const lifted = state.trips.filter(lifts);
  return { state: { trips: state.trips.filter((t) => !lifts(t)), peakEquity: state.peakEquity }, tripped: [], lifted };
}

export function breakerStatus(state: BreakerState): BreakerStatus {
  if (hasTrip(state.trips, BreakerKind.MANUAL)) return BreakerStatus.MANUALLY_HALTED;
  return state.trips.length > 0 ? BreakerStatus.TRIPPED : BreakerStatus.NORMAL;
}

export const isTradingAllowed = (state: BreakerState): boolean => state.trips.length === 0;

/** The text for RiskContext.halted: manual halt first, then automatic trips in the order they tripped; null when trading is allowed. */
export function haltReason(state: BreakerState): string | null {
  if (state.trips.length === 0) return null;
  const ordered = [...state.trips.filter((t) => t.kind === BreakerKind.MANUAL), ...state.trips.filter((t) => t.kind !== BreakerKind.MANUAL)];
  return ordered.map((t) => (t.operator !== null ? `${t.kind} by ${t.operator}: ${t.reason}` : `${t.kind}: ${t.reason}`)).join('; ');
}

/** RiskContext.halted from the breaker state. */
export function haltedFor(state: BreakerState): { reason: string } | null {
  const reason = haltReason(state);
  return reason === null ? null : { reason };
}

// ---- config and restored-state validation ----------------------------------------------------

const CONFIG_FIELDS = [
  'maxDrawdownFraction',
  'maxDailyLoss',
  'orderWindowMs',
  'maxOrdersInWindow',
  'errorWindowMs',
  'maxErrorsInWindow',
  'maxErrorRate',
  'minRequestsForErrorRate',
  'rateTripCooldownMs',
] as const satisfies readonly (keyof BreakerConfig)[];


function readWhole(field: string, value: unknown, problems: FieldProblem[], min: number): number | undefined {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !isInt(n) || n < min) {
    problems.push({ field, value, problem: min > 0 ? 'must be a positive whole number' : 'must be a non-negative whole number' });
    return undefined;
  }
  return n;
}

function readFraction(field: string, value: unknown, problems: FieldProblem[], allowOne: boolean): number | undefined {
  const micros = collectMicros(field, value, problems);
  if (micros === undefined) return undefined;
  if (micros <= 0 || micros > MICROS || (!allowOne && micros === MICROS)) {
    problems.push({ field, value, problem: allowOne ? 'must be in (0, 1]' : 'must be in (0, 1)' });
    return undefined;
  }
  return micros / MICROS;
}

/**
 * Builds BreakerConfig from a config-style object and reports every bad field at once. Every
 * field is required (rateTripCooldownMs as an explicit null to disable auto-clear).
 */
export function parseBreakerConfig(input: unknown): BreakerConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInput([{ field: 'breakers', value: input, problem: 'must be an object' }], ErrorType.InvalidConfig);
  }
  const raw = input as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_FIELDS as readonly string[]).includes(key)) problems.push({ field: key, value: raw[key], problem: 'is not a known breaker setting' });
  }
  for (const field of CONFIG_FIELDS) {
    if (raw[field] === undefined) problems.push({ field, value: undefined, problem: 'is required' });
  }
  const has = (f: string) => raw[f] !== undefined;
  const out = {
    maxDrawdownFraction: has('maxDrawdownFraction') ? readFraction('maxDrawdownFraction', raw.maxDrawdownFraction, problems, false) : undefined,
    maxDailyLoss: undefined as number | undefined,
    orderWindowMs: has('orderWindowMs') ? readWhole('orderWindowMs', raw.orderWindowMs, problems, 1) : undefined,
    maxOrdersInWindow: has('maxOrdersInWindow') ? readWhole('maxOrdersInWindow', raw.maxOrdersInWindow, problems, 1) : undefined,
    errorWindowMs: has('errorWindowMs') ? readWhole('errorWindowMs', raw.errorWindowMs, problems, 1) : undefined,
    maxErrorsInWindow: has('maxErrorsInWindow') ? readWhole('maxErrorsInWindow', raw.maxErrorsInWindow, problems, 0) : undefined,
    maxErrorRate: has('maxErrorRate') ? readFraction('maxErrorRate', raw.maxErrorRate, problems, true) : undefined,
    minRequestsForErrorRate: has('minRequestsForErrorRate') ? readWhole('minRequestsForErrorRate', raw.minRequestsForErrorRate, problems, 1) : undefined,
    rateTripCooldownMs: undefined as number | null | undefined,
  };
  if (has('maxDailyLoss')) {
    const loss = collectMicros('maxDailyLoss', raw.maxDailyLoss, problems);
    if (loss !== undefined && loss <= 0) problems.push({ field: 'maxDailyLoss', value: raw.maxDailyLoss, problem: 'must be greater than zero' });
    else out.maxDailyLoss = loss;
  }
  if (has('rateTripCooldownMs')) {
    out.rateTripCooldownMs = raw.rateTripCooldownMs === null ? null : readWhole('rateTripCooldownMs', raw.rateTripCooldownMs, problems, 1);
  }
  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return Object.freeze(out as unknown as BreakerConfig);
}

const KINDS: ReadonlySet<string> = new Set(Object.values(BreakerKind));
const isNumOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));

/** Checks a state read back from storage (JSON), reporting every bad field at once. */
export function parseBreakerState(input: unknown): BreakerState {
  const problems: FieldProblem[] = [];
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof input !== 'object' || input === null) problems.push({ field: 'breakerState', value: input, problem: 'must be an object' });
  if (!(raw.peakEquity === null || isInt(raw.peakEquity))) problems.push({ field: 'peakEquity', value: raw.peakEquity, problem: 'must be integer micros or null' });
  const trips = Array.isArray(raw.trips) ? (raw.trips as unknown[]) : [];
  if (!Array.isArray(raw.trips)) problems.push({ field: 'trips', value: raw.trips, problem: 'must be an array' });
  const seen = new Set<string>();
  trips.forEach((t, i) => {
    const r = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    const at = `trips[${i}]`;
    if (typeof r.kind !== 'string' || !KINDS.has(r.kind)) problems.push({ field: `${at}.kind`, value: r.kind, problem: 'must be a breaker kind' });
    else if (seen.has(r.kind)) problems.push({ field: `${at}.kind`, value: r.kind, problem: 'is tripped twice' });
    else seen.add(r.kind);
    if (typeof r.reason !== 'string') problems.push({ field: `${at}.reason`, value: r.reason, problem: 'must be a string' });
    if (!isNumOrNull(r.observed)) problems.push({ field: `${at}.observed`, value: r.observed, problem: 'must be a number or null' });
    if (!isNumOrNull(r.limit)) problems.push({ field: `${at}.limit`, value: r.limit, problem: 'must be a number or null' });
    if (!isInt(r.since)) problems.push({ field: `${at}.since`, value: r.since, problem: 'must be epoch milliseconds' });
    if (!(r.operator === null || typeof r.operator === 'string')) problems.push({ field: `${at}.operator`, value: r.operator, problem: 'must be a string or null' });
  });
  if (problems.length > 0) throw new InvalidInput(problems);
  return { trips: trips as BreakerTrip[], peakEquity: raw.peakEquity as Money | null };
}
