/**
 * Starting the day's shadow session (`shadow-<strategy>-<day>`, workflows/shadow-session.ts) when
 * TRADING_STAGE=SHADOW: the session's strategy, markets and periods, executed on the case study's
 * paper fill model. One running or completed shadow session per strategy and day.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { CASE_STUDY_FILL_MODEL } from '../domain/fill-model';
import { shadowWorkflowId } from '../domain/ids';
import type { ShadowSessionInput } from '../workflows/shadow-api';
import type { shadowSessionWorkflow } from '../workflows/shadow-session';
import type { WorkerConfig } from './config';
import { sessionDayBasics } from './session-control';

export function shadowInput(config: WorkerConfig, tradingDay: string): ShadowSessionInput {
  return {
    ...sessionDayBasics(config, tradingDay),
    fillModel: CASE_STUDY_FILL_MODEL,
  };
}

export async function startShadowSession(client: Client, config: WorkerConfig, tradingDay: string): Promise<{ status: 'STARTED' | 'ALREADY_EXISTS'; workflowId: string }> {
  const input = shadowInput(config, tradingDay);
  const workflowId = shadowWorkflowId(input.strategy, input.tradingDay);
  try {
    await client.workflow.start<typeof shadowSessionWorkflow>('shadowSessionWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return { status: 'STARTED', workflowId };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { status: 'ALREADY_EXISTS', workflowId };
  }
}
