/**
 * A strategy's orders and journal as the end-to-end scenarios see them: which order workflows
 * exist, waiting for them to end, ending a session cleanly, and the operator journal about a
 * session. Order workflows are found three ways (the records, the visibility index, and probing
 * the deterministic workflow IDs), because an order stopped before its first record write is in
 * neither the records nor, until its first workflow task completes, the visibility index.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { getOrder, listOperatorActions, listOrders } from '../../db';
import { cancelOrderSignal } from '../../workflows/api';
import { makeClientOrderId, orderWorkflowId } from '../../domain/ids';
import { withTimeout } from '../support/temporal-server';
import type { E2eWorld } from './harness';

/** Who the suite's cleanup acts as, in the journal and on cancel requests. */
export const CLEANUP_OPERATOR = 'e2e-cleanup';

export const ordersQuery = (strategy: string) => `WorkflowType="orderWorkflow" AND TradingStrategy="${strategy}"`;

/**
 * The order workflows of a strategy that exist now: client order IDs 1, 2, ... probed on the
 * server until five in a row are missing (a session skips a sequence only past an ID an order
 * started outside it already took, so gaps are short).
 */
export async function probeOrderIds(world: E2eWorld, strategy: string): Promise<string[]> {
  const ids: string[] = [];
  for (let seq = 1, missing = 0; missing < 5; seq++) {
    const coid = makeClientOrderId(strategy, world.tradingDay, seq);
    const exists = await world.server.client.workflow
      .getHandle(orderWorkflowId(coid))
      .describe()
      .then(
        () => true,
        () => false,
      );
    if (exists) ids.push(coid);
    missing = exists ? 0 : missing + 1;
  }
  return ids;
}

/** Every client order ID of a strategy: recorded, listed by the visibility index, or probed. */
export async function orderIdsOf(world: E2eWorld, strategy: string): Promise<string[]> {
  const recorded = (await listOrders(world.db, { strategy, limit: 10_000 })).map((o) => o.clientOrderId);
  const listed = (await world.list(ordersQuery(strategy))).map((id) => id.slice('order-'.length));
  return [...new Set([...recorded, ...listed, ...(await probeOrderIds(world, strategy))])].sort();
}

/** Resolves when every one of these order workflows has closed; throws naming those still running after `timeoutMs`. */
export async function ordersDone(world: E2eWorld, coids: readonly string[], timeoutMs: number): Promise<void> {
  const running = new Set(coids);
  const ended = (c: string) => () => running.delete(c);
  await withTimeout(
    Promise.all(coids.map((c) => world.server.client.workflow.getHandle(orderWorkflowId(c)).result().then(ended(c), ended(c)))),
    timeoutMs,
    'the orders to end',
  ).catch(() => {
    throw new Error(`still running after ${timeoutMs} ms: ${[...running].join(', ')}`);
  });
}

/**
 * Ends a session and lets its orders finish on their own time-to-live; whatever still works after
 * `graceMs` is cancelled through its own workflow (a failed scenario may leave orders working),
 * so the records and the venue agree when the next scenario's session runs its pre-flight.
 */
export async function endSession(world: E2eWorld, session: WorkflowHandle, strategy: string, graceMs: number): Promise<void> {
  await session.terminate('scenario over').catch(() => undefined);
  const coids = await orderIdsOf(world, strategy);
  try {
    await ordersDone(world, coids, graceMs);
  } catch {
    for (const c of coids) {
      await world.server.client.workflow
        .getHandle(orderWorkflowId(c))
        .signal(cancelOrderSignal, { operator: CLEANUP_OPERATOR, reason: 'end-to-end cleanup' })
        .catch(() => undefined);
    }
    await ordersDone(world, coids, 30_000);
  }
}

/** Each order workflow of a strategy with its status, pending activities, venue and recorded state: for failure messages. */
export async function orderDiagnostics(world: E2eWorld, strategy: string): Promise<string> {
  const lines: string[] = [];
  for (const c of await probeOrderIds(world, strategy)) {
    const d = await world.server.client.workflow.getHandle(orderWorkflowId(c)).describe();
    const pending = (d.raw.pendingActivities ?? []).map((a) => `${a.activityType?.name} attempt ${a.attempt}${a.lastFailure?.message ? ` (${a.lastFailure.message})` : ''}`);
    const atVenue = await world.venue.getOrderByClientId(c);
    lines.push(`${c}: ${d.status.name}, pending [${pending.join('; ')}], venue ${atVenue ? atVenue.status : 'none'}, recorded ${(await getOrder(world.db, c))?.state ?? 'none'}`);
  }
  return lines.join('\n  ');
}

/**
 * The operator journal about one session: the rows the session wrote (requests that came without a
 * journal key: signals, the schedule), and those the CLI and the dashboard wrote before acting, which
 * name the session among the targets that applied it once the answer is added (`signalled`).
 */
export async function journalOf(world: E2eWorld, sessionId: string) {
  const rows = await listOperatorActions(world.db, { limit: 10_000 });
  const reached = (r: (typeof rows)[number]) => r.details.workflowId === sessionId || String(r.details.signalled ?? '').split(',').includes(sessionId);
  return {
    bySession: rows.filter((r) => r.workflowId === sessionId),
    byCli: rows.filter((r) => r.workflowId.startsWith('cli:') && reached(r)),
    byDashboard: rows.filter((r) => r.workflowId.startsWith('dashboard-') && String(r.details.signalled ?? '').split(',').includes(sessionId)),
  };
}
