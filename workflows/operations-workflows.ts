/**
 * Reconciliation, daily reset, market resolution and the day's session start: run by Temporal
 * Schedules (worker/schedules.ts, which also bounds each run). Thin wiring only.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { OperationsActivities } from '../contracts/activities';
import {
  SA_SCHEDULED_START_TIME,
  SA_STRATEGY,
  dailyResetSignal,
  haltSignal,
  reconciliationDecisionSignal,
  reconciliationDecisionUpdate,
  reconciliationStatusQuery,
  type DailyResetResult,
  type DailyResetWorkflowInput,
  type ReconciliationStatus,
  type ReconciliationWorkflowInput,
  type SessionWorkflowInput,
  type StartDaySessionInput,
  type StartDaySessionResult,
} from './api';
import { endOfTradingDay, tradingDayIn } from '../domain/calendar';
import { DomainError, InvalidInput } from '../domain/errors';
import { sessionWorkflowId, validateTradingDay } from '../domain/ids';
import { RECONCILIATION_POLICIES } from '../domain/reconciliation';
import { ReconciliationRun } from './reconciliation';
import { OPERATIONS_ACTIVITY_OPTIONS } from './activity-options';
import { failureText } from './failure-types';
import { sessionWorkflow } from './session-workflow';
import { validateStartDaySession } from './validation';

const acts = proxyActivities<OperationsActivities>(OPERATIONS_ACTIVITY_OPTIONS.records);
const comparison = proxyActivities<Pick<OperationsActivities, 'reconcileAccount'>>(OPERATIONS_ACTIVITY_OPTIONS.comparison);
const settlement = proxyActivities<Pick<OperationsActivities, 'settleResolvedMarkets'>>(OPERATIONS_ACTIVITY_OPTIONS.settlement);
const mail = proxyActivities<Pick<OperationsActivities, 'raiseAlert'>>(OPERATIONS_ACTIVITY_OPTIONS.mail);
const report = proxyActivities<Pick<OperationsActivities, 'sendDailyReport'>>(OPERATIONS_ACTIVITY_OPTIONS.report);

function typed<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((e: unknown) => {
    if (e instanceof DomainError) throw ApplicationFailure.nonRetryable(e.message, e.type);
    throw e;
  });
}

/** Signals a session if it still runs; a finished session needs no halt. */
async function signalSession(workflowId: string, send: (h: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): Promise<boolean> {
  try {
    await send(getExternalWorkflowHandle(workflowId));
    return true;
  } catch {
    return false;
  }
}

/** The time the schedule meant for this run (TemporalScheduledStartTime); else when the workflow started. */
function scheduledTime(): number {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(SA_SCHEDULED_START_TIME);
  if (typed instanceof Date && Number.isFinite(typed.getTime())) return typed.getTime();
  // Servers that send the attribute without its type only fill the untyped map.
  const untyped = info.searchAttributes?.TemporalScheduledStartTime?.[0];
  const at = untyped instanceof Date ? untyped.getTime() : typeof untyped === 'string' ? Date.parse(untyped) : NaN;
  return Number.isFinite(at) ? at : info.startTime.getTime();
}

export async function reconciliationWorkflow(input: ReconciliationWorkflowInput): Promise<ReconciliationStatus> {
  return typed(async () => {
    if (!RECONCILIATION_POLICIES.includes(input.policy)) throw InvalidInput.of('policy', input.policy, `must be one of ${RECONCILIATION_POLICIES.join(', ')}`);
    if (!Number.isSafeInteger(input.reminderMs) || input.reminderMs < 60_000) throw InvalidInput.of('reminderMs', input.reminderMs, 'must be at least 60000');
    const run = new ReconciliationRun(workflowInfo().workflowId, input, {
      acts: { ...pick(acts), reconcileAccount: (i) => comparison.reconcileAccount(i) },
      waitFor: (until, ms) => condition(until, ms),
      haltSession: (id, request) => signalSession(id, (h) => h.signal(haltSignal, request)),
      alert: (a) =>
        mail.raiseAlert(a).then(
          () => null,
          (e: unknown) => {
            if (e instanceof ActivityFailure) return failureText(e);
            throw e;
          },
        ),
      patched,
    });
    setHandler(reconciliationDecisionSignal, (p) => run.onDecision(p));
    setHandler(reconciliationDecisionUpdate, (p) => run.acceptDecision(p), {
      validator: (p) => {
        try {
          run.checkDecision(p);
        } catch (e) {
          if (e instanceof DomainError) throw ApplicationFailure.nonRetryable(e.message, e.type);
          throw e;
        }
      },
    });
    setHandler(reconciliationStatusQuery, () => run.status());
    return run.run();
  });
}

/** The activity proxy's functions by name (a Proxy has no own keys to spread). */
function pick(p: OperationsActivities): OperationsActivities {
  return {
    reconcileAccount: (i) => p.reconcileAccount(i),
    adoptVenueFigures: (i) => p.adoptVenueFigures(i),
    listActiveSessions: () => p.listActiveSessions(),
    resetDailyCounters: (i) => p.resetDailyCounters(i),
    sendDailyReport: (i) => p.sendDailyReport(i),
    settleResolvedMarkets: () => p.settleResolvedMarkets(),
    syncSettlements: () => p.syncSettlements(),
    recordOperatorAction: (a) => p.recordOperatorAction(a),
    raiseAlert: (a) => p.raiseAlert(a),
  };
}

/**
 * Starts a trading day: counters reset, daily-loss trips lifted (only those), sessions told, report
 * emailed. The day is the one the schedule meant (its scheduled time in the configured zone),
 * even when the worker picks the run up after midnight.
 */
export async function dailyResetWorkflow(input: DailyResetWorkflowInput): Promise<DailyResetResult> {
  return typed(async () => {
    if (input.tradingDay !== null) validateTradingDay(input.tradingDay);
    const reset = await acts.resetDailyCounters({ tradingDay: input.tradingDay, scheduledAt: scheduledTime() });
    let sessionsSignalled = 0;
    for (const session of await acts.listActiveSessions()) {
      const request = reset.dayStartAt === undefined ? { tradingDay: reset.tradingDay } : { tradingDay: reset.tradingDay, dayStartAt: reset.dayStartAt };
      if (await signalSession(session, (h) => h.signal(dailyResetSignal, request))) sessionsSignalled++;
    }
    let reportProblem: string | null = null;
    try {
      await report.sendDailyReport({ tradingDay: reset.previousDay });
    } catch (e) {
      if (!(e instanceof ActivityFailure)) throw e;
      reportProblem = failureText(e);
    }
    return { tradingDay: reset.tradingDay, liftedTrips: reset.liftedTrips, sessionsSignalled, reportSent: reportProblem === null, reportProblem };
  });
}

/** Settles positions in markets that have resolved (YES at 1, NO at 0), each exactly once. */
export async function marketResolutionWorkflow(): Promise<{ settled: number }> {
  return typed(async () => {
    const { settled } = await settlement.settleResolvedMarkets();
    return { settled: settled.length };
  });
}

/**
 * Starts the session of the day the schedule meant (`session-<strategy>-<day>`), abandoned by
 * this short workflow so it trades on. Idempotent: a session of that day that runs or completed
 * stays the only one; one that failed, was terminated or timed out is started afresh.
 */
export async function startDaySessionWorkflow(input: StartDaySessionInput): Promise<StartDaySessionResult> {
  return typed(async () => {
    const { template, timeZone } = validateStartDaySession(input);
    const tradingDay = tradingDayIn(scheduledTime(), timeZone);
    if (template.marketIds.length === 0) return { status: 'NO_MARKETS', workflowId: null, tradingDay };
    const workflowId = sessionWorkflowId(template.strategy, tradingDay);
    const session: SessionWorkflowInput = { ...template, tradingDay, endOfDayAt: endOfTradingDay(tradingDay, timeZone) };
    try {
      await startChild(sessionWorkflow, {
        workflowId,
        args: [session],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        ...(template.searchAttributes ? { typedSearchAttributes: [{ key: SA_STRATEGY, value: template.strategy }] } : {}),
      });
      return { status: 'STARTED', workflowId, tradingDay };
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return { status: 'ALREADY_STARTED', workflowId, tradingDay };
      throw e;
    }
  });
}
