import { describe, expect, it } from 'vitest';
import {
  BreakerKind,
  BreakerStatus,
  CASE_STUDY_BREAKERS,
  breakerStatus,
  dailyReset,
  evaluateBreakers,
  haltReason,
  haltedFor,
  initialBreakerState,
  isTradingAllowed,
  manualHalt,
  parseBreakerConfig,
  parseBreakerState,
  resume,
  type BreakerConfig,
  type BreakerMetrics,
  type BreakerState,
} from '../../domain/breakers';
import { ErrorType, InvalidInput } from '../../domain/errors';
import { usd, type Money } from '../../domain/money';
import { MAX_REASON_LENGTH } from '../../domain/operator-request';

const T0 = 1_700_000_000_000;
const calm: BreakerMetrics = { equity: usd(2_000), dailyPnl: usd(0), ordersInWindow: 0, errorsInWindow: 0, requestsInWindow: 0 };
const cfg = CASE_STUDY_BREAKERS;

const kinds = (s: BreakerState) => s.trips.map((t) => t.kind);

/** Evaluates a sequence of metrics from a fresh state. */
function run(steps: Partial<BreakerMetrics>[], config: BreakerConfig = cfg): BreakerState {
  let state = initialBreakerState();
  steps.forEach((m, i) => {
    state = evaluateBreakers(state, { ...calm, ...m }, config, T0 + i * 1_000).state;
  });
  return state;
}

/** JSON round trip, as when a worker restarts and the state comes back from history or storage. */
const restart = (s: BreakerState): BreakerState => parseBreakerState(JSON.parse(JSON.stringify(s)));

describe('circuit breakers: tripping', () => {
  it('starts NORMAL with trading allowed and no halt reason', () => {
    const s = run([{}]);
    expect(breakerStatus(s)).toBe(BreakerStatus.NORMAL);
    expect(isTradingAllowed(s)).toBe(true);
    expect(haltReason(s)).toBeNull();
    expect(haltedFor(s)).toBeNull();
    expect(s.peakEquity).toBe(2_000_000_000);
  });

  it('DRAWDOWN trips when equity falls more than 10% below its peak, not at exactly 10%', () => {
    const at = run([{ equity: usd(2_500) }, { equity: usd(2_250) }]);
    expect(kinds(at)).toEqual([]);
    expect(at.peakEquity).toBe(2_500_000_000);
    const below = run([{ equity: usd(2_500) }, { equity: usd(2_249.99) }]);
    expect(kinds(below)).toEqual([BreakerKind.DRAWDOWN]);
    expect(below.trips[0]).toMatchObject({ limit: 0.1, since: T0 + 1_000, operator: null });
    expect(below.trips[0]?.observed).toBeCloseTo(0.100004, 6);
    expect(haltReason(below)).toBe('DRAWDOWN: equity 2249.99 is 10.00% below its peak 2500.00, beyond the 10.00% limit');
  });

  it('DAILY_LOSS trips on a loss beyond $200, not at exactly $200', () => {
    expect(kinds(run([{ dailyPnl: usd(-200) }]))).toEqual([]);
    const s = run([{ dailyPnl: usd(-200.01) }]);
    expect(kinds(s)).toEqual([BreakerKind.DAILY_LOSS]);
    expect(s.trips[0]).toMatchObject({ observed: 200_010_000, limit: 200_000_000 });
    expect(s.trips[0]?.reason).toBe('daily loss 200.01 exceeds the limit of 200.00');
  });

  it('ORDER_RATE trips above the orders allowed in the window', () => {
    expect(kinds(run([{ ordersInWindow: 20 }]))).toEqual([]);
    expect(kinds(run([{ ordersInWindow: 21 }]))).toEqual([BreakerKind.ORDER_RATE]);
  });

  it('ERROR_RATE trips on more than 5 errors, or on more than half of at least 10 requests', () => {
    expect(kinds(run([{ errorsInWindow: 5, requestsInWindow: 100 }]))).toEqual([]);
    expect(kinds(run([{ errorsInWindow: 6, requestsInWindow: 100 }]))).toEqual([BreakerKind.ERROR_RATE]);
    // 4 of 4 is too few requests to judge a fraction; 5 of 10 is exactly the 50% limit.
    expect(kinds(run([{ errorsInWindow: 4, requestsInWindow: 4 }]))).toEqual([]);
    expect(kinds(run([{ errorsInWindow: 5, requestsInWindow: 10 }]))).toEqual([]);
    const s = run([{ errorsInWindow: 5, requestsInWindow: 9 }], { ...cfg, minRequestsForErrorRate: 9 });
    expect(s.trips[0]).toMatchObject({ kind: BreakerKind.ERROR_RATE, limit: 0.5 });
    expect(s.trips[0]?.observed).toBeCloseTo(5 / 9, 12);
  });

  it('several breakers trip together; re-evaluating the same metrics adds nothing', () => {
    const bad = { ...calm, dailyPnl: usd(-300), ordersInWindow: 50, errorsInWindow: 9, requestsInWindow: 10 };
    const first = evaluateBreakers(initialBreakerState(), bad, cfg, T0);
    expect(first.tripped.map((t) => t.kind)).toEqual([BreakerKind.DAILY_LOSS, BreakerKind.ORDER_RATE, BreakerKind.ERROR_RATE]);
    const again = evaluateBreakers(first.state, bad, cfg, T0 + 5_000);
    expect(again.tripped).toEqual([]);
    expect(again.state).toEqual(first.state);
    expect(again.state.trips.every((t) => t.since === T0)).toBe(true);
    expect(breakerStatus(again.state)).toBe(BreakerStatus.TRIPPED);
    expect(isTradingAllowed(again.state)).toBe(false);
  });

  it('a trip stays after its condition clears (no cooldown configured)', () => {
    const s = run([{ ordersInWindow: 30 }, { ordersInWindow: 0 }, { dailyPnl: usd(-250) }, { dailyPnl: usd(0) }]);
    expect(kinds(s)).toEqual([BreakerKind.ORDER_RATE, BreakerKind.DAILY_LOSS]);
  });

  it('does not mutate the state it is given', () => {
    const s0 = run([{ equity: usd(3_000) }]);
    const copy = JSON.parse(JSON.stringify(s0)) as BreakerState;
    evaluateBreakers(s0, { ...calm, equity: usd(1), dailyPnl: usd(-999) }, cfg, T0);
    expect(s0).toEqual(copy);
  });

  it('refuses malformed metrics, naming every bad field', () => {
    try {
      evaluateBreakers(initialBreakerState(), { ...calm, equity: NaN as Money, ordersInWindow: -1, errorsInWindow: 1.5 }, cfg, T0);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['equity', 'ordersInWindow', 'errorsInWindow']);
    }
    expect(() => evaluateBreakers(initialBreakerState(), { ...calm, errorsInWindow: 3, requestsInWindow: 2 }, cfg, T0)).toThrow(InvalidInput);
    expect(() => evaluateBreakers(initialBreakerState(), calm, cfg, NaN)).toThrow(InvalidInput);
  });
});

describe('circuit breakers: what lifts what', () => {
  it('resume lifts MANUAL, DRAWDOWN, ORDER_RATE and ERROR_RATE but not DAILY_LOSS', () => {
    let s = run([{ equity: usd(2_000) }, { equity: usd(1_000), dailyPnl: usd(-1_000), ordersInWindow: 99, errorsInWindow: 10, requestsInWindow: 10 }]);
    s = manualHalt(s, 'alice', 'checking fills', T0 + 10_000).state;
    expect(kinds(s).sort()).toEqual(Object.values(BreakerKind).sort());
    const r = resume(s, 'bob', T0 + 20_000);
    expect(r.lifted.map((t) => t.kind).sort()).toEqual([BreakerKind.DRAWDOWN, BreakerKind.ERROR_RATE, BreakerKind.MANUAL, BreakerKind.ORDER_RATE].sort());
    expect(kinds(r.state)).toEqual([BreakerKind.DAILY_LOSS]);
    expect(isTradingAllowed(r.state)).toBe(false);
    expect(breakerStatus(r.state)).toBe(BreakerStatus.TRIPPED);
  });

  it('with the start of the day, the daily reset lifts only daily-loss trips from before it, however often it is repeated', () => {
    const s = run([{ equity: usd(2_000) }, { equity: usd(1_500), dailyPnl: usd(-500) }]);
    const since = s.trips.find((t) => t.kind === BreakerKind.DAILY_LOSS)!.since;
    // The reset of the day in which the loss happened: nothing to lift.
    const same = dailyReset(s, since + 1_000, since - 1);
    expect(same.lifted).toEqual([]);
    expect(kinds(same.state)).toContain(BreakerKind.DAILY_LOSS);
    // The next day's reset: the trip is from before it.
    const next = dailyReset(s, since + 86_400_000, since + 1);
    expect(next.lifted.map((t) => t.kind)).toEqual([BreakerKind.DAILY_LOSS]);
  });

  it('a halt with a reason longer than the records keep still halts, its reason clipped (a long pre-flight report failed the session)', () => {
    const long = `pre-flight failed: ${'RECONCILIATION_CLEAN (order x differs); '.repeat(60)}`;
    const r = manualHalt(initialBreakerState(), 'preflight', long, T0);
    expect(isTradingAllowed(r.state)).toBe(false);
    expect(r.tripped[0]!.reason.length).toBe(MAX_REASON_LENGTH);
    expect(r.tripped[0]!.reason.endsWith('…')).toBe(true);
    expect(() => manualHalt(initialBreakerState(), 'preflight', '  ', T0)).toThrow(/reason/);
  });

  it('the daily reset lifts DAILY_LOSS only; a manual halt and a drawdown trip stay', () => {
    let s = run([{ equity: usd(2_000) }, { equity: usd(1_500), dailyPnl: usd(-500) }]);
    s = manualHalt(s, 'alice', 'news event', T0 + 10_000).state;
    const r = dailyReset(s, T0 + 86_400_000);
    expect(r.lifted.map((t) => t.kind)).toEqual([BreakerKind.DAILY_LOSS]);
    expect(kinds(r.state).sort()).toEqual([BreakerKind.DRAWDOWN, BreakerKind.MANUAL]);
    expect(breakerStatus(r.state)).toBe(BreakerStatus.MANUALLY_HALTED);
    const next = evaluateBreakers(r.state, { ...calm, equity: usd(1_500) }, cfg, T0 + 86_401_000);
    expect(kinds(next.state).sort()).toEqual([BreakerKind.DRAWDOWN, BreakerKind.MANUAL]);
  });

  it('after resuming a drawdown trip, drawdown is measured from the equity at resumption', () => {
    let s = run([{ equity: usd(2_000) }, { equity: usd(1_700) }]);
    expect(kinds(s)).toEqual([BreakerKind.DRAWDOWN]);
    s = resume(s, 'alice', T0 + 5_000).state;
    expect(s.peakEquity).toBeNull();
    s = evaluateBreakers(s, { ...calm, equity: usd(1_700) }, cfg, T0 + 6_000).state;
    expect(kinds(s)).toEqual([]);
    expect(s.peakEquity).toBe(1_700_000_000);
    s = evaluateBreakers(s, { ...calm, equity: usd(1_529) }, cfg, T0 + 7_000).state;
    expect(kinds(s)).toEqual([BreakerKind.DRAWDOWN]);
  });

  it('resume without a drawdown trip keeps the peak', () => {
    let s = run([{ equity: usd(2_000) }, { equity: usd(1_900), ordersInWindow: 25 }]);
    s = resume(s, 'alice', T0 + 5_000).state;
    expect(s.peakEquity).toBe(2_000_000_000);
    expect(kinds(s)).toEqual([]);
  });

  it('with a cooldown, a rate trip clears once the rate is back within its limit and the cooldown has passed', () => {
    const config = { ...cfg, rateTripCooldownMs: 60_000 };
    let s = evaluateBreakers(initialBreakerState(), { ...calm, ordersInWindow: 30, errorsInWindow: 8, requestsInWindow: 8 }, config, T0).state;
    expect(kinds(s)).toEqual([BreakerKind.ORDER_RATE, BreakerKind.ERROR_RATE]);
    // Rates back to normal but too early.
    s = evaluateBreakers(s, calm, config, T0 + 59_999).state;
    expect(kinds(s)).toEqual([BreakerKind.ORDER_RATE, BreakerKind.ERROR_RATE]);
    // Cooldown over, orders still too many: only the error trip clears.
    const u = evaluateBreakers(s, { ...calm, ordersInWindow: 21 }, config, T0 + 60_000);
    expect(u.lifted.map((t) => t.kind)).toEqual([BreakerKind.ERROR_RATE]);
    expect(u.tripped).toEqual([]);
    expect(kinds(u.state)).toEqual([BreakerKind.ORDER_RATE]);
    expect(u.state.trips[0]?.since).toBe(T0);
    s = evaluateBreakers(u.state, calm, config, T0 + 61_000).state;
    expect(kinds(s)).toEqual([]);
  });

  it('a cooldown never clears MANUAL, DRAWDOWN or DAILY_LOSS', () => {
    const config = { ...cfg, rateTripCooldownMs: 1 };
    let s = run([{ equity: usd(2_000) }, { equity: usd(1_000), dailyPnl: usd(-1_000) }], config);
    s = manualHalt(s, 'alice', 'stop', T0 + 2_000).state;
    s = evaluateBreakers(s, { ...calm, equity: usd(5_000) }, config, T0 + 10_000_000).state;
    expect(kinds(s).sort()).toEqual([BreakerKind.DAILY_LOSS, BreakerKind.DRAWDOWN, BreakerKind.MANUAL]);
  });
});

describe('circuit breakers: manual halt (kill switch)', () => {
  it('halts with the operator and reason, and survives a worker restart', () => {
    const h = manualHalt(initialBreakerState(), 'alice', 'venue outage suspected', T0);
    expect(h.tripped).toEqual([{ kind: 'MANUAL', reason: 'venue outage suspected', observed: null, limit: null, since: T0, operator: 'alice' }]);
    const restored = restart(h.state);
    expect(restored).toEqual(h.state);
    expect(breakerStatus(restored)).toBe(BreakerStatus.MANUALLY_HALTED);
    expect(isTradingAllowed(restored)).toBe(false);
    expect(haltedFor(restored)).toEqual({ reason: 'MANUAL by alice: venue outage suspected' });
    // Still halted after evaluations with calm metrics, and after a daily reset.
    const later = dailyReset(evaluateBreakers(restored, calm, cfg, T0 + 60_000).state, T0 + 86_400_000).state;
    expect(breakerStatus(restart(later))).toBe(BreakerStatus.MANUALLY_HALTED);
    expect(isTradingAllowed(resume(restart(later), 'alice', T0 + 90_000_000).state)).toBe(true);
  });

  it('manual halt takes precedence in the status and leads the halt reason', () => {
    let s = run([{ dailyPnl: usd(-500) }]);
    s = manualHalt(s, 'bob', 'review', T0 + 1).state;
    expect(breakerStatus(s)).toBe(BreakerStatus.MANUALLY_HALTED);
    expect(haltReason(s)).toBe('MANUAL by bob: review; DAILY_LOSS: daily loss 500.00 exceeds the limit of 200.00');
  });

  it('a second halt keeps the first record', () => {
    const first = manualHalt(initialBreakerState(), 'alice', 'one', T0).state;
    const second = manualHalt(first, 'bob', 'two', T0 + 1);
    expect(second.tripped).toEqual([]);
    expect(second.state.trips).toEqual(first.trips);
  });

  it('requires a reason and an operator', () => {
    for (const [op, reason] of [
      ['alice', ''],
      ['alice', '   '],
      ['', 'why'],
    ] as const) {
      expect(() => manualHalt(initialBreakerState(), op, reason, T0)).toThrow(InvalidInput);
    }
    try {
      manualHalt(initialBreakerState(), '', '', NaN);
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['operator', 'reason', 'now']);
    }
    expect(() => resume(initialBreakerState(), ' ', T0)).toThrow(InvalidInput);
  });
});

describe('circuit breakers: config and restored state', () => {
  const config = {
    maxDrawdownFraction: '0.10',
    maxDailyLoss: '200.00',
    orderWindowMs: 60_000,
    maxOrdersInWindow: 20,
    errorWindowMs: 300_000,
    maxErrorsInWindow: 5,
    maxErrorRate: 0.5,
    minRequestsForErrorRate: '10',
    rateTripCooldownMs: null,
  };

  it('parses the case-study settings', () => {
    expect(parseBreakerConfig(config)).toEqual(CASE_STUDY_BREAKERS);
    expect(parseBreakerConfig({ ...config, rateTripCooldownMs: 300_000 }).rateTripCooldownMs).toBe(300_000);
  });

  it('reports every bad field at once', () => {
    try {
      parseBreakerConfig({ ...config, maxDrawdownFraction: 1, maxDailyLoss: '-5', orderWindowMs: 0, maxErrorRate: 'half', rateTripCooldownMs: undefined, extra: 1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).type).toBe(ErrorType.InvalidConfig);
      expect((e as InvalidInput).problems.map((p) => p.field).sort()).toEqual(['extra', 'maxDailyLoss', 'maxDrawdownFraction', 'maxErrorRate', 'orderWindowMs', 'rateTripCooldownMs'].sort());
    }
    expect(() => parseBreakerConfig('nope')).toThrow(InvalidInput);
  });

  it('refuses a restored state that is not one', () => {
    try {
      parseBreakerState({ trips: [{ kind: 'PANIC', reason: 1, since: 'x', observed: null, limit: null, operator: null }], peakEquity: 1.5 });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['peakEquity', 'trips[0].kind', 'trips[0].reason', 'trips[0].since']);
    }
    const dup = manualHalt(initialBreakerState(), 'a', 'b', T0).state;
    expect(() => parseBreakerState({ ...dup, trips: [...dup.trips, ...dup.trips] })).toThrow(/tripped twice/);
    expect(() => parseBreakerState(null)).toThrow(InvalidInput);
  });
});
