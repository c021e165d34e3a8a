/**
 * Bad-input sweep of the payloads that reach workflows from outside: the session's halt, resume,
 * kill-switch, daily-reset and orderFinished signals, an order's cancel and halt requests, the
 * reconciliation decision (signal, and the update with its validator), the control updates
 * (haltSession, resumeSession, killSwitchSession, cancelOrder, haltOrder: their validators, then
 * their handlers on what passed), and the order workflow's input. Payloads are anything JSON can carry (Temporal decodes signal
 * arguments from JSON): wrong types, missing fields, oversized and hostile text, deep nesting.
 * A handler never throws; a bad payload is refused with a message naming the field, and the
 * workflow's state (its records until it flushes them) is exactly as before; a good one is taken.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderActivities, SessionActivities } from '../../contracts/activities';
import type { ControlRequest, OrderWorkflowInput, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS, initialBreakerState } from '../../domain/breakers';
import { InvalidInput } from '../../domain/errors';
import { ORDER_STATES } from '../../domain/order';
import { MICROS, type Money, type Price, type Quantity } from '../../domain/money';
import { OrderLifecycle } from '../../workflows/order-lifecycle';
import { ReconciliationRun } from '../../workflows/reconciliation';
import { TradingSession } from '../../workflows/session';
import { JOURNAL_KEY_RE, validateControlRequest, validateOrderWorkflowInput } from '../../workflows/validation';
import { SweepCounter, anyJson, hostileString, runs, wrongTyped } from './support';

const counter = new SweepCounter('signals');
afterAll(() => counter.report());

const unused = new Proxy({}, { get: (_t, name) => () => Promise.reject(new Error(`activity ${String(name)} must not run from a signal handler`)) });
const never = () => Promise.reject(new Error('not used by signal handlers'));

const SESSION_INPUT: SessionWorkflowInput = {
  strategy: 'ema',
  strategyName: 'ema',
  strategyParams: {},
  tradingDay: '2026-11-21',
  marketIds: ['PRES-2028'],
  endOfDayAt: Date.UTC(2026, 10, 21, 23),
  watchPeriodMs: 15 * 60_000,
  pollIntervalMs: 30_000,
  orderTtlMs: 600_000,
  maxDailyLoss: (200 * MICROS) as Money,
  breakers: CASE_STUDY_BREAKERS,
  searchAttributes: false,
};

const ORDER_INPUT: OrderWorkflowInput = {
  order: { clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', side: 'BUY', quantity: 10 as Quantity, limitPrice: 430_000 as Price },
  context: { strategy: 'ema', sessionWorkflowId: 'session-ema-2026-11-21', tradingDay: '2026-11-21', signal: { price: 420_000 as Price, confidence: 0.7, at: 1_000, metadata: {} } },
  ttlMs: 600_000,
  halted: null,
  ordersInLastMinute: 0,
  searchAttributes: false,
};

/** A session past loading its carried-over state (before that, requests wait and are applied after: workflows/session.ts). */
const LOADED: SessionWorkflowInput['carry'] = { breakers: initialBreakerState(), strategyState: {}, sequence: 0, actionSequence: 0, recentOrderTimes: [], lastAt: 0, alertedHalfLoss: false };

function newSession(): TradingSession {
  return new TradingSession({ ...SESSION_INPUT, carry: LOADED }, {
    acts: unused as SessionActivities,
    waitFor: never,
    watch: never,
    startOrder: never,
    continueAsNewSuggested: () => false,
    continueAsNew: never,
  });
}

/** What validateOperatorRequest accepts: an object with non-empty operator (<= 100) and reason (<= 1000), free of control characters. */
function isValidRequest(p: unknown): boolean {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
  const r = p as Record<string, unknown>;
  const ok = (v: unknown, max: number) => typeof v === 'string' && v.trim().length > 0 && v.length <= max && !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(v);
  return ok(r.operator, 100) && ok(r.reason, 1_000);
}

/** Operator requests: right shape with hostile or wrong-typed fields, or not an object at all. */
const operatorPayload: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  fc.record({ operator: fc.oneof(hostileString, wrongTyped), reason: fc.oneof(hostileString, wrongTyped) }, { requiredKeys: [] }),
  fc.record({ operator: fc.constant('ann'), reason: fc.oneof(hostileString, wrongTyped) }),
  fc.record({ operator: fc.oneof(hostileString, wrongTyped), reason: fc.constant('news pending') }),
  fc.record({ operator: fc.constant('ann'), reason: fc.constant('news pending'), flatten: wrongTyped }),
);

/** The part of a session's status that signals may change. */
const sessionState = (s: TradingSession) => {
  const { refusedSignals: _refused, unrecorded: _journalEntriesToWrite, ...rest } = s.status();
  return JSON.stringify(rest);
};

describe('session signals', () => {
  const handlers = [
    ['halt', (s: TradingSession, p: unknown) => s.onHalt(p)],
    ['resume', (s: TradingSession, p: unknown) => s.onResume(p)],
    ['killSwitch', (s: TradingSession, p: unknown) => s.onKillSwitch(p)],
  ] as const;

  it('halt, resume and kill switch: a bad payload is refused naming the field and changes nothing; a good one is taken', () => {
    fc.assert(
      fc.property(fc.constantFrom(...handlers), operatorPayload, ([signal, handle], payload) => {
        counter.tried(`session: ${signal}`);
        const session = newSession();
        // Halted first, so that a resume has something to lift.
        if (signal === 'resume') session.onHalt({ operator: 'setup', reason: 'halted before the sweep' });
        const before = sessionState(session);
        const refusedBefore = session.refusedSignals.length;
        expect(() => handle(session, payload)).not.toThrow();
        const flatten = isValidRequest(payload) ? (payload as { flatten?: unknown }).flatten : undefined;
        const flattenOk = signal !== 'killSwitch' || flatten === undefined || typeof flatten === 'boolean';
        if (isValidRequest(payload) && flattenOk) {
          expect(session.refusedSignals.length).toBe(refusedBefore);
          expect(sessionState(session)).not.toBe(before);
          expect(session.status().haltReason === null).toBe(signal === 'resume');
        } else {
          expect(session.refusedSignals.length).toBe(refusedBefore + 1);
          expect(session.refusedSignals.at(-1)).toContain(signal);
          expect(sessionState(session)).toBe(before);
        }
      }),
      { numRuns: runs(600) },
    );
  });

  it('daily reset: a payload without a real trading day is refused naming dailyReset.tradingDay', () => {
    const payload = fc.oneof(
      anyJson,
      fc.record({ tradingDay: fc.oneof(hostileString, wrongTyped) }),
      fc.record({ tradingDay: fc.constantFrom('2026-02-30', '2026-13-01', '0000-00-00', '2026-1-1', '20261121', '2026-11-21T00:00:00Z', ' 2026-11-21') }),
    );
    fc.assert(
      fc.property(payload, (p) => {
        counter.tried('session: dailyReset');
        const session = newSession();
        session.onHalt({ operator: 'setup', reason: 'halted before the sweep' });
        const before = sessionState(session);
        expect(() => session.onDailyReset(p)).not.toThrow();
        expect(session.refusedSignals.at(-1)).toContain('dailyReset.tradingDay');
        expect(sessionState(session)).toBe(before);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('order cancel request', () => {
  it('a bad cancel payload is refused naming the field; the order and its cancel request are untouched', () => {
    fc.assert(
      fc.property(operatorPayload, (payload) => {
        counter.tried('order: cancel');
        const lifecycle = new OrderLifecycle(ORDER_INPUT, { acts: unused as OrderActivities, waitFor: never, startTimer: () => {}, failureType: () => null });
        const before = JSON.stringify(lifecycle.order);
        expect(() => lifecycle.requestCancel(payload)).not.toThrow();
        if (isValidRequest(payload)) {
          expect(lifecycle.status().cancelRequested).not.toBeNull();
        } else {
          expect(lifecycle.status().cancelRequested).toBeNull();
          expect(lifecycle.refusedSignals.at(-1)).toMatch(/cancel/);
        }
        expect(JSON.stringify(lifecycle.order)).toBe(before);
      }),
      { numRuns: runs(300) },
    );
  });

  it('a bad halt payload is refused naming the field; a good one is kept, and only the first', () => {
    fc.assert(
      fc.property(operatorPayload, operatorPayload, (payload, second) => {
        counter.tried('order: halt');
        const lifecycle = new OrderLifecycle(ORDER_INPUT, { acts: unused as OrderActivities, waitFor: never, startTimer: () => {}, failureType: () => null });
        const before = JSON.stringify(lifecycle.order);
        expect(() => lifecycle.requestHalt(payload)).not.toThrow();
        if (isValidRequest(payload)) {
          expect(lifecycle.status().haltRequested).toMatchObject({ operator: (payload as { operator: string }).operator.trim() });
          const kept = JSON.stringify(lifecycle.status().haltRequested);
          lifecycle.requestHalt(second);
          expect(JSON.stringify(lifecycle.status().haltRequested)).toBe(kept);
        } else {
          expect(lifecycle.status().haltRequested).toBeNull();
          expect(lifecycle.refusedSignals.at(-1)).toMatch(/halt/);
        }
        expect(lifecycle.status().cancelRequested).toBeNull();
        expect(JSON.stringify(lifecycle.order)).toBe(before);
      }),
      { numRuns: runs(200) },
    );
  });

  it('a flood of bad cancel payloads keeps only the newest 20 refusals', () => {
    counter.tried('order: cancel flood', 1_000);
    const lifecycle = new OrderLifecycle(ORDER_INPUT, { acts: unused as OrderActivities, waitFor: never, startTimer: () => {}, failureType: () => null });
    for (let i = 0; i < 1_000; i++) lifecycle.requestCancel({ operator: '', reason: 'x'.repeat(10_000) });
    expect(lifecycle.refusedSignals).toHaveLength(20);
    expect(lifecycle.status().cancelRequested).toBeNull();
  });
});

describe('orderFinished signal', () => {
  const RESERVED = { clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028' };
  const finished: fc.Arbitrary<unknown> = fc.oneof(
    anyJson,
    fc.record(
      {
        clientOrderId: fc.oneof(fc.constant(RESERVED.clientOrderId), hostileString, wrongTyped),
        marketId: fc.oneof(fc.constant(RESERVED.marketId), hostileString, wrongTyped),
        state: fc.oneof(fc.constantFrom(...ORDER_STATES), hostileString, wrongTyped),
      },
      { requiredKeys: [] },
    ),
  );

  it('a bad payload is refused naming an orderFinished field and changes nothing; a good one releases only its own market', () => {
    fc.assert(
      fc.property(finished, (payload) => {
        counter.tried('session: orderFinished');
        const session = new TradingSession({ ...SESSION_INPUT, carry: { ...LOADED, reservations: { [RESERVED.marketId]: RESERVED.clientOrderId } } }, {
          acts: unused as SessionActivities,
          waitFor: never,
          watch: never,
          startOrder: never,
          continueAsNewSuggested: () => false,
          continueAsNew: never,
        });
        const before = sessionState(session);
        expect(() => session.onOrderFinished(payload)).not.toThrow();
        const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
        const wellTyped = !Array.isArray(payload) && typeof p.clientOrderId === 'string' && typeof p.marketId === 'string' && (ORDER_STATES as readonly unknown[]).includes(p.state);
        if (session.refusedSignals.length > 0) {
          expect(session.refusedSignals.at(-1)).toContain('orderFinished');
          expect(sessionState(session)).toBe(before);
        } else {
          expect(wellTyped, JSON.stringify(payload)).toBe(true);
          const released = p.clientOrderId === RESERVED.clientOrderId && p.marketId === RESERVED.marketId;
          expect(session.status().reservations).toEqual(released ? {} : { [RESERVED.marketId]: RESERVED.clientOrderId });
        }
        if (!wellTyped) expect(session.refusedSignals).toHaveLength(1);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('control updates', () => {
  const JOURNAL_KEYS = ['cli:0b7c3a52-9a4e-4d2b-8f1e-2f6a4c1d9e70', 'dashboard-req-12345678', '', ' cli:x', 'cli:x\n', 'x'.repeat(81), '-leading-dash', 'key with space'];
  const controlPayload: fc.Arbitrary<unknown> = fc.oneof(
    operatorPayload,
    fc.record({ operator: fc.constant('ann'), reason: fc.constant('news pending'), journalKey: fc.oneof(hostileString, wrongTyped, fc.constantFrom(...JOURNAL_KEYS)) }),
    fc.record({ operator: fc.constant('ann'), reason: fc.constant('news pending'), cancelOrders: fc.oneof(wrongTyped, fc.boolean()), flatten: fc.oneof(wrongTyped, fc.boolean()) }, { requiredKeys: [] }),
    fc.tuple(fc.constantFrom('cancelOrder', 'flaten', 'sessionId', '__proto__x', 'Operator'), anyJson).map(([k, v]) => ({ operator: 'ann', reason: 'news pending', [k]: v })),
  );

  /** What validateControlRequest accepts: an operator request, an optional journal key, the update's boolean flags and nothing else. */
  function isValidControl(p: unknown, flags: readonly string[]): boolean {
    if (!isValidRequest(p)) return false;
    const r = p as Record<string, unknown>;
    if (r.journalKey !== undefined && !(typeof r.journalKey === 'string' && JOURNAL_KEY_RE.test(r.journalKey))) return false;
    if (flags.some((f) => r[f] !== undefined && typeof r[f] !== 'boolean')) return false;
    return Object.keys(r).every((k) => ['operator', 'reason', 'journalKey', ...flags].includes(k));
  }

  const immediately = () => Promise.resolve(true);
  const sessionFor = () =>
    new TradingSession({ ...SESSION_INPUT, carry: LOADED }, { acts: unused as SessionActivities, waitFor: immediately, watch: never, startOrder: never, continueAsNewSuggested: () => false, continueAsNew: never });
  /** Journal entries the session queued itself (a keyed request must queue none: the surface's row is the entry). */
  const journaled = (s: TradingSession): number => (s as unknown as { pending: unknown[] }).pending.length;

  const sessionUpdates = [
    ['haltSession', ['cancelOrders'], (s: TradingSession, r: never) => s.haltUpdate(r)],
    ['resumeSession', [], (s: TradingSession, r: never) => s.resumeUpdate(r)],
    ['killSwitchSession', ['flatten'], (s: TradingSession, r: never) => s.killSwitchUpdate(r)],
  ] as const;

  it('session updates: the validator refuses a bad payload naming the field, and the workflow is untouched; a good one is applied and answered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...sessionUpdates), controlPayload, async ([name, flags, handle], payload) => {
        counter.tried(`update: ${name}`);
        const session = sessionFor();
        if (name === 'resumeSession') await session.haltUpdate({ operator: 'setup', reason: 'halted before the sweep', journalKey: 'setup-1' });
        const before = sessionState(session);
        const journaledBefore = journaled(session);
        let valid: ControlRequest | null = null;
        try {
          valid = validateControlRequest(payload, name, flags);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInput);
          expect((e as InvalidInput).problems.every((p) => p.field === name || p.field.startsWith(`${name}.`))).toBe(true);
        }
        expect(valid !== null).toBe(isValidControl(payload, flags));
        if (valid === null) {
          // Refused by the validator: the handler never runs, nothing is journaled, nothing changes.
          expect(sessionState(session)).toBe(before);
          expect(journaled(session)).toBe(journaledBefore);
          return;
        }
        const outcome = await handle(session, valid as never);
        expect(outcome).toMatchObject({ outcome: 'APPLIED', workflowId: 'session-ema-2026-11-21', journalKey: valid.journalKey ?? null });
        expect(session.status().mode).toBe(name === 'resumeSession' ? 'TRADING' : 'HALTED');
        expect(journaled(session)).toBe(journaledBefore + (valid.journalKey === undefined ? 1 : 0));
        if (valid.journalKey !== undefined) expect(session.status().appliedControls?.at(-1)).toMatchObject({ journalKey: valid.journalKey, outcome: 'APPLIED' });
      }),
      { numRuns: runs(600) },
    );
  });

  it('order updates: the validator refuses a bad payload naming the field; a good one answers and keeps the order from being sent', async () => {
    const orderUpdates = [
      ['cancelOrder', (l: OrderLifecycle, r: never) => l.cancelUpdate(r), 'cancelRequested'],
      ['haltOrder', (l: OrderLifecycle, r: never) => Promise.resolve(l.haltUpdate(r)), 'haltRequested'],
    ] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...orderUpdates), controlPayload, async ([name, handle, field], payload) => {
        counter.tried(`update: ${name}`);
        const lifecycle = new OrderLifecycle(ORDER_INPUT, { acts: unused as OrderActivities, waitFor: immediately, startTimer: () => {}, failureType: () => null });
        const before = JSON.stringify(lifecycle.status());
        let valid: ControlRequest | null = null;
        try {
          valid = validateControlRequest(payload, name);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInput);
          expect((e as InvalidInput).problems.every((p) => p.field === name || p.field.startsWith(`${name}.`))).toBe(true);
        }
        expect(valid !== null).toBe(isValidControl(payload, []));
        if (valid === null) {
          expect(JSON.stringify(lifecycle.status())).toBe(before);
          return;
        }
        const outcome = await handle(lifecycle, valid as never);
        expect(outcome).toMatchObject({ outcome: 'APPLIED', ordersNotSent: 1, workflowId: 'order-ema-20261121-000001' });
        expect(lifecycle.status()[field]).toEqual({ operator: valid.operator, reason: valid.reason });
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('reconciliation decision update', () => {
  const decisionPayload = fc.oneof(
    operatorPayload,
    fc.record({ operator: fc.constant('ann'), reason: fc.constant('checked the venue'), decision: fc.oneof(hostileString, wrongTyped, fc.constantFrom('ADOPT_VENUE', 'STAY_HALTED', 'adopt_venue', 'STAY_HALTED ', '')) }),
    fc.record({ operator: fc.oneof(hostileString, wrongTyped, fc.constant('ann')), reason: fc.oneof(hostileString, wrongTyped, fc.constant('checked')), decision: fc.constantFrom('ADOPT_VENUE', 'STAY_HALTED') }),
  );
  const newRun = () => new ReconciliationRun('reconcile-1', { policy: 'HALT_AND_ALERT', reminderMs: 3_600_000 }, { acts: unused as never, waitFor: never, haltSession: never });

  it('the validator refuses a bad decision naming the field and changes nothing; the handler keeps a good one, then refuses any other', () => {
    fc.assert(
      fc.property(decisionPayload, decisionPayload, (payload, second) => {
        counter.tried('update: decideReconciliation');
        const run = newRun();
        const before = JSON.stringify(run.status());
        let checked: unknown = null;
        try {
          checked = run.checkDecision(payload);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInput);
          expect((e as InvalidInput).problems.every((p) => p.field.startsWith('reconciliationDecision'))).toBe(true);
        }
        // A validator must not change the workflow's state, whatever it is given.
        expect(JSON.stringify(run.status())).toBe(before);
        const decision = (payload as { decision?: unknown } | null)?.decision;
        if (checked === null) return;
        expect(isValidRequest(payload) && (decision === 'ADOPT_VENUE' || decision === 'STAY_HALTED')).toBe(true);
        expect(run.acceptDecision(payload)).toMatchObject({ accepted: true, runId: 'reconcile-1', decision });
        const kept = JSON.stringify(run.status());
        expect(() => run.checkDecision(second)).toThrow(InvalidInput);
        expect(() => run.acceptDecision(second)).toThrow(/reconciliationDecision/);
        expect(JSON.stringify(run.status())).toBe(kept);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('reconciliation decision', () => {
  it('a bad decision is refused naming the field and never becomes the decision', () => {
    const payload = fc.oneof(
      operatorPayload,
      fc.record({ operator: fc.constant('ann'), reason: fc.constant('checked the venue'), decision: fc.oneof(hostileString, wrongTyped, fc.constantFrom('adopt_venue', 'ADOPT', 'STAY_HALTED ', '')) }),
    );
    fc.assert(
      fc.property(payload, (p) => {
        counter.tried('reconciliation: decision');
        const run = new ReconciliationRun('reconcile-1', { policy: 'HALT_AND_ALERT', reminderMs: 3_600_000 }, { acts: unused as never, waitFor: never, haltSession: never });
        const before = JSON.stringify(run.status());
        expect(() => run.onDecision(p)).not.toThrow();
        expect(run.refusedSignals).toHaveLength(1);
        expect(run.refusedSignals[0]).toMatch(/reconciliationDecision/);
        expect(JSON.stringify(run.status())).toBe(before);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('order workflow input', () => {
  const paths = ['ttlMs', 'halted', 'ordersInLastMinute', 'searchAttributes', 'context', 'context.strategy', 'context.tradingDay', 'context.signal', 'context.signal.price', 'context.signal.confidence', 'context.signal.at'] as const;

  function withValue(path: string, value: unknown): unknown {
    const copy = structuredClone(ORDER_INPUT) as unknown as Record<string, unknown>;
    const keys = path.split('.');
    let o = copy;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[keys.at(-1)!] = value;
    return copy;
  }

  it('a wrong-typed field is refused naming it; nothing but InvalidInput escapes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...paths), wrongTyped, (path, value) => {
        counter.tried('order input: wrong-typed field');
        try {
          validateOrderWorkflowInput(withValue(path, value) as OrderWorkflowInput);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInput);
          const fields = (e as InvalidInput).problems.map((p) => p.field);
          expect(fields.some((f) => f === path || f.startsWith(`${path}.`) || path.startsWith(`${f}.`))).toBe(true);
        }
      }),
      { numRuns: runs(400) },
    );
  });

  it('an input that is not an object at all is refused', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.constant(null), fc.integer(), fc.boolean()), (value) => {
        counter.tried('order input: not an object');
        expect(() => validateOrderWorkflowInput(value as unknown as OrderWorkflowInput)).toThrow(InvalidInput);
      }),
      { numRuns: runs(50) },
    );
  });
});
