/**
 * The trading session's guarantees on a real Temporal server, with in-memory activities
 * (FakeWorld): one working order per market, halts and the kill switch reaching orders in flight,
 * operator requests that arrive before the session has loaded its state, status that survives
 * continue-as-new, failures that do not end the session, a failed session that can be started
 * again, and watch timeouts that follow the configured periods. Gated like server.test.ts.
 */
import { WorkflowNotFoundError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect, it } from 'vitest';
import { buildConfig } from '../../runtime/config';
import { startSession } from '../../runtime/session-control';
import {
  dailyResetSignal,
  haltSignal,
  killSwitchSignal,
  resumeSignal,
  sessionStatusQuery,
  type SessionStatus,
  type SessionWorkflowInput,
} from '../../workflows/api';
import { type BreakerTrip } from '../../domain/breakers';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { MICROS } from '../../domain/money';
import type { sessionWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { terminateQuietly, testSessionInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

describeOnServer(found, 'the trading session on a Temporal server', (server: TestServer) => {
  const client = server.client;
  const today = new Date().toISOString().slice(0, 10);
  const unique = server.unique;
  const operator = { operator: 'test-operator', reason: 'session suite' };

  const sessionInput = (strategy: string, over: Partial<SessionWorkflowInput> = {}): SessionWorkflowInput => testSessionInput(strategy, today, over);

  const start = (taskQueue: string, strategy: string, over: Partial<SessionWorkflowInput> = {}): Promise<WorkflowHandleWithFirstExecutionRunId<typeof sessionWorkflow>> =>
    client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, today), args: [sessionInput(strategy, over)] });

  const status = (h: WorkflowHandle): Promise<SessionStatus> => h.query(sessionStatusQuery);
  const orderId = (strategy: string, seq: number) => orderWorkflowId(makeClientOrderId(strategy, today, seq));
  const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const stop = terminateQuietly;

  /** Names of the signals a workflow received, from its history. */
  async function signalsReceived(workflowId: string): Promise<string[]> {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap((e) => (e.workflowExecutionSignaledEventAttributes?.signalName ? [e.workflowExecutionSignaledEventAttributes.signalName] : []));
  }

  async function exists(workflowId: string): Promise<boolean> {
    try {
      await client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw e;
    }
  }

  it('starts one order per market when signals come faster than the first order records itself', async () => {
    const world = new FakeWorld();
    world.riskCheckDelayMs = 4_000;
    const taskQueue = unique('tq');
    const strategy = unique('one');
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy);
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      world.pushSignal(strategy);
      const first = client.workflow.getHandle(orderId(strategy, 1));
      await eventually(() => first.result(), () => true, 'the first order to end', 60_000);
      expect(await exists(orderId(strategy, 2))).toBe(false);
      expect(world.assessed).toEqual([makeClientOrderId(strategy, today, 1)]);
      expect((await status(session)).ordersStarted).toBe(1);

      // Once the order has ended the market is free again.
      world.riskCheckDelayMs = 0;
      world.pushSignal(strategy);
      const after = await eventually(() => status(session), (s) => s.ordersStarted === 2, 'a second order once the first ended', 60_000);
      expect(after.reservations).toEqual({ 'PRES-2028': makeClientOrderId(strategy, today, 2) });
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 120_000);

  it('a halt reaches an order still in its risk check; the kill switch cancels it and still cancels all open orders', async () => {
    const world = new FakeWorld();
    world.riskCheckDelayMs = 20_000;
    const taskQueue = unique('tq');
    const strategy = unique('reach');
    world.seedOpenOrder(`${strategy}-seeded`);
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy);
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      await eventually(async () => world.assessed.length, (n) => n === 1, 'the order to start its risk check');
      await session.signal(haltSignal, operator);
      await eventually(() => signalsReceived(orderId(strategy, 1)), (names) => names.includes('halt'), 'the halt to reach the order', 15_000);

      await session.signal(killSwitchSignal, { ...operator, flatten: false });
      await eventually(() => signalsReceived(orderId(strategy, 1)), (names) => names.includes('cancel'), 'the cancel to reach the order', 15_000);
      await eventually(async () => world.cancelAllCalls.length, (n) => n > 0, 'the kill switch to cancel all open orders');
      expect(world.openOrdersOf(strategy)).toEqual([]);
    } finally {
      await stop(session);
      // Its risk check is still sleeping: a worker does not shut down under a running local activity.
      await stop(client.workflow.getHandle(orderId(strategy, 1)));
      await w.stop();
    }
  }, 120_000);

  it('a resume that arrives while the session loads its carried-over halt is applied after it: the session trades', async () => {
    const world = new FakeWorld();
    world.loadCarryoverDelayMs = 3_000;
    const taskQueue = unique('tq');
    const strategy = unique('early');
    const halt: BreakerTrip = { kind: 'MANUAL', reason: 'halted yesterday', observed: null, limit: null, since: Date.now() - 86_400_000, operator: 'ann' };
    world.trips.set(strategy, [halt]);
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy);
    try {
      await session.signal(resumeSignal, operator);
      expect((await status(session)).mode).toBe('PREFLIGHT');
      const s = await eventually(() => status(session), (x) => x.mode !== 'PREFLIGHT', 'pre-flight to end');
      await sleepMs(1_000);
      const settled = await status(session);
      expect({ mode: settled.mode, trips: settled.trips }).toEqual({ mode: 'TRADING', trips: [] });
      expect(s.trips.map((t) => t.kind)).not.toContain('MANUAL');
      expect(world.trips.get(strategy)).toEqual([]);
      expect(world.journal.map((j) => j.action)).toEqual(['RESUME']);
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 120_000);

  it('continues as new after hundreds of signals with its status and journal intact', async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('can');
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy, { watchPeriodMs: 2_000, pollIntervalMs: 500, continueAsNewAtEvents: 300 });
    const firstRun = session.firstExecutionRunId;
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      const traded = await eventually(() => status(session), (s) => s.ordersStarted === 1 && s.lastSignalAt !== null, 'the first order');
      for (let i = 0; i < 3; i++) await session.signal(haltSignal, { operator: '', reason: `bad ${i}` });
      for (let i = 0; i < 200; i++) await session.signal(dailyResetSignal, { tradingDay: today });

      const latest = client.workflow.getHandle(session.workflowId);
      await eventually(() => latest.describe(), (d) => d.runId !== firstRun, 'a continue-as-new', 90_000);
      const after = await status(latest);
      expect(after.ordersStarted).toBe(1);
      expect(after.lastSignalAt).toBe(traded.lastSignalAt);
      expect(after.preflight).toEqual(traded.preflight);
      expect(after.quoteTimes['PRES-2028']).toBeGreaterThanOrEqual(traded.quoteTimes['PRES-2028']!);
      expect(after.refusedSignals).toHaveLength(3);
      // Every journal entry is written once, under its own sequence, across the runs.
      await eventually(async () => world.journal.filter((j) => j.workflowId === session.workflowId).length, (n) => n === 203, 'all 203 journal entries', 60_000);
      const sequences = world.journal.filter((j) => j.workflowId === session.workflowId).map((j) => j.sequence);
      expect(new Set(sequences).size).toBe(203);
    } finally {
      await stop(client.workflow.getHandle(session.workflowId));
      await w.stop();
    }
  }, 180_000);

  it('keeps running halted through an SMTP outage while a breaker trips, and says which alerts were not sent', async () => {
    const world = new FakeWorld();
    world.alertOutage = 'FINAL';
    const taskQueue = unique('tq');
    const strategy = unique('smtp');
    world.dailyPnl.set(strategy, -250 * MICROS);
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy);
    try {
      await eventually(async () => world.failedAlerts.length, (n) => n >= 2, 'the alerts to fail');
      const s = await eventually(() => status(session), (x) => x.mode === 'HALTED' && (x.unsentAlerts ?? []).length >= 2, 'the session to note the unsent alerts');
      expect(s.unsentAlerts!.join('\n')).toMatch(/TRADING_HALTED/);
      expect((await session.describe()).status.name).toBe('RUNNING');
      expect(world.trips.get(strategy)?.map((t) => t.kind)).toEqual(['DAILY_LOSS']);
      // Still in command: the kill switch goes through.
      await session.signal(killSwitchSignal, { ...operator, flatten: false });
      await eventually(async () => world.cancelAllCalls.length, (n) => n > 0, 'the kill switch');
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 120_000);

  it('a failed session of the day can be started again and reloads its halt; a completed one cannot', async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('again');
    const config = buildConfig({ TRADING_TIME_ZONE: 'UTC', SESSION_STRATEGY: strategy, SESSION_MARKETS: 'PRES-2028' });
    const cfg = { ...config, temporal: { ...config.temporal, taskQueue } };
    const w = await server.startWorker(world.activities(), taskQueue);
    const handle = client.workflow.getHandle(sessionWorkflowId(strategy, today));
    try {
      const first = await startSession(client, cfg, today, false);
      expect(first.status).toBe('STARTED');
      await eventually(() => status(handle), (s) => s.mode === 'TRADING', 'the session to trade');
      await handle.signal(haltSignal, operator);
      await eventually(async () => world.trips.get(strategy) ?? [], (t) => t.length === 1, 'the halt recorded');

      // A bug in what the session writes fails it.
      world.journalRefusal = 'InvalidValue';
      await handle.signal(haltSignal, { operator: '', reason: 'malformed' });
      await eventually(() => handle.describe(), (d) => d.status.name === 'FAILED', 'the session to fail');
      world.journalRefusal = null;

      const again = await startSession(client, cfg, today, false);
      expect(again.status).toBe('STARTED');
      expect({ first, again }).toMatchObject({ first: { restartedAfter: null }, again: { restartedAfter: 'FAILED' } });
      const restarted = await eventually(() => status(handle), (s) => s.mode !== 'PREFLIGHT', 'the restarted session to load');
      expect(restarted.mode).toBe('HALTED');
      expect(restarted.trips.map((t) => t.kind)).toEqual(['MANUAL']);
      // Its journal continues after the failed run's entries instead of colliding with them.
      await handle.signal(resumeSignal, operator);
      await eventually(() => status(handle), (s) => s.mode === 'TRADING' && s.unrecorded === 0, 'the resume, recorded');
      expect(world.journal.map((j) => [j.action, j.sequence])).toEqual([
        ['HALT', 1],
        ['RESUME', 2],
      ]);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(again).toMatchObject({ restartedAfter: 'FAILED' });
    } finally {
      await stop(handle);
      await w.stop();
    }

    const done = unique('done');
    const doneConfig = buildConfig({ TRADING_TIME_ZONE: 'UTC', SESSION_STRATEGY: done, SESSION_MARKETS: 'PRES-2028' });
    const w2 = await server.startWorker(world.activities(), taskQueue);
    try {
      const finished = await start(taskQueue, done, { endOfDayAt: Date.now() + 1_000 });
      await finished.result();
      expect(await startSession(client, { ...doneConfig, temporal: { ...doneConfig.temporal, taskQueue } }, today, false)).toEqual({
        status: 'ALREADY_EXISTS',
        workflowId: sessionWorkflowId(done, today),
        existing: 'COMPLETED',
      });
    } finally {
      await w2.stop();
    }
  }, 180_000);

  it('schedules the watch with timeouts that fit the configured periods, and refuses periods that cannot work', async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('periods');
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy, { watchPeriodMs: 45 * 60_000, pollIntervalMs: 40_000 });
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      const history = await eventually(
        () => session.fetchHistory(),
        (h) => (h.events ?? []).some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchForSignal'),
        'the watch to be scheduled',
      );
      const watch = (history.events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchForSignal')!.activityTaskScheduledEventAttributes!;
      const seconds = (d: { seconds?: unknown } | null | undefined) => Number(d?.seconds ?? 0);
      expect(seconds(watch.startToCloseTimeout)).toBeGreaterThan(45 * 60);
      expect(seconds(watch.heartbeatTimeout)).toBeGreaterThanOrEqual(3 * 40);

      const refused = await start(taskQueue, unique('bad'), { watchPeriodMs: 60_000, pollIntervalMs: 120_000 });
      await expect(refused.result()).rejects.toMatchObject({ cause: { type: 'InvalidInput', message: expect.stringMatching(/pollIntervalMs/) } });
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 120_000);

  it('runs the fill sync as a named step before each snapshot and the daily summary, which are told it ran', async () => {
    const world = new FakeWorld();
    const taskQueue = unique('tq');
    const strategy = unique('sync');
    const w = await server.startWorker(world.activities(), taskQueue);
    const session = await start(taskQueue, strategy, { endOfDayAt: Date.now() + 8_000, watchPeriodMs: 2_000, pollIntervalMs: 500 });
    try {
      expect((await session.result()).mode).toBe('ENDED');
      const events = (await session.fetchHistory()).events ?? [];
      const steps = events.flatMap((e) => {
        const a = e.activityTaskScheduledEventAttributes;
        const name = a?.activityType?.name;
        if (name !== 'syncFills' && name !== 'sessionSnapshot' && name !== 'writeDailySummary') return [];
        const [input] = (a?.input?.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as { syncFills?: boolean });
        return [name === 'syncFills' ? name : `${name} syncFills=${String(input?.syncFills)}`];
      });
      expect(steps.length).toBeGreaterThanOrEqual(6);
      for (let i = 0; i < steps.length; i += 2) expect([steps[i], steps[i + 1]]).toEqual(['syncFills', expect.stringMatching(/^(sessionSnapshot|writeDailySummary) syncFills=false$/)]);
      expect(steps.at(-1)).toBe('sessionSnapshot syncFills=false');
      expect(world.fillSyncs).toBe(steps.length / 2);
    } finally {
      await stop(session);
      await w.stop();
    }
  }, 120_000);
});
