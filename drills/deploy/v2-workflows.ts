/**
 * VERSION 2 of the workflow code, for the deploy drill (drills/deploy/drill.ts): the production
 * workflows with one change of control flow in the order workflow, made the safe way. Before the
 * order's first step (the fill sync and risk check) version 2 waits a settling timer of
 * V2_SETTLE_MS, behind patched(DEPLOY_DRILL_PATCH): a run recorded by version 1 replays without it
 * (its history has no marker there), a run that starts on version 2 records the marker and the timer.
 *
 * Sandbox code like workflows/: bundled on its own (bundleWorkflowCode) as the drill's v2 worker bundle.
 */
import { patched, sleep } from '@temporalio/workflow';
import type { OrderStatus, OrderWorkflowInput } from '../../workflows/api';
import { orderWorkflow as orderWorkflowV1 } from '../../workflows/order-workflow';
import { DEPLOY_DRILL_PATCH, V2_SETTLE_MS } from './version';

export { sessionWorkflow } from '../../workflows/session-workflow';
export { dailyResetWorkflow, marketResolutionWorkflow, reconciliationWorkflow, startDaySessionWorkflow } from '../../workflows/operations-workflows';
export { shadowSessionWorkflow } from '../../workflows/shadow-session';

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderStatus> {
  if (patched(DEPLOY_DRILL_PATCH)) await sleep(V2_SETTLE_MS);
  return orderWorkflowV1(input);
}
