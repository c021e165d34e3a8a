/**
 * The typed client side of the trading session, for every process that talks to Temporal (the
 * worker, the CLI, the dashboard): the day's session input, starting it, halt, resume, kill
 * switch, and reading its status.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { InvalidInput } from '../domain/errors';
import { sessionWorkflowId, validateTradingDay } from '../domain/ids';
import { endOfTradingDay } from '../domain/calendar';
import { SA_STRATEGY, haltSignal, killSwitchSignal, resumeSignal, sessionStatusQuery, type HaltRequest, type KillSwitchRequest, type OperatorRequest, type SessionStatus, type SessionWorkflowInput } from '../workflows/api';
import type { sessionWorkflow } from '../workflows/session-workflow';
import { validateOperatorRequest, validateSessionWorkflowInput } from '../workflows/validation';
import type { WorkerConfig } from './config';

/** What a day's trading session and its shadow session both take from the config: strategy, markets, periods. */
export function sessionDayBasics(config: WorkerConfig, tradingDay: string) {
  const { session } = config;
  return {
    strategy: session.strategy,
    strategyName: session.strategyName,
    strategyParams: session.strategyParams,
    tradingDay: validateTradingDay(tradingDay),
    marketIds: session.markets,
    endOfDayAt: endOfTradingDay(tradingDay, config.timeZone),
    watchPeriodMs: session.watchPeriodMs,
    pollIntervalMs: session.pollIntervalMs,
    orderTtlMs: session.orderTtlMs,
  };
}

export function sessionInput(config: WorkerConfig, tradingDay: string, searchAttributes: boolean): SessionWorkflowInput {
  return {
    ...sessionDayBasics(config, tradingDay),
    maxDailyLoss: config.riskLimits.maxDailyLoss,
    breakers: config.breakers,
    searchAttributes,
    connectionLostPolicy: config.monitoring.connectionLostPolicy,
    automation: config.session.automation,
  };
}

/**
 * `restartedAfter`: how the day's previous session ended when this start replaces it (null: none
 * before). `existing`: why nothing was started: the day's session is RUNNING or has COMPLETED.
 */
export type StartSessionResult =
  | { status: 'STARTED'; workflowId: string; runId: string; restartedAfter: WorkflowExecutionStatusName | null }
  | { status: 'ALREADY_EXISTS'; workflowId: string; existing: WorkflowExecutionStatusName };

/** Status of the newest run under a workflow ID, or null when there is none. */
async function lastRunStatus(client: Client, workflowId: string): Promise<WorkflowExecutionStatusName | null> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return null;
    throw e;
  }
}

/**
 * Starts the session of a trading day (`session-<strategy>-<day>`): one running or completed
 * session per strategy and day, ever, but a session that failed, was terminated, cancelled or timed
 * out may be started again (allow-duplicate-failed-only); the new run reloads the day's halts from
 * the records. A day that has already ended in the configured zone is refused.
 */
export async function startSession(client: Client, config: WorkerConfig, tradingDay: string, searchAttributes: boolean, now: number = Date.now()): Promise<StartSessionResult> {
  const input = sessionInput(config, tradingDay, searchAttributes);
  if (input.marketIds.length === 0) throw InvalidInput.of('SESSION_MARKETS', '', 'must name at least one market to trade');
  if (input.endOfDayAt <= now) throw InvalidInput.of('tradingDay', tradingDay, `has already ended in ${config.timeZone}`);
  validateSessionWorkflowInput(input);
  const workflowId = sessionWorkflowId(input.strategy, input.tradingDay);
  const before = await lastRunStatus(client, workflowId);
  try {
    const handle = await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      ...(searchAttributes ? { typedSearchAttributes: [{ key: SA_STRATEGY, value: input.strategy }] } : {}),
    });
    return { status: 'STARTED', workflowId, runId: handle.firstExecutionRunId, restartedAfter: before };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { status: 'ALREADY_EXISTS', workflowId, existing: (await lastRunStatus(client, workflowId)) ?? before ?? 'RUNNING' };
  }
}

/** `cancelOrders`: also cancel the session's working orders (the kill switch always does). */
export async function signalHalt(client: Client, workflowId: string, request: HaltRequest): Promise<void> {
  const valid = validateOperatorRequest(request, 'halt');
  if (request.cancelOrders !== undefined && typeof request.cancelOrders !== 'boolean') throw InvalidInput.of('halt.cancelOrders', request.cancelOrders, 'must be true or false');
  await client.workflow.getHandle(workflowId).signal(haltSignal, request.cancelOrders === true ? { ...valid, cancelOrders: true } : valid);
}

export async function signalResume(client: Client, workflowId: string, request: OperatorRequest): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(resumeSignal, validateOperatorRequest(request, 'resume'));
}

export async function signalKillSwitch(client: Client, workflowId: string, request: KillSwitchRequest): Promise<void> {
  const valid = validateOperatorRequest(request, 'killSwitch');
  if (request.flatten !== undefined && typeof request.flatten !== 'boolean') throw InvalidInput.of('killSwitch.flatten', request.flatten, 'must be true or false');
  await client.workflow.getHandle(workflowId).signal(killSwitchSignal, { ...valid, flatten: request.flatten ?? false });
}

export async function querySessionStatus(client: Client, workflowId: string): Promise<SessionStatus> {
  return client.workflow.getHandle(workflowId).query(sessionStatusQuery);
}
