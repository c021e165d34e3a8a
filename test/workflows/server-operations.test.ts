/**
 * The operations workflows against a real Temporal server (issue 10): reconciliation halts before
 * it alerts and keeps an early decision. In-memory activities (FakeWorld).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { expect, it } from 'vitest';
import {
  reconciliationDecisionSignal,
  reconciliationDecisionUpdate,
  reconciliationStatusQuery,
  sessionStatusQuery,
  type SessionWorkflowInput,
} from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../workflows/domain/breakers';
import { sessionWorkflowId } from '../../workflows/domain/ids';
import { MICROS, type Money } from '../../workflows/domain/money';
import type { reconciliationWorkflow, sessionWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { describeOnServer, eventually, temporalServerForFile, withTimeout, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

describeOnServer(found, 'operations on a Temporal server', (server: TestServer) => {
  const client = server.client;
  const today = new Date().toISOString().slice(0, 10);
  const unique = server.unique;
  const operator = { operator: 'test-operator', reason: 'operations suite' };
  const critical = [
    { kind: 'POSITION_QUANTITY_MISMATCH' as const, severity: 'CRITICAL' as const, marketId: 'PRES-2028', clientOrderId: null, local: 10, venue: 0, message: 'records hold 10, venue 0' },
  ];

  function sessionInput(strategy: string): SessionWorkflowInput {
    return {
      strategy,
      strategyName: 'ema-mean-reversion',
      strategyParams: {},
      tradingDay: today,
      marketIds: ['PRES-2028'],
      endOfDayAt: Date.now() + 3_600_000,
      watchPeriodMs: 60_000,
      pollIntervalMs: 1_000,
      orderTtlMs: 60_000,
      maxDailyLoss: (200 * MICROS) as Money,
      breakers: CASE_STUDY_BREAKERS,
      searchAttributes: false,
    };
  }

  const startSession = (taskQueue: string, strategy: string): Promise<WorkflowHandle<typeof sessionWorkflow>> =>
    client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, today), args: [sessionInput(strategy)] });
  const status = (h: WorkflowHandle) => h.query(sessionStatusQuery);

  async function stop(h: WorkflowHandle): Promise<void> {
    await h.terminate('test finished').catch((e: unknown) => {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
  }

  it('scenario 7: halts the sessions first while SMTP is down, then waits for the operator', async () => {
    const world = new FakeWorld();
    world.smtpDown = true;
    const taskQueue = unique('tq');
    const strategy = unique('smtp');
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await startSession(taskQueue, strategy);
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.activeSessions = [session.workflowId];
      world.discrepancies = critical;
      const run = await client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', {
        taskQueue,
        workflowId: unique('reconciliation'),
        args: [{ policy: 'HALT_AND_ALERT', reminderMs: 60_000 }],
      });
      const halted = await eventually(() => status(session), (s) => s.mode === 'HALTED', 'the session to halt while the alert cannot be sent', 15_000);
      expect(halted.haltReason).toMatch(/reconciliation/);
      const waiting = await eventually(() => run.query(reconciliationStatusQuery), (s) => s.phase === 'WAITING_FOR_OPERATOR', 'the run to wait', 15_000);
      expect(waiting.haltedSessions).toEqual([session.workflowId]);
      await eventually(async () => world.failedAlerts.map((a) => a.type), (t) => t.includes('RECONCILIATION_MISMATCH'), 'the alert to be tried');

      // SMTP comes back; the operator decides; the alert goes out on its next retry.
      world.smtpDown = false;
      await run.signal(reconciliationDecisionSignal, { ...operator, decision: 'STAY_HALTED' });
      const done = await withTimeout(run.result(), 90_000, 'the run to end');
      expect(done.phase).toBe('DECIDED');
      expect(done.decision?.decision).toBe('STAY_HALTED');
      expect(world.alerts.map((a) => a.type)).toContain('RECONCILIATION_MISMATCH');
      expect((await status(session)).mode).toBe('HALTED');
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 180_000);

  it('scenario 2: keeps a decision signalled while reconcileAccount still runs, and applies it at the wait', async () => {
    const world = new FakeWorld();
    world.holdReconcile = true;
    world.discrepancies = critical;
    const taskQueue = unique('tq');
    const w = await server.startWorker(world.activities(), taskQueue);
    try {
      const run = await client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', {
        taskQueue,
        workflowId: unique('reconciliation'),
        args: [{ policy: 'HALT_AND_ALERT', reminderMs: 60_000 }],
      });
      await eventually(() => run.describe(), (d) => (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'reconcileAccount'), 'reconcileAccount to run');
      expect((await run.query(reconciliationStatusQuery)).phase).toBe('CHECKING');
      await run.signal(reconciliationDecisionSignal, { ...operator, decision: 'ADOPT_VENUE' });
      world.holdReconcile = false;
      const done = await withTimeout(run.result(), 30_000, 'the run to apply the early decision');
      expect(done.phase).toBe('DECIDED');
      expect(done.decision).toMatchObject({ decision: 'ADOPT_VENUE', operator: operator.operator });
      expect(world.adoptions).toEqual([run.workflowId]);
      expect(world.journal.find((j) => j.action === 'RECONCILIATION_DECISION')).toMatchObject({ workflowId: run.workflowId, details: { decision: 'ADOPT_VENUE' } });
    } finally {
      await w.stop();
    }
  }, 120_000);

  it('answers a decision sent as an update: refused with the reason, or accepted and applied', async () => {
    const world = new FakeWorld();
    world.holdReconcile = true;
    world.discrepancies = critical;
    const taskQueue = unique('tq');
    const w = await server.startWorker(world.activities(), taskQueue);
    try {
      const run = await client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', {
        taskQueue,
        workflowId: unique('reconciliation'),
        args: [{ policy: 'HALT_AND_ALERT', reminderMs: 60_000 }],
      });
      const bad = run.executeUpdate(reconciliationDecisionUpdate, { args: [{ ...operator, decision: 'MAYBE' as never }] });
      await expect(bad).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(bad).rejects.toMatchObject({ cause: { message: expect.stringMatching(/decision.*MAYBE/) } });
      const answer = await run.executeUpdate(reconciliationDecisionUpdate, { args: [{ ...operator, decision: 'STAY_HALTED' }] });
      expect(answer).toMatchObject({ accepted: true, phase: 'CHECKING', decision: 'STAY_HALTED' });
      const again = run.executeUpdate(reconciliationDecisionUpdate, { args: [{ operator: 'someone-else', reason: 'late', decision: 'ADOPT_VENUE' }] });
      await expect(again).rejects.toMatchObject({ cause: { message: expect.stringMatching(/already.*test-operator/) } });
      world.holdReconcile = false;
      const done = await withTimeout(run.result(), 30_000, 'the run to end');
      expect(done).toMatchObject({ phase: 'DECIDED', decision: { decision: 'STAY_HALTED', operator: 'test-operator' } });
      expect(world.adoptions).toEqual([]);
    } finally {
      await w.stop();
    }
  }, 120_000);
});
