/**
 * Levels of automation on a real Temporal server, with in-memory activities (FakeWorld): under
 * alerts-only a signal places nothing and raises ORDER_PROPOSED with the order; under semi-auto the
 * order waits durably (across a worker restart) for an approval, which runs the risk check again
 * and submits once, or is refused when the risk changed meanwhile; an order left unapproved
 * expires unsent and its market is released; a halt while an order waits means it is never
 * sent; full automation places without waiting. Gated like server.test.ts.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { expect, it } from 'vitest';
import { approveOrderUpdate, haltSignal, orderStatusQuery, sessionStatusQuery, type SessionStatus, type SessionWorkflowInput } from '../../workflows/api';
import type { AutomationSettings } from '../../domain/automation';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import type { sessionWorkflow } from '../../workflows';
import { decideOrder, listAwaitingApproval } from '../../runtime/order-approval';
import { run, type CliIo } from '../../cli/main';
import { FakeWorld } from '../worker/fake-activities';
import { terminateQuietly, testSessionInput } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

describeOnServer(found, 'levels of automation on a Temporal server', (server: TestServer) => {
  const client = server.client;
  const today = new Date().toISOString().slice(0, 10);
  const ann = { operator: 'ann', reason: 'checked the book' };

  const start = (taskQueue: string, strategy: string, automation: AutomationSettings, over: Partial<SessionWorkflowInput> = {}): Promise<WorkflowHandleWithFirstExecutionRunId<typeof sessionWorkflow>> =>
    client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
      taskQueue,
      workflowId: sessionWorkflowId(strategy, today),
      args: [testSessionInput(strategy, today, { automation, ...over })],
    });
  const status = (h: WorkflowHandle): Promise<SessionStatus> => h.query(sessionStatusQuery);
  const coidOf = (strategy: string, seq: number) => makeClientOrderId(strategy, today, seq);
  const assessments = (world: FakeWorld, coid: string) => world.assessed.filter((c) => c === coid).length;
  /** The operator CLI against this server: exit code and what it printed. */
  async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { TEMPORAL_ADDRESS: server.address, OPERATOR: 'ann' }, progressStream: null, now: () => Date.now() };
    const code = await run(argv, io);
    return { code, stdout, stderr };
  }
  const awaiting = (coid: string) => eventually(() => listAwaitingApproval(client), (l) => l.some((o) => o.clientOrderId === coid), `${coid} to await its approval`);

  it('alerts-only: a signal places nothing and raises ORDER_PROPOSED carrying the order; the level is journaled', async () => {
    const world = new FakeWorld();
    const tq = server.unique('tq');
    const strategy = server.unique('alerts');
    const w = await server.startWorker(world.activities(), tq);
    const session = await start(tq, strategy, { level: 'alerts-only', approvalTimeoutMs: 60_000 });
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      await eventually(async () => world.alerts.filter((a) => a.type === 'ORDER_PROPOSED'), (a) => a.length === 1, 'the proposal alert');
      const [alert] = world.alerts.filter((a) => a.type === 'ORDER_PROPOSED');
      expect(alert!.level).toBe('MEDIUM');
      expect(alert!.body).toContain('BUY 10 PRES-2028 at 0.43');
      expect(alert!.body).toContain(`client order ID it would use: ${coidOf(strategy, 1)}`);
      expect(alert!.body).toContain('(z=-1.6)');
      const s = await status(session);
      expect(s.ordersStarted).toBe(0);
      expect(s.reservations).toEqual({});
      expect(world.placements.size).toBe(0);
      expect(world.assessed).toEqual([]);
      await expect(client.workflow.getHandle(orderWorkflowId(coidOf(strategy, 1))).describe()).rejects.toThrow();
      expect(world.journal.filter((j) => j.action === 'AUTOMATION_LEVEL').map((j) => j.details.level)).toEqual(['alerts-only']);
    } finally {
      await terminateQuietly(session);
      await w.stop();
    }
  }, 60_000);

  it('semi-auto: the order waits across a worker restart; approval re-runs risk and submits once; a risk change before approval refuses the next; a halt while one waits sends nothing', async () => {
    const world = new FakeWorld();
    const tq = server.unique('tq');
    const strategy = server.unique('semi');
    let w = await server.startWorker(world.activities(), tq);
    const session = await start(tq, strategy, { level: 'semi-auto', approvalTimeoutMs: 120_000 });
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      const first = coidOf(strategy, 1);
      const [listed] = (await awaiting(first)).filter((o) => o.clientOrderId === first);
      expect(listed).toMatchObject({ marketId: 'PRES-2028', side: 'BUY', quantity: 10, limitPrice: 430_000, state: 'CREATED' });
      expect(world.placements.get(first)).toBeUndefined();

      // The worker goes away while the order waits; a new one picks the wait up from the history.
      await w.stop();
      w = await server.startWorker(world.activities(), tq);

      // A bad payload is refused by the validator, naming the field, and changes nothing.
      const order = client.workflow.getHandle(orderWorkflowId(first));
      const refused = await order.executeUpdate(approveOrderUpdate, { args: [{ operator: 'ann' } as never] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/approve\.reason: is required/);
      expect((await order.query(orderStatusQuery)).approval?.phase).toBe('AWAITING');

      const listedByCli = await cli(['approvals', '--json']);
      expect(listedByCli.code).toBe(0);
      expect(JSON.parse(listedByCli.stdout)).toContainEqual(expect.objectContaining({ clientOrderId: first, limitPrice: '0.430000' }));
      const approved = await cli(['approve', first, '--reason', 'checked the book', '--json']);
      expect(approved.stderr).toBe('');
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({ clientOrderId: first, outcome: 'SUBMITTED', applied: true, operator: 'ann' });
      expect(assessments(world, first)).toBe(2);
      expect(world.placements.get(first)).toBe(1);
      // A second approval is refused as already decided, and sends nothing more.
      expect(await decideOrder(client, 'APPROVE', first, ann)).toMatchObject({ outcome: 'ALREADY_DECIDED' });
      await eventually(() => status(session), (s) => Object.keys(s.reservations).length === 0, 'the market to be released', 30_000);

      world.pushSignal(strategy);
      const second = coidOf(strategy, 2);
      await awaiting(second);
      world.riskRefusals.set(second, 'position 20 over the limit 10');
      const refusedByRisk = await cli(['approve', second, '--reason', 'checked the book']);
      expect(refusedByRisk.code).toBe(3);
      expect(refusedByRisk.stdout).toMatch(/approved, but the risk check at approval refused it: never sent/);
      expect(refusedByRisk.stdout).toMatch(/Reason: .*refused by the risk check at approval: .*position 20 over the limit 10/);
      expect(world.placements.get(second)).toBeUndefined();
      expect((await client.workflow.getHandle(orderWorkflowId(second)).result()).state).toBe('REJECTED');
      // A halt while an order waits: it is never sent, whatever comes after.
      await eventually(() => status(session), (s) => Object.keys(s.reservations).length === 0, 'the market to be released', 30_000);
      world.pushSignal(strategy);
      const third = coidOf(strategy, 3);
      await awaiting(third);
      await session.signal(haltSignal, { operator: 'bo', reason: 'news pending' });
      const halted = await client.workflow.getHandle(orderWorkflowId(third)).result();
      expect(halted.state).toBe('REJECTED');
      expect(halted.rejectReason).toMatch(/trading halted before the order was sent/);
      expect(world.placements.get(third)).toBeUndefined();
      expect(await decideOrder(client, 'APPROVE', third, ann)).toMatchObject({ outcome: 'ALREADY_DECIDED' });

      expect(world.journal.filter((j) => j.workflowId.startsWith('order-')).map((j) => [j.workflowId, j.action, j.details.outcome])).toEqual([
        [orderWorkflowId(first), 'ORDER_APPROVED', 'SUBMITTED'],
        [orderWorkflowId(second), 'ORDER_APPROVED', 'REFUSED_BY_RISK'],
      ]);
    } finally {
      await terminateQuietly(session);
      await w.stop();
    }
  }, 60_000);

  it('semi-auto: unapproved past the deadline the order expires unsent, is journaled, and the market is released; a late approval answers EXPIRED', async () => {
    const world = new FakeWorld();
    const tq = server.unique('tq');
    const strategy = server.unique('expire');
    const w = await server.startWorker(world.activities(), tq);
    const session = await start(tq, strategy, { level: 'semi-auto', approvalTimeoutMs: 2_000 });
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      const coid = coidOf(strategy, 1);
      const result = await eventually(() => client.workflow.getHandle(orderWorkflowId(coid)).result(), () => true, 'the order to expire', 30_000);
      expect(result.state).toBe('EXPIRED');
      expect(result.approval?.phase).toBe('EXPIRED');
      expect(world.placements.size).toBe(0);
      await eventually(() => status(session), (s) => Object.keys(s.reservations).length === 0, 'the market to be released', 30_000);
      expect(world.journal.filter((j) => j.action === 'ORDER_EXPIRED').map((j) => [j.workflowId, j.operator])).toEqual([[orderWorkflowId(coid), 'system']]);
      expect(await decideOrder(client, 'APPROVE', coid, ann)).toMatchObject({ outcome: 'EXPIRED', state: 'EXPIRED' });
      const late = await cli(['reject', coid, '--reason', 'too late']);
      expect(late.code).toBe(3);
      expect(late.stdout).toMatch(/already expired/);
      const bad = await cli(['approve', coid]);
      expect(bad.code).toBe(2);
    } finally {
      await terminateQuietly(session);
      await w.stop();
    }
  }, 60_000);

  it('full: the order is placed without waiting, as before', async () => {
    const world = new FakeWorld();
    const tq = server.unique('tq');
    const strategy = server.unique('full');
    const w = await server.startWorker(world.activities(), tq);
    const session = await start(tq, strategy, { level: 'full', approvalTimeoutMs: 60_000 });
    try {
      await eventually(() => status(session), (s) => s.mode === 'TRADING', 'the session to trade');
      world.pushSignal(strategy);
      const coid = coidOf(strategy, 1);
      const result = await eventually(() => client.workflow.getHandle(orderWorkflowId(coid)).result(), () => true, 'the order to end', 30_000);
      expect(result.state).toBe('FILLED');
      expect(result.approval).toBeUndefined();
      expect(world.placements.get(coid)).toBe(1);
      expect(assessments(world, coid)).toBe(1);
      expect(world.alerts.map((a) => a.type)).not.toContain('ORDER_AWAITING_APPROVAL');
    } finally {
      await terminateQuietly(session);
      await w.stop();
    }
  }, 60_000);
});
