/** Reconciliation, daily reset and market resolution: run by Temporal Schedules. Thin wiring only. */
import { ApplicationFailure, condition, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { OperationsActivities } from '../activities/types';
import {
  dailyResetSignal,
  haltSignal,
  reconciliationDecisionSignal,
  reconciliationStatusQuery,
  type DailyResetWorkflowInput,
  type ReconciliationStatus,
  type ReconciliationWorkflowInput,
} from './api';
import { DomainError, InvalidInput } from './domain/errors';
import { validateTradingDay } from './domain/ids';
import { RECONCILIATION_POLICIES } from './domain/reconciliation';
import { ReconciliationRun } from './reconciliation';
import { RECORD_WRITE_NON_RETRYABLE, VenueFailure } from './failure-types';

const acts = proxyActivities<OperationsActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...RECORD_WRITE_NON_RETRYABLE, VenueFailure.AUTH] },
});

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

export async function reconciliationWorkflow(input: ReconciliationWorkflowInput): Promise<ReconciliationStatus> {
  return typed(async () => {
    if (!RECONCILIATION_POLICIES.includes(input.policy)) throw InvalidInput.of('policy', input.policy, `must be one of ${RECONCILIATION_POLICIES.join(', ')}`);
    if (!Number.isSafeInteger(input.reminderMs) || input.reminderMs < 60_000) throw InvalidInput.of('reminderMs', input.reminderMs, 'must be at least 60000');
    const run = new ReconciliationRun(workflowInfo().workflowId, input, {
      acts,
      waitFor: (until, ms) => condition(until, ms),
      haltSession: (id, request) => signalSession(id, (h) => h.signal(haltSignal, request)),
    });
    setHandler(reconciliationDecisionSignal, (p) => run.onDecision(p));
    setHandler(reconciliationStatusQuery, () => run.status());
    return run.run();
  });
}

/** Starts a trading day: counters reset, daily-loss trips lifted (only those), sessions told, report emailed. */
export async function dailyResetWorkflow(input: DailyResetWorkflowInput): Promise<{ tradingDay: string; liftedTrips: number; sessionsSignalled: number }> {
  return typed(async () => {
    if (input.tradingDay !== null) validateTradingDay(input.tradingDay);
    const reset = await acts.resetDailyCounters({ tradingDay: input.tradingDay });
    let sessionsSignalled = 0;
    for (const session of await acts.listActiveSessions()) {
      if (await signalSession(session, (h) => h.signal(dailyResetSignal, { tradingDay: reset.tradingDay }))) sessionsSignalled++;
    }
    await acts.sendDailyReport({ tradingDay: reset.previousDay });
    return { tradingDay: reset.tradingDay, liftedTrips: reset.liftedTrips, sessionsSignalled };
  });
}

/** Settles positions in markets that have resolved (YES at 1, NO at 0), each exactly once. */
export async function marketResolutionWorkflow(): Promise<{ settled: number }> {
  return typed(async () => {
    const { settled } = await acts.settleResolvedMarkets();
    return { settled: settled.length };
  });
}
