/** The trading session workflow: `session-<strategy>-<tradingDay>`. Thin wiring only. */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../activities/types';
import {
  dailyResetSignal,
  haltSignal,
  killSwitchSignal,
  resumeSignal,
  sessionStatusQuery,
  type SessionStatus,
  type SessionWorkflowInput,
} from './api';
import { DomainError } from './domain/errors';
import { orderWorkflow } from './order-workflow';
import { TradingSession } from './session';
import { RECORD_WRITE_NON_RETRYABLE } from './failure-types';

/** History length at which the session hands over to a fresh run even if the server has not suggested it (Server 1.19 may not). */
const CONTINUE_AS_NEW_AT = 8_000;

const records = proxyActivities<Pick<SessionActivities, 'loadCarryover' | 'sessionSnapshot' | 'recordBreakerChange' | 'recordOperatorAction' | 'writeDailySummary'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: RECORD_WRITE_NON_RETRYABLE },
});

const checks = proxyActivities<Pick<SessionActivities, 'preflight'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** One watch lasts at most its period; heartbeats carry the strategy state so a retry resumes it. */
const market = proxyActivities<Pick<SessionActivities, 'watchForSignal'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['InvalidInput', 'InvalidConfig', 'AUTH'] },
});

const venue = proxyActivities<Pick<SessionActivities, 'cancelAllOpenOrders'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['AUTH'] },
});

const alerts = proxyActivities<Pick<SessionActivities, 'raiseAlert'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '60 seconds', maximumAttempts: 10 },
});

// proxyActivities returns a Proxy with no own keys: it cannot be spread, so name each activity.
const acts: SessionActivities = {
  loadCarryover: records.loadCarryover,
  sessionSnapshot: records.sessionSnapshot,
  recordBreakerChange: records.recordBreakerChange,
  recordOperatorAction: records.recordOperatorAction,
  writeDailySummary: records.writeDailySummary,
  preflight: checks.preflight,
  watchForSignal: market.watchForSignal,
  cancelAllOpenOrders: venue.cancelAllOpenOrders,
  raiseAlert: alerts.raiseAlert,
};

export async function sessionWorkflow(input: SessionWorkflowInput): Promise<SessionStatus> {
  try {
    const session = new TradingSession(input, {
      acts,
      waitFor: (until, ms) => condition(until, ms),
      watch: async (watchInput, interrupt) => {
        const watchScope = new CancellationScope();
        const guardScope = new CancellationScope();
        const watching = watchScope.run(() => market.watchForSignal(watchInput));
        const guard = guardScope.run(() => condition(interrupt));
        const first = await Promise.race([watching.then((result) => ({ result })), guard.then(() => null)]);
        if (first === null) {
          watchScope.cancel();
          await watching.catch((e: unknown) => {
            if (!isCancellation(e)) throw e;
          });
          return null;
        }
        guardScope.cancel();
        await guard.catch(() => undefined);
        return first.result;
      },
      startOrder: async (workflowId, orderInput) => {
        try {
          await startChild(orderWorkflow, {
            workflowId,
            args: [orderInput],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
          return 'STARTED';
        } catch (e) {
          if (e instanceof WorkflowExecutionAlreadyStartedError) return 'ALREADY_EXISTS';
          throw e;
        }
      },
      continueAsNewSuggested: () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > CONTINUE_AS_NEW_AT,
      continueAsNew: async (next) => {
        await condition(allHandlersFinished);
        return continueAsNew<typeof sessionWorkflow>(next);
      },
    });
    setHandler(haltSignal, (p) => session.onHalt(p));
    setHandler(resumeSignal, (p) => session.onResume(p));
    setHandler(killSwitchSignal, (p) => session.onKillSwitch(p));
    setHandler(dailyResetSignal, (p) => session.onDailyReset(p));
    setHandler(sessionStatusQuery, () => session.status());
    return await session.run();
  } catch (e) {
    if (e instanceof DomainError) throw ApplicationFailure.nonRetryable(e.message, e.type);
    throw e;
  }
}
