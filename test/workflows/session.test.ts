/**
 * The trading session's control flow, driven without a Temporal server: virtual time, scripted
 * market signals, recorded journal entries, orders and alerts.
 */
import { describe, expect, it } from 'vitest';
import type { AlertRequest, Carryover, CarryoverInput, ConnectionOutage, EndedOrder, MarketWarmth, OperatorAction, PreflightCheck, SessionActivities, SessionSnapshot, StrategyStateInput, WatchInput, WatchSignal } from '../../contracts/activities';
import type { OperatorRequest, OrderWorkflowInput, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS, type BreakerTrip } from '../../domain/breakers';
import { MICROS, px, type Money, type Quantity } from '../../domain/money';
import { SessionPatch, TradingSession, watchActivityTimeouts, type RecordFailureKind } from '../../workflows/session';
import { validateOrderFinished, validateSessionWorkflowInput } from '../../workflows/validation';
import { VirtualTime } from './virtual-time';

class ContinuedAsNew extends Error {
  constructor(readonly next: SessionWorkflowInput) {
    super('continue-as-new');
  }
}

interface Script {
  /** Signals the market produces, at virtual offsets from the start. */
  signals?: { atMs: number; marketId?: string }[];
  /** Daily P&L reported by the records, by virtual offset (last one at or before now wins). */
  pnl?: { fromMs: number; dailyPnl: number }[];
  preflightFails?: boolean;
  carryover?: Carryover;
  /** What saveStrategyState answers. */
  warmth?: Record<string, MarketWarmth>;
  /** Virtual time loadCarryover takes. */
  loadCarryoverMs?: number;
  continueAsNewAfterWatches?: number;
  /** How long each order works before it ends (default: it has ended by the next look). */
  orderLifetimeMs?: number;
  /** Patches not applied: the session behaves as for a history recorded before them. */
  unpatched?: string[];
  /** Every alert fails after its retries. */
  alertsFail?: boolean;
  /** Record writes fail with this kind while `until` (virtual offset) has not passed. */
  recordsFail?: { kind: RecordFailureKind; untilMs: number; only?: 'journal' | 'breakers' | 'strategy' };
  /** Every fill sync fails (the venue does not answer). */
  fillSyncFails?: boolean;
  /** The n-th watch (1-based) fails with an activity failure of this type. */
  watchFails?: { watch: number; type: string };
  /** Every watch from the n-th on reports this ended connection outage. */
  outage?: { fromWatch: number; outage: ConnectionOutage };
  /** Fields of the session input set otherwise. */
  input?: Partial<SessionWorkflowInput>;
}

/** An activity failure of a given type, as the workflow sees one. */
class TypedFailure extends Error {
  constructor(readonly type: string) {
    super(`${type}: refused by the venue`);
  }
}

class RecordWriteFailed extends Error {
  constructor(readonly kind: RecordFailureKind) {
    super(`record write failed (${kind})`);
  }
}

function harness(script: Script, carryInput?: SessionWorkflowInput, sharedTime?: VirtualTime) {
  const time = sharedTime ?? new VirtualTime();
  const t0 = time.now;
  const journal: OperatorAction[] = [];
  const breakerChanges: { change: string; kinds: string[] }[] = [];
  const alerts: AlertRequest[] = [];
  const orders: { workflowId: string; input: OrderWorkflowInput }[] = [];
  const cancels: { flatten: boolean; reason: string }[] = [];
  const taken = new Set<string>();
  const told: { workflowId: string; signal: 'halt' | 'cancel'; request: OperatorRequest }[] = [];
  const logged: string[] = [];
  const startedAt = new Map<string, number>();
  const ended = (coid: string) => time.now >= (startedAt.get(coid) ?? Infinity) + (script.orderLifetimeMs ?? 0);
  const endedAmong = (coids: readonly string[]): EndedOrder[] => coids.filter(ended).map((clientOrderId) => ({ clientOrderId, state: 'FILLED' }));
  const failWrite = (what: 'journal' | 'breakers' | 'strategy') => {
    const f = script.recordsFail;
    // Strategy-state writes fail only when asked for by name (the older scenarios predate them).
    if (f && time.now < t0 + f.untilMs && (f.only === what || (f.only === undefined && what !== 'strategy'))) throw new RecordWriteFailed(f.kind);
  };
  /** The fill sync and the reads and writes that depend on it, in call order. */
  const ledgerCalls: string[] = [];
  const savedStates: StrategyStateInput[] = [];
  const carryoverInputs: CarryoverInput[] = [];
  const watchInputs: WatchInput[] = [];
  let watches = 0;
  let watchesSeen = 0;
  const pending = [...(script.signals ?? [])].sort((a, b) => a.atMs - b.atMs);

  const snapshot = (reservedOrders: string[] = []): SessionSnapshot => {
    const pnl = [...(script.pnl ?? [])].reverse().find((p) => t0 + p.fromMs <= time.now)?.dailyPnl ?? 0;
    return {
      at: time.now,
      metrics: { equity: (1000 * MICROS + pnl) as Money, dailyPnl: pnl as Money, ordersInWindow: 0, errorsInWindow: 0, requestsInWindow: 10 },
      realizedPnl: pnl as Money,
      unrealizedPnl: 0 as Money,
      fees: 0 as Money,
      exposure: 0 as Money,
      openPositions: 0,
      openOrders: [],
      endedOrders: endedAmong(reservedOrders),
    };
  };

  const acts: SessionActivities = {
    preflight: async (): Promise<PreflightCheck[]> => [
      { name: 'VENUE_REACHABLE', ok: !script.preflightFails, detail: script.preflightFails ? 'connection refused' : 'ok' },
      { name: 'MARKET_DATA_FRESH', ok: true, detail: 'ok' },
    ],
    watchForSignal: async () => {
      throw new Error('the session must watch through env.watch');
    },
    syncFills: async () => {
      ledgerCalls.push('syncFills');
      if (script.fillSyncFails) throw new Error('venue unavailable');
      return { pages: 1, fillsSeen: 0, fillsInserted: 0 };
    },
    sessionSnapshot: async (i) => {
      ledgerCalls.push(`sessionSnapshot syncFills=${String(i.syncFills)}`);
      return snapshot(i.reservedOrders);
    },
    loadCarryover: async (i) => {
      carryoverInputs.push(i);
      if (script.loadCarryoverMs) await time.waitFor(() => false, script.loadCarryoverMs);
      return script.carryover ?? { trips: [], lastSequence: 0 };
    },
    saveStrategyState: async (i) => {
      failWrite('strategy');
      savedStates.push(i);
      return { warmth: script.warmth ?? {} };
    },
    recordBreakerChange: async (c) => {
      failWrite('breakers');
      breakerChanges.push({ change: c.change, kinds: c.trips.map((t) => t.kind) });
    },
    recordOperatorAction: async (a) => {
      failWrite('journal');
      journal.push(a);
    },
    cancelAllOpenOrders: async (i) => {
      cancels.push({ flatten: i.flatten, reason: i.reason });
      return { canceled: [], flattenOrders: [] };
    },
    writeDailySummary: async (i) => void ledgerCalls.push(`writeDailySummary syncFills=${String(i.syncFills)}`),
    raiseAlert: async (a) => {
      if (script.alertsFail) throw new Error(`SMTP unreachable: ${a.type}`);
      alerts.push(a);
      return { sent: true, reason: 'SENT' };
    },
  };

  const input: SessionWorkflowInput = carryInput ?? {
    strategy: 'ema',
    strategyName: 'ema',
    strategyParams: {},
    tradingDay: '2026-11-21',
    marketIds: ['PRES-2028'],
    endOfDayAt: t0 + 8 * 3_600_000,
    watchPeriodMs: 15 * 60_000,
    pollIntervalMs: 30_000,
    orderTtlMs: 600_000,
    maxDailyLoss: (200 * MICROS) as Money,
    breakers: CASE_STUDY_BREAKERS,
    searchAttributes: false,
    ...script.input,
  };

  const session = new TradingSession(input, {
    acts,
    waitFor: time.waitFor,
    watch: async (w, interrupt) => {
      watchInputs.push({ ...w, strategyState: { ...w.strategyState } });
      watches++;
      if (script.watchFails && script.watchFails.watch === watchesSeen + 1) {
        watchesSeen++;
        throw new TypedFailure(script.watchFails.type);
      }
      watchesSeen++;
      // A signal the market gave while nobody was watching is gone: drop what is already past.
      while (pending[0] && t0 + pending[0].atMs < time.now) pending.shift();
      if (script.continueAsNewAfterWatches !== undefined && watches > script.continueAsNewAfterWatches) watches = 0;
      const next = pending[0];
      const due = next && t0 + next.atMs <= w.untilMs ? t0 + next.atMs : w.untilMs;
      const interrupted = await time.waitFor(interrupt, Math.max(0, due - time.now));
      if (interrupted) return null;
      let signal: WatchSignal | null = null;
      if (next && t0 + next.atMs <= time.now) {
        pending.shift();
        signal = { marketId: next.marketId ?? 'PRES-2028', side: 'BUY', price: px(0.43), confidence: 0.5, intent: 'ENTER', quantity: 25 as Quantity, metadata: {} };
      }
      const endedOrders = endedAmong(Object.values(w.reservedMarkets ?? {}));
      const outage = script.outage && watchesSeen >= script.outage.fromWatch ? { connectionOutage: script.outage.outage } : {};
      return { strategyState: { watched: ((w.strategyState.watched as number) ?? 0) + 1 }, signal, at: time.now, quoteTimes: { 'PRES-2028': time.now }, endedOrders, ...outage };
    },
    startOrder: async (workflowId, orderInput) => {
      if (taken.has(workflowId)) return 'ALREADY_EXISTS';
      taken.add(workflowId);
      orders.push({ workflowId, input: orderInput });
      startedAt.set(orderInput.order.clientOrderId, time.now);
      return 'STARTED';
    },
    signalOrder: async (workflowId, signal, request) => {
      told.push({ workflowId, signal, request });
      return !ended(workflowId.slice('order-'.length));
    },
    patched: (id) => !(script.unpatched ?? []).includes(id),
    failureType: (e) => (e instanceof TypedFailure ? e.type : null),
    classifyRecordFailure: (e) => (e instanceof RecordWriteFailed ? { kind: e.kind, message: e.message } : { kind: 'BUG', message: String(e) }),
    log: (m) => void logged.push(m),
    continueAsNewSuggested: () => script.continueAsNewAfterWatches !== undefined && watches === script.continueAsNewAfterWatches,
    continueAsNew: async (next) => {
      throw new ContinuedAsNew(next());
    },
  });
  return { session, time, t0, journal, breakerChanges, alerts, orders, cancels, taken, input, told, logged, ledgerCalls, savedStates, carryoverInputs, watchInputs };
}

const HOUR = 3_600_000;

describe('trading session', () => {
  it('starts an order workflow per signal with deterministic client order IDs, then ends the day', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 2 * HOUR }] });
    const status = await h.session.run();
    expect(h.orders.map((o) => o.workflowId)).toEqual(['order-ema-20261121-000001', 'order-ema-20261121-000002']);
    expect(h.orders[0]!.input.context.sessionWorkflowId).toBe('session-ema-2026-11-21');
    expect(h.orders[0]!.input.halted).toBeNull();
    expect(status.mode).toBe('ENDED');
    expect(h.cancels.at(-1)!.reason).toBe('end of trading day');
  });

  it('a halt blocks new orders, is journaled with who and why, and a resume lets trading continue', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 3 * HOUR }, { atMs: 6 * HOUR }] });
    h.time.at(2 * HOUR, () => h.session.onHalt({ operator: 'alex', reason: 'news event' }));
    h.time.at(5 * HOUR, () => h.session.onResume({ operator: 'alex', reason: 'news digested' }));
    await h.session.run();
    // the 3h signal fell inside the halt: the watch was interrupted and no order went out
    expect(h.orders).toHaveLength(2);
    expect(h.journal.map((j) => [j.action, j.operator, j.reason])).toEqual([
      ['HALT', 'alex', 'news event'],
      ['RESUME', 'alex', 'news digested'],
    ]);
    expect(h.breakerChanges.map((c) => c.change)).toEqual(['TRIPPED', 'LIFTED']);
  });

  it('a halt survives a worker restart: the state handed over carries it and new orders stay blocked', async () => {
    const first = harness({ signals: [{ atMs: HOUR }] });
    first.time.at(30 * 60_000, () => first.session.onHalt({ operator: 'alex', reason: 'checking venue' }));
    (first.input as { endOfDayAt: number }).endOfDayAt = first.t0 + 2 * HOUR;
    await first.session.run();
    expect(first.orders).toHaveLength(0);
    // What a restarted worker sees: the workflow state, through JSON, and the rest of the day ahead.
    const carry = JSON.parse(JSON.stringify((first.session as unknown as { carry(): unknown }).carry()));
    const revived = harness({ signals: [{ atMs: 3 * HOUR }, { atMs: 5 * HOUR }] }, { ...first.input, endOfDayAt: first.t0 + 8 * HOUR, carry }, first.time);
    const status = await revived.session.run();
    expect(status.haltReason).toMatch(/checking venue/);
    expect(revived.orders).toHaveLength(0);
  });

  it('the kill switch cancels every open order, flattens when asked, and halts', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 4 * HOUR }] });
    h.time.at(2 * HOUR, () => h.session.onKillSwitch({ operator: 'alex', reason: 'strategy misbehaving', flatten: true }));
    const status = await h.session.run();
    expect(h.cancels[0]).toEqual({ flatten: true, reason: 'kill switch by alex: strategy misbehaving' });
    expect(h.orders).toHaveLength(1);
    expect(status.mode).toBe('ENDED');
    expect(status.breakerStatus).toBe('MANUALLY_HALTED');
    expect(h.journal[0]).toMatchObject({ action: 'KILL_SWITCH', details: { flatten: true } });
  });

  it('a daily loss trips the breaker with a CRITICAL alert; only the daily reset lifts it, not a resume', async () => {
    const h = harness({ signals: [{ atMs: 3 * HOUR }, { atMs: 6 * HOUR }], pnl: [{ fromMs: 0, dailyPnl: 0 }, { fromMs: HOUR, dailyPnl: -120 * MICROS }, { fromMs: 2 * HOUR, dailyPnl: -250 * MICROS }, { fromMs: 5 * HOUR, dailyPnl: 0 }] });
    h.time.at(4 * HOUR, () => h.session.onResume({ operator: 'alex', reason: 'try to resume' }));
    h.time.at(5 * HOUR, () => h.session.onDailyReset({ tradingDay: '2026-11-22' }));
    const status = await h.session.run();
    expect(h.alerts.map((a) => [a.level, a.type])).toEqual(expect.arrayContaining([['HIGH', 'DAILY_LOSS_HALF'], ['CRITICAL', 'TRADING_HALTED']]));
    // the 3h signal came while the daily-loss trip held (the resume at 4h did not lift it); the 6h one after the reset
    expect(h.orders).toHaveLength(1);
    expect(h.orders[0]!.input.context.signal.at - h.t0).toBeGreaterThanOrEqual(6 * HOUR);
    expect(h.breakerChanges).toContainEqual({ change: 'LIFTED', kinds: ['DAILY_LOSS'] });
    expect(status.trips).toEqual([]);
  });

  it('the daily reset does not lift a manual halt', async () => {
    const h = harness({ signals: [{ atMs: 3 * HOUR }] });
    h.time.at(HOUR, () => h.session.onHalt({ operator: 'alex', reason: 'hold' }));
    h.time.at(2 * HOUR, () => h.session.onDailyReset({ tradingDay: '2026-11-22' }));
    const status = await h.session.run();
    expect(h.orders).toHaveLength(0);
    expect(status.breakerStatus).toBe('MANUALLY_HALTED');
  });

  it('a failed pre-flight check halts before the first order and alerts', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], preflightFails: true });
    const status = await h.session.run();
    expect(h.orders).toHaveLength(0);
    expect(status.haltReason).toMatch(/VENUE_REACHABLE \(connection refused\)/);
    expect(h.alerts[0]).toMatchObject({ level: 'CRITICAL', type: 'PREFLIGHT_FAILED' });
  });

  it('a restarted session loads the recorded halt and continues the order sequence instead of reusing IDs', async () => {
    const trip: BreakerTrip = { kind: 'DRAWDOWN', reason: 'equity 11% below peak', observed: 0.11, limit: 0.1, since: 1, operator: null };
    const halted = harness({ signals: [{ atMs: HOUR }], carryover: { trips: [trip], lastSequence: 0 } });
    await halted.session.run();
    expect(halted.orders).toHaveLength(0);

    const h = harness({ signals: [{ atMs: HOUR }], carryover: { trips: [], lastSequence: 7 } });
    h.taken.add('order-ema-20261121-000008');
    await h.session.run();
    expect(h.orders.map((o) => o.workflowId)).toEqual(['order-ema-20261121-000009']);
  });

  it('refuses malformed signals, journals the refusal and changes nothing', async () => {
    const h = harness({ signals: [{ atMs: 2 * HOUR }] });
    h.time.at(HOUR, () => {
      h.session.onHalt({ operator: '', reason: 'x' });
      h.session.onHalt('stop');
      h.session.onKillSwitch({ operator: 'alex', reason: 'r', flatten: 'yes' });
      h.session.onDailyReset({ tradingDay: '2026-13-01' });
    });
    await h.session.run();
    expect(h.orders).toHaveLength(1);
    expect(h.session.refusedSignals).toHaveLength(4);
    expect(h.session.refusedSignals.join('\n')).toMatch(/halt\.operator.*killSwitch\.flatten/s);
    expect(h.journal.every((j) => j.action === 'SIGNAL_REJECTED')).toBe(true);
  });

  it('continues as new with its state when the history grows, losing no sequence or strategy state', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 2 * HOUR }], continueAsNewAfterWatches: 6 });
    const err = await h.session.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContinuedAsNew);
    const next = (err as ContinuedAsNew).next;
    expect(next.carry!.sequence).toBe(h.orders.length);
    expect((next.carry!.strategyState.watched as number) > 0).toBe(true);
    const revived = harness({ signals: [{ atMs: 5 * HOUR }] }, JSON.parse(JSON.stringify(next)) as SessionWorkflowInput, h.time);
    await revived.session.run();
    expect(revived.orders[0]!.workflowId).toBe(`order-ema-20261121-${String(h.orders.length + 1).padStart(6, '0')}`);
  });
});

const MINUTE = 60_000;
const ann = { operator: 'ann', reason: 'checking the venue' };

describe('one working order per market', () => {
  it('starts no second order on a market while its order works, and starts one once it has ended', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: HOUR + MINUTE }, { atMs: HOUR + 2 * MINUTE, marketId: 'ECON-CPI' }, { atMs: 4 * HOUR }], orderLifetimeMs: 2 * HOUR });
    const status = await h.session.run();
    expect(h.orders.map((o) => [o.input.order.marketId, o.input.context.signal.at - h.t0])).toEqual([
      ['PRES-2028', HOUR],
      ['ECON-CPI', HOUR + 2 * MINUTE],
      ['PRES-2028', 4 * HOUR],
    ]);
    expect(status.ordersStarted).toBe(3);
  });

  it('passes the reserved markets to the watch and frees a market when its order says it finished', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 3 * HOUR }], orderLifetimeMs: 24 * HOUR });
    const seen: Record<string, string>[] = [];
    const watch = (h.session as unknown as { env: { watch: (w: { reservedMarkets?: Record<string, string> }, i: () => boolean) => Promise<unknown> } }).env;
    const original = watch.watch;
    watch.watch = (w, i) => {
      seen.push({ ...(w.reservedMarkets ?? {}) });
      return original(w, i);
    };
    h.time.at(2 * HOUR, () => {
      h.session.onOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'NOPE' });
      h.session.onOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'FILLED' });
    });
    await h.session.run();
    expect(seen).toContainEqual({ 'PRES-2028': 'ema-20261121-000001' });
    expect(h.orders).toHaveLength(2);
    expect(h.session.refusedSignals).toEqual([expect.stringMatching(/orderFinished\.state: must be one of .* \(got "NOPE"\)/)]);
  });

  it('an orderFinished for another order of the market frees nothing', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 3 * HOUR }], orderLifetimeMs: 24 * HOUR });
    h.time.at(2 * HOUR, () => h.session.onOrderFinished({ clientOrderId: 'ema-20261121-000099', marketId: 'PRES-2028', state: 'FILLED' }));
    const status = await h.session.run();
    expect(h.orders).toHaveLength(1);
    expect(status.reservations).toEqual({ 'PRES-2028': 'ema-20261121-000001' });
  });

  it('without the patch (an old history) a signal on a working market still starts an order', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: HOUR + MINUTE }], orderLifetimeMs: 2 * HOUR, unpatched: [SessionPatch.marketReservation] });
    await h.session.run();
    expect(h.orders).toHaveLength(2);
  });
});

describe('halts and the kill switch reach the orders in flight', () => {
  it('signals halt to every working order on a manual halt and on a breaker trip, naming who and why', async () => {
    const h = harness({
      signals: [{ atMs: HOUR }, { atMs: HOUR + MINUTE, marketId: 'ECON-CPI' }],
      orderLifetimeMs: 24 * HOUR,
      pnl: [{ fromMs: 0, dailyPnl: 0 }, { fromMs: 3 * HOUR, dailyPnl: -250 * MICROS }],
    });
    h.time.at(2 * HOUR, () => h.session.onHalt(ann));
    h.time.at(2.5 * HOUR, () => h.session.onResume({ operator: 'ann', reason: 'venue fine' }));
    await h.session.run();
    const byNotice = h.told.map((t) => [t.signal, t.workflowId, t.request.operator]);
    expect(byNotice.slice(0, 2)).toEqual([
      ['halt', 'order-ema-20261121-000001', 'ann'],
      ['halt', 'order-ema-20261121-000002', 'ann'],
    ]);
    expect(h.told.slice(2).map((t) => [t.signal, t.request.operator])).toEqual([
      ['halt', 'session'],
      ['halt', 'session'],
    ]);
    expect(h.told[2]!.request.reason).toMatch(/loss/i);
  });

  it('the kill switch signals cancel to each working order, and still cancels every open order', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 24 * HOUR });
    h.time.at(2 * HOUR, () => h.session.onKillSwitch({ operator: 'ann', reason: 'runaway', flatten: false }));
    await h.session.run();
    expect(h.told.map((t) => [t.signal, t.workflowId, t.request.reason])).toEqual([
      ['halt', 'order-ema-20261121-000001', 'kill switch: runaway'],
      ['cancel', 'order-ema-20261121-000001', 'kill switch: runaway'],
    ]);
    expect(h.cancels[0]).toEqual({ flatten: false, reason: 'kill switch by ann: runaway' });
  });

  it('an order that is no longer running is not told again and frees its market', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 24 * HOUR });
    const s = h.session as unknown as { env: { signalOrder: (...a: unknown[]) => Promise<boolean> } };
    s.env.signalOrder = async () => false;
    h.time.at(2 * HOUR, () => h.session.onHalt(ann));
    h.time.at(3 * HOUR, () => h.session.onKillSwitch({ operator: 'ann', reason: 'again' }));
    const status = await h.session.run();
    expect(status.reservations).toEqual({});
  });

  it('without the patch (an old history) no order is signalled', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 24 * HOUR, unpatched: [SessionPatch.haltReachesOrders] });
    h.time.at(2 * HOUR, () => h.session.onKillSwitch({ operator: 'ann', reason: 'runaway' }));
    await h.session.run();
    expect(h.told).toEqual([]);
    expect(h.cancels).toHaveLength(2);
  });
});

describe('operator requests before the session has loaded its state', () => {
  const yesterday: BreakerTrip = { kind: 'MANUAL', reason: 'halted yesterday', observed: null, limit: null, since: 1, operator: 'bob' };

  it('applies a resume that arrived during loading after the carried-over halt: the session trades', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], carryover: { trips: [yesterday], lastSequence: 0, lastActionSequence: 4 }, loadCarryoverMs: 5_000 });
    h.time.at(1_000, () => h.session.onResume({ operator: 'ann', reason: 'cleared' }));
    h.time.at(2_000, () => h.session.onHalt({ operator: '', reason: 'malformed' }));
    h.time.at(3_000, () => expect(h.session.status().mode).toBe('PREFLIGHT'));
    const status = await h.session.run();
    expect(h.orders).toHaveLength(1);
    expect(status.trips).toEqual([]);
    expect(h.breakerChanges).toEqual([{ change: 'LIFTED', kinds: ['MANUAL'] }]);
    // Journal sequences continue after the ones the day's records already hold.
    expect(h.journal.map((j) => [j.action, j.sequence])).toEqual([
      ['RESUME', 5],
      ['SIGNAL_REJECTED', 6],
    ]);
  });

  it('applies requests in arrival order: a halt after the resume holds', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], carryover: { trips: [yesterday], lastSequence: 0 }, loadCarryoverMs: 5_000 });
    h.time.at(1_000, () => h.session.onResume({ operator: 'ann', reason: 'cleared' }));
    h.time.at(2_000, () => h.session.onHalt({ operator: 'ann', reason: 'no, wait' }));
    const status = await h.session.run();
    expect(h.orders).toHaveLength(0);
    expect(status.haltReason).toMatch(/no, wait/);
  });

  it('without the patch (an old history) the early resume is undone by the loaded halt', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], carryover: { trips: [yesterday], lastSequence: 0 }, loadCarryoverMs: 5_000, unpatched: [SessionPatch.requestsAfterLoad] });
    h.time.at(1_000, () => h.session.onResume({ operator: 'ann', reason: 'cleared' }));
    const status = await h.session.run();
    expect(status.breakerStatus).toBe('MANUALLY_HALTED');
  });
});

describe('continue-as-new keeps the status', () => {
  it('hands over counters, pre-flight, refusals, reservations and unwritten journal entries', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 24 * HOUR, continueAsNewAfterWatches: 6 });
    h.time.at(30 * MINUTE, () => h.session.onHalt({ operator: '', reason: 'x' }));
    const err = await h.session.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContinuedAsNew);
    const before = h.session.status();
    const next = JSON.parse(JSON.stringify((err as ContinuedAsNew).next)) as SessionWorkflowInput;
    expect(() => validateSessionWorkflowInput(next)).not.toThrow();
    const revived = harness({}, next, h.time);
    const after = revived.session.status();
    for (const field of ['ordersStarted', 'lastSignalAt', 'quoteTimes', 'preflight', 'refusedSignals', 'reservations', 'trips'] as const) {
      expect([field, after[field]]).toEqual([field, before[field]]);
    }
    expect(after.ordersStarted).toBe(1);
    expect(after.reservations).toEqual({ 'PRES-2028': 'ema-20261121-000001' });
  });

  it('carries journal entries that arrive while it waits for handlers, and writes them in the next run', async () => {
    const h = harness({ continueAsNewAfterWatches: 2 });
    const env = (h.session as unknown as { env: { continueAsNew: (next: () => SessionWorkflowInput) => Promise<never> } }).env;
    env.continueAsNew = async (next) => {
      h.session.onHalt(ann);
      throw new ContinuedAsNew(next());
    };
    const err = (await h.session.run().catch((e: unknown) => e)) as ContinuedAsNew;
    expect(err.next.carry!.pendingJournal!.map((j) => j.action)).toEqual(['HALT']);
    const revived = harness({}, JSON.parse(JSON.stringify(err.next)) as SessionWorkflowInput, h.time);
    (revived.input as { endOfDayAt: number }).endOfDayAt = h.time.now + HOUR;
    await revived.session.run();
    expect(revived.journal.map((j) => [j.action, j.sequence])).toEqual([['HALT', 1]]);
    expect(revived.breakerChanges).toEqual([{ change: 'TRIPPED', kinds: ['MANUAL'] }]);
  });

  it('refuses a malformed carry naming the field', () => {
    const h = harness({});
    const bad = { ...h.input, carry: { breakers: { trips: [], peakEquity: null }, strategyState: {}, sequence: -1, actionSequence: 0, recentOrderTimes: [], lastAt: 0, alertedHalfLoss: false, reservations: { 'PRES-2028': 'not an id' } } } as unknown as SessionWorkflowInput;
    expect(() => validateSessionWorkflowInput(bad)).toThrow(/carry\.sequence: must be a non-negative integer \(got -1\).*carry\.reservations\.PRES-2028/);
  });
});

describe('failures are contained', () => {
  it('an alert that cannot be sent is noted and logged; the session keeps running, halted', async () => {
    const h = harness({ signals: [{ atMs: 3 * HOUR }], alertsFail: true, pnl: [{ fromMs: 0, dailyPnl: 0 }, { fromMs: HOUR, dailyPnl: -250 * MICROS }] });
    h.time.at(2 * HOUR, () => h.session.onKillSwitch({ operator: 'ann', reason: 'stop' }));
    const status = await h.session.run();
    expect(status.mode).toBe('ENDED');
    expect(status.unsentAlerts.join('\n')).toMatch(/DAILY_LOSS_HALF.*SMTP unreachable[\s\S]*TRADING_HALTED.*SMTP unreachable/);
    expect(h.logged.some((m) => /TRADING_HALTED/.test(m))).toBe(true);
    expect(h.cancels[0]?.reason).toMatch(/kill switch/);
    expect(h.orders).toHaveLength(0);
  });

  it('without the patch (an old history) a failed alert fails the session', async () => {
    const h = harness({ alertsFail: true, pnl: [{ fromMs: 0, dailyPnl: -250 * MICROS }], unpatched: [SessionPatch.containFailures] });
    await expect(h.session.run()).rejects.toThrow(/SMTP unreachable/);
  });

  it('journal and breaker writes the records cannot take are kept and written at a later flush', async () => {
    const h = harness({ signals: [{ atMs: 3 * HOUR }], recordsFail: { kind: 'UNREACHABLE', untilMs: 90 * MINUTE } });
    h.time.at(HOUR, () => h.session.onHalt(ann));
    h.time.at(2 * HOUR, () => h.session.onResume({ operator: 'ann', reason: 'ok' }));
    h.time.at(80 * MINUTE, () => expect(h.session.status()).toMatchObject({ unrecorded: 2, recordFailures: [expect.stringMatching(/HALT #1.*unreachable/), expect.stringMatching(/breaker change/)] }));
    const status = await h.session.run();
    expect(h.journal.map((j) => j.action)).toEqual(['HALT', 'RESUME']);
    expect(h.breakerChanges.map((c) => c.change)).toEqual(['TRIPPED', 'LIFTED']);
    expect(status.unrecorded).toBe(0);
    expect(h.orders).toHaveLength(1);
  });

  it('a refused journal entry is kept while the others are written', async () => {
    const h = harness({ recordsFail: { kind: 'REFUSED', untilMs: 90 * MINUTE, only: 'journal' } });
    h.time.at(HOUR, () => {
      h.session.onHalt(ann);
      h.session.onResume({ operator: 'ann', reason: 'ok' });
    });
    const status = await h.session.run();
    expect(h.journal.map((j) => j.action)).toEqual(['HALT', 'RESUME']);
    expect(status.recordFailures[0]).toMatch(/refused/);
  });

  it('a write refused as malformed is a bug: the session fails', async () => {
    const h = harness({ recordsFail: { kind: 'BUG', untilMs: 90 * MINUTE } });
    h.time.at(HOUR, () => h.session.onHalt(ann));
    await expect(h.session.run()).rejects.toThrow(/BUG/);
  });
});

describe('session input and watch timeouts', () => {
  it('syncs fills as a step of its own before every snapshot and the daily summary, which then only read', async () => {
    const h = harness({ signals: [{ atMs: HOUR }] });
    await h.session.run();
    expect(h.ledgerCalls.length).toBeGreaterThan(4);
    for (let i = 0; i < h.ledgerCalls.length; i += 2) {
      expect(h.ledgerCalls[i]).toBe('syncFills');
      expect(h.ledgerCalls[i + 1]).toMatch(/^(sessionSnapshot|writeDailySummary) syncFills=false$/);
    }
    expect(h.ledgerCalls.filter((c) => c.startsWith('writeDailySummary'))).toEqual(['writeDailySummary syncFills=false']);
  });

  it('a fill sync the venue cannot answer is logged, and the snapshot reads the records as they are', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], fillSyncFails: true });
    const status = await h.session.run();
    expect(status.mode).toBe('ENDED');
    expect(h.orders).toHaveLength(1);
    expect(h.ledgerCalls).toContain('sessionSnapshot syncFills=false');
    expect(h.logged.some((m) => m.includes('fill sync failed') && m.includes('venue unavailable'))).toBe(true);
  });

  it('without the patch (an old history) there is no sync step: the snapshot and the summary sync as they did', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], unpatched: [SessionPatch.fillSyncStep] });
    await h.session.run();
    expect(h.ledgerCalls).not.toContain('syncFills');
    expect(new Set(h.ledgerCalls)).toEqual(new Set(['sessionSnapshot syncFills=undefined', 'writeDailySummary syncFills=undefined']));
  });

  it('derives the watch timeouts from the periods', () => {
    expect(watchActivityTimeouts({ watchPeriodMs: 15 * MINUTE, pollIntervalMs: 30_000 })).toEqual({ startToCloseMs: 15 * MINUTE + 30_000 + 5 * MINUTE, heartbeatMs: 90_000 });
    expect(watchActivityTimeouts({ watchPeriodMs: 2_000, pollIntervalMs: 500 }).heartbeatMs).toBe(MINUTE);
    expect(watchActivityTimeouts({ watchPeriodMs: 3 * HOUR, pollIntervalMs: 10 * MINUTE })).toEqual({ startToCloseMs: 3 * HOUR + 15 * MINUTE, heartbeatMs: 30 * MINUTE });
  });

  it('refuses periods that cannot work, naming the field and value', () => {
    const h = harness({});
    expect(() => validateSessionWorkflowInput(h.input)).not.toThrow();
    expect(() => validateSessionWorkflowInput({ ...h.input, pollIntervalMs: 20 * MINUTE })).toThrow(/pollIntervalMs: must not exceed watchPeriodMs \(900000\).*\(got 1200000\)/);
    expect(() => validateSessionWorkflowInput({ ...h.input, pollIntervalMs: 5, watchPeriodMs: 2.5 })).toThrow(/pollIntervalMs: must be whole milliseconds between 10 and 3600000 \(got 5\); watchPeriodMs: .*\(got 2\.5\)/);
    expect(() => validateSessionWorkflowInput({ ...h.input, continueAsNewAtEvents: 3 })).toThrow(/continueAsNewAtEvents/);
  });

  it('validates the orderFinished payload, naming each bad field', () => {
    expect(validateOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'CANCELED' })).toEqual({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'CANCELED' });
    expect(() => validateOrderFinished({ clientOrderId: '', marketId: 'a b', state: 'DONE' })).toThrow(/orderFinished\.clientOrderId.*orderFinished\.marketId.*orderFinished\.state/);
    expect(() => validateOrderFinished(null)).toThrow(/orderFinished: must be an object/);
  });
  describe('the warm-up survives the day', () => {
    const warm = (observations: number): MarketWarmth => ({ observations, hours: observations / 2, neededObservations: 100, neededHours: 72, warm: observations >= 144 });

    it('a fresh session loads the state its strategy left, watches from it, reports how warm, and records it after each watch', async () => {
      const carried = { 'PRES-2028': { watched: 40 } };
      const h = harness({
        signals: [{ atMs: HOUR }],
        carryover: { trips: [], lastSequence: 0, strategyState: carried, warmth: { 'PRES-2028': { ...warm(40), carriedFrom: '2026-11-20' } } },
        warmth: { 'PRES-2028': warm(41) },
      });
      h.time.at(1, () => expect(h.session.status().warmth).toEqual({ 'PRES-2028': { ...warm(40), carriedFrom: '2026-11-20' } }));
      const status = await h.session.run();
      expect(h.carryoverInputs[0]).toEqual({ strategy: 'ema', tradingDay: '2026-11-21', strategyName: 'ema', strategyParams: {}, marketIds: ['PRES-2028'] });
      expect(h.watchInputs[0]!.strategyState).toEqual(carried);
      // Every watch's state is recorded, with its quote times, for the next day.
      expect(h.savedStates.length).toBe(h.watchInputs.length);
      expect(h.savedStates[0]).toMatchObject({ strategy: 'ema', strategyName: 'ema', strategyState: { watched: 1 }, quoteTimes: { 'PRES-2028': expect.any(Number) } });
      expect(status.warmth).toEqual({ 'PRES-2028': { ...warm(41), carriedFrom: '2026-11-20' } });
    });

    it('the warmth and the state are handed over by continue-as-new', async () => {
      const h = harness({ signals: [], continueAsNewAfterWatches: 2, warmth: { 'PRES-2028': warm(3) } });
      let next: SessionWorkflowInput | null = null;
      try {
        await h.session.run();
      } catch (e) {
        if (!(e instanceof ContinuedAsNew)) throw e;
        next = e.next;
      }
      expect(next?.carry?.warmth).toEqual({ 'PRES-2028': { ...warm(3), carriedFrom: null } });
      expect(next?.carry?.strategyState).toEqual({ watched: 2 });
    });

    it('a strategy-state write that fails is noted and does not stop the session', async () => {
      const h = harness({ signals: [{ atMs: HOUR }], recordsFail: { kind: 'UNREACHABLE', untilMs: 3 * HOUR, only: 'strategy' } });
      const status = await h.session.run();
      expect(h.orders).toHaveLength(1);
      expect(status.recordFailures.some((f) => f.startsWith('strategy state'))).toBe(true);
    });

    it('without the patch (an old history) nothing is loaded or recorded', async () => {
      const h = harness({ signals: [{ atMs: HOUR }], unpatched: [SessionPatch.strategyCarry], carryover: { trips: [], lastSequence: 0, strategyState: { 'PRES-2028': { watched: 40 } } } });
      await h.session.run();
      expect(h.carryoverInputs[0]).toEqual({ strategy: 'ema', tradingDay: '2026-11-21' });
      expect(h.watchInputs[0]!.strategyState).toEqual({});
      expect(h.savedStates).toEqual([]);
    });
  });
});

describe('halts that leave nothing unsafe', () => {
  it('a watch the venue refuses for our credentials halts the whole session with one CRITICAL alert; a resume trades again', async () => {
    const h = harness({ watchFails: { watch: 1, type: 'AUTH' }, signals: [{ atMs: HOUR }, { atMs: 3 * HOUR }] });
    h.time.at(2 * HOUR, () => h.session.onResume({ operator: 'alex', reason: 'new API key installed' }));
    const status = await h.session.run();
    expect(h.alerts.filter((a) => a.type === 'SESSION_HALTED_AUTH').map((a) => a.level)).toEqual(['CRITICAL']);
    expect(h.alerts.find((a) => a.type === 'SESSION_HALTED_AUTH')!.body).toMatch(/market watch was refused by the venue: AUTH/);
    expect(h.breakerChanges.map((c) => [c.change, c.kinds])).toEqual([
      ['TRIPPED', ['MANUAL']],
      ['LIFTED', ['MANUAL']],
    ]);
    // The 1h signal fell inside the halt; the 3h one traded after the resume.
    expect(h.orders).toHaveLength(1);
    expect(status.mode).toBe('ENDED');
  });

  it('a watch failure other than AUTH, and an AUTH failure in a history from before the change, still fail the session', async () => {
    await expect(harness({ watchFails: { watch: 1, type: 'UNAVAILABLE' } }).session.run()).rejects.toThrow(/UNAVAILABLE/);
    await expect(harness({ watchFails: { watch: 1, type: 'AUTH' }, unpatched: [SessionPatch.authHalts] }).session.run()).rejects.toThrow(/AUTH/);
  });

  it('an order that ended refused for AUTH halts the session; an ordinary rejection does not; a bad failure type is refused', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 3 * HOUR }], orderLifetimeMs: 10 * HOUR });
    h.time.at(90 * 60_000, () => h.session.onOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'REJECTED', venueFailure: 'BAD_REQUEST' }));
    h.time.at(2 * HOUR, () => h.session.onOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'REJECTED', venueFailure: 'auth!' }));
    h.time.at(150 * 60_000, () => h.session.onOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'REJECTED', venueFailure: 'AUTH' }));
    const status = await h.session.run();
    expect(status.refusedSignals.some((r) => r.includes('orderFinished.venueFailure') && r.includes('auth!'))).toBe(true);
    expect(status.haltReason).toMatch(/order ema-20261121-000001 was refused by the venue: AUTH/);
    expect(h.orders).toHaveLength(1);
    expect(h.alerts.filter((a) => a.type === 'SESSION_HALTED_AUTH')).toHaveLength(1);
    expect(validateOrderFinished({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', state: 'REJECTED', venueFailure: 'AUTH' }).venueFailure).toBe('AUTH');
  });

  it('a halt with cancelOrders cancels the working orders (signal and venue), once; a plain halt leaves them; a bad flag is refused', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 10 * HOUR });
    h.time.at(2 * HOUR, () => h.session.onHalt({ operator: 'alex', reason: 'news', cancelOrders: 'yes' }));
    h.time.at(3 * HOUR, () => h.session.onHalt({ operator: 'alex', reason: 'news' }));
    h.time.at(4 * HOUR, () => h.session.onHalt({ operator: 'alex', reason: 'leave nothing working', cancelOrders: true }));
    const status = await h.session.run();
    expect(status.refusedSignals.some((r) => r.includes('halt.cancelOrders'))).toBe(true);
    expect(h.cancels.map((c) => c.reason)).toEqual(['halt: leave nothing working (by alex)', 'end of trading day']);
    expect(h.told.map((t) => t.signal)).toEqual(['halt', 'cancel']);
    expect(h.journal.filter((j) => j.action === 'HALT').map((j) => j.details)).toEqual([{}, { cancelOrders: true }]);
  });

  it('a cancel still owed is carried over continue-as-new', async () => {
    const carryOf = (session: TradingSession) => JSON.parse(JSON.stringify((session as unknown as { carry(): unknown }).carry())) as SessionWorkflowInput['carry'];
    const first = harness({});
    // A run handed over by continue-as-new has its state loaded: the halt applies at once.
    const running = harness({}, { ...first.input, carry: carryOf(first.session) }, first.time);
    running.session.onHalt({ operator: 'alex', reason: 'leave nothing working', cancelOrders: true });
    const carry = carryOf(running.session);
    expect(carry?.cancelWorking).toEqual({ operator: 'alex', reason: 'halt: leave nothing working' });
    expect(() => validateSessionWorkflowInput({ ...first.input, carry: { ...carry!, cancelWorking: { operator: '', reason: 'x' }, outageHandled: 'soon' as never } })).toThrow(/carry\.cancelWorking.*operator[\s\S]*carry\.outageHandled/);
    const next = harness({}, validateSessionWorkflowInput({ ...first.input, carry }), first.time);
    await next.session.run();
    expect(next.cancels.map((c) => c.reason)).toEqual(['halt: leave nothing working (by alex)', 'end of trading day']);
  });

  const outage: ConnectionOutage = { since: 1_000_000, restoredAt: 1_090_000 };

  it('a connection outage under CONNECTION_LOST_POLICY=cancel (the default) cancels the working orders once, however many watches report it', async () => {
    const h = harness({ signals: [{ atMs: 10 * 60_000 }], orderLifetimeMs: 10 * HOUR, outage: { fromWatch: 3, outage } });
    const status = await h.session.run();
    expect(h.cancels.map((c) => c.reason)).toEqual([
      'the venue connection was lost for 90 s; working orders cancelled when it came back (CONNECTION_LOST_POLICY=cancel) (by session)',
      'end of trading day',
    ]);
    expect(h.told.map((t) => t.signal)).toEqual(['cancel']);
    expect(status.mode).toBe('ENDED');
  });

  it('CONNECTION_LOST_POLICY=keep leaves them working, and says so; a history from before the change does nothing', async () => {
    const keep = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 10 * HOUR, outage: { fromWatch: 3, outage }, input: { connectionLostPolicy: 'keep' } });
    await keep.session.run();
    expect(keep.cancels.map((c) => c.reason)).toEqual(['end of trading day']);
    expect(keep.logged.filter((l) => l.includes('CONNECTION_LOST_POLICY=keep'))).toHaveLength(1);
    const old = harness({ signals: [{ atMs: HOUR }], orderLifetimeMs: 10 * HOUR, outage: { fromWatch: 3, outage }, unpatched: [SessionPatch.connectionOutage] });
    await old.session.run();
    expect(old.cancels.map((c) => c.reason)).toEqual(['end of trading day']);
  });

  it('an unknown connection-lost policy is refused, naming the field', () => {
    const h = harness({});
    expect(() => validateSessionWorkflowInput({ ...h.input, connectionLostPolicy: 'panic' as never })).toThrow('connectionLostPolicy: must be one of cancel, keep (got "panic")');
  });
});

// ---- levels of automation ----

describe('levels of automation in the session', () => {
  const semiAuto = { level: 'semi-auto' as const, approvalTimeoutMs: 5 * MINUTE };

  it('alerts-only: a signal starts no order workflow and reserves nothing; it raises ORDER_PROPOSED with the order it would place', async () => {
    const h = harness({ signals: [{ atMs: HOUR }, { atMs: 2 * HOUR }], input: { automation: { level: 'alerts-only', approvalTimeoutMs: 5 * MINUTE } } });
    const status = await h.session.run();
    expect(h.orders).toEqual([]);
    expect(status.ordersStarted).toBe(0);
    expect(status.reservations).toEqual({});
    const proposed = h.alerts.filter((a) => a.type === 'ORDER_PROPOSED');
    expect(proposed.map((a) => [a.level, a.dedupeKey])).toEqual([
      ['MEDIUM', 'ORDER_PROPOSED:ema:2026-11-21:ema-20261121-000001'],
      ['MEDIUM', 'ORDER_PROPOSED:ema:2026-11-21:ema-20261121-000002'],
    ]);
    expect(proposed[0]!.body).toContain('BUY 25 PRES-2028 at 0.43');
    expect(proposed[0]!.body).toContain('client order ID it would use: ema-20261121-000001');
    expect(proposed[0]!.body).toContain("strategy's reason: ENTER");
    expect(h.journal.map((j) => [j.action, j.details.level, j.details.previous])).toEqual([['AUTOMATION_LEVEL', 'alerts-only', null]]);
  });

  it('semi-auto: each order workflow carries the level; full carries none (as before)', async () => {
    const semi = harness({ signals: [{ atMs: HOUR }], input: { automation: semiAuto } });
    await semi.session.run();
    expect(semi.orders.map((o) => o.input.automation)).toEqual([semiAuto]);
    const full = harness({ signals: [{ atMs: HOUR }], input: { automation: { level: 'full', approvalTimeoutMs: 5 * MINUTE } } });
    await full.session.run();
    expect(full.orders).toHaveLength(1);
    expect(full.orders[0]!.input).not.toHaveProperty('automation');
    expect(full.journal.filter((j) => j.action === 'AUTOMATION_LEVEL')).toEqual([]);
  });

  it('the level is journaled on start only when it differs from the last journaled one for the strategy', async () => {
    const base = { trips: [], lastSequence: 0, lastActionSequence: 4 };
    const same = harness({ input: { automation: semiAuto }, carryover: { ...base, lastAutomationLevel: 'semi-auto' } });
    await same.session.run();
    expect(same.journal.filter((j) => j.action === 'AUTOMATION_LEVEL')).toEqual([]);
    const back = harness({ input: { automation: { level: 'full', approvalTimeoutMs: 5 * MINUTE } }, carryover: { ...base, lastAutomationLevel: 'semi-auto' } });
    await back.session.run();
    expect(back.journal.filter((j) => j.action === 'AUTOMATION_LEVEL')).toEqual([
      {
        action: 'AUTOMATION_LEVEL',
        operator: 'config',
        reason: 'AUTOMATION_LEVEL=full (was semi-auto)',
        workflowId: 'session-ema-2026-11-21',
        sequence: 5,
        details: { strategy: 'ema', level: 'full', previous: 'semi-auto', approvalTimeoutMs: null },
      },
    ]);
  });

  it('a history recorded before levels existed replays as full automation: orders start, nothing journaled', async () => {
    const h = harness({ signals: [{ atMs: HOUR }], input: { automation: { level: 'alerts-only', approvalTimeoutMs: 5 * MINUTE } }, unpatched: [SessionPatch.automationLevel] });
    await h.session.run();
    expect(h.orders).toHaveLength(1);
    expect(h.alerts.filter((a) => a.type === 'ORDER_PROPOSED')).toEqual([]);
    expect(h.journal).toEqual([]);
  });

  it('validates the level a session input carries', () => {
    const h = harness({});
    expect(() => validateSessionWorkflowInput({ ...h.input, automation: { level: 'semi', approvalTimeoutMs: 300_000 } } as never)).toThrow(/automation\.level: must be one of alerts-only, semi-auto, full \(got "semi"\)/);
  });
});
