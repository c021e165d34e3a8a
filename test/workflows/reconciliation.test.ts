import { describe, expect, it } from 'vitest';
import type { AlertRequest, OperationsActivities, OperatorAction } from '../../contracts/activities';
import type { ReconciliationPolicy } from '../../domain/reconciliation';
import { decideReconciliation, reconcile } from '../../domain/reconciliation';
import { MICROS, type Money } from '../../domain/money';
import { RECONCILIATION_PATCHES, ReconciliationRun, type ReconciliationEnv } from '../../workflows/reconciliation';
import { VirtualTime } from './virtual-time';

const HOUR = 3_600_000;

interface HarnessOptions {
  /** env.alert's answer per alert type (absent: delivered). */
  undelivered?: Record<string, string>;
  /** The patches the history knows (absent: every patch, a new run). */
  patches?: string[];
  /** Called when the comparison starts (before it answers). */
  onCompare?: (run: ReconciliationRun) => void;
}

function harness(policy: ReconciliationPolicy, venueQuantity: number, options: HarnessOptions = {}) {
  const time = new VirtualTime();
  const alerts: AlertRequest[] = [];
  /** What the run did, in order: halt:<session>, alert:<type>. */
  const steps: string[] = [];
  const adopted: { operator: string }[] = [];
  const journal: OperatorAction[] = [];
  const halted: string[] = [];
  const local = { positions: { 'PRES-2028': 10 }, cash: (1000 * MICROS) as Money, openOrders: {} };
  const venue = { positions: { 'PRES-2028': venueQuantity }, cash: (1000 * MICROS) as Money, openOrders: {} };
  const acts: OperationsActivities = {
    reconcileAccount: async ({ runId }) => {
      options.onCompare?.(run);
      const discrepancies = reconcile(local, venue, { cash: (1 * MICROS) as Money });
      return { runId, discrepancies, decision: decideReconciliation(discrepancies, policy), at: time.now };
    },
    adoptVenueFigures: async (i) => void adopted.push({ operator: i.operator }),
    listActiveSessions: async () => ['session-ema-2026-11-21', 'session-gone-2026-11-21'],
    resetDailyCounters: async () => ({ tradingDay: '2026-11-22', previousDay: '2026-11-21', liftedTrips: 0 }),
    sendDailyReport: async () => undefined,
    settleResolvedMarkets: async () => ({ settled: [] }),
    syncSettlements: async () => ({ supported: false, pages: 0, settlementsSeen: 0, settlementsBooked: 0 }),
    recordOperatorAction: async (a) => void journal.push(a),
    raiseAlert: async (a) => {
      steps.push(`alert:${a.type}`);
      alerts.push(a);
      return { sent: true, reason: 'SENT' };
    },
  };
  const env: ReconciliationEnv = {
    acts,
    waitFor: time.waitFor,
    haltSession: async (id) => {
      if (id.includes('gone')) return false;
      steps.push(`halt:${id}`);
      halted.push(id);
      return true;
    },
    alert: async (a) => {
      const problem = options.undelivered?.[a.type];
      if (problem !== undefined) {
        steps.push(`alert-failed:${a.type}`);
        return problem;
      }
      await acts.raiseAlert(a);
      return null;
    },
    ...(options.patches ? { patched: (id: string) => options.patches!.includes(id) } : {}),
  };
  const run: ReconciliationRun = new ReconciliationRun('reconcile-1', { policy, reminderMs: HOUR }, env);
  return { run, time, alerts, adopted, journal, halted, steps };
}

const decide = (decision: string, operator = 'alex') => ({ operator, reason: 'checked the venue', decision });

describe('reconciliation run', () => {
  it('a clean comparison changes nothing and alerts no one', async () => {
    const h = harness('HALT_AND_ALERT', 10);
    expect((await h.run.run()).phase).toBe('CLEAN');
    expect(h.alerts).toEqual([]);
  });

  it('WARN_ONLY reports a mismatch and adopts nothing', async () => {
    const h = harness('WARN_ONLY', 7);
    const status = await h.run.run();
    expect(status.phase).toBe('REPORTED');
    expect(h.alerts[0]!.type).toBe('RECONCILIATION_MISMATCH');
    expect(h.adopted).toEqual([]);
    expect(h.halted).toEqual([]);
  });

  it('TRUST_VENUE adopts the venue figures for a position mismatch', async () => {
    const h = harness('TRUST_VENUE', 7);
    await h.run.run();
    expect(h.adopted).toEqual([{ operator: 'reconciliation' }]);
  });

  it('HALT_AND_ALERT halts running sessions, emails CRITICAL, reminds until an operator decides, then adopts on their word', async () => {
    const h = harness('HALT_AND_ALERT', 7);
    h.time.at(2.5 * HOUR, () => h.run.onDecision({ operator: 'alex', reason: 'venue is right', decision: 'MAYBE' }));
    h.time.at(3.5 * HOUR, () => h.run.onDecision({ operator: 'alex', reason: 'venue is right', decision: 'ADOPT_VENUE' }));
    const status = await h.run.run();
    expect(h.halted).toEqual(['session-ema-2026-11-21']);
    expect(h.alerts[0]).toMatchObject({ level: 'CRITICAL', type: 'RECONCILIATION_MISMATCH' });
    expect(h.alerts.filter((a) => a.type === 'RECONCILIATION_UNANSWERED')).toHaveLength(3);
    expect(h.run.refusedSignals[0]).toMatch(/decision.*MAYBE/);
    expect(status.phase).toBe('DECIDED');
    expect(h.journal[0]).toMatchObject({ action: 'RECONCILIATION_DECISION', operator: 'alex', details: { decision: 'ADOPT_VENUE' } });
    expect(h.adopted).toEqual([{ operator: 'alex' }]);
  });

  it('STAY_HALTED adopts nothing', async () => {
    const h = harness('HALT_AND_ALERT', 7);
    h.time.at(10 * 60_000, () => h.run.onDecision({ operator: 'alex', reason: 'investigating', decision: 'STAY_HALTED' }));
    await h.run.run();
    expect(h.adopted).toEqual([]);
    expect(h.alerts.filter((a) => a.type === 'RECONCILIATION_UNANSWERED')).toHaveLength(0);
  });

  it('halts the sessions before it alerts', async () => {
    const h = harness('HALT_AND_ALERT', 7);
    h.time.at(60_000, () => h.run.onDecision(decide('STAY_HALTED')));
    await h.run.run();
    expect(h.steps).toEqual(['halt:session-ema-2026-11-21', 'alert:RECONCILIATION_MISMATCH']);
  });

  it('an alert that cannot be delivered after its retries does not fail the run: noted in the status, the run still waits and decides', async () => {
    const h = harness('HALT_AND_ALERT', 7, { undelivered: { RECONCILIATION_MISMATCH: 'SMTP server unreachable', RECONCILIATION_UNANSWERED: 'SMTP server unreachable' } });
    h.time.at(1.5 * HOUR, () => {
      expect(h.run.status().phase).toBe('WAITING_FOR_OPERATOR');
      h.run.onDecision(decide('STAY_HALTED'));
    });
    const status = await h.run.run();
    expect(h.halted).toEqual(['session-ema-2026-11-21']);
    expect(status.phase).toBe('DECIDED');
    expect(status.undeliveredAlerts).toEqual(['RECONCILIATION_MISMATCH:reconcile-1: SMTP server unreachable', 'RECONCILIATION_UNANSWERED:reconcile-1:1: SMTP server unreachable']);
    expect(h.steps[0]).toBe('halt:session-ema-2026-11-21');
  });

  it('WARN_ONLY reports even when its alert cannot be delivered', async () => {
    const h = harness('WARN_ONLY', 7, { undelivered: { RECONCILIATION_MISMATCH: 'SMTP server unreachable' } });
    const status = await h.run.run();
    expect(status.phase).toBe('REPORTED');
    expect(status.undeliveredAlerts).toHaveLength(1);
  });

  it('keeps a decision that came while the comparison still ran, and applies it when the run waits', async () => {
    const h = harness('HALT_AND_ALERT', 7, { onCompare: (run) => run.onDecision(decide('ADOPT_VENUE')) });
    const status = await h.run.run();
    expect(status).toMatchObject({ phase: 'DECIDED', decision: { decision: 'ADOPT_VENUE', operator: 'alex' }, reminders: 0 });
    expect(h.halted).toEqual(['session-ema-2026-11-21']);
    expect(h.adopted).toEqual([{ operator: 'alex' }]);
  });

  it('answers a decision: accepted with the phase it came in, refused when the run already has one or needs none', async () => {
    const h = harness('HALT_AND_ALERT', 7);
    expect(h.run.acceptDecision(decide('STAY_HALTED'))).toEqual({ accepted: true, runId: 'reconcile-1', decision: 'STAY_HALTED', phase: 'CHECKING' });
    expect(() => h.run.checkDecision(decide('ADOPT_VENUE', 'bo'))).toThrow(/already has the decision STAY_HALTED from alex/);
    h.run.onDecision(decide('ADOPT_VENUE', 'bo'));
    expect(h.run.refusedSignals).toEqual([expect.stringMatching(/^reconciliationDecision: refused: the run already has the decision STAY_HALTED/)]);
    await h.run.run();
    expect(h.adopted).toEqual([]);

    const clean = harness('HALT_AND_ALERT', 10);
    await clean.run.run();
    expect(() => clean.run.checkDecision(decide('ADOPT_VENUE'))).toThrow(/ended CLEAN and needs no decision/);
  });

  it('replays a run recorded before the patches the old way: alert, then halt; an early decision is ignored', async () => {
    const h = harness('HALT_AND_ALERT', 7, { patches: [], onCompare: (run) => run.onDecision(decide('ADOPT_VENUE')) });
    h.time.at(2.5 * HOUR, () => h.run.onDecision(decide('STAY_HALTED', 'bo')));
    const status = await h.run.run();
    expect(h.steps.slice(0, 2)).toEqual(['alert:RECONCILIATION_MISMATCH', 'halt:session-ema-2026-11-21']);
    expect(status).toMatchObject({ phase: 'DECIDED', decision: { decision: 'STAY_HALTED', operator: 'bo' }, reminders: 2 });
    expect(h.adopted).toEqual([]);

    // Halted first under the new order, but recorded before early decisions were kept.
    const mid = harness('HALT_AND_ALERT', 7, { patches: [RECONCILIATION_PATCHES.haltBeforeAlert], onCompare: (run) => run.onDecision(decide('ADOPT_VENUE')) });
    mid.time.at(0.5 * HOUR, () => mid.run.onDecision(decide('STAY_HALTED', 'bo')));
    expect(await mid.run.run()).toMatchObject({ phase: 'DECIDED', decision: { decision: 'STAY_HALTED' } });
    expect(mid.steps.slice(0, 2)).toEqual(['halt:session-ema-2026-11-21', 'alert:RECONCILIATION_MISMATCH']);
  });
});
