/**
 * The Temporal Schedules of the trading jobs, registered idempotently at worker start: created,
 * or updated to the current spec when they already exist. Overlap is always SKIP: a job still
 * running (a reconciliation waiting for an operator) makes the next run wait its turn, never
 * doubles it (no ALLOW_ALL overlap, no legacy cron workflows). Because SKIP drops a run
 * while the previous one lives, every action carries a workflowExecutionTimeout sized to its job
 * (see RUN_TIMEOUTS), and the activities inside are bounded (workflows/operations-workflows.ts).
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { DailyResetWorkflowInput, ReconciliationWorkflowInput, SessionTemplate, StartDaySessionInput } from '../workflows/api';
import type { WorkerConfig } from '../runtime/config';
import { GrpcCode, grpcCode, type WorkerLog } from '../runtime/temporal';

export const SCHEDULE_IDS = {
  dailyReset: 'durable-trader-daily-reset',
  reconciliation: 'durable-trader-reconciliation',
  marketResolution: 'durable-trader-market-resolution',
  sessionStart: 'durable-trader-session-start',
} as const;

export const MARKET_RESOLUTION_EVERY_MINUTES = 15;

/** A missed daily job (reset, session start) still runs if the server comes back within this window (one run: SKIP). */
export const DAILY_RESET_CATCHUP = '12 hours';
/** Frequent checks are not worth catching up: the next one comes soon. */
export const FREQUENT_CATCHUP = '1 minute';

/**
 * How long one scheduled run may live, counted from when the schedule started it (time spent
 * waiting for a worker included). Each is shorter than the gap to the next run it could block:
 *
 * - dailyReset, 12 hours: covers a worker down across midnight for hours (the run waits and then
 *   resets the day the schedule meant) and the report's bounded retries; a reset that has not
 *   happened in 12 hours is an incident, and tomorrow's reset is never skipped because of it.
 * - sessionStart, 12 hours: the same wait for a worker; the session it starts still has at least
 *   half its day ahead (the worker's own start covers a longer outage).
 * - reconciliation, 24 hours: the operator's decision may take a night; after a day the run gives
 *   way to a fresh comparison (the halts it made stick in the sessions, and the next run halts and
 *   alerts again if the mismatch remains). It never blocks the reset: separate schedules.
 * - marketResolution, 14 minutes: ends before the next run is due (every 15 minutes), so a stuck
 *   run never drops one; settling is idempotent per market.
 */
export const RUN_TIMEOUTS = {
  dailyReset: '12 hours',
  sessionStart: '12 hours',
  reconciliation: '24 hours',
  marketResolution: `${MARKET_RESOLUTION_EVERY_MINUTES - 1} minutes`,
} as const;

type Definition = ScheduleOptions & {
  action: { workflowExecutionTimeout: string };
  policies: { overlap: typeof ScheduleOverlapPolicy.SKIP; catchupWindow: string };
};

/** The session input without its day, from the config: the schedule carries it, the workflow adds the day. */
export function sessionTemplate(config: WorkerConfig, searchAttributes: boolean): SessionTemplate {
  const { session } = config;
  return {
    strategy: session.strategy,
    strategyName: session.strategyName,
    strategyParams: session.strategyParams,
    marketIds: session.markets,
    watchPeriodMs: session.watchPeriodMs,
    pollIntervalMs: session.pollIntervalMs,
    orderTtlMs: session.orderTtlMs,
    maxDailyLoss: config.riskLimits.maxDailyLoss,
    breakers: config.breakers,
    searchAttributes,
    automation: session.automation,
  };
}

export interface ScheduleOptionsForWorker {
  /** The server accepted the custom search attributes (sessions are then tagged with their strategy). */
  searchAttributes?: boolean;
}

/** The four schedules for this config (pure: tested without a server). */
export function scheduleDefinitions(config: WorkerConfig, options: ScheduleOptionsForWorker = {}): Definition[] {
  const taskQueue = config.temporal.taskQueue;
  const resetInput: DailyResetWorkflowInput = { tradingDay: null };
  const reconciliationInput: ReconciliationWorkflowInput = {
    policy: config.reconciliation.policy,
    reminderMs: config.reconciliation.reminderMinutes * 60_000,
  };
  const sessionInput: StartDaySessionInput = { template: sessionTemplate(config, options.searchAttributes ?? false), timeZone: config.timeZone };
  return [
    {
      scheduleId: SCHEDULE_IDS.dailyReset,
      spec: { cronExpressions: [config.dailyResetCron], timezone: config.timeZone },
      action: { type: 'startWorkflow', workflowType: 'dailyResetWorkflow', workflowId: 'daily-reset', taskQueue, args: [resetInput], workflowExecutionTimeout: RUN_TIMEOUTS.dailyReset },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: DAILY_RESET_CATCHUP },
    },
    {
      scheduleId: SCHEDULE_IDS.reconciliation,
      spec: { intervals: [{ every: `${config.reconciliation.everyMinutes} minutes` }] },
      action: { type: 'startWorkflow', workflowType: 'reconciliationWorkflow', workflowId: 'reconciliation', taskQueue, args: [reconciliationInput], workflowExecutionTimeout: RUN_TIMEOUTS.reconciliation },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: FREQUENT_CATCHUP },
    },
    {
      scheduleId: SCHEDULE_IDS.marketResolution,
      spec: { intervals: [{ every: `${MARKET_RESOLUTION_EVERY_MINUTES} minutes` }] },
      action: { type: 'startWorkflow', workflowType: 'marketResolutionWorkflow', workflowId: 'market-resolution', taskQueue, args: [], workflowExecutionTimeout: RUN_TIMEOUTS.marketResolution },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: FREQUENT_CATCHUP },
    },
    {
      // 00:00 on the zone's wall clock: the start of the trading day (domain/calendar.ts).
      scheduleId: SCHEDULE_IDS.sessionStart,
      spec: { cronExpressions: ['0 0 * * *'], timezone: config.timeZone },
      action: { type: 'startWorkflow', workflowType: 'startDaySessionWorkflow', workflowId: 'session-start', taskQueue, args: [sessionInput], workflowExecutionTimeout: RUN_TIMEOUTS.sessionStart },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: DAILY_RESET_CATCHUP },
    },
  ];
}

/**
 * True when an error means the server offers no schedules here: an old server without the RPC
 * (UNIMPLEMENTED), schedules disabled for the namespace (PERMISSION_DENIED / FAILED_PRECONDITION).
 */
export function schedulesUnsupported(error: unknown): boolean {
  const code = grpcCode(error);
  return code === GrpcCode.UNIMPLEMENTED || code === GrpcCode.PERMISSION_DENIED || code === GrpcCode.FAILED_PRECONDITION;
}

export type ScheduleOutcome = 'CREATED' | 'UPDATED';

/** Creates or updates every schedule. Returns null (after one warning) when the server has no schedules. */
export async function ensureSchedules(client: Client, config: WorkerConfig, log: WorkerLog, options: ScheduleOptionsForWorker = {}): Promise<Record<string, ScheduleOutcome> | null> {
  const outcomes: Record<string, ScheduleOutcome> = {};
  for (const def of scheduleDefinitions(config, options)) {
    try {
      try {
        await client.schedule.create(def);
        outcomes[def.scheduleId] = 'CREATED';
      } catch (e) {
        if (!(e instanceof ScheduleAlreadyRunning)) throw e;
        // Keep an operator's pause and note; everything else follows the current config.
        await client.schedule.getHandle(def.scheduleId).update((previous) => ({
          spec: def.spec,
          action: def.action,
          policies: def.policies,
          state: { paused: previous.state.paused, note: previous.state.note },
        }));
        outcomes[def.scheduleId] = 'UPDATED';
      }
    } catch (e) {
      if (!schedulesUnsupported(e)) throw e;
      log.warn(
        `Temporal Schedules are not available on this server (${e instanceof Error ? e.message : String(e)}): ` +
          'the daily reset, reconciliation, market resolution and the next days\' sessions will not start on their own; start them by hand or enable schedules.',
      );
      return null;
    }
  }
  log.info(`Schedules: ${Object.entries(outcomes).map(([id, o]) => `${id} ${o.toLowerCase()}`).join(', ')}`);
  return outcomes;
}
