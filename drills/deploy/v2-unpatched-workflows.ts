/**
 * The unsafe counterfactual of v2-workflows.ts: the same change of control flow WITHOUT patched().
 * A run recorded by version 1 no longer replays: its first recorded command (the fill sync's
 * local-activity marker) meets the new timer, and the worker fails the workflow task with a
 * nondeterminism error. The deploy drill shows that it does, so that the drill can fail.
 *
 * Sandbox code like workflows/: bundled on its own as the drill's unsafe v2 worker bundle.
 */
import { sleep } from '@temporalio/workflow';
import type { OrderStatus, OrderWorkflowInput } from '../../workflows/api';
import { orderWorkflow as orderWorkflowV1 } from '../../workflows/order-workflow';
import { V2_SETTLE_MS } from './version';

export { sessionWorkflow } from '../../workflows/session-workflow';
export { dailyResetWorkflow, marketResolutionWorkflow, reconciliationWorkflow, startDaySessionWorkflow } from '../../workflows/operations-workflows';
export { shadowSessionWorkflow } from '../../workflows/shadow-session';

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderStatus> {
  await sleep(V2_SETTLE_MS);
  return orderWorkflowV1(input);
}
