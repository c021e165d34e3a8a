/**
 * Which of the orders a session reserved markets for have ended, for the market watch and the
 * session snapshot: final in the records, or (asking Temporal) a workflow no longer running.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { getOrder } from '../db';
import { orderWorkflowId } from '../domain/ids';
import { TERMINAL_STATES } from '../domain/order';
import type { EndedOrder } from '../contracts/activities';
import { currentContext } from './context';
import type { ActivityDeps } from './deps';
import { describeError, warn } from './venue-reads';

/**
 * Whether an order's workflow still runs, asked of Temporal through the worker's client. Unknown
 * (no client, as in tests and scripts, or no answer) counts as running: the market stays reserved.
 */
async function orderWorkflowRunning(clientOrderId: string): Promise<boolean> {
  let client;
  try {
    client = currentContext()?.client;
  } catch {
    return true;
  }
  if (!client) return true;
  try {
    return (await client.workflow.getHandle(orderWorkflowId(clientOrderId)).describe()).status.name === 'RUNNING';
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    warn(`whether order ${clientOrderId} still runs is unknown, its market stays reserved: ${describeError(e)}`);
    return true;
  }
}

export async function endedOrders(db: ActivityDeps['db'], clientOrderIds: readonly string[], askTemporal: boolean): Promise<EndedOrder[]> {
  const ended: EndedOrder[] = [];
  for (const clientOrderId of clientOrderIds) {
    const order = await getOrder(db, clientOrderId);
    if (order && TERMINAL_STATES.includes(order.state)) ended.push({ clientOrderId, state: order.state });
    else if (askTemporal && !(await orderWorkflowRunning(clientOrderId))) ended.push({ clientOrderId, state: order?.state ?? null });
  }
  return ended;
}
