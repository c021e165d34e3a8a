/**
 * The operations workflows against a real Temporal server (issue 10): reconciliation halts before
 * it alerts and keeps an early decision, the schedules carry timeouts, the daily reset applies to
 * the day the schedule meant, market resolution settles once, and a schedule starts each day's
 * session. In-memory activities (FakeWorld) except market resolution, which runs the real
 * operations activities on PGlite and the paper exchange.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { openDatabase, positionHistoryOf, recordFills } from '../../db';
import {
  haltSignal,
  reconciliationDecisionSignal,
  reconciliationDecisionUpdate,
  reconciliationStatusQuery,
  sessionStatusQuery,
  type SessionStatus,
  type SessionWorkflowInput,
} from '../../workflows/api';
import { sessionWorkflowId } from '../../domain/ids';
import { MICROS, type Quantity } from '../../domain/money';
import type { marketResolutionWorkflow, reconciliationWorkflow, sessionWorkflow, startDaySessionWorkflow } from '../../workflows';
import { tradingDayIn } from '../../domain/calendar';
import { buildConfig, type WorkerConfig } from '../../runtime/config';
import { SCHEDULE_IDS, ensureSchedules, scheduleDefinitions, sessionTemplate } from '../../worker/schedules';
import { makeDeps, startTestExchange } from '../../testkit/activities-harness';
import { FakeWorld } from '../worker/fake-activities';
import { terminateQuietly, testSessionInput } from '../support/server-sessions';
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

  const sessionInput = (strategy: string): SessionWorkflowInput => testSessionInput(strategy, today);

  const startSession = (taskQueue: string, strategy: string): Promise<WorkflowHandle<typeof sessionWorkflow>> =>
    client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, today), args: [sessionInput(strategy)] });
  /** A reconciliation run under HALT_AND_ALERT that reminds every minute (the shortest allowed). */
  const startHaltingRun = (taskQueue: string) =>
    client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', { taskQueue, workflowId: unique('reconciliation'), args: [{ policy: 'HALT_AND_ALERT', reminderMs: 60_000 }] });
  const status = (h: WorkflowHandle) => h.query(sessionStatusQuery);
  const trippedKinds = (s: SessionStatus) => s.trips.map((t) => t.kind).sort();

  const stop = terminateQuietly;

  /** The worker's config with this test's task queue (and any environment overrides). */
  function configFor(taskQueue: string, env: Record<string, string> = {}): WorkerConfig {
    const c = buildConfig({ TRADING_TIME_ZONE: 'UTC', ...env });
    return { ...c, temporal: { ...c.temporal, taskQueue } };
  }

  /** One schedule of scheduleDefinitions, created under an ID of this run. */
  async function createSchedule(config: WorkerConfig, id: string) {
    const def = scheduleDefinitions(config).find((d) => d.scheduleId === id);
    expect(def, `a schedule definition ${id}`).toBeDefined();
    return client.schedule.create({ ...def!, scheduleId: unique(id) });
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
      const run = await startHaltingRun(taskQueue);
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
      const run = await startHaltingRun(taskQueue);
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
      const run = await startHaltingRun(taskQueue);
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

  it('creates every schedule with a timeout on its workflow (describe shows it)', async () => {
    const config = configFor(unique('tq-idle'), { SESSION_MARKETS: 'PRES-2028' });
    const outcomes = await ensureSchedules(client, config, { info: () => undefined, warn: () => undefined });
    expect(Object.keys(outcomes ?? {}).sort()).toEqual(Object.values(SCHEDULE_IDS).sort());
    try {
      for (const def of scheduleDefinitions(config)) {
        const d = await client.schedule.getHandle(def.scheduleId).describe();
        expect(d.action.type).toBe('startWorkflow');
        if (d.action.type !== 'startWorkflow') continue;
        expect(d.action.workflowExecutionTimeout, def.scheduleId).toBeGreaterThan(0);
        expect(d.action.workflowExecutionTimeout, def.scheduleId).toBeLessThan(24 * 3_600_000 + 1);
        expect(d.policies.overlap).toBe('SKIP');
      }
      // Updating keeps them (the second start of a worker).
      expect(Object.values((await ensureSchedules(client, config, { info: () => undefined, warn: () => undefined })) ?? {})).toEqual(Object.values(SCHEDULE_IDS).map(() => 'UPDATED'));
      const reset = await client.schedule.getHandle(SCHEDULE_IDS.dailyReset).describe();
      expect(reset.action.type === 'startWorkflow' && reset.action.workflowExecutionTimeout).toBe(12 * 3_600_000);
    } finally {
      for (const id of Object.values(SCHEDULE_IDS)) await client.schedule.getHandle(id).delete().catch(() => undefined);
    }
  }, 60_000);

  it('scenario 6: the daily reset schedule lifts a daily-loss trip and never a manual halt, for the day it meant, and emails the report', async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('reset');
    world.dailyPnl.set(strategy, -250 * MICROS);
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await startSession(taskQueue, strategy);
    const schedule = await createSchedule(configFor(taskQueue), SCHEDULE_IDS.dailyReset);
    try {
      await eventually(() => status(session), (s) => trippedKinds(s).includes('DAILY_LOSS'), 'the daily-loss breaker');
      await session.signal(haltSignal, operator);
      await eventually(() => status(session), (s) => trippedKinds(s).join() === 'DAILY_LOSS,MANUAL', 'both trips');
      world.activeSessions = [session.workflowId];

      const triggeredAt = Date.now();
      await schedule.trigger();
      const [reset] = await eventually(async () => world.dailyResets, (r) => r.length === 1, 'the scheduled reset');
      expect(reset!.tradingDay).toBeNull();
      // The schedule's intended time reaches the activity (the day is computed from it, not from the activity's clock).
      expect(reset!.scheduledAt).toBeGreaterThanOrEqual(triggeredAt - 5_000);
      expect(reset!.scheduledAt).toBeLessThanOrEqual(Date.now());
      const after = await eventually(() => status(session), (s) => !trippedKinds(s).includes('DAILY_LOSS'), 'the daily-loss trip to lift');
      expect(trippedKinds(after)).toEqual(['MANUAL']);
      expect(after.mode).toBe('HALTED');
      await eventually(async () => world.reports, (r) => r.length === 1, 'the daily report email');
      const action = await eventually(() => schedule.describe(), (d) => d.info.recentActions.length === 1, 'the schedule to record its action');
      // The schedule's own time as TemporalScheduledStartTime carries it (whole seconds), not the workflow's start.
      expect(reset!.scheduledAt).toBe(Math.floor(action.info.recentActions[0]!.scheduledAt.getTime() / 1000) * 1000);
      const { workflowId, firstExecutionRunId } = action.info.recentActions[0]!.action.workflow;
      const run = client.workflow.getHandle(workflowId, firstExecutionRunId);
      expect(await withTimeout(run.result(), 30_000, 'the reset to end')).toMatchObject({ liftedTrips: 1, sessionsSignalled: 1, reportSent: true });
    } finally {
      await schedule.delete();
      await stop(session);
      await w.stop();
    }
  }, 120_000);

  it('scenario 8: market resolution settles a position exactly once, run twice at once and once more (real activities on PGlite)', async () => {
    const x = await startTestExchange();
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      const deps = makeDeps({ db: database.db, venue: x.venue });
      const activities = createActivities(deps);
      const marketId = x.market.marketId;
      const clientOrderId = unique('resolve');
      await x.venue.placeOrder({ clientOrderId, marketId, side: 'BUY', quantity: 5 as Quantity, limitPrice: await x.crossingBuy() });
      await eventually(() => x.venue.getOrderByClientId(clientOrderId), (o) => o?.status === 'FILLED', 'the buy to fill');
      await recordFills(database.db, (await x.venue.getFillsSince(null)).fills);
      x.exchange.admin.resolveMarket(marketId, 'YES');

      const taskQueue = unique('tq');
      const w = await server.startWorker(activities, taskQueue);
      try {
        const run = () => client.workflow.execute<typeof marketResolutionWorkflow>('marketResolutionWorkflow', { taskQueue, workflowId: unique('market-resolution'), args: [] });
        const together = await Promise.all([run(), run()]);
        const later = await run();
        expect([...together, later].map((r) => r.settled).sort()).toEqual([0, 0, 1]);
        const history = await positionHistoryOf(database.db, 'paper', marketId);
        expect(history.filter((h) => h.cause === 'SETTLEMENT')).toHaveLength(1);
      } finally {
        await w.stop();
      }
    } finally {
      await database.close();
      await x.close();
    }
  }, 120_000);

  it("starts the day's session for the day in the configured zone, refuses bad input naming the field, and starts nothing without markets", async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('zone');
    const w = await server.startWorker(world.activities(), taskQueue);
    const zone = 'Pacific/Kiritimati'; // UTC+14: its day is often not the UTC day
    const template = sessionTemplate(configFor(taskQueue, { SESSION_STRATEGY: strategy, SESSION_MARKETS: 'PRES-2028' }), false);
    const start = (input: unknown) => client.workflow.execute<typeof startDaySessionWorkflow>('startDaySessionWorkflow', { taskQueue, workflowId: unique('session-start'), args: [input as never] });
    const day = tradingDayIn(Date.now(), zone);
    const session = client.workflow.getHandle(sessionWorkflowId(strategy, day));
    try {
      const started = await start({ template, timeZone: zone });
      expect(started).toEqual({ status: 'STARTED', workflowId: session.workflowId, tradingDay: day });
      const s = await eventually(() => status(session), (x) => x.mode === 'TRADING', 'the session to trade');
      expect(s.tradingDay).toBe(day);
      await expect(start({ template, timeZone: 'Mars/Olympus' })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/timeZone.*Mars\/Olympus/) } });
      await expect(start({ template: { ...template, strategy: 'no spaces' }, timeZone: zone })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/template\.strategy/) } });
      expect(await start({ template: { ...template, marketIds: [] }, timeZone: zone })).toMatchObject({ status: 'NO_MARKETS', workflowId: null });
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 120_000);

  it("scenario 9: the session-start schedule starts the day's session, once however often it fires", async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('day');
    const w = await server.startWorker(world.activities(), taskQueue);
    const config = configFor(taskQueue, { SESSION_STRATEGY: strategy, SESSION_MARKETS: 'PRES-2028' });
    const schedule = await createSchedule(config, SCHEDULE_IDS.sessionStart);
    const session = client.workflow.getHandle(sessionWorkflowId(strategy, today));
    try {
      await schedule.trigger();
      await eventually(() => status(session), (s) => s.mode === 'TRADING' && s.tradingDay === today, "the day's session to trade");
      const firstRun = (await session.describe()).runId;
      await schedule.trigger();
      await eventually(() => schedule.describe(), (d) => d.info.recentActions.length === 2, 'the second action');
      const starts = await eventually(
        async () => {
          const actions = (await schedule.describe()).info.recentActions;
          // By run: two triggers within a second share the schedule's workflow ID.
          return Promise.all(actions.map((a) => client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId).result()));
        },
        () => true,
        'both schedule runs to end',
      );
      expect(starts.map((s) => (s as { status: string }).status)).toEqual(['STARTED', 'ALREADY_STARTED']);
      const runs: string[] = [];
      for await (const e of client.workflow.list({ query: `WorkflowId = '${session.workflowId}'` })) runs.push(e.runId);
      expect(runs).toEqual([firstRun]);
      expect((await session.describe()).status.name).toBe('RUNNING');
    } finally {
      await schedule.delete();
      await stop(session);
      await w.stop();
    }
  }, 120_000);
});
