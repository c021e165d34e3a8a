/** The trading session workflow: `session-<strategy>-<tradingDay>`. Thin wiring only. */
import { RetryState, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../contracts/activities';
import {
  cancelOrderSignal,
  dailyResetSignal,
  haltSessionUpdate,
  killSwitchUpdate,
  resumeSessionUpdate,
  haltOrderSignal,
  haltSignal,
  killSwitchSignal,
  orderFinishedSignal,
  resumeSignal,
  sessionStatusQuery,
  type SessionStatus,
  type SessionWorkflowInput,
} from './api';
import { DomainError } from '../domain/errors';
import { orderWorkflow } from './order-workflow';
import { SessionPatch, TradingSession, watchActivityTimeouts, type RecordFailureKind } from './session';
import { DomainFailure, RECORD_DATA_BUGS } from './failure-types';
import { SESSION_ACTIVITY_OPTIONS } from './activity-options';
import { validateControlRequest, validateSessionWorkflowInput } from './validation';

/** History length at which the session hands over to a fresh run even if the server has not suggested it (Server 1.19 may not). */
const CONTINUE_AS_NEW_AT = 8_000;

type RecordWrites = Pick<SessionActivities, 'recordBreakerChange' | 'recordOperatorAction'>;

const records = proxyActivities<Pick<SessionActivities, 'loadCarryover' | 'sessionSnapshot' | 'recordBreakerChange' | 'recordOperatorAction' | 'writeDailySummary'>>(SESSION_ACTIVITY_OPTIONS.records);
const boundedRecordWrites = proxyActivities<RecordWrites & Pick<SessionActivities, 'saveStrategyState'>>(SESSION_ACTIVITY_OPTIONS.boundedRecordWrites);

/** Record failures that mean the data the session wrote is malformed: a bug, which fails the session. */
const RECORD_BUGS: ReadonlySet<string> = new Set([DomainFailure.InvalidInput, ...RECORD_DATA_BUGS]);

function classifyRecordFailure(e: unknown): { kind: RecordFailureKind; message: string } {
  if (!(e instanceof ActivityFailure)) return { kind: 'BUG', message: String(e) };
  const cause = e.cause;
  const type = cause instanceof ApplicationFailure ? (cause.type ?? 'UNKNOWN') : (cause?.name ?? 'UNKNOWN');
  const message = `${type}: ${cause?.message ?? e.message}`;
  if (RECORD_BUGS.has(type)) return { kind: 'BUG', message };
  return { kind: e.retryState === RetryState.NON_RETRYABLE_FAILURE ? 'REFUSED' : 'UNREACHABLE', message };
}

/** The type of an activity's failure (its ApplicationFailure cause), or null. */
function failureType(e: unknown): string | null {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure) return e.cause.type ?? null;
  return null;
}

/** How sdk-core fails a signal to a workflow that is not running (ended, or never started). */
const isTargetGone = (e: unknown): boolean => e instanceof ApplicationFailure && e.type === 'SignalExternalWorkflowExecutionFailed' && /not found/i.test(e.message);

const checks = proxyActivities<Pick<SessionActivities, 'preflight'>>(SESSION_ACTIVITY_OPTIONS.preflight);
const market = proxyActivities<Pick<SessionActivities, 'watchForSignal'>>(SESSION_ACTIVITY_OPTIONS.watch);
const venue = proxyActivities<Pick<SessionActivities, 'cancelAllOpenOrders'>>(SESSION_ACTIVITY_OPTIONS.cancelAllOpenOrders);
const ledger = proxyActivities<Pick<SessionActivities, 'syncFills'>>(SESSION_ACTIVITY_OPTIONS.syncFills);
const alerts = proxyActivities<Pick<SessionActivities, 'raiseAlert'>>(SESSION_ACTIVITY_OPTIONS.alerts);

const writes = (): RecordWrites => (patched(SessionPatch.containFailures) ? boundedRecordWrites : records);

// proxyActivities returns a Proxy with no own keys: it cannot be spread, so name each activity.
const acts: SessionActivities = {
  loadCarryover: records.loadCarryover,
  syncFills: ledger.syncFills,
  sessionSnapshot: records.sessionSnapshot,
  recordBreakerChange: (change) => writes().recordBreakerChange(change),
  recordOperatorAction: (action) => writes().recordOperatorAction(action),
  saveStrategyState: (input) => boundedRecordWrites.saveStrategyState(input),
  writeDailySummary: records.writeDailySummary,
  preflight: checks.preflight,
  watchForSignal: market.watchForSignal,
  cancelAllOpenOrders: venue.cancelAllOpenOrders,
  raiseAlert: alerts.raiseAlert,
};

export async function sessionWorkflow(input: SessionWorkflowInput): Promise<SessionStatus> {
  try {
    if (patched(SessionPatch.watchPeriods)) validateSessionWorkflowInput(input);
    const watchFollowingPeriods = (): Pick<SessionActivities, 'watchForSignal'> => {
      const t = watchActivityTimeouts(input);
      return proxyActivities({ ...SESSION_ACTIVITY_OPTIONS.watch, startToCloseTimeout: t.startToCloseMs, heartbeatTimeout: t.heartbeatMs });
    };
    const session = new TradingSession(input, {
      acts,
      waitFor: (until, ms) => condition(until, ms),
      watch: async (watchInput, interrupt) => {
        const watchFor = patched(SessionPatch.watchPeriods) ? watchFollowingPeriods().watchForSignal : market.watchForSignal;
        const watchScope = new CancellationScope();
        const guardScope = new CancellationScope();
        const watching = watchScope.run(() => watchFor(watchInput));
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
          // ABANDON: an order outlives the session that started it (a working order is followed to its end).
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
      signalOrder: async (workflowId, signal, request) => {
        try {
          await getExternalWorkflowHandle(workflowId).signal(signal === 'halt' ? haltOrderSignal : cancelOrderSignal, request);
          return true;
        } catch (e) {
          if (isTargetGone(e)) return false;
          if (!(e instanceof ApplicationFailure)) throw e;
          log.warn(`${signal} not delivered to ${workflowId}: ${e.message}`);
          return true;
        }
      },
      patched,
      failureType,
      classifyRecordFailure,
      log: (message) => log.warn(message),
      runId: workflowInfo().runId,
      continueAsNewSuggested: () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.continueAsNewAtEvents ?? CONTINUE_AS_NEW_AT),
      continueAsNew: async (next) => {
        await condition(allHandlersFinished);
        return continueAsNew<typeof sessionWorkflow>(next());
      },
    });
    setHandler(haltSignal, (p) => session.onHalt(p));
    setHandler(resumeSignal, (p) => session.onResume(p));
    setHandler(killSwitchSignal, (p) => session.onKillSwitch(p));
    setHandler(dailyResetSignal, (p) => session.onDailyReset(p));
    setHandler(orderFinishedSignal, (p) => session.onOrderFinished(p));
    setHandler(sessionStatusQuery, () => session.status());
    // ---- control updates: a validator refuses a bad payload before it enters the history ----
    const halt = (p: unknown) => validateControlRequest(p, 'haltSession', ['cancelOrders']);
    const resumeRequest = (p: unknown) => validateControlRequest(p, 'resumeSession');
    const kill = (p: unknown) => validateControlRequest(p, 'killSwitchSession', ['flatten']);
    setHandler(haltSessionUpdate, (p) => session.haltUpdate(halt(p)), { validator: (p) => void halt(p) });
    setHandler(resumeSessionUpdate, (p) => session.resumeUpdate(resumeRequest(p)), { validator: (p) => void resumeRequest(p) });
    setHandler(killSwitchUpdate, (p) => session.killSwitchUpdate(kill(p)), { validator: (p) => void kill(p) });
    // ---- end of control updates ----
    return await session.run();
  } catch (e) {
    if (e instanceof DomainError) throw ApplicationFailure.nonRetryable(e.message, e.type);
    throw e;
  }
}
