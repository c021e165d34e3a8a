/**
 * The trading session's control flow, driven without a Temporal server: virtual time, scripted
 * market signals, recorded journal entries, orders and alerts.
 */
import { describe, expect, it } from 'vitest';
import type { AlertRequest, OperatorAction, PreflightCheck, SessionActivities, SessionSnapshot, WatchSignal } from '../../activities/types';
import type { OrderWorkflowInput, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS, type BreakerTrip } from '../../workflows/domain/breakers';
import { MICROS, px, type Money, type Quantity } from '../../workflows/domain/money';
import { TradingSession } from '../../workflows/session';
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
  carryover?: { trips: BreakerTrip[]; lastSequence: number };
  continueAsNewAfterWatches?: number;
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
  let watches = 0;
  const pending = [...(script.signals ?? [])].sort((a, b) => a.atMs - b.atMs);

  const snapshot = (): SessionSnapshot => {
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
    sessionSnapshot: async () => snapshot(),
    loadCarryover: async () => script.carryover ?? { trips: [], lastSequence: 0 },
    recordBreakerChange: async (c) => void breakerChanges.push({ change: c.change, kinds: c.trips.map((t) => t.kind) }),
    recordOperatorAction: async (a) => void journal.push(a),
    cancelAllOpenOrders: async (i) => {
      cancels.push({ flatten: i.flatten, reason: i.reason });
      return { canceled: [], flattenOrders: [] };
    },
    writeDailySummary: async () => undefined,
    raiseAlert: async (a) => {
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
  };

  const session = new TradingSession(input, {
    acts,
    waitFor: time.waitFor,
    watch: async (w, interrupt) => {
      watches++;
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
      return { strategyState: { watched: ((w.strategyState.watched as number) ?? 0) + 1 }, signal, at: time.now, quoteTimes: { 'PRES-2028': time.now } };
    },
    startOrder: async (workflowId, orderInput) => {
      if (taken.has(workflowId)) return 'ALREADY_EXISTS';
      taken.add(workflowId);
      orders.push({ workflowId, input: orderInput });
      return 'STARTED';
    },
    continueAsNewSuggested: () => script.continueAsNewAfterWatches !== undefined && watches === script.continueAsNewAfterWatches,
    continueAsNew: async (next) => {
      throw new ContinuedAsNew(next);
    },
  });
  return { session, time, t0, journal, breakerChanges, alerts, orders, cancels, taken, input };
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
