/**
 * The order lifecycle as one state-holding object: the Temporal workflow in
 * order-workflow.ts wires it to activities, timers and handlers; tests drive it with fakes.
 *
 * risk check → record → submit (idempotent by client order ID; after an ambiguous failure,
 * look the order up before any resubmission: the one place this protocol lives, the venue
 * client and the submit activity make one attempt each) → follow to a terminal state by polling
 * with backoff → cancel on time-to-live or on request → record execution quality.
 * Every timestamp comes from an activity result; the workflow never reads a clock.
 *
 * Guarantees (docs/design.md, "The order workflow"): a halt or cancel that arrives before the
 * order is sent keeps it from being sent; a cancel that arrives during the submit is sent as soon
 * as the submit returns; an alert never fails the order; any other failure after the submit
 * cancels at the venue before the workflow fails; a long follow continues as new.
 */
import type { AlertLevel, AssessOrderInput, AssessOrderResult, FillSyncResult, LookupResult, OperatorAction, OrderActivities, OrderProgress, SubmitResult } from '../contracts/activities';
import { NO_CONTROL_COUNTS, type ControlOutcome, type ControlRequest, type OperatorRequest, type OrderApprovalAnswer, type OrderApprovalStatus, type OrderCarry, type OrderFollowLimits, type OrderStatus, type OrderWorkflowInput } from './api';
import {
  APPROVAL_JOURNAL_SEQUENCE,
  automationOf,
  describeExpiry,
  formatDuration,
  lateDecisionOutcome,
  type ApprovalDecisionKind,
  type ApprovalOutcome,
} from '../domain/automation';
import { formatDecimal } from '../domain/money';
import { DomainError } from '../domain/errors';
import { executionRecordFromOrder } from '../domain/execution-quality';
import { AlertKey, orderWorkflowId } from '../domain/ids';
import { LOTS_PER_CONTRACT } from '../domain/money';
import {
  applyOrderEvent,
  averageFillPrice,
  canCancel,
  createOrder,
  isTerminal,
  type Order,
  type OrderEvent,
  type VenueOrderStatus,
} from '../domain/order';
import { describeDecision } from '../domain/risk';
import { validateOperatorRequest } from './validation';

/** Failure types after which a submission is final: the venue refused it, or we may not trade. */
const SUBMIT_REFUSED = new Set(['BAD_REQUEST', 'AUTH']);
/** Venue statuses after which the venue makes no more fills for the order. */
const FINAL_VENUE_STATUSES: ReadonlySet<VenueOrderStatus> = new Set(['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED']);

export const POLL_POLICY = { initialMs: 1_000, factor: 2, maxMs: 30_000 } as const;
/**
 * Submissions of one order, the first included, each after a lookup found nothing: the number of
 * times the order can reach the venue's placeOrder (the venue dedupes on the client order ID too).
 */
export const MAX_SUBMIT_ATTEMPTS = 5;
/** Wait before a resubmission, after the n-th submission: 1 s, 2 s, 4 s, 8 s (ORDER_PATCHES.submitProtocol). */
export const RESUBMIT_POLICY = { initialMs: 1_000, factor: 2, maxMs: 30_000 } as const;
/** Wait between lookups when the venue cannot answer whether it has the order. */
export const LOOKUP_RETRY_MS = 60_000;
/** How long a cancel update waits for the order to reach the point where the cancel is sent (or it is stopped) before it answers. */
const CONTROL_ANSWER_WAIT_MS = 20_000;

/**
 * Defaults of OrderFollowLimits. 10 000 events is a fifth of Temporal's hard limit; at the
 * 30-second poll cap an order reaches it after about seven hours. A venue that confirms a cancel
 * takes seconds: five minutes without it is worth a person's attention.
 */
export const FOLLOW_LIMITS: Required<OrderFollowLimits> = {
  historyEvents: 10_000,
  pollMaxMs: POLL_POLICY.maxMs,
  unresolvedAfterMs: 5 * 60_000,
  unresolvedPollMaxMs: 5 * 60_000,
};

/**
 * Behaviour added after order histories were recorded, by patched() id. The workflow answers
 * patched(id) where the commands would first differ, so a history recorded before the change
 * replays the old way; without a workflow (tests, drills) every change applies.
 */
export const ORDER_PATCHES = {
  /** A halt or cancel before the order is sent stops it; a cancel during the submit goes out as soon as it returns. */
  stopUnsent: 'order-stop-unsent',
  /** An alert that cannot be sent is logged and counted; the order goes on. */
  alertFailureContinues: 'order-alert-failure-continues',
  /** A failure after the submit cancels at the venue (best effort) before the workflow fails. */
  cancelOnFailure: 'order-cancel-on-failure',
  /** The history of a long follow is bounded by continue-as-new. */
  continueAsNew: 'order-continue-as-new',
  /** A cancel the venue leaves unanswered raises one HIGH alert, then polls slow down. */
  unresolvedCancel: 'order-unresolved-cancel',
  /** The session hears when its order ends (order-workflow.ts). */
  finishedSignal: 'order-finished-signal',
  /**
   * One submission protocol: a resubmission waits RESUBMIT_POLICY first (a halt or cancel meanwhile
   * stops it), and lookups the venue cannot answer continue as new when the history is long.
   * The activity and the venue client no longer resubmit on their own.
   */
  submitProtocol: 'order-submit-protocol',
  /**
   * Venue fills are synced by a step of their own (`syncFills`) before the risk check and before
   * each poll, which then only read; a final status is confirmed by one more sync and poll.
   */
  fillSyncStep: 'order-fill-sync-step',
  /**
   * Levels of automation: a semi-automatic order (input.automation) waits for an approval after its
   * risk check, runs the check again when approved, and expires unsent past its deadline.
   */
  approval: 'order-approval',
} as const;
export type OrderPatch = (typeof ORDER_PATCHES)[keyof typeof ORDER_PATCHES];

/** Wait before the resubmission that follows the n-th submission. */
export function resubmitDelay(submissions: number): number {
  return Math.min(RESUBMIT_POLICY.initialMs * RESUBMIT_POLICY.factor ** Math.max(0, submissions - 1), RESUBMIT_POLICY.maxMs);
}

export interface LifecycleEnv {
  acts: OrderActivities;
  /** The fill sync before the risk check, which gives up as the risk check does; absent: `acts.syncFills`. */
  syncFillsBeforeRisk?(): Promise<FillSyncResult>;
  /** Durable wait: resolves true as soon as `until()` holds, false after `ms`. */
  waitFor(until: () => boolean, ms: number): Promise<boolean>;
  /** Starts a durable timer that calls `onFire` when it expires. */
  startTimer(ms: number, onFire: () => void): void;
  /** Stable type of an activity failure (the ApplicationFailure type, 'TIMEOUT', ...), or null. */
  failureType(error: unknown): string | null;
  /** Called after every state change (search attributes). */
  onStateChange?(order: Order): void;
  /** Whether this run takes a change (patched() in the workflow); absent: every change applies. */
  patched?(id: OrderPatch): boolean;
  /** Runs `fn` even when the workflow is being cancelled; absent: runs it plainly. */
  nonCancellable?<T>(fn: () => Promise<T>): Promise<T>;
  /** The error is the workflow's own cancellation (never swallowed). */
  isCancellation?(error: unknown): boolean;
  /** Whether the history is due to continue as new (server's suggestion, or `events` reached); absent: never. */
  continueAsNewSuggested?(events: number): boolean;
  /** Operational log (the workflow logger). */
  log?(message: string, attributes: Record<string, unknown>): void;
  /** Writes a journal row (approvals, rejections, expiries of semi-automatic orders); absent: nothing is journaled. */
  journal?(action: OperatorAction): Promise<void>;
}

/** An operator's decision on a waiting order, and the answer its update handler waits for. */
interface PendingDecision extends OperatorRequest {
  kind: ApprovalDecisionKind;
  answered: (answer: OrderApprovalAnswer) => void;
}

export class OrderLifecycle {
  order: Order;
  private cancelRequest: OperatorRequest | null = null;
  private haltRequest: OperatorRequest | null = null;
  private ttlExpired = false;
  private ttlDeadline: number | null = null;
  private cancelSent = false;
  private cancelSentAt: number | null = null;
  private unresolvedAlerted = false;
  /** The submit request may have left: from here on a failure must cancel at the venue. */
  private submitSent = false;
  private submitAttempts = 0;
  /** Whether this run takes ORDER_PATCHES.submitProtocol; null until first asked. */
  private submitProtocol: boolean | null = null;
  /** Whether this run takes ORDER_PATCHES.fillSyncStep; null until first asked. */
  private fillSyncStep: boolean | null = null;
  private polls = 0;
  private alertFailures = 0;
  private continuedRuns = 0;
  private lastSeenAt: number;
  private riskCheckedAt: number | null = null;
  private readonly limits: Required<OrderFollowLimits>;
  /** Set when run() stopped to continue as new: the workflow hands carry() to the next run. */
  continuing = false;
  /** Signals refused for bad payloads, newest last, bounded. */
  readonly refusedSignals: string[] = [];
  /** Levels of automation: where a semi-automatic order stands with its approval. */
  private approval: Pick<OrderApprovalStatus, 'phase' | 'deadlineAt' | 'decision' | 'outcome'> = { phase: 'NOT_REQUIRED', deadlineAt: null, decision: null, outcome: null };
  private pendingDecision: PendingDecision | null = null;

  constructor(
    readonly input: OrderWorkflowInput,
    private readonly env: LifecycleEnv,
  ) {
    this.limits = { ...FOLLOW_LIMITS, ...input.limits };
    const carry = input.carry;
    if (carry === undefined) {
      this.order = createOrder({ ...input.order, ts: input.context.signal.at });
      this.lastSeenAt = input.context.signal.at;
      return;
    }
    this.order = carry.order;
    this.cancelRequest = carry.cancelRequest;
    this.haltRequest = carry.haltRequest;
    this.ttlExpired = carry.ttlExpired;
    this.ttlDeadline = carry.ttlDeadline;
    this.cancelSentAt = carry.cancelSentAt;
    this.cancelSent = carry.cancelSentAt !== null;
    this.unresolvedAlerted = carry.unresolvedAlerted;
    this.submitSent = true;
    this.lastSeenAt = carry.lastSeenAt;
    this.riskCheckedAt = carry.riskCheckedAt;
    this.submitAttempts = carry.submitAttempts;
    this.polls = carry.polls;
    this.alertFailures = carry.alertFailures;
    this.continuedRuns = carry.continuedRuns;
  }

  /** Signal handler: cancel on an operator's request. A bad payload is refused, not applied. */
  requestCancel(request: unknown): void {
    const valid = this.validRequest(request, 'cancel');
    if (valid !== null && this.cancelRequest === null) this.cancelRequest = valid;
  }

  /** Signal handler: trading halted. An order not yet sent is never sent; a working one keeps working. */
  requestHalt(request: unknown): void {
    const valid = this.validRequest(request, 'halt');
    if (valid !== null && this.haltRequest === null) this.haltRequest = valid;
  }

  // ---- control updates (cancelOrder, haltOrder): apply, then answer what became of the order ----
  // The payload was checked by the update's validator (validateControlRequest).

  /** Cancel with an answer: an order already final is REFUSED; one not yet sent never is; a working one is cancelled at the venue. */
  async cancelUpdate(req: ControlRequest): Promise<ControlOutcome> {
    if (isTerminal(this.order)) return this.answer('CANCEL_ORDER', req, 'REFUSED', `the order is already ${this.order.state}: nothing to cancel`, {});
    this.cancelRequest ??= { operator: req.operator, reason: req.reason };
    if (!this.submitSent) {
      await this.env.waitFor(() => isTerminal(this.order) || this.submitSent, CONTROL_ANSWER_WAIT_MS);
      if (!this.submitSent) return this.answer('CANCEL_ORDER', req, 'APPLIED', 'not yet sent to the venue: it never will be', { ordersNotSent: 1 });
    }
    await this.env.waitFor(() => isTerminal(this.order) || this.cancelSent, CONTROL_ANSWER_WAIT_MS);
    if (this.cancelSent) return this.answer('CANCEL_ORDER', req, 'APPLIED', 'cancel sent to the venue', { ordersCancelled: 1 });
    if (isTerminal(this.order)) return this.answer('CANCEL_ORDER', req, 'APPLIED', `the order ended ${this.order.state} before the cancel went out`, {});
    return this.answer('CANCEL_ORDER', req, 'APPLIED', `cancel requested; it goes out once the venue answers the submission (now ${this.order.state})`, {});
  }

  /** Halt with an answer: an order not yet sent never is; a working one keeps working (a halt stops only what has not left). */
  haltUpdate(req: ControlRequest): ControlOutcome {
    if (isTerminal(this.order)) return this.answer('HALT_ORDER', req, 'APPLIED', `already ${this.order.state}: nothing to stop`, {});
    this.haltRequest ??= { operator: req.operator, reason: req.reason };
    if (!this.submitSent) return this.answer('HALT_ORDER', req, 'APPLIED', 'not yet sent to the venue: it never will be', { ordersNotSent: 1 });
    return this.answer('HALT_ORDER', req, 'APPLIED', `already at the venue (${this.order.state}): keeps working; cancel it to take it off`, { ordersKeptWorking: 1 });
  }

  private answer(
    action: 'CANCEL_ORDER' | 'HALT_ORDER',
    req: ControlRequest,
    outcome: ControlOutcome['outcome'],
    reason: string,
    counts: Partial<Pick<ControlOutcome, 'ordersNotSent' | 'ordersCancelled' | 'ordersKeptWorking'>>,
  ): ControlOutcome {
    return {
      outcome,
      action,
      workflowId: orderWorkflowId(this.order.clientOrderId),
      reason,
      journalKey: req.journalKey ?? null,
      ...NO_CONTROL_COUNTS,
      ...counts,
      stateAfter: this.order.state,
    };
  }

  private validRequest(request: unknown, signal: string): OperatorRequest | null {
    try {
      return validateOperatorRequest(request, signal);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      this.refusedSignals.push(e.message);
      if (this.refusedSignals.length > 20) this.refusedSignals.shift();
      return null;
    }
  }

  status(): OrderStatus {
    const o = this.order;
    return {
      clientOrderId: o.clientOrderId,
      marketId: o.marketId,
      side: o.side,
      state: o.state,
      quantity: o.quantity,
      filledQuantity: o.filledQuantity,
      averageFillPrice: averageFillPrice(o),
      fees: o.fees,
      venueOrderId: o.venueOrderId,
      rejectReason: o.rejectReason,
      cancelRequested: this.cancelRequest,
      haltRequested: this.haltRequest,
      fills: o.fills,
      timings: {
        riskCheckedAt: this.riskCheckedAt,
        submittedAt: o.timestamps.PENDING_SUBMIT ?? null,
        acknowledgedAt: o.timestamps.SUBMITTED ?? o.timestamps.PARTIALLY_FILLED ?? o.timestamps.FILLED ?? null,
        firstFillAt: o.fills[0]?.receivedAt ?? null,
        completedAt: isTerminal(o) ? (o.timestamps[o.state] ?? null) : null,
      },
      submitAttempts: this.submitAttempts,
      polls: this.polls,
      alertFailures: this.alertFailures,
      continuedRuns: this.continuedRuns,
      refusedSignals: [...this.refusedSignals],
      ...(this.approval.phase !== 'NOT_REQUIRED' ? { approval: { ...this.approval, limitPrice: o.limitPrice, strategy: this.input.context.strategy } } : {}),
    };
  }

  /** The state the next run starts from (after run() returned with `continuing` set). */
  carry(): OrderCarry {
    return {
      order: this.order,
      cancelRequest: this.cancelRequest,
      haltRequest: this.haltRequest,
      ttlExpired: this.ttlExpired,
      ttlDeadline: this.ttlDeadline,
      cancelSentAt: this.cancelSentAt,
      unresolvedAlerted: this.unresolvedAlerted,
      lastSeenAt: this.lastSeenAt,
      riskCheckedAt: this.riskCheckedAt,
      submitAttempts: this.submitAttempts,
      polls: this.polls,
      alertFailures: this.alertFailures,
      continuedRuns: this.continuedRuns + 1,
    };
  }

  /**
   * Runs the order to its end (or to a continue-as-new: `continuing`). A failure after the submit
   * request left first cancels at the venue, so no live order outlives its workflow unmanaged.
   */
  async run(): Promise<OrderStatus> {
    try {
      const carry = this.input.carry;
      // A run carried over from an unanswered lookup goes on resolving its submission.
      const sent = carry === undefined ? await this.send() : carry.order.state === 'SUBMIT_UNKNOWN' ? await this.settleSubmission(true) : 'SENT';
      if (sent === 'NOT_SENT') return this.status();
      if (sent === 'CONTINUE') {
        this.continuing = true;
        return this.status();
      }
      if (!isTerminal(this.order)) {
        this.startTtl();
        if ((await this.follow()) === 'CONTINUE') {
          this.continuing = true;
          return this.status();
        }
      }
      await this.finish();
      return this.status();
    } catch (e) {
      if (this.submitSent && !isTerminal(this.order) && this.patched(ORDER_PATCHES.cancelOnFailure)) await this.cancelAfterFailure(e);
      throw e;
    }
  }

  /** Risk check, record, submit. NOT_SENT when the order ended before the venue stage (nothing to finish). */
  private async send(): Promise<'SENT' | 'NOT_SENT' | 'CONTINUE'> {
    const { acts } = this.env;
    const { context } = this.input;

    const request = { order: this.input.order, context, halted: this.input.halted, ordersInLastMinute: this.input.ordersInLastMinute };
    let decision;
    try {
      if (this.syncsFillsAsStep()) {
        await (this.env.syncFillsBeforeRisk ? this.env.syncFillsBeforeRisk() : acts.syncFills());
        decision = await acts.assessOrder(request, { syncFills: false });
      } else {
        decision = await acts.assessOrder(request);
      }
    } catch (e) {
      // The risk check could not run (venue or records unavailable past every retry, its fill
      // sync included): nothing was sent, so the order ends rejected and recorded instead of
      // failing without a trace.
      const type = this.env.failureType(e);
      if (type === null) throw e;
      const reason = `risk check could not run (${type}); nothing was sent`;
      this.apply({ type: 'OrderRejected', reason, ts: context.signal.at });
      await acts.recordOrder(this.order, context);
      await this.alert('MEDIUM', 'RISK_CHECK_FAILED', 'Order not sent: the risk check could not run', reason);
      return 'NOT_SENT';
    }
    this.riskCheckedAt = decision.at;
    this.lastSeenAt = decision.at;
    if (!decision.approved) {
      this.apply({ type: 'OrderRejected', reason: describeDecision({ approved: false, violations: decision.violations }), ts: decision.at });
      await acts.recordOrder(this.order, context);
      return 'NOT_SENT';
    }
    await acts.recordOrder(this.order, context);

    let clearedAt = decision.at;
    if (this.awaitsApproval()) {
      const approved = await this.awaitApproval(request);
      if (approved === 'NOT_SENT') return 'NOT_SENT';
      clearedAt = approved.at;
    }
    this.apply({ type: 'OrderSubmitRequested', ts: clearedAt });
    await acts.recordOrder(this.order, context);
    const sent = await this.settleSubmission(false);
    // Sent: the venue's answer (or a halt that arrived during the second risk check) is in the state and reason.
    if (this.approval.phase === 'APPROVED') this.answerDecision('SUBMITTED', this.order.rejectReason);
    return sent;
  }

  // ---- levels of automation: the approval of a semi-automatic order ----

  /** Update handler (approve / reject; the validator has checked the request): answers once the decision has been acted on. */
  decide(kind: ApprovalDecisionKind, request: unknown): Promise<OrderApprovalAnswer> {
    const valid = validateOperatorRequest(request, kind === 'APPROVE' ? 'approve' : 'reject');
    if (this.approval.phase !== 'AWAITING' || this.pendingDecision !== null) {
      const outcome = this.pendingDecision !== null ? 'ALREADY_DECIDED' : lateDecisionOutcome(this.approval.phase);
      return Promise.resolve(this.approvalAnswer(outcome, null));
    }
    return new Promise((answered) => {
      this.pendingDecision = { kind, ...valid, answered };
    });
  }

  /** Whether this order waits for an approval: semi-automatic, in a run that takes ORDER_PATCHES.approval. */
  private awaitsApproval(): boolean {
    return automationOf(this.input.automation).level === 'semi-auto' && this.patched(ORDER_PATCHES.approval);
  }

  private approvalAnswer(outcome: ApprovalOutcome, reason: string | null): OrderApprovalAnswer {
    return { clientOrderId: this.order.clientOrderId, outcome, state: this.order.state, reason };
  }

  private answerDecision(outcome: ApprovalOutcome, reason: string | null): void {
    this.approval.outcome = outcome;
    const pending = this.pendingDecision;
    if (pending !== null) pending.answered(this.approvalAnswer(outcome, reason));
  }

  /**
   * Waits, durably, for an operator's approval. Approved: the risk check runs again (the world may
   * have moved) and its decision is returned when it passes. Rejected, refused by the risk check,
   * expired past the deadline, halted or cancelled: the order ends unsent (REJECTED, or EXPIRED for
   * the deadline: CREATED -> EXPIRED is the state machine's "our time-to-live ran out before the
   * order reached the venue") and NOT_SENT is returned. Each decision and expiry is journaled once,
   * under the order's workflow ID.
   */
  private async awaitApproval(request: AssessOrderInput): Promise<AssessOrderResult | 'NOT_SENT'> {
    const { acts } = this.env;
    const { context } = this.input;
    const coid = this.order.clientOrderId;
    const timeoutMs = automationOf(this.input.automation).approvalTimeoutMs;
    const deadlineAt = this.lastSeenAt + timeoutMs;
    this.approval = { phase: 'AWAITING', deadlineAt, decision: null, outcome: null };
    const o = this.order;
    await this.alert(
      'HIGH',
      'ORDER_AWAITING_APPROVAL',
      'Order awaits approval',
      `${o.side} ${o.quantity} ${o.marketId} at ${o.limitPrice === null ? 'market' : formatDecimal(o.limitPrice)} (strategy ${context.strategy}). ` +
        `Approve or reject within ${formatDuration(timeoutMs)}: durable-trader approve ${coid} --reason "..." (or reject); unapproved, it expires unsent.`,
    );
    await this.env.waitFor(() => this.pendingDecision !== null || this.cancelRequest !== null || this.haltRequest !== null, timeoutMs);

    const decision = this.pendingDecision;
    if (decision === null) {
      if (this.stoppedBeforeSending()) {
        this.approval.phase = 'STOPPED';
        await acts.recordOrder(this.order, context);
        return 'NOT_SENT';
      }
      this.approval.phase = 'EXPIRED';
      this.approval.outcome = 'EXPIRED';
      this.apply({ type: 'OrderExpired', ts: deadlineAt });
      await acts.recordOrder(this.order, context);
      await this.journalDecision('ORDER_EXPIRED', { operator: 'system', reason: describeExpiry(timeoutMs) }, { outcome: 'EXPIRED' });
      return 'NOT_SENT';
    }
    this.approval.decision = { kind: decision.kind, operator: decision.operator, reason: decision.reason };
    if (decision.kind === 'REJECT') {
      this.approval.phase = 'REJECTED';
      const reason = `rejected by ${decision.operator}: ${decision.reason}`;
      await this.journalDecision('ORDER_REJECTED', decision, { outcome: 'REJECTED' });
      this.apply({ type: 'OrderRejected', reason, ts: this.lastTs() });
      await acts.recordOrder(this.order, context);
      this.answerDecision('REJECTED', reason);
      return 'NOT_SENT';
    }
    this.approval.phase = 'APPROVED';
    const again = await this.assess(request);
    if (again === 'UNAVAILABLE' || !again.approved) {
      const why = again === 'UNAVAILABLE' ? 'the risk check could not run' : describeDecision({ approved: false, violations: again.violations });
      const reason = `approved by ${decision.operator}, then refused by the risk check at approval: ${why}`;
      await this.journalDecision('ORDER_APPROVED', decision, { outcome: 'REFUSED_BY_RISK' });
      this.apply({ type: 'OrderRejected', reason, ts: again === 'UNAVAILABLE' ? this.lastTs() : again.at });
      await acts.recordOrder(this.order, context);
      this.answerDecision('REFUSED_BY_RISK', reason);
      return 'NOT_SENT';
    }
    this.riskCheckedAt = again.at;
    this.lastSeenAt = again.at;
    // A halt or cancel that arrived while the check ran again came first: nothing is sent.
    if (this.stoppedBeforeSending()) {
      this.approval.phase = 'STOPPED';
      await this.journalDecision('ORDER_APPROVED', decision, { outcome: 'STOPPED' });
      await acts.recordOrder(this.order, context);
      this.answerDecision('ALREADY_DECIDED', this.order.rejectReason);
      return 'NOT_SENT';
    }
    await this.journalDecision('ORDER_APPROVED', decision, { outcome: 'SUBMITTED' });
    return again;
  }

  /** The pre-trade risk check (with its fill sync first); UNAVAILABLE when it could not run past its retries. */
  private async assess(request: AssessOrderInput): Promise<AssessOrderResult | 'UNAVAILABLE'> {
    const { acts } = this.env;
    try {
      await (this.env.syncFillsBeforeRisk ? this.env.syncFillsBeforeRisk() : acts.syncFills());
      return await acts.assessOrder(request, { syncFills: false });
    } catch (e) {
      if (this.env.failureType(e) === null || this.env.isCancellation?.(e)) throw e;
      return 'UNAVAILABLE';
    }
  }

  /** One journal row per order (its workflow ID, sequence 1): a retried write adds nothing. One that cannot be written is logged; the order goes on. */
  private async journalDecision(action: OperatorAction['action'], by: OperatorRequest, details: OperatorAction['details']): Promise<void> {
    const journal = this.env.journal;
    if (!journal) return;
    const coid = this.order.clientOrderId;
    try {
      await journal({
        action,
        operator: by.operator,
        reason: by.reason,
        workflowId: orderWorkflowId(coid),
        sequence: APPROVAL_JOURNAL_SEQUENCE,
        details: { ...details, clientOrderId: coid, strategy: this.input.context.strategy, marketId: this.order.marketId },
      });
    } catch (e) {
      if (this.env.failureType(e) === null || this.env.isCancellation?.(e)) throw e;
      this.env.log?.('journal entry could not be written; the order goes on', { clientOrderId: coid, action, failure: this.env.failureType(e) });
    }
  }

  /** Submits (or, `resuming`, goes on looking up) until the venue's answer is known, then records it. */
  private async settleSubmission(resuming: boolean): Promise<'SENT' | 'CONTINUE'> {
    const { acts } = this.env;
    const { context } = this.input;
    if ((await this.submit(resuming)) === 'CONTINUE') return 'CONTINUE';
    if (this.cancelRequest !== null && canCancel(this.order) && this.patched(ORDER_PATCHES.stopUnsent)) {
      // Cancelled while the submit was in flight: the cancel goes out before anything else.
      this.cancelSent = true;
      this.apply({ type: 'OrderCancelRequested', ts: this.lastTs() });
      this.cancelSentAt = (await acts.cancelOrder(this.order.clientOrderId)).at;
    }
    await acts.recordOrder(this.order, context);
    return 'SENT';
  }

  private startTtl(): void {
    // A run carried over from the submission never started the time-to-live: it starts now.
    if (this.input.carry === undefined || this.input.carry.order.state === 'SUBMIT_UNKNOWN') {
      this.ttlDeadline = this.lastTs() + this.input.ttlMs;
      this.env.startTimer(this.input.ttlMs, () => {
        this.ttlExpired = true;
      });
      return;
    }
    if (this.ttlExpired || this.ttlDeadline === null) return;
    const remaining = this.ttlDeadline - this.lastSeenAt;
    if (remaining <= 0) this.ttlExpired = true;
    else
      this.env.startTimer(remaining, () => {
        this.ttlExpired = true;
      });
  }

  private apply(event: OrderEvent): void {
    this.order = applyOrderEvent(this.order, event);
    this.env.onStateChange?.(this.order);
  }

  private patched(id: OrderPatch): boolean {
    return this.env.patched?.(id) ?? true;
  }

  /** Raises an alert. One that cannot be sent after its retries is logged and counted: it never fails the order. */
  private async alert(level: AlertLevel, type: string, title: string, body: string, occasion?: string): Promise<void> {
    const coid = this.order.clientOrderId;
    try {
      await this.env.acts.raiseAlert({ level, type, dedupeKey: AlertKey.order(type, coid, occasion), title: `${title}: ${coid}`, body });
    } catch (e) {
      const failure = this.env.failureType(e);
      if (failure === null || this.env.isCancellation?.(e) || !this.patched(ORDER_PATCHES.alertFailureContinues)) throw e;
      this.alertFailures++;
      this.env.log?.('alert could not be sent; the order goes on', { clientOrderId: coid, level, alertType: type, failure, alertFailures: this.alertFailures });
    }
  }

  /**
   * A halt or cancel that arrived before the order left keeps it from leaving: the order ends
   * REJECTED with the reason (the state machine has no CANCELED before the venue saw it).
   */
  private stoppedBeforeSending(): boolean {
    const stop = this.cancelRequest ?? this.haltRequest;
    if (stop === null || !this.patched(ORDER_PATCHES.stopUnsent)) return false;
    const what = this.cancelRequest !== null ? 'canceled' : 'trading halted';
    this.apply({ type: 'OrderRejected', reason: `${what} before the order was sent: ${stop.reason} (${stop.operator})`, ts: this.lastTs() });
    return true;
  }

  /**
   * Sends the order; never sends again without first asking the venue whether it has it, and
   * never more than MAX_SUBMIT_ATTEMPTS times. `resuming`: a run carried over from an unanswered
   * lookup starts with the lookup. CONTINUE when the history is due to continue as new first.
   */
  private async submit(resuming = false): Promise<'DONE' | 'CONTINUE'> {
    const coid = this.order.clientOrderId;
    for (let lookUpFirst = resuming; ; lookUpFirst = false) {
      if (!lookUpFirst) {
        if (this.stoppedBeforeSending()) return 'DONE';
        if ((await this.submitOnce()) === 'ANSWERED') return 'DONE';
      }
      const lookup = await this.lookupUntilAnswered();
      if (lookup === 'CONTINUE') return 'CONTINUE';
      this.lastSeenAt = lookup.at;
      if (lookup.found) {
        this.apply({ type: 'OrderAccepted', venueOrderId: lookup.venueOrderId, ts: lookup.at });
        return 'DONE';
      }
      this.apply({ type: 'OrderNotFoundAtVenue', ts: lookup.at });
      if (this.submitAttempts >= MAX_SUBMIT_ATTEMPTS) {
        this.apply({ type: 'OrderExpired', ts: lookup.at });
        await this.alert(
          'HIGH',
          'ORDER_UNRESOLVED',
          'Order abandoned after repeated ambiguous submissions',
          `${this.submitAttempts} submissions of ${coid} failed ambiguously and the venue has no order under that client order ID; nothing is working.`,
        );
        return 'DONE';
      }
      if (this.singleSubmitProtocol()) await this.env.waitFor(() => this.cancelRequest !== null || this.haltRequest !== null, resubmitDelay(this.submitAttempts));
    }
  }

  /** One submission. ANSWERED: the venue accepted or refused it; AMBIGUOUS: only a lookup can tell. */
  private async submitOnce(): Promise<'ANSWERED' | 'AMBIGUOUS'> {
    this.submitAttempts++;
    this.submitSent = true;
    let r: SubmitResult;
    try {
      r = await this.env.acts.submitOrder(this.input.order);
    } catch (e) {
      const type = this.env.failureType(e);
      if (type !== null && SUBMIT_REFUSED.has(type)) {
        const reason = `${type}: ${e instanceof Error ? e.message : String(e)}`;
        this.apply({ type: 'OrderRejected', reason, ts: this.order.timestamps.PENDING_SUBMIT ?? 0 });
        if (type === 'AUTH') await this.alert('CRITICAL', 'VENUE_AUTH', 'Venue refused our credentials', reason);
        else await this.alert('MEDIUM', 'ORDER_REJECTED', 'Order rejected by the venue', reason);
        return 'ANSWERED';
      }
      // Any other failure (a lost answer, a timeout, a worker that died mid-call) may hide a placed order.
      this.apply({ type: 'OrderSubmitAmbiguous', reason: type ?? 'UNKNOWN', ts: this.order.timestamps.PENDING_SUBMIT ?? 0 });
      await this.env.acts.recordOrder(this.order, this.input.context);
      return 'AMBIGUOUS';
    }
    // Outside the try: a failure after the answer (an alert) is not an ambiguous submission.
    this.lastSeenAt = r.at;
    if (r.outcome === 'REJECTED') {
      this.apply({ type: 'OrderRejected', reason: r.reason, ts: r.at });
      await this.alert('MEDIUM', 'ORDER_REJECTED', 'Order rejected by the venue', r.reason);
      return 'ANSWERED';
    }
    this.apply({ type: 'OrderAccepted', venueOrderId: r.venueOrderId, ts: r.at });
    return 'ANSWERED';
  }

  /** Whether this run takes ORDER_PATCHES.submitProtocol: asked once, where the commands first differ, and kept for the run. */
  private singleSubmitProtocol(): boolean {
    this.submitProtocol ??= this.patched(ORDER_PATCHES.submitProtocol);
    return this.submitProtocol;
  }

  /**
   * The venue must answer before anything is resubmitted; while it cannot, wait and alert once
   * (per run). CONTINUE when the history is due to continue as new (ORDER_PATCHES.submitProtocol).
   */
  private async lookupUntilAnswered(): Promise<LookupResult | 'CONTINUE'> {
    let alerted = false;
    for (;;) {
      try {
        return await this.env.acts.lookupOrder(this.order.clientOrderId);
      } catch (e) {
        if (!alerted) {
          alerted = true;
          await this.alert(
            'CRITICAL',
            'ORDER_UNRESOLVED',
            'Cannot tell whether the venue has an order',
            `Lookup of ${this.order.clientOrderId} after an ambiguous submission failed (${this.env.failureType(e) ?? 'unknown'}); it will not be resubmitted until the venue answers.`,
          );
        }
        await this.env.waitFor(() => false, LOOKUP_RETRY_MS);
        if (this.env.continueAsNewSuggested?.(this.limits.historyEvents) && this.singleSubmitProtocol()) return 'CONTINUE';
      }
    }
  }

  /** Polls to a terminal state, cancelling on request or time-to-live; 'CONTINUE' when the history is due to continue as new. */
  private async follow(): Promise<'ENDED' | 'CONTINUE'> {
    const { acts } = this.env;
    let delay: number = POLL_POLICY.initialMs;
    while (!isTerminal(this.order)) {
      if ((this.cancelRequest !== null || this.ttlExpired) && !this.cancelSent && canCancel(this.order)) {
        this.cancelSent = true;
        this.apply({ type: 'OrderCancelRequested', ts: this.lastTs() });
        await acts.recordOrder(this.order, this.input.context);
        this.cancelSentAt = (await acts.cancelOrder(this.order.clientOrderId)).at;
        delay = POLL_POLICY.initialMs;
      } else {
        await this.env.waitFor(() => !this.cancelSent && (this.cancelRequest !== null || this.ttlExpired), delay);
      }
      const before = this.order;
      const progress = await this.poll();
      this.lastSeenAt = progress.at;
      const anomalies = this.absorb(progress);
      this.polls++;
      for (const a of anomalies) await this.alert('CRITICAL', 'FILL_ANOMALY', 'A fill does not fit its order', a);
      if (this.order !== before) {
        await acts.recordOrder(this.order, this.input.context);
        delay = POLL_POLICY.initialMs;
      } else {
        delay = Math.min(delay * POLL_POLICY.factor, this.unresolvedAlerted ? this.limits.unresolvedPollMaxMs : this.limits.pollMaxMs);
      }
      if (isTerminal(this.order)) break;
      await this.alertIfCancelUnanswered(progress);
      if (this.env.continueAsNewSuggested?.(this.limits.historyEvents) && this.patched(ORDER_PATCHES.continueAsNew)) return 'CONTINUE';
    }
    return 'ENDED';
  }

  /**
   * The order's status at the venue and its fills in the ledger. Under ORDER_PATCHES.fillSyncStep
   * the fills are synced by a step of their own first; a sync that cannot succeed fails the
   * follow as the poll that synced itself did. The poll then reads the status after the sync, so
   * a fill made between the two is missing from a final status it reports (FILLED, or CANCELED
   * after a last partial fill): such a status is read again after one more sync, which holds every
   * fill made before it (a final status does not change).
   */
  private async poll(): Promise<OrderProgress> {
    const { acts } = this.env;
    const coid = this.order.clientOrderId;
    if (!this.syncsFillsAsStep()) return acts.pollOrder(coid);
    await acts.syncFills();
    const progress = await acts.pollOrder(coid, { syncFills: false });
    if (!this.mayMissFills(progress)) return progress;
    await acts.syncFills();
    return acts.pollOrder(coid, { syncFills: false });
  }

  /** A final venue status with fills short of the order: fills made just before it may not be synced yet. */
  private mayMissFills(progress: OrderProgress): boolean {
    if (progress.status === null || !FINAL_VENUE_STATUSES.has(progress.status)) return false;
    // In hundredths, so fractional fills compare exactly; never throws on a malformed fill (absorb reports those).
    const filledLots = progress.fills.reduce((lots, f) => lots + Math.round(f.quantity * LOTS_PER_CONTRACT), 0);
    return filledLots < this.order.quantity * LOTS_PER_CONTRACT;
  }

  /** Whether this run takes ORDER_PATCHES.fillSyncStep: asked once, before the first call that syncs (risk check or poll), and kept for the run. */
  private syncsFillsAsStep(): boolean {
    this.fillSyncStep ??= this.patched(ORDER_PATCHES.fillSyncStep);
    return this.fillSyncStep;
  }

  /** Our cancel went out long ago and the venue still reports the order live: a person must look, once. */
  private async alertIfCancelUnanswered(progress: OrderProgress): Promise<void> {
    const at = progress.at;
    if (this.unresolvedAlerted || this.cancelSentAt === null || at - this.cancelSentAt < this.limits.unresolvedAfterMs) return;
    if (!this.patched(ORDER_PATCHES.unresolvedCancel)) return;
    this.unresolvedAlerted = true;
    await this.alert(
      'HIGH',
      'ORDER_UNRESOLVED',
      'The venue has not confirmed a cancel',
      `The venue reports ${this.order.clientOrderId} as ${progress.status ?? 'unknown'} ${Math.round((at - this.cancelSentAt) / 1000)} s after our cancel (${this.order.filledQuantity} of ${this.order.quantity} filled); polling goes on every ${Math.round(this.limits.unresolvedPollMaxMs / 1000)} s at most. Check the order at the venue.`,
      'cancel',
    );
  }

  /**
   * After an unexpected failure with the order possibly live: cancel at the venue, record what is
   * known and raise a CRITICAL alert, each step on its own, even while the workflow is being
   * cancelled. The workflow then fails with the original error.
   */
  private async cancelAfterFailure(cause: unknown): Promise<void> {
    const { acts } = this.env;
    const coid = this.order.clientOrderId;
    const why = this.env.failureType(cause) ?? (cause instanceof Error ? cause.name : 'unknown');
    const problems: string[] = [];
    const step = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        problems.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
        this.env.log?.(`order failure handling: ${name} failed`, { clientOrderId: coid, error: String(e) });
      }
    };
    let answer = 'no answer';
    const run = async () => {
      await step('cancel', async () => {
        if (canCancel(this.order)) this.apply({ type: 'OrderCancelRequested', ts: this.lastTs() });
        const r = await acts.cancelOrder(coid);
        answer = r.status ?? 'unknown to the venue';
      });
      await step('record', () => acts.recordOrder(this.order, this.input.context));
      await step('alert', async () => {
        await acts.raiseAlert({
          level: 'CRITICAL',
          type: 'ORDER_WORKFLOW_FAILED',
          dedupeKey: AlertKey.order('ORDER_WORKFLOW_FAILED', coid),
          title: `Order workflow failed; cancel sent to the venue: ${coid}`,
          body: `The workflow of ${coid} failed (${why}: ${cause instanceof Error ? cause.message : String(cause)}) while the order was ${this.order.state}. A cancel was sent; the venue answered ${answer}. Fills after the last poll may be missing from the order record: reconcile.${problems.length > 0 ? ` Also failed: ${problems.join('; ')}` : ''}`,
        });
      });
    };
    await (this.env.nonCancellable ? this.env.nonCancellable(run) : run());
  }

  /**
   * Applies what the venue reported: new fills (exactly once, by trade ID), then a final status.
   * Returns the fills that do not fit the order (the ledger has them; a person must look).
   */
  private absorb(progress: OrderProgress): string[] {
    const anomalies: string[] = [];
    const known = new Set(this.order.fills.map((f) => f.tradeId));
    for (const fill of progress.fills) {
      if (known.has(fill.tradeId)) continue;
      try {
        this.apply({ type: 'OrderFilled', fill, ts: progress.at });
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        anomalies.push(`${fill.tradeId}: ${e.message}`);
      }
    }
    if (isTerminal(this.order)) return anomalies;
    switch (progress.status) {
      case 'CANCELED':
        this.apply({ type: 'OrderCanceled', ts: progress.at });
        break;
      case 'EXPIRED':
        this.apply({ type: 'OrderExpired', ts: progress.at });
        break;
      case 'REJECTED':
        this.apply({ type: 'OrderRejected', reason: progress.rejectReason ?? 'rejected by the venue', ts: progress.at });
        break;
      default:
        // OPEN / PARTIALLY_FILLED / FILLED: fills drive the state; FILLED without all fills waits for them.
        break;
    }
    return anomalies;
  }

  private lastTs(): number {
    return Math.max(0, ...Object.values(this.order.timestamps).filter((t): t is number => typeof t === 'number'));
  }

  private async finish(): Promise<void> {
    const { acts } = this.env;
    const o = this.order;
    await acts.recordOrder(o, this.input.context);
    if (o.timestamps.PENDING_SUBMIT !== undefined) {
      await acts.recordExecution(executionRecordFromOrder(o, { intendedPrice: this.input.context.signal.price, signalAt: this.input.context.signal.at }));
    }
    if (o.filledQuantity > 0 && o.filledQuantity < o.quantity) {
      await this.alert('LOW', 'PARTIAL_FILL', 'Order ended partly filled', `${o.filledQuantity} of ${o.quantity} filled; final state ${o.state}.`);
    }
  }
}
