/**
 * The order workflow's guarantees against a real Temporal server, with in-memory activities
 * (test/worker/fake-activities.ts): a halt or cancel reaches an order already on its way; no
 * failure leaves a live venue order unmanaged; an order the venue never finalises keeps a bounded
 * history; the session hears when its order ends. Runs like server.test.ts (TEMPORAL_ADDRESS or
 * TEMPORAL_CLI_PATH); the dev server has no time skipping, so the durations are short and real.
 */
import { WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect, it } from 'vitest';
import {
  cancelOrderSignal,
  haltOrderSignal,
  orderStatusQuery,
  type OrderFinished,
  type OrderWorkflowInput,
  type SessionWorkflowInput,
} from '../../workflows/api';
import { orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import type { orderWorkflow, sessionWorkflow } from '../../workflows';
import { FakeWorld } from '../worker/fake-activities';
import { testOrderInput, testSessionInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

describeOnServer(found, 'order workflow on a Temporal server', (server: TestServer) => {
  const client = server.client;
  const today = new Date().toISOString().slice(0, 10);
  const operator = { operator: 'test-operator', reason: 'server-orders suite' };

  const orderInput = (clientOrderId: string, quantity: number, ttlMs: number, extra: Partial<OrderWorkflowInput> = {}): OrderWorkflowInput =>
    testOrderInput(clientOrderId, quantity, ttlMs, today, extra);

  async function withWorker<T>(world: FakeWorld, run: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = server.unique('tq');
    const w = await server.startWorker(world.activities(), taskQueue);
    try {
      return await run(taskQueue);
    } finally {
      await w.stop();
    }
  }

  const start = (taskQueue: string, input: OrderWorkflowInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof orderWorkflow>> =>
    client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(input.order.clientOrderId), args: [input] });

  const calls = (world: FakeWorld, coid: string) => world.orderCalls.get(coid) ?? [];
  const began = (world: FakeWorld, coid: string, activity: string) => eventually(async () => calls(world, coid), (c) => c.includes(activity), `${activity} of ${coid} to start`);

  /** The orderFinished signals a workflow received, from its history. */
  async function finishedSignals(workflowId: string): Promise<OrderFinished[]> {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a?.signalName === 'orderFinished')
      .map((a) => JSON.parse(new TextDecoder().decode(a!.input!.payloads![0]!.data!)) as OrderFinished);
  }

  describeHaltAndCancel();
  describeFailures();
  describeBoundedHistory();
  describeFillSync();
  describeSessionNotice();

  function describeHaltAndCancel(): void {
    it('halt during a slow risk check: the venue never sees the order, which ends REJECTED with the halt reason', async () => {
      const world = new FakeWorld();
      const coid = server.unique('halt');
      world.riskDelayMs.set(coid, 3_000);
      const result = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 60_000));
        await began(world, coid, 'assessOrder');
        await h.signal(haltOrderSignal, { operator: 'session', reason: 'daily loss limit' });
        return h.result();
      });
      expect(world.placements.get(coid)).toBeUndefined();
      expect(calls(world, coid)).not.toContain('submitOrder');
      expect(result.state).toBe('REJECTED');
      expect(result.rejectReason).toMatch(/halt.*daily loss limit/);
      expect(result.haltRequested).toEqual({ operator: 'session', reason: 'daily loss limit' });
      expect(world.recordedOrders.get(coid)?.state).toBe('REJECTED');
    }, 60_000);

    it('cancel during a slow risk check: never sent, ends REJECTED naming the cancel', async () => {
      const world = new FakeWorld();
      const coid = server.unique('cxl-risk');
      world.riskDelayMs.set(coid, 3_000);
      const result = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 60_000));
        await began(world, coid, 'assessOrder');
        await h.signal(cancelOrderSignal, operator);
        return h.result();
      });
      expect(world.placements.get(coid)).toBeUndefined();
      expect(result.state).toBe('REJECTED');
      expect(result.rejectReason).toMatch(/cancel.*server-orders suite/);
      expect(world.recordedOrders.get(coid)?.rejectReason).toBe(result.rejectReason);
    }, 60_000);

    it('a failed submission is not retried blindly: each resubmission follows a lookup that found nothing', async () => {
      const world = new FakeWorld();
      const coid = server.unique('resubmit');
      world.submitFailures.set(coid, 2);
      const result = await withWorker(world, async (tq) => (await start(tq, orderInput(coid, 10, 60_000))).result());
      expect(calls(world, coid).filter((c) => c === 'submitOrder' || c === 'lookupOrder')).toEqual(['submitOrder', 'lookupOrder', 'submitOrder', 'lookupOrder', 'submitOrder']);
      expect(result).toMatchObject({ state: 'FILLED', submitAttempts: 3 });
      expect(world.placements.get(coid)).toBe(1);
    }, 60_000);

    it('cancel while the submit is in flight: cancelled at the venue as soon as the submit returns, before anything else', async () => {
      const world = new FakeWorld();
      const coid = server.unique('cxl-submit');
      world.submitDelayMs.set(coid, 3_000);
      const result = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 60_000));
        await began(world, coid, 'submitOrder');
        await h.signal(cancelOrderSignal, operator);
        return h.result();
      });
      expect(world.placements.get(coid)).toBe(1);
      expect(world.venue.get(coid)?.status).toBe('CANCELED');
      expect(result.state).toBe('CANCELED');
      const c = calls(world, coid);
      expect(c[c.indexOf('submitOrder') + 1]).toBe('cancelOrder');
    }, 60_000);

    it('refuses a halt without a reason, and a halt does not cancel a working order', async () => {
      const world = new FakeWorld();
      const coid = server.unique('halt-working');
      world.fillPlan.set(coid, [4, 0, 0, 6]);
      const result = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 60_000));
        await eventually(() => h.query(orderStatusQuery), (s) => s.state === 'PARTIALLY_FILLED', 'a partial fill');
        await h.signal(haltOrderSignal, { operator: 'session' } as never);
        await h.signal(haltOrderSignal, { operator: 'session', reason: 'manual halt' });
        const s = await eventually(() => h.query(orderStatusQuery), (x) => x.haltRequested !== null, 'the halt');
        expect(s.refusedSignals.at(-1)).toMatch(/halt\.reason/);
        return h.result();
      });
      expect(result.state).toBe('FILLED');
      expect(calls(world, coid)).not.toContain('cancelOrder');
    }, 120_000);
  }

  function describeFailures(): void {
    it('an SMTP outage does not fail the order: alerts that cannot go out are counted, and the TTL cancel still happens', async () => {
      const world = new FakeWorld();
      const coid = server.unique('smtp');
      world.alertOutage = 'FINAL';
      world.fillPlan.set(coid, [4]);
      world.strayFills.add(coid);
      const result = await withWorker(world, async (tq) => (await start(tq, orderInput(coid, 10, 3_000))).result());
      expect(result.state).toBe('CANCELED');
      expect(result.filledQuantity).toBe(4);
      expect(world.venue.get(coid)?.status).toBe('CANCELED');
      expect(world.alertCalls.map((a) => a.type)).toContain('FILL_ANOMALY');
      expect(result.alertFailures).toBe(world.alertCalls.length);
      expect(result.alertFailures).toBeGreaterThan(0);
    }, 60_000);

    it('a permanent records conflict after submission cancels the venue order before the workflow fails', async () => {
      const world = new FakeWorld();
      const coid = server.unique('conflict');
      world.fillPlan.set(coid, [4]);
      world.recordConflictOnFill.add(coid);
      const failure = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 60_000));
        return h.result().then(
          () => null,
          (e: unknown) => e,
        );
      });
      expect(world.venue.get(coid)?.status).toBe('CANCELED');
      expect(world.venue.get(coid)?.fills.length).toBe(1);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause?.cause).toMatchObject({ type: 'RecordConflict' });
      expect(world.alerts.map((a) => [a.level, a.type])).toContainEqual(['CRITICAL', 'ORDER_WORKFLOW_FAILED']);
    }, 60_000);
  }

  function describeBoundedHistory(): void {
    it('an order the venue never finalises continues as new with its state, alerts once, and ends when the venue answers', async () => {
      const world = new FakeWorld();
      const coid = server.unique('never');
      world.fillPlan.set(coid, [4]);
      world.neverFinal.add(coid);
      const limits = { historyEvents: 60, pollMaxMs: 1_000, unresolvedAfterMs: 2_000, unresolvedPollMaxMs: 1_000 };
      const result = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 2_000, { limits }));
        const firstRun = h.firstExecutionRunId;
        await eventually(() => h.describe(), (d) => d.runId !== firstRun, 'a continue-as-new', 60_000);
        const after = await eventually(() => h.query(orderStatusQuery), (s) => s.polls > 0, 'a status from the new run');
        expect(after.state).toBe('PENDING_CANCEL');
        expect(after.filledQuantity).toBe(4);
        expect(after.fills).toHaveLength(1);
        expect(after.cancelRequested).toBeNull();
        await eventually(async () => world.alertCalls.filter((a) => a.type === 'ORDER_UNRESOLVED').length, (n) => n > 0, 'the unresolved alert');
        // A second continue-as-new still does not alert again.
        const secondRun = (await h.describe()).runId;
        await eventually(() => h.describe(), (d) => d.runId !== secondRun, 'another continue-as-new', 60_000);
        world.neverFinal.delete(coid);
        world.venue.get(coid)!.status = 'CANCELED';
        return h.result();
      });
      expect(result.state).toBe('CANCELED');
      expect(result.filledQuantity).toBe(4);
      expect(calls(world, coid).filter((c) => c === 'cancelOrder')).toHaveLength(1);
      expect(world.alertCalls.filter((a) => a.type === 'ORDER_UNRESOLVED').map((a) => a.level)).toEqual(['HIGH']);
    }, 150_000);
  }

  function describeFillSync(): void {
    it('runs the fill sync as a named step before the risk check and before each poll, which is told it ran; a final status ahead of the records is read again', async () => {
      const world = new FakeWorld();
      const coid = server.unique('sync');
      // 4 on the first poll, the last 6 on the second: that poll reads FILLED with only 4 in the records.
      world.fillPlan.set(coid, [4, 6]);
      const { result, events } = await withWorker(world, async (tq) => {
        const h = await start(tq, orderInput(coid, 10, 60_000));
        const result = await h.result();
        return { result, events: (await h.fetchHistory()).events ?? [] };
      });
      expect(result).toMatchObject({ state: 'FILLED', filledQuantity: 10 });
      // The sync before the risk check is a local activity, as the risk check: in the markers, and first.
      expect(calls(world, coid).slice(0, 2)).toEqual(['syncFills', 'assessOrder']);
      const scheduled = events.flatMap((e) => {
        const a = e.activityTaskScheduledEventAttributes;
        const name = a?.activityType?.name;
        if (name !== 'syncFills' && name !== 'pollOrder') return [];
        const [, options] = (a?.input?.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as unknown);
        return [{ step: name === 'syncFills' ? name : `pollOrder syncFills=${String((options as { syncFills?: boolean } | undefined)?.syncFills)}`, startToCloseSeconds: Number(a?.startToCloseTimeout?.seconds ?? 0) }];
      });
      expect(scheduled.map((s) => s.step)).toEqual(['syncFills', 'pollOrder syncFills=false', 'syncFills', 'pollOrder syncFills=false', 'syncFills', 'pollOrder syncFills=false']);
      expect(new Set(scheduled.filter((s) => s.step === 'syncFills').map((s) => s.startToCloseSeconds))).toEqual(new Set([120]));
      expect(calls(world, coid).filter((c) => c === 'syncFills')).toHaveLength(4);
    }, 60_000);
  }

  function describeSessionNotice(): void {
    const sessionInput = (strategy: string): SessionWorkflowInput => testSessionInput(strategy, today);

    it('tells its session when it ends, filled, rejected or failed; a session that is gone does not fail the order', async () => {
      const world = new FakeWorld();
      const strategy = server.unique('notice');
      const sessionId = sessionWorkflowId(strategy, today);
      const filled = server.unique('notice-fill');
      const rejected = server.unique('notice-rej');
      const orphan = server.unique('notice-orphan');
      const failed = server.unique('notice-failed');
      world.fillPlan.set(failed, [4]);
      world.recordConflictOnFill.add(failed);
      const results = await withWorker(world, async (tq) => {
        const session = await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue: tq, workflowId: sessionId, args: [sessionInput(strategy)] });
        try {
          const ctx = (coid: string, sid: string) => ({ ...orderInput(coid, 10, 60_000).context, sessionWorkflowId: sid });
          const a = await (await start(tq, { ...orderInput(filled, 10, 60_000), context: ctx(filled, sessionId) })).result();
          const b = await (await start(tq, { ...orderInput(rejected, 10, 60_000), context: ctx(rejected, sessionId), halted: 'manual halt' })).result();
          const c = await (await start(tq, { ...orderInput(orphan, 10, 60_000), context: ctx(orphan, 'session-gone-2000-01-01') })).result();
          const d = await (await start(tq, { ...orderInput(failed, 10, 60_000), context: ctx(failed, sessionId) })).result().catch((e: unknown) => e);
          const signals = await eventually(() => finishedSignals(sessionId), (s) => s.length >= 3, 'the orderFinished signals');
          return { a, b, c, d, signals };
        } finally {
          await session.terminate('test finished');
        }
      });
      expect([results.a.state, results.b.state, results.c.state]).toEqual(['FILLED', 'REJECTED', 'FILLED']);
      expect(results.d).toBeInstanceOf(WorkflowFailedError);
      expect(results.signals).toEqual([
        { clientOrderId: filled, marketId: 'PRES-2028', state: 'FILLED' },
        { clientOrderId: rejected, marketId: 'PRES-2028', state: 'REJECTED' },
        // Failed after its cancel went out: the last state it knew.
        { clientOrderId: failed, marketId: 'PRES-2028', state: 'PENDING_CANCEL' },
      ]);
    }, 120_000);
  }
});
