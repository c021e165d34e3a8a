/** The order lifecycle workflow: one per order, ID `order-<clientOrderId>`. Thin wiring only. */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities, SessionActivities } from '../contracts/activities';
import {
  SA_MARKET,
  SA_ORDER_STATE,
  SA_SIDE,
  SA_STRATEGY,
  approveOrderUpdate,
  cancelOrderSignal,
  cancelOrderUpdate,
  haltOrderSignal,
  haltOrderUpdate,
  orderFinishedSignal,
  orderStatusQuery,
  rejectOrderUpdate,
  type OrderStatus,
  type OrderWorkflowInput,
} from './api';
import { DomainError } from '../domain/errors';
import type { Order } from '../domain/order';
import { ORDER_PATCHES, OrderLifecycle } from './order-lifecycle';
import { validateControlRequest, validateOperatorRequest, validateOrderWorkflowInput } from './validation';
import { ORDER_ACTIVITY_OPTIONS, SESSION_ACTIVITY_OPTIONS } from './activity-options';

const options = ORDER_ACTIVITY_OPTIONS;

const syncFillsBeforeRisk = proxyLocalActivities<OrderActivities>(options.syncFillsBeforeRisk).syncFills;

// proxyActivities returns a Proxy with no own keys: it cannot be spread, so name each activity.
const acts: OrderActivities = {
  assessOrder: proxyLocalActivities<OrderActivities>(options.assessOrder).assessOrder,
  recordOrder: proxyActivities<OrderActivities>(options.recordOrder).recordOrder,
  recordExecution: proxyActivities<OrderActivities>(options.recordExecution).recordExecution,
  submitOrder: proxyActivities<OrderActivities>(options.submitOrder).submitOrder,
  lookupOrder: proxyActivities<OrderActivities>(options.lookupOrder).lookupOrder,
  syncFills: proxyActivities<OrderActivities>(options.syncFills).syncFills,
  pollOrder: proxyActivities<OrderActivities>(options.pollOrder).pollOrder,
  cancelOrder: proxyActivities<OrderActivities>(options.cancelOrder).cancelOrder,
  raiseAlert: proxyActivities<OrderActivities>(options.raiseAlert).raiseAlert,
};

/** Levels of automation: the approval, rejection or expiry of a semi-automatic order is journaled (bounded retries; the order goes on without it). */
const approvalJournal = proxyActivities<Pick<SessionActivities, 'recordOperatorAction'>>(SESSION_ACTIVITY_OPTIONS.boundedRecordWrites);

export function failureType(error: unknown): string | null {
  if (error instanceof ActivityFailure) {
    if (error.cause instanceof ApplicationFailure) return error.cause.type ?? 'UNKNOWN';
    if (error.cause instanceof TimeoutFailure) return 'TIMEOUT';
    return 'UNKNOWN';
  }
  if (error instanceof ApplicationFailure) return error.type ?? 'UNKNOWN';
  return null;
}

/** Tells the session that started the order that it ended; a session that is gone changes nothing. */
async function tellSession(input: OrderWorkflowInput, order: Order): Promise<void> {
  const sessionId = input.context.sessionWorkflowId;
  if (!sessionId || !patched(ORDER_PATCHES.finishedSignal)) return;
  try {
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(sessionId).signal(orderFinishedSignal, {
        clientOrderId: order.clientOrderId,
        marketId: order.marketId,
        state: order.state,
        // The session halts on a credentials refusal (only the payload differs: no command changes).
        ...(order.rejectReason?.startsWith('AUTH:') ? { venueFailure: 'AUTH' } : {}),
      }),
    );
  } catch (e) {
    log.warn('could not tell the session that the order ended', { sessionWorkflowId: sessionId, clientOrderId: order.clientOrderId, error: String(e) });
  }
}

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderStatus> {
  let lifecycle: OrderLifecycle | null = null;
  let status: OrderStatus;
  try {
    validateOrderWorkflowInput(input);
    lifecycle = new OrderLifecycle(input, {
      acts,
      syncFillsBeforeRisk,
      waitFor: (until, ms) => condition(until, ms),
      // A timer fails only when cancelled with its workflow; the lifecycle handles that cancellation.
      startTimer: (ms, onFire) => void sleep(ms).then(onFire, () => undefined),
      failureType,
      onStateChange: input.searchAttributes ? (o) => upsertSearchAttributes([{ key: SA_ORDER_STATE, value: o.state }]) : undefined,
      patched,
      nonCancellable: (fn) => CancellationScope.nonCancellable(fn),
      isCancellation,
      continueAsNewSuggested: (events) => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= events,
      log: (message, attributes) => log.warn(message, attributes),
      journal: (action) => approvalJournal.recordOperatorAction(action),
    });
    const order = lifecycle;
    setHandler(cancelOrderSignal, (request) => order.requestCancel(request));
    setHandler(haltOrderSignal, (request) => order.requestHalt(request));
    setHandler(orderStatusQuery, () => order.status());
    // ---- levels of automation: approve / reject a semi-automatic order (a bad payload is refused by the validator, naming the field) ----
    setHandler(approveOrderUpdate, (request) => order.decide('APPROVE', request), { validator: (request) => void validateOperatorRequest(request, 'approve') });
    setHandler(rejectOrderUpdate, (request) => order.decide('REJECT', request), { validator: (request) => void validateOperatorRequest(request, 'reject') });
    // ---- control updates: a validator refuses a bad payload before it enters the history ----
    const cancel = (p: unknown) => validateControlRequest(p, 'cancelOrder');
    const halt = (p: unknown) => validateControlRequest(p, 'haltOrder');
    setHandler(cancelOrderUpdate, (p) => order.cancelUpdate(cancel(p)), { validator: (p) => void cancel(p) });
    setHandler(haltOrderUpdate, async (p) => order.haltUpdate(halt(p)), { validator: (p) => void halt(p) });
    // ---- end of control updates ----
    if (input.searchAttributes) {
      upsertSearchAttributes([
        { key: SA_MARKET, value: input.order.marketId },
        { key: SA_STRATEGY, value: input.context.strategy },
        { key: SA_SIDE, value: input.order.side },
        { key: SA_ORDER_STATE, value: lifecycle.order.state },
      ]);
    }
    status = await lifecycle.run();
  } catch (e) {
    // A business failure must fail the workflow with a typed failure, not retry the task forever.
    const failure = e instanceof DomainError ? ApplicationFailure.nonRetryable(e.message, e.type) : e;
    // The workflow ends here (a task failure would be retried instead): the session must know.
    if (lifecycle !== null && failure instanceof TemporalFailure) await tellSession(input, lifecycle.order);
    throw failure;
  }
  if (lifecycle.continuing) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof orderWorkflow>({ ...input, carry: lifecycle.carry() });
  }
  await tellSession(input, lifecycle.order);
  return status;
}
