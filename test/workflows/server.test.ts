/**
 * The workflows against a real Temporal server, with in-memory activities. Runs when
 * TEMPORAL_ADDRESS names a server, or when TEMPORAL_CLI_PATH names a Temporal CLI from which a
 * local dev server starts within a minute; never downloads anything. Otherwise the suite is
 * skipped with a message saying which variables to set (with CI=true it fails instead).
 *
 * The dev server has no time skipping, so time-to-live and waits use short real durations.
 */
import { type WorkflowHandle } from '@temporalio/client';
import { expect, it } from 'vitest';
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
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { MICROS } from '../../domain/money';
import type { dailyResetWorkflow, orderWorkflow, reconciliationWorkflow, sessionWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { terminateQuietly, testOrderInput, testSessionInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

describeOnServer(found, 'workflows on a Temporal server', (server: TestServer) => {
  const client = server.client;
  const today = new Date().toISOString().slice(0, 10);
  const unique = server.unique;

  const startWorker = (world: FakeWorld, taskQueue: string) => server.startWorker(world.activities(), taskQueue);

  const sessionInput = (strategy: string): SessionWorkflowInput => testSessionInput(strategy, today);

  async function startSessionWorkflow(taskQueue: string, strategy: string): Promise<WorkflowHandle<typeof sessionWorkflow>> {
    return client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, today), args: [sessionInput(strategy)] });
  }

  const status = (h: WorkflowHandle) => h.query(sessionStatusQuery);
  const trippedKinds = (s: SessionStatus) => s.trips.map((t) => t.kind).sort();

  const stopSession = terminateQuietly;

  const orderInput = (clientOrderId: string, quantity: number, ttlMs: number): OrderWorkflowInput => testOrderInput(clientOrderId, quantity, ttlMs, today);

  const operator = { operator: 'test-operator', reason: 'server suite' };

  {
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
  }
});
