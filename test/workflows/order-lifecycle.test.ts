/**
 * The order lifecycle's control flow, driven without a Temporal server: virtual time, scripted
 * venue behaviour and recording activities. The same object runs inside orderWorkflow.
 */
import { describe, expect, it } from 'vitest';
import type { AlertRequest, OrderActivities, OrderProgress, SubmitResult } from '../../contracts/activities';
import type { VenueOrderStatus } from '../../contracts/venue';
import type { OrderCarry, OrderWorkflowInput } from '../../workflows/api';
import type { Fill } from '../../domain/fill';
import { px, type Quantity } from '../../domain/money';
import type { Order } from '../../domain/order';
import { MAX_SUBMIT_ATTEMPTS, ORDER_PATCHES, OrderLifecycle, resubmitDelay, type LifecycleEnv, type OrderPatch } from '../../workflows/order-lifecycle';
import { validateOrderWorkflowInput } from '../../workflows/validation';
import { VirtualTime } from './virtual-time';

const COID = 'ema-20261121-000001';

class Failure extends Error {
  constructor(readonly type: string) {
    super(`${type} failure`);
  }
}

interface VenueScript {
  /** What each submit call does, in order; the last entry repeats. */
  submits: ('accept' | 'reject' | 'ambiguous-accepted' | 'ambiguous-lost' | 'auth')[];
  /** Lookups that fail (the venue cannot answer) before one succeeds. */
  lookupFails?: number;
  /** Fills the venue reports, each released at a virtual time offset from acceptance. */
  fills?: { afterMs: number; quantity: number; price: number }[];
  /** The venue cancels when asked (default) or never answers the cancel. */
  honoursCancel?: boolean;
  /** The risk check fails past its retries (venue down while the breaker is open). */
  riskUnavailable?: boolean;
  /** SMTP outage: every alert fails past its retries. */
  alertsFail?: boolean;
  /** The records refuse, permanently, the snapshots this picks. */
  recordRefuses?: (o: Order) => boolean;
  /** The venue also reports, on every poll, a fill larger than the order (a FILL_ANOMALY). */
  strayFill?: boolean;
  /** Fill syncs (the step, or the one inside the risk check or a poll) from the `from`-th on fail with `type`. */
  syncFails?: { from: number; type: string };
  /** Called after each fill sync: the venue may act between a sync and the poll that follows. */
  afterSync?: () => void;
  /** Called while the risk check runs / while the submit request is in flight (signals arrive). */
  duringRisk?: (lifecycle: OrderLifecycle) => void;
  duringSubmit?: (lifecycle: OrderLifecycle) => void;
}

function harness(script: VenueScript, overrides: Partial<OrderWorkflowInput> = {}, envOverrides: Partial<LifecycleEnv> = {}) {
  const time = new VirtualTime();
  const venueOrders = new Map<string, { status: VenueOrderStatus; acceptedAt: number }>();
  const calls: string[] = [];
  const pollTimes: number[] = [];
  const alerts: AlertRequest[] = [];
  const logged: string[] = [];
  const recorded: Order[] = [];
  let submitCalls = 0;
  let lookupCalls = 0;
  const submitTimes: number[] = [];
  let tradeSeq = 0;
  /** Fills the venue has made, and of those the ones a fill sync has brought into the records. */
  const venueFills: Fill[] = [];
  const ledger: Fill[] = [];
  const scriptedMade = new Set<number>();
  /** The fill steps in the order they ran: syncFills, and the activities that read fills with their flag. */
  const fillSteps: string[] = [];
  let syncs = 0;
  const input: OrderWorkflowInput = {
    order: { clientOrderId: COID, marketId: 'PRES-2028', side: 'BUY', quantity: 20 as Quantity, limitPrice: px(0.43) },
    context: { strategy: 'ema', sessionWorkflowId: null, tradingDay: '2026-11-21', signal: { price: px(0.43), confidence: 0.6, at: time.now, metadata: {} } },
    ttlMs: 600_000,
    halted: null,
    ordersInLastMinute: 0,
    searchAttributes: false,
    ...overrides,
  };

  const accept = () => {
    if (!venueOrders.has(COID)) venueOrders.set(COID, { status: 'OPEN', acceptedAt: time.now });
    return venueOrders.get(COID)!;
  };

  const venueFill = (quantity: number, price: number) => {
    venueFills.push({ tradeId: `T-${++tradeSeq}`, clientOrderId: COID, marketId: 'PRES-2028', side: 'BUY', quantity: quantity as Quantity, price: px(price), fee: 0 as never, ts: time.now });
  };

  /** The venue makes the scripted fills that are due, each once, and its status follows them. */
  const venueTick = () => {
    const o = venueOrders.get(COID);
    if (!o) return;
    (script.fills ?? []).forEach((f, i) => {
      if (o.acceptedAt + f.afterMs <= time.now && !scriptedMade.has(i) && o.status !== 'CANCELED') {
        scriptedMade.add(i);
        venueFill(f.quantity, f.price);
      }
    });
    const filled = venueFills.reduce((s, f) => s + f.quantity, 0);
    if (filled === 20) o.status = 'FILLED';
    else if (filled > 0 && o.status === 'OPEN') o.status = 'PARTIALLY_FILLED';
  };

  /** The fill sync: every fill the venue has made into the records, once. */
  const sync = () => {
    syncs++;
    if (script.syncFails && syncs >= script.syncFails.from) throw new Failure(script.syncFails.type);
    venueTick();
    for (const f of venueFills) if (!ledger.includes(f)) ledger.push(f);
    script.afterSync?.();
  };

  const acts: OrderActivities = {
    assessOrder: async (i, options) => {
      calls.push('assessOrder');
      fillSteps.push(`assessOrder syncFills=${String(options?.syncFills)}`);
      if (options?.syncFills !== false) sync();
      script.duringRisk?.(lifecycle);
      if (script.riskUnavailable) throw new Failure('UNAVAILABLE');
      return i.halted ? { approved: false, violations: [{ rule: 'TRADING_HALTED', limit: null, observed: null, message: `trading halted: ${i.halted}` }], at: time.now } : { approved: true, violations: [], at: time.now };
    },
    recordOrder: async (o) => {
      calls.push(`recordOrder:${o.state}`);
      if (script.recordRefuses?.(o)) throw new Failure('RecordConflict');
      recorded.push(o);
    },
    submitOrder: async (): Promise<SubmitResult> => {
      calls.push('submitOrder');
      submitTimes.push(time.now);
      script.duringSubmit?.(lifecycle);
      const step = script.submits[Math.min(submitCalls++, script.submits.length - 1)];
      switch (step) {
        case 'accept':
          accept();
          return { outcome: 'ACCEPTED', venueOrderId: `V-${COID}`, status: 'OPEN', at: time.now };
        case 'reject':
          return { outcome: 'REJECTED', reason: 'insufficient balance', at: time.now };
        case 'ambiguous-accepted':
          accept();
          throw new Failure('AMBIGUOUS_SUBMIT');
        case 'ambiguous-lost':
          throw new Failure('TIMEOUT');
        default:
          throw new Failure('AUTH');
      }
    },
    lookupOrder: async (id) => {
      calls.push('lookupOrder');
      if (++lookupCalls <= (script.lookupFails ?? 0)) throw new Failure('UNAVAILABLE');
      const o = venueOrders.get(id);
      return o ? { found: true, venueOrderId: `V-${id}`, status: o.status, at: time.now } : { found: false, at: time.now };
    },
    syncFills: async () => {
      fillSteps.push('syncFills');
      sync();
      return { pages: 1, fillsSeen: venueFills.length, fillsInserted: 0 };
    },
    pollOrder: async (id, options): Promise<OrderProgress> => {
      calls.push('pollOrder');
      fillSteps.push(`pollOrder syncFills=${String(options?.syncFills)}`);
      pollTimes.push(time.now);
      const o = venueOrders.get(id);
      if (!o) return { venueOrderId: null, status: null, rejectReason: null, fills: [], at: time.now };
      // As the activity: the status first, then (unless told not to) the sync, then the recorded fills.
      venueTick();
      const status = o.status;
      if (options?.syncFills !== false) sync();
      // The records repeat every fill on every poll: the lifecycle must count each once.
      const stray: Fill[] = script.strayFill ? [{ tradeId: 'T-stray', clientOrderId: id, marketId: 'PRES-2028', side: 'BUY', quantity: 999 as Quantity, price: px(0.43), fee: 0 as never, ts: time.now }] : [];
      return { venueOrderId: `V-${id}`, status, rejectReason: null, fills: [...ledger, ...stray], at: time.now };
    },
    cancelOrder: async (id) => {
      calls.push('cancelOrder');
      const o = venueOrders.get(id)!;
      if (script.honoursCancel !== false && o.status !== 'FILLED') o.status = 'CANCELED';
      return { status: o.status, at: time.now };
    },
    recordExecution: async () => {
      calls.push('recordExecution');
    },
    raiseAlert: async (a) => {
      calls.push(`raiseAlert:${a.type}`);
      if (script.alertsFail) throw new Failure('ALERT_DELIVERY_FAILED');
      alerts.push(a);
      return { sent: true, reason: 'SENT' };
    },
  };
  const env: LifecycleEnv = {
    acts,
    waitFor: time.waitFor,
    startTimer: time.startTimer,
    failureType: (e) => (e instanceof Failure ? e.type : null),
    log: (message) => void logged.push(message),
    ...envOverrides,
  };
  // The script's hooks reach it through their closures, once run() has started.
  const lifecycle = new OrderLifecycle(input, env);
  return { lifecycle, input, env, time, calls, fillSteps, pollTimes, alerts, logged, recorded, venueOrders, venueFill, submits: () => submitCalls, submitTimes };
}

/** A history recorded before these changes: patched() answers false for each of them. */
const before = (...ids: OrderPatch[]): Partial<LifecycleEnv> => ({ patched: (id) => !ids.includes(id) });
const ops = { operator: 'alex', reason: 'market looks wrong' };

describe('order lifecycle', () => {
  it('follows an order from signal to fill, counting repeated fills once', async () => {
    const h = harness({ submits: ['accept'], fills: [{ afterMs: 3_000, quantity: 5, price: 0.43 }, { afterMs: 20_000, quantity: 15, price: 0.42 }] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(status.filledQuantity).toBe(20);
    expect(status.fills.map((f) => f.tradeId)).toEqual(['T-1', 'T-2']);
    expect(status.averageFillPrice).toBe(422_500);
    expect(h.calls.filter((c) => c === 'submitOrder')).toHaveLength(1);
    expect(h.calls).toContain('recordExecution');
    expect(h.recorded.at(-1)!.state).toBe('FILLED');
    expect(status.timings.firstFillAt).not.toBeNull();
  });

  it('records a risk rejection with its reasons and never submits', async () => {
    const h = harness({ submits: ['accept'] }, { halted: 'manual halt by ops' });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toMatch(/TRADING_HALTED/);
    expect(h.calls).not.toContain('submitOrder');
    expect(h.recorded.at(-1)!.state).toBe('REJECTED');
  });

  it('a risk check that cannot run ends the order rejected and recorded, nothing sent, with an alert', async () => {
    const h = harness({ submits: ['accept'], riskUnavailable: true });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toMatch(/risk check could not run \(UNAVAILABLE\)/);
    expect(h.calls).not.toContain('submitOrder');
    expect(h.recorded.at(-1)!.state).toBe('REJECTED');
    expect(h.alerts.map((a) => [a.level, a.type])).toEqual([['MEDIUM', 'RISK_CHECK_FAILED']]);
  });

  it('an ambiguous submit that the venue did accept resolves by lookup, without a second venue order', async () => {
    const h = harness({ submits: ['ambiguous-accepted', 'accept'], fills: [{ afterMs: 1_000, quantity: 20, price: 0.43 }] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(h.submits()).toBe(1);
    expect(h.calls.indexOf('lookupOrder')).toBeGreaterThan(h.calls.indexOf('submitOrder'));
    expect(h.venueOrders.size).toBe(1);
  });

  it('an ambiguous submit the venue never saw is looked up, then resubmitted with the same ID', async () => {
    const h = harness({ submits: ['ambiguous-lost', 'accept'], fills: [{ afterMs: 1_000, quantity: 20, price: 0.43 }] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(h.calls.filter((c) => !c.startsWith('recordOrder')).slice(0, 4)).toEqual(['assessOrder', 'submitOrder', 'lookupOrder', 'submitOrder']);
    expect(status.submitAttempts).toBe(2);
  });

  it('gives up after repeated lost submissions with the venue confirming nothing works, and alerts', async () => {
    const h = harness({ submits: ['ambiguous-lost'] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('EXPIRED');
    expect(h.submits()).toBe(MAX_SUBMIT_ATTEMPTS);
    expect(h.calls.filter((c) => c === 'lookupOrder')).toHaveLength(MAX_SUBMIT_ATTEMPTS);
    expect(h.alerts.map((a) => [a.level, a.type])).toContainEqual(['HIGH', 'ORDER_UNRESOLVED']);
  });

  it('waits before each resubmission, longer each time; in a history recorded before the change it resubmits at once', async () => {
    const h = harness({ submits: ['ambiguous-lost'] });
    await h.lifecycle.run();
    const gaps = h.submitTimes.slice(1).map((t, i) => t - h.submitTimes[i]!);
    expect(gaps).toEqual([1, 2, 3, 4].map(resubmitDelay));
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000]);

    const old = harness({ submits: ['ambiguous-lost'] }, {}, before(ORDER_PATCHES.submitProtocol));
    await old.lifecycle.run();
    expect(old.submits()).toBe(MAX_SUBMIT_ATTEMPTS);
    expect(new Set(old.submitTimes).size).toBe(1);
  });

  it('a halt while waiting to resubmit: not sent again, REJECTED with the halt reason', async () => {
    const h = harness({ submits: ['ambiguous-lost', 'accept'] });
    h.time.at(500, () => h.lifecycle.requestHalt(ops));
    const status = await h.lifecycle.run();
    expect(status).toMatchObject({ state: 'REJECTED', submitAttempts: 1 });
    expect(status.rejectReason).toMatch(/^trading halted before the order was sent/);
    expect(h.submits()).toBe(1);
  });

  it('lookups the venue cannot answer continue as new; the next run looks up before it resubmits, and starts the time-to-live', async () => {
    const h = harness({ submits: ['ambiguous-lost', 'accept'], lookupFails: 3, fills: [{ afterMs: 1_000, quantity: 20, price: 0.43 }] }, {}, { continueAsNewSuggested: () => true });
    const first = await h.lifecycle.run();
    expect(h.lifecycle.continuing).toBe(true);
    expect(first).toMatchObject({ state: 'SUBMIT_UNKNOWN', submitAttempts: 1 });
    expect(h.calls.filter((c) => c === 'lookupOrder')).toHaveLength(1);
    expect(h.alerts.map((a) => [a.level, a.type])).toEqual([['CRITICAL', 'ORDER_UNRESOLVED']]);
    const next = { ...h.input, carry: JSON.parse(JSON.stringify(h.lifecycle.carry())) as OrderCarry };
    expect(validateOrderWorkflowInput(next)).toBe(next);

    const callsBefore = h.calls.length;
    const status = await new OrderLifecycle(next, { ...h.env, continueAsNewSuggested: undefined }).run();
    expect(status).toMatchObject({ state: 'FILLED', submitAttempts: 2, continuedRuns: 1 });
    const secondCalls = h.calls.slice(callsBefore).filter((c) => !c.startsWith('recordOrder') && !c.startsWith('raiseAlert'));
    expect(secondCalls.slice(0, 4)).toEqual(['lookupOrder', 'lookupOrder', 'lookupOrder', 'submitOrder']);
    expect(h.submits()).toBe(2);
  });

  it('in a history recorded before the change, unanswered lookups go on in the same run', async () => {
    const h = harness({ submits: ['ambiguous-lost', 'accept'], lookupFails: 3 }, {}, { ...before(ORDER_PATCHES.submitProtocol), continueAsNewSuggested: () => true });
    await h.lifecycle.run().catch(() => undefined);
    expect(h.calls.filter((c) => c === 'lookupOrder')).toHaveLength(4);
    expect(h.submits()).toBe(2);
  });

  it('cancels on its time-to-live after a partial fill, ending CANCELED with the partial kept', async () => {
    const h = harness({ submits: ['accept'], fills: [{ afterMs: 2_000, quantity: 8, price: 0.43 }] });
    const started = h.time.now;
    const status = await h.lifecycle.run();
    expect(status.state).toBe('CANCELED');
    expect(status.filledQuantity).toBe(8);
    expect(h.calls).toContain('cancelOrder');
    expect(h.time.now - started).toBeGreaterThanOrEqual(600_000);
    expect(h.time.now - started).toBeLessThan(600_000 + 31_000);
    expect(h.alerts.map((a) => [a.level, a.type])).toContainEqual(['LOW', 'PARTIAL_FILL']);
  });

  it('cancels on an operator signal, and refuses a signal without a reason', async () => {
    const h = harness({ submits: ['accept'] });
    h.time.at(5_000, () => h.lifecycle.requestCancel({ operator: 'alex' }));
    h.time.at(6_000, () => h.lifecycle.requestCancel({ operator: 'alex', reason: 'market looks wrong' }));
    const started = h.time.now;
    const status = await h.lifecycle.run();
    expect(status.state).toBe('CANCELED');
    expect(status.cancelRequested).toEqual({ operator: 'alex', reason: 'market looks wrong' });
    expect(h.lifecycle.refusedSignals[0]).toMatch(/cancel\.reason/);
    expect(h.time.now - started).toBeLessThan(60_000);
  });

  it('a venue rejection ends the order and raises a MEDIUM alert', async () => {
    const h = harness({ submits: ['reject'] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toBe('insufficient balance');
    expect(h.alerts.map((a) => [a.level, a.type, a.dedupeKey])).toEqual([['MEDIUM', 'ORDER_REJECTED', `ORDER_REJECTED:${COID}`]]);
  });

  it('refused credentials stop the order at once with a CRITICAL alert and no lookup', async () => {
    const h = harness({ submits: ['auth'] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(h.calls).not.toContain('lookupOrder');
    expect(h.alerts[0]).toMatchObject({ level: 'CRITICAL', type: 'VENUE_AUTH' });
  });

  it('keeps polling while a cancel goes unanswered, and still counts late fills', async () => {
    const h = harness({ submits: ['accept'], honoursCancel: false, fills: [{ afterMs: 700_000, quantity: 20, price: 0.43 }] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(h.calls.filter((c) => c === 'cancelOrder')).toHaveLength(1);
  });
});

describe('halt and cancel reach an order on its way', () => {
  const halt = { operator: 'session', reason: 'daily loss limit' };

  it('a halt during the risk check: never sent, REJECTED with the halt reason, recorded', async () => {
    const h = harness({ submits: ['accept'], duringRisk: (lc) => lc.requestHalt(halt) });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toBe('trading halted before the order was sent: daily loss limit (session)');
    expect(status.haltRequested).toEqual(halt);
    expect(h.calls).not.toContain('submitOrder');
    expect(h.recorded.at(-1)).toMatchObject({ state: 'REJECTED', rejectReason: status.rejectReason });
  });

  it('a cancel before the submit: never sent, REJECTED naming the cancel', async () => {
    const h = harness({ submits: ['accept'] });
    h.lifecycle.requestCancel(ops);
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toBe('canceled before the order was sent: market looks wrong (alex)');
    expect(h.calls).not.toContain('submitOrder');
    expect(h.recorded.at(-1)?.state).toBe('REJECTED');
  });

  it('a cancel during the submit: the cancel is the very next call, and the order ends CANCELED', async () => {
    const h = harness({ submits: ['accept'], duringSubmit: (lc) => lc.requestCancel(ops) });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('CANCELED');
    expect(h.calls.slice(h.calls.indexOf('submitOrder'), h.calls.indexOf('submitOrder') + 3)).toEqual(['submitOrder', 'cancelOrder', 'recordOrder:PENDING_CANCEL']);
    expect(h.calls.filter((c) => c === 'cancelOrder')).toHaveLength(1);
  });

  it('a halt during the submit leaves the working order working', async () => {
    const h = harness({ submits: ['accept'], fills: [{ afterMs: 5_000, quantity: 20, price: 0.43 }], duringSubmit: (lc) => lc.requestHalt(halt) });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(status.haltRequested).toEqual(halt);
    expect(h.calls).not.toContain('cancelOrder');
  });

  it('a halt during an ambiguous submit the venue never saw: looked up, and not sent again', async () => {
    const h = harness({ submits: ['ambiguous-lost', 'accept'], duringSubmit: (lc) => lc.requestHalt(halt) });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toMatch(/^trading halted before the order was sent/);
    expect(h.submits()).toBe(1);
    expect(h.calls).toContain('lookupOrder');
  });

  it('refuses a halt without a reason, naming the field, and takes the next good one', () => {
    const h = harness({ submits: ['accept'] });
    h.lifecycle.requestHalt({ operator: 'session' });
    expect(h.lifecycle.status().haltRequested).toBeNull();
    expect(h.lifecycle.status().refusedSignals.at(-1)).toMatch(/halt\.reason/);
    h.lifecycle.requestHalt(halt);
    expect(h.lifecycle.status().haltRequested).toEqual(halt);
  });

  it('in a history recorded before the change, a cancel before the submit still sends, then cancels', async () => {
    const h = harness({ submits: ['accept'] }, {}, before('order-stop-unsent'));
    h.lifecycle.requestCancel(ops);
    const status = await h.lifecycle.run();
    expect(status.state).toBe('CANCELED');
    expect(h.calls.slice(h.calls.indexOf('submitOrder'), h.calls.indexOf('submitOrder') + 2)).toEqual(['submitOrder', 'recordOrder:SUBMITTED']);
  });
});

describe('no failure leaves a live venue order unmanaged', () => {
  it('an SMTP outage: alerts that cannot be sent are logged and counted, and the TTL cancel still comes', async () => {
    const h = harness({ submits: ['accept'], strayFill: true, alertsFail: true, fills: [{ afterMs: 2_000, quantity: 8, price: 0.43 }] });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('CANCELED');
    expect(status.filledQuantity).toBe(8);
    expect(h.calls).toContain('raiseAlert:FILL_ANOMALY');
    expect(status.alertFailures).toBe(h.calls.filter((c) => c.startsWith('raiseAlert')).length);
    expect(h.logged).toHaveLength(status.alertFailures);
  });

  it('in a history recorded before the change, an alert that cannot be sent fails the order', async () => {
    const h = harness({ submits: ['accept'], strayFill: true, alertsFail: true }, {}, before('order-alert-failure-continues'));
    await expect(h.lifecycle.run()).rejects.toMatchObject({ type: 'ALERT_DELIVERY_FAILED' });
    expect(h.calls.filter((c) => c.startsWith('raiseAlert'))).toEqual(['raiseAlert:FILL_ANOMALY', 'raiseAlert:ORDER_WORKFLOW_FAILED']);
  });

  it('a permanent records failure after a fill: cancelled at the venue, out of reach of cancellation, with a CRITICAL alert; then the failure', async () => {
    let shielded = 0;
    const h = harness({ submits: ['accept'], recordRefuses: (o) => o.fills.length > 0, fills: [{ afterMs: 500, quantity: 8, price: 0.43 }] }, {}, {
      nonCancellable: (fn) => {
        shielded++;
        return fn();
      },
    });
    await expect(h.lifecycle.run()).rejects.toMatchObject({ type: 'RecordConflict' });
    expect(shielded).toBe(1);
    expect(h.venueOrders.get(COID)?.status).toBe('CANCELED');
    expect(h.calls.slice(-3)).toEqual(['cancelOrder', 'recordOrder:PENDING_CANCEL', 'raiseAlert:ORDER_WORKFLOW_FAILED']);
    expect(h.alerts.at(-1)).toMatchObject({ level: 'CRITICAL', type: 'ORDER_WORKFLOW_FAILED' });
    expect(h.alerts.at(-1)?.body).toMatch(/RecordConflict.*venue answered CANCELED.*record: RecordConflict failure/s);
  });

  it('a failure before anything was sent cancels nothing', async () => {
    const h = harness({ submits: ['accept'], recordRefuses: (o) => o.state === 'PENDING_SUBMIT' });
    await expect(h.lifecycle.run()).rejects.toMatchObject({ type: 'RecordConflict' });
    expect(h.calls).not.toContain('submitOrder');
    expect(h.calls).not.toContain('cancelOrder');
  });

  it('in a history recorded before the change, the failure leaves without a cancel', async () => {
    const h = harness({ submits: ['accept'], recordRefuses: (o) => o.fills.length > 0, fills: [{ afterMs: 500, quantity: 8, price: 0.43 }] }, {}, before('order-cancel-on-failure'));
    await expect(h.lifecycle.run()).rejects.toMatchObject({ type: 'RecordConflict' });
    expect(h.calls).not.toContain('cancelOrder');
  });
});

describe('the fill sync, a step of its own', () => {
  const steady = { submits: ['accept' as const], fills: [{ afterMs: 3_000, quantity: 5, price: 0.43 }, { afterMs: 20_000, quantity: 15, price: 0.42 }] };
  /** Says which patches were asked, in order, among the fill steps. */
  const asking = (h: { fillSteps: string[] }, answer = true): Partial<LifecycleEnv> => ({
    patched: (id) => {
      if (id !== ORDER_PATCHES.fillSyncStep) return true;
      h.fillSteps.push('patched');
      return answer;
    },
  });

  it('syncs before the risk check and before each poll, which are told only to read', async () => {
    const h = harness(steady);
    const status = await h.lifecycle.run();
    expect(status).toMatchObject({ state: 'FILLED', filledQuantity: 20 });
    expect(h.fillSteps.slice(0, 2)).toEqual(['syncFills', 'assessOrder syncFills=false']);
    const polls = h.fillSteps.slice(2);
    expect(polls.length).toBeGreaterThan(2);
    for (let i = 0; i < polls.length; i += 2) expect([polls[i], polls[i + 1]]).toEqual(['syncFills', 'pollOrder syncFills=false']);
  });

  it('in a history recorded before the step, the risk check and the polls sync themselves, as they did', async () => {
    const h = harness(steady, {}, before(ORDER_PATCHES.fillSyncStep));
    const status = await h.lifecycle.run();
    expect(status).toMatchObject({ state: 'FILLED', filledQuantity: 20 });
    expect(h.fillSteps).not.toContain('syncFills');
    expect(new Set(h.fillSteps)).toEqual(new Set(['assessOrder syncFills=undefined', 'pollOrder syncFills=undefined']));
  });

  it.each([true, false])('asks patched() once, before the risk check, and keeps the answer for the run (answer %s)', async (answer) => {
    const h = harness(steady);
    const lc = new OrderLifecycle(h.input, { ...h.env, ...asking(h, answer) });
    await lc.run();
    expect(h.fillSteps.filter((c) => c === 'patched')).toHaveLength(1);
    expect(h.fillSteps[0]).toBe('patched');
    expect(h.fillSteps.includes('syncFills')).toBe(answer);
  });

  it('a run carried over asks before its first poll', async () => {
    const h = harness({ submits: ['accept'], fills: [{ afterMs: 1_000, quantity: 20, price: 0.43 }] });
    const order = { ...h.lifecycle.order, state: 'SUBMITTED' as const, venueOrderId: `V-${COID}`, timestamps: { CREATED: h.time.now, PENDING_SUBMIT: h.time.now, SUBMITTED: h.time.now } };
    h.venueOrders.set(COID, { status: 'OPEN', acceptedAt: h.time.now });
    const carry: OrderCarry = { order, cancelRequest: null, haltRequest: null, ttlExpired: false, ttlDeadline: h.time.now + 600_000, cancelSentAt: null, unresolvedAlerted: false, lastSeenAt: h.time.now, riskCheckedAt: h.time.now, submitAttempts: 1, polls: 3, alertFailures: 0, continuedRuns: 1 };
    const status = await new OrderLifecycle({ ...h.input, carry }, { ...h.env, ...asking(h) }).run();
    expect(status).toMatchObject({ state: 'FILLED', filledQuantity: 20 });
    expect(h.fillSteps.slice(0, 3)).toEqual(['patched', 'syncFills', 'pollOrder syncFills=false']);
    expect(h.fillSteps.filter((c) => c === 'patched')).toHaveLength(1);
  });

  it('a final status read after the sync is read again after one more sync: the fills made between them are kept', async () => {
    let lastFillMade = false;
    const h = harness({
      submits: ['accept'],
      fills: [{ afterMs: 1_000, quantity: 5, price: 0.43 }],
      // Once the first fill is in the records, the venue makes one more and expires the order before the next status read.
      afterSync: () => {
        const o = h.venueOrders.get(COID);
        if (lastFillMade || o?.status !== 'PARTIALLY_FILLED') return;
        lastFillMade = true;
        h.venueFill(3, 0.44);
        o.status = 'EXPIRED';
      },
    });
    const status = await h.lifecycle.run();
    expect(status).toMatchObject({ state: 'EXPIRED', filledQuantity: 8 });
    expect(status.fills.map((f) => f.quantity)).toEqual([5, 3]);
    expect(h.fillSteps.slice(-4)).toEqual(['syncFills', 'pollOrder syncFills=false', 'syncFills', 'pollOrder syncFills=false']);
    expect(h.alerts.map((a) => [a.type, a.body])).toEqual([['PARTIAL_FILL', '8 of 20 filled; final state EXPIRED.']]);
  });

  it('a FILLED status with every fill recorded needs no second read', async () => {
    const h = harness({ submits: ['accept'], fills: [{ afterMs: 1_000, quantity: 20, price: 0.43 }] });
    expect(await h.lifecycle.run()).toMatchObject({ state: 'FILLED', filledQuantity: 20 });
    expect(h.fillSteps).toEqual(['syncFills', 'assessOrder syncFills=false', 'syncFills', 'pollOrder syncFills=false']);
  });

  it.each([
    ['the step', undefined],
    ['a history recorded before the step', ORDER_PATCHES.fillSyncStep],
  ] as const)('a fill sync that cannot run before the risk check ends the order rejected, nothing sent (%s)', async (_, unpatched) => {
    const h = harness({ submits: ['accept'], syncFails: { from: 1, type: 'UNAVAILABLE' } }, {}, unpatched ? before(unpatched) : {});
    const status = await h.lifecycle.run();
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toMatch(/risk check could not run \(UNAVAILABLE\)/);
    expect(h.calls).not.toContain('submitOrder');
    expect(h.alerts.map((a) => a.type)).toEqual(['RISK_CHECK_FAILED']);
  });

  it.each([
    ['the step', undefined],
    ['a history recorded before the step', ORDER_PATCHES.fillSyncStep],
  ] as const)('a fill sync that fails for good while following fails the workflow after a cancel at the venue, as the poll did (%s)', async (_, unpatched) => {
    const h = harness({ submits: ['accept'], syncFails: { from: 2, type: 'AUTH' } }, {}, unpatched ? before(unpatched) : {});
    await expect(h.lifecycle.run()).rejects.toMatchObject({ type: 'AUTH' });
    expect(h.calls).toContain('cancelOrder');
    expect(h.alerts.map((a) => [a.type, a.dedupeKey])).toEqual([['ORDER_WORKFLOW_FAILED', `ORDER_WORKFLOW_FAILED:${COID}`]]);
  });

  it('the sync before the risk check runs with the options of the risk check when the workflow gives them', async () => {
    const h = harness(steady);
    const lc = new OrderLifecycle(h.input, { ...h.env, syncFillsBeforeRisk: async () => (h.fillSteps.push('syncFillsBeforeRisk'), { pages: 1, fillsSeen: 0, fillsInserted: 0 }) });
    await lc.run();
    expect(h.fillSteps.slice(0, 3)).toEqual(['syncFillsBeforeRisk', 'assessOrder syncFills=false', 'syncFills']);
  });
});

describe('an order the venue is slow to finish', () => {
  it('continues as new when the history is due, and the next run goes on from the carried state without resending', async () => {
    const h = harness({ submits: ['accept'], fills: [{ afterMs: 500, quantity: 8, price: 0.43 }] }, { ttlMs: 60_000 }, { continueAsNewSuggested: (events) => events === 10_000 });
    const acceptedAt = h.time.now;
    const first = await h.lifecycle.run();
    expect(h.lifecycle.continuing).toBe(true);
    expect(first).toMatchObject({ state: 'PARTIALLY_FILLED', filledQuantity: 8, polls: 1 });
    expect(h.calls).not.toContain('recordExecution');
    const carry = h.lifecycle.carry();
    expect(carry).toMatchObject({ ttlExpired: false, ttlDeadline: acceptedAt + 60_000, cancelSentAt: null, submitAttempts: 1, polls: 1, continuedRuns: 1 });
    const next = { ...h.input, carry: JSON.parse(JSON.stringify(carry)) as OrderCarry };
    expect(validateOrderWorkflowInput(next)).toBe(next);

    const callsBefore = h.calls.length;
    const second = new OrderLifecycle(next, { ...h.env, continueAsNewSuggested: undefined });
    const status = await second.run();
    expect(status).toMatchObject({ state: 'CANCELED', filledQuantity: 8, continuedRuns: 1, submitAttempts: 1 });
    expect(status.polls).toBeGreaterThan(1);
    expect(status.fills.map((f) => f.tradeId)).toEqual(['T-1']);
    const secondCalls = h.calls.slice(callsBefore);
    expect(secondCalls).not.toContain('assessOrder');
    expect(secondCalls).not.toContain('submitOrder');
    // The time-to-live ran from the acceptance, not from the hand-over.
    expect(h.time.now - acceptedAt).toBeGreaterThanOrEqual(60_000);
    expect(h.time.now - acceptedAt).toBeLessThan(60_000 + 31_000);
  });

  it('a time-to-live that ran out before the hand-over cancels at once in the next run', async () => {
    const h = harness({ submits: ['accept'] }, { ttlMs: 60_000 });
    const order = { ...h.lifecycle.order, state: 'SUBMITTED' as const, venueOrderId: `V-${COID}`, timestamps: { CREATED: h.time.now, PENDING_SUBMIT: h.time.now, SUBMITTED: h.time.now } };
    h.venueOrders.set(COID, { status: 'OPEN', acceptedAt: h.time.now });
    const carry: OrderCarry = { order, cancelRequest: null, haltRequest: null, ttlExpired: false, ttlDeadline: h.time.now + 60_000, cancelSentAt: null, unresolvedAlerted: false, lastSeenAt: h.time.now + 61_000, riskCheckedAt: h.time.now, submitAttempts: 1, polls: 40, alertFailures: 0, continuedRuns: 1 };
    const started = h.time.now;
    const status = await new OrderLifecycle({ ...h.input, carry }, h.env).run();
    expect(status.state).toBe('CANCELED');
    expect(h.calls.slice(0, 2)).toEqual(['recordOrder:PENDING_CANCEL', 'cancelOrder']);
    expect(h.time.now - started).toBeLessThan(5_000);
  });

  it('a cancel the venue leaves unanswered raises one HIGH ORDER_UNRESOLVED alert, then polls at the slower cap', async () => {
    const h = harness({ submits: ['accept'], honoursCancel: false, fills: [{ afterMs: 7_200_000, quantity: 20, price: 0.43 }] }, { ttlMs: 60_000 });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    const unresolved = h.alerts.filter((a) => a.type === 'ORDER_UNRESOLVED');
    expect(unresolved.map((a) => [a.level, a.dedupeKey])).toEqual([['HIGH', `ORDER_UNRESOLVED:${COID}:cancel`]]);
    const gaps = h.pollTimes.slice(1).map((t, i) => t - h.pollTimes[i]!);
    expect(Math.max(...gaps)).toBe(300_000);
    // Thirty-second polls would have taken about 240 in two hours.
    expect(h.pollTimes.length).toBeLessThan(60);
  });

  it('raises that alert once across a continue-as-new', async () => {
    let handOver = false;
    const h = harness({ submits: ['accept'], honoursCancel: false, fills: [{ afterMs: 3_600_000, quantity: 20, price: 0.43 }] }, { ttlMs: 60_000 }, { continueAsNewSuggested: () => handOver });
    const lc = h.lifecycle;
    h.time.at(400_000, () => (handOver = true));
    await lc.run();
    expect(lc.continuing).toBe(true);
    expect(lc.carry().unresolvedAlerted).toBe(true);
    const status = await new OrderLifecycle({ ...h.input, carry: lc.carry() }, { ...h.env, continueAsNewSuggested: undefined }).run();
    expect(status.state).toBe('FILLED');
    expect(h.calls.filter((c) => c === 'raiseAlert:ORDER_UNRESOLVED')).toHaveLength(1);
    expect(h.calls.filter((c) => c === 'cancelOrder')).toHaveLength(1);
  });

  it('limits lower the thresholds: alert after 2 s, continue as new at the given history size', async () => {
    const asked: number[] = [];
    const h = harness({ submits: ['accept'], honoursCancel: false, fills: [{ afterMs: 30_000, quantity: 20, price: 0.43 }] }, { ttlMs: 5_000, limits: { historyEvents: 60, unresolvedAfterMs: 2_000, unresolvedPollMaxMs: 1_000, pollMaxMs: 1_000 } }, {
      continueAsNewSuggested: (events) => {
        asked.push(events);
        return false;
      },
    });
    await h.lifecycle.run();
    expect(new Set(asked)).toEqual(new Set([60]));
    expect(h.calls.filter((c) => c === 'raiseAlert:ORDER_UNRESOLVED')).toHaveLength(1);
    const gaps = h.pollTimes.slice(1).map((t, i) => t - h.pollTimes[i]!);
    expect(Math.max(...gaps)).toBe(1_000);
  });
});

describe('order workflow input: limits and carry', () => {
  const h = harness({ submits: ['accept'] });
  const order = { ...h.lifecycle.order, state: 'PARTIALLY_FILLED' as const };
  const good: OrderCarry = { order, cancelRequest: null, haltRequest: null, ttlExpired: false, ttlDeadline: 1, cancelSentAt: null, unresolvedAlerted: false, lastSeenAt: 1, riskCheckedAt: null, submitAttempts: 1, polls: 0, alertFailures: 0, continuedRuns: 1 };

  it('takes a well-formed carry', () => {
    expect(() => validateOrderWorkflowInput({ ...h.input, carry: { ...good, order: { ...order, state: 'SUBMITTED' } } })).not.toThrow();
  });

  it('refuses a carry for another order, a final or unsent order, fills that do not add up, or bad counters, naming every field', () => {
    const bad = {
      ...good,
      order: { ...order, clientOrderId: 'other-20261121-000001', state: 'FILLED', filledQuantity: 5 },
      cancelRequest: { operator: 'alex' },
      polls: -1,
      ttlDeadline: 'soon',
    } as unknown as OrderCarry;
    let message = '';
    try {
      validateOrderWorkflowInput({ ...h.input, carry: bad });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const field of ['carry.order.clientOrderId', 'carry.order.state', 'carry.order.fills', 'carry.cancelRequest.reason', 'carry.polls', 'carry.ttlDeadline']) expect(message).toContain(field);
    expect(() => validateOrderWorkflowInput({ ...h.input, carry: { ...good, order: { ...order, state: 'CREATED' } } })).toThrow(/carry\.order\.state/);
  });

  it('refuses limits out of range or unknown, naming them', () => {
    expect(() => validateOrderWorkflowInput({ ...h.input, limits: { historyEvents: 5, pollMaxMs: 0.5, unresolvedAfterMs: 1_000 } })).toThrow(/limits\.historyEvents.*limits\.pollMaxMs/);
    expect(() => validateOrderWorkflowInput({ ...h.input, limits: { historyEvent: 100 } as never })).toThrow(/limits\.historyEvent: is not a limit/);
  });
});
