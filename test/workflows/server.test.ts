/**
 * The workflows against a real Temporal server, with in-memory activities. Runs when
 * TEMPORAL_ADDRESS names a server, or when TEMPORAL_CLI_PATH names a Temporal CLI from which a
 * local dev server starts within a minute; never downloads anything. Otherwise the suite is
 * skipped with a message saying which variables to set.
 *
 * The dev server has no time skipping, so time-to-live and waits use short real durations.
 */
import { accessSync, constants } from 'node:fs';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dailyResetSignal,
  haltSignal,
  killSwitchSignal,
  reconciliationDecisionSignal,
  reconciliationStatusQuery,
  resumeSignal,
  sessionStatusQuery,
  type OrderStatus,
  type OrderWorkflowInput,
  type SessionStatus,
  type SessionWorkflowInput,
} from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../workflows/domain/breakers';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../workflows/domain/ids';
import { MICROS, type Money, type Price, type Quantity } from '../../workflows/domain/money';
import type { dailyResetWorkflow, orderWorkflow, reconciliationWorkflow, sessionWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { exportHistories } from '../../worker/histories';
import { describeWhere } from '../support/requirements';

const root = join(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 60_000;

type Gate = { run: true; how: string; start: () => Promise<TestWorkflowEnvironment> } | { run: false; reason: string };

/** Decides, from the environment alone, whether and how to reach a server. */
function serverGate(env: NodeJS.ProcessEnv): Gate {
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (address) {
    return { run: true, how: `TEMPORAL_ADDRESS=${address}`, start: () => TestWorkflowEnvironment.createFromExistingServer({ address, namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default' }) };
  }
  const cli = env.TEMPORAL_CLI_PATH?.trim();
  if (!cli) return { run: false, reason: 'neither TEMPORAL_ADDRESS (a running server) nor TEMPORAL_CLI_PATH (a Temporal CLI binary for a local dev server) is set; downloads are never attempted' };
  try {
    accessSync(cli, constants.X_OK);
  } catch {
    return { run: false, reason: `TEMPORAL_ADDRESS is not set and TEMPORAL_CLI_PATH=${cli} is not an executable file` };
  }
  return { run: true, how: `local dev server from TEMPORAL_CLI_PATH=${cli}`, start: () => TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: cli }, ip: '127.0.0.1' } }) };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const gate = serverGate(process.env);
let testEnv: TestWorkflowEnvironment | null = null;
let startProblem: string | null = gate.run ? null : gate.reason;
if (gate.run) {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this process
  }
  try {
    testEnv = await withTimeout(gate.start(), START_TIMEOUT_MS, `starting or reaching the server (${gate.how})`);
  } catch (e) {
    startProblem = `${gate.how}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

if (testEnv === null && gate.run) {
  // A named server that cannot be reached or started is a failure, not a reason to skip.
  describe('workflows on a Temporal server', () => {
    it('reaches or starts the server it was given', () => {
      throw new Error(`cannot reach or start ${startProblem}`);
    });
  });
} else if (testEnv === null) {
  describeWhere(`${startProblem ?? 'no server'}. Set TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH to run it`, 'workflows on a Temporal server', () => {
    it('needs a server', () => undefined);
  });
} else {
  const env = testEnv;
  const runTag = Date.now().toString(36);
  let bundle: WorkflowBundle;
  let counter = 0;

  beforeAll(async () => {
    bundle = await bundleWorkflowCode({ workflowsPath: join(root, 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') });
  }, 120_000);

  afterAll(async () => {
    // RECORD_HISTORIES=<dir>: keep what this run did as replay fixtures (test/fixtures/histories/).
    const dir = process.env.RECORD_HISTORIES?.trim();
    if (dir) await exportHistories(env.client, dir, null, { info: (m) => console.log(m), warn: (m) => console.warn(m) });
    await env.teardown();
  }, 120_000);

  const client: Client = env.client;
  const today = new Date().toISOString().slice(0, 10);
  const unique = (prefix: string) => `${prefix}-${runTag}-${++counter}`;

  /** A worker on its own task queue; stop() drains it. */
  async function startWorker(world: FakeWorld, taskQueue: string) {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: bundle,
      activities: world.activities(),
      stickyQueueScheduleToStartTimeout: '1 second',
      maxHeartbeatThrottleInterval: '1 second',
      defaultHeartbeatThrottleInterval: '1 second',
      shutdownGraceTime: '2 seconds',
    });
    const running = worker.run();
    return {
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      },
    };
  }

  async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: T | undefined;
    let lastError: unknown;
    while (Date.now() < until) {
      try {
        last = await read();
        if (ok(last)) return last;
      } catch (e) {
        lastError = e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`);
  }

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

  async function startSessionWorkflow(taskQueue: string, strategy: string): Promise<WorkflowHandle<typeof sessionWorkflow>> {
    return client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, today), args: [sessionInput(strategy)] });
  }

  const status = (h: WorkflowHandle) => h.query(sessionStatusQuery);
  const trippedKinds = (s: SessionStatus) => s.trips.map((t) => t.kind).sort();

  async function stopSession(h: WorkflowHandle): Promise<void> {
    await h.terminate('test finished').catch((e: unknown) => {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
  }

  function orderInput(clientOrderId: string, quantity: number, ttlMs: number): OrderWorkflowInput {
    return {
      order: { clientOrderId, marketId: 'PRES-2028', side: 'BUY', quantity: quantity as Quantity, limitPrice: (430_000) as Price },
      context: { strategy: 'srv', sessionWorkflowId: null, tradingDay: today, signal: { price: (430_000) as Price, confidence: 0.6, at: Date.now(), metadata: {} } },
      ttlMs,
      halted: null,
      ordersInLastMinute: 0,
      searchAttributes: false,
    };
  }

  const operator = { operator: 'test-operator', reason: 'server suite' };

  describe(`workflows on a Temporal server (${gate.run ? gate.how : ''})`, () => {
    it('takes an order from a market signal to a fill', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const strategy = unique('fill');
      const w = await startWorker(world, taskQueue);
      const session = await startSessionWorkflow(taskQueue, strategy);
      try {
        await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
        world.pushSignal(strategy, 'PRES-2028', 10);
        const coid = makeClientOrderId(strategy, today, 1);
        const order = client.workflow.getHandle<typeof orderWorkflow>(orderWorkflowId(coid));
        const result: OrderStatus = await eventually(() => order.result(), () => true, 'the order workflow to finish', 60_000);
        expect(result.state).toBe('FILLED');
        expect(result.filledQuantity).toBe(10);
        expect(world.placements.get(coid)).toBe(1);
        expect((await status(session)).ordersStarted).toBe(1);
      } finally {
        await stopSession(session);
        await w.stop();
      }
    }, 120_000);

    it('resolves an ambiguous submission by lookup, without a second venue order', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const coid = unique('amb');
      world.submitBehaviour.set(coid, 'AMBIGUOUS');
      const w = await startWorker(world, taskQueue);
      try {
        const result = await client.workflow.execute<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(coid), args: [orderInput(coid, 10, 60_000)] });
        expect(result.state).toBe('FILLED');
        expect(result.submitAttempts).toBe(1);
        expect(world.placements.get(coid)).toBe(1);
      } finally {
        await w.stop();
      }
    }, 120_000);

    it('cancels on time-to-live after a partial fill', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const coid = unique('ttl');
      world.fillPlan.set(coid, [4]);
      const w = await startWorker(world, taskQueue);
      try {
        const result = await client.workflow.execute<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(coid), args: [orderInput(coid, 10, 2_000)] });
        expect(result.state).toBe('CANCELED');
        expect(result.filledQuantity).toBe(4);
        expect(world.venue.get(coid)?.status).toBe('CANCELED');
        expect(world.alerts.map((a) => a.type)).toContain('PARTIAL_FILL');
      } finally {
        await w.stop();
      }
    }, 120_000);

    it('keeps a halt across a worker restart, blocks new orders while halted, and trades again after resume', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const strategy = unique('halt');
      let w = await startWorker(world, taskQueue);
      const session = await startSessionWorkflow(taskQueue, strategy);
      try {
        await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
        await session.signal(haltSignal, operator);
        await eventually(() => status(session), (s) => s.mode === 'HALTED', 'the halt');

        await w.stop();
        world.pushSignal(strategy);
        w = await startWorker(world, taskQueue);

        const afterRestart = await eventually(() => status(session), () => true, 'a status from the new worker');
        expect(afterRestart.mode).toBe('HALTED');
        expect(afterRestart.breakerStatus).toBe('MANUALLY_HALTED');
        await new Promise((r) => setTimeout(r, 3_000));
        expect((await status(session)).ordersStarted).toBe(0);
        expect(world.placements.size).toBe(0);

        await session.signal(resumeSignal, operator);
        const resumed = await eventually(() => status(session), (s) => s.ordersStarted === 1, 'the order after resume', 60_000);
        expect(resumed.mode).toBe('TRADING');
        expect(world.journal.map((j) => j.action)).toEqual(expect.arrayContaining(['HALT', 'RESUME']));
      } finally {
        await stopSession(session);
        await w.stop();
      }
    }, 180_000);

    it('kill switch cancels every open order and halts', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const strategy = unique('kill');
      world.seedOpenOrder(`${strategy}-a`);
      world.seedOpenOrder(`${strategy}-b`);
      const w = await startWorker(world, taskQueue);
      const session = await startSessionWorkflow(taskQueue, strategy);
      try {
        await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
        await session.signal(killSwitchSignal, { ...operator, flatten: false });
        await eventually(async () => world.cancelAllCalls.length, (n) => n > 0, 'the kill switch to cancel');
        expect(world.openOrdersOf(strategy)).toEqual([]);
        expect(world.cancelAllCalls[0]?.canceled.sort()).toEqual([`${strategy}-a`, `${strategy}-b`]);
        expect(world.cancelAllCalls[0]?.reason).toMatch(/kill switch/);
        expect((await status(session)).mode).toBe('HALTED');
      } finally {
        await stopSession(session);
        await w.stop();
      }
    }, 120_000);

    it('halts the sessions on a reconciliation mismatch and waits for the operator', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const strategy = unique('recon');
      const w = await startWorker(world, taskQueue);
      const session = await startSessionWorkflow(taskQueue, strategy);
      try {
        await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
        world.activeSessions = [session.workflowId];
        world.discrepancies = [
          { kind: 'POSITION_QUANTITY_MISMATCH', severity: 'CRITICAL', marketId: 'PRES-2028', clientOrderId: null, local: 10, venue: 0, message: 'records hold 10, venue 0' },
        ];
        const run = await client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', {
          taskQueue,
          workflowId: unique('reconciliation'),
          args: [{ policy: 'HALT_AND_ALERT', reminderMs: 60_000 }],
        });
        await eventually(() => run.query(reconciliationStatusQuery), (s) => s.phase === 'WAITING_FOR_OPERATOR', 'the reconciliation to wait');
        const halted = await eventually(() => status(session), (s) => s.mode === 'HALTED', 'the session to halt');
        expect(halted.haltReason).toMatch(/reconciliation/);
        expect(world.alerts.map((a) => a.type)).toContain('RECONCILIATION_MISMATCH');

        await run.signal(reconciliationDecisionSignal, { ...operator, decision: 'STAY_HALTED' });
        const done = await run.result();
        expect(done.phase).toBe('DECIDED');
        expect(done.haltedSessions).toEqual([session.workflowId]);
        expect((await status(session)).mode).toBe('HALTED');
      } finally {
        await stopSession(session);
        await w.stop();
      }
    }, 120_000);

    it('lifts a daily-loss halt at the daily reset, and not a manual one', async () => {
      const world = new FakeWorld();
      const taskQueue = unique('tq');
      const strategy = unique('reset');
      world.dailyPnl.set(strategy, -250 * MICROS);
      const w = await startWorker(world, taskQueue);
      const session = await startSessionWorkflow(taskQueue, strategy);
      try {
        await eventually(() => status(session), (s) => trippedKinds(s).includes('DAILY_LOSS'), 'the daily-loss breaker');
        await session.signal(haltSignal, operator);
        await eventually(() => status(session), (s) => trippedKinds(s).join() === 'DAILY_LOSS,MANUAL', 'both trips');

        world.activeSessions = [session.workflowId];
        const reset = await client.workflow.execute<typeof dailyResetWorkflow>('dailyResetWorkflow', { taskQueue, workflowId: unique('daily-reset'), args: [{ tradingDay: today }] });
        expect(reset.sessionsSignalled).toBe(1);
        expect(reset.liftedTrips).toBe(1);
        const after = await eventually(() => status(session), (s) => !trippedKinds(s).includes('DAILY_LOSS'), 'the daily-loss trip to lift');
        expect(trippedKinds(after)).toEqual(['MANUAL']);
        expect(after.mode).toBe('HALTED');
        expect(world.trips.get(strategy)?.map((t) => t.kind)).toEqual(['MANUAL']);

        // A reset signal straight to the session behaves the same (idempotent for the manual halt).
        await session.signal(dailyResetSignal, { tradingDay: today });
        expect(trippedKinds(await status(session))).toEqual(['MANUAL']);
      } finally {
        await stopSession(session);
        await w.stop();
      }
    }, 120_000);
  });
}
