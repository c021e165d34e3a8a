import { describe, expect, it } from 'vitest';
import type { AlertRequest, OperationsActivities, OperatorAction } from '../../activities/types';
import type { ReconciliationPolicy } from '../../workflows/domain/reconciliation';
import { decideReconciliation, reconcile } from '../../workflows/domain/reconciliation';
import { MICROS, type Money } from '../../workflows/domain/money';
import { ReconciliationRun } from '../../workflows/reconciliation';
import { VirtualTime } from './virtual-time';

const HOUR = 3_600_000;

function harness(policy: ReconciliationPolicy, venueQuantity: number) {
  const time = new VirtualTime();
  const alerts: AlertRequest[] = [];
  const adopted: { operator: string }[] = [];
  const journal: OperatorAction[] = [];
  const halted: string[] = [];
  const local = { positions: { 'PRES-2028': 10 }, cash: (1000 * MICROS) as Money, openOrders: {} };
  const venue = { positions: { 'PRES-2028': venueQuantity }, cash: (1000 * MICROS) as Money, openOrders: {} };
  const acts: OperationsActivities = {
    reconcileAccount: async ({ runId }) => {
      const discrepancies = reconcile(local, venue, { cash: (1 * MICROS) as Money });
      return { runId, discrepancies, decision: decideReconciliation(discrepancies, policy), at: time.now };
    },
    adoptVenueFigures: async (i) => void adopted.push({ operator: i.operator }),
    listActiveSessions: async () => ['session-ema-2026-11-21', 'session-gone-2026-11-21'],
    resetDailyCounters: async () => ({ tradingDay: '2026-11-22', previousDay: '2026-11-21', liftedTrips: 0 }),
    sendDailyReport: async () => undefined,
    settleResolvedMarkets: async () => ({ settled: [] }),
    recordOperatorAction: async (a) => void journal.push(a),
    raiseAlert: async (a) => {
      alerts.push(a);
      return { sent: true, reason: 'SENT' };
    },
  };
  const run = new ReconciliationRun('reconcile-1', { policy, reminderMs: HOUR }, {
    acts,
    waitFor: time.waitFor,
    haltSession: async (id) => {
      if (id.includes('gone')) return false;
      halted.push(id);
      return true;
    },
  });
  return { run, time, alerts, adopted, journal, halted };
}

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
});
