/**
 * Names shared by workflows, the worker and clients: task queue, workflow inputs, signals,
 * queries and search attributes. Sandbox-safe: clients import it too.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { MarketWarmth, OperatorAction, OrderContext, OrderIntent, PreflightCheck, SessionSnapshot } from '../contracts/activities';
import type { BreakerConfig, BreakerState, BreakerStatus, BreakerTrip } from '../domain/breakers';
import type { ReconciliationPolicy } from '../domain/reconciliation';
import type { Price, Quantity, Money } from '../domain/money';
import type { Order, OrderState, RecordedFill } from '../domain/order';
import type { ApprovalOutcome, ApprovalPhase, AutomationSettings } from '../domain/automation';

export const TASK_QUEUE = 'durable-trader';

/** Custom search attributes for the Web UI; used only when the worker could register them. */
export const SA_MARKET = defineSearchAttributeKey('TradingMarket', SearchAttributeType.KEYWORD);
export const SA_STRATEGY = defineSearchAttributeKey('TradingStrategy', SearchAttributeType.KEYWORD);
export const SA_SIDE = defineSearchAttributeKey('TradingSide', SearchAttributeType.KEYWORD);
export const SA_ORDER_STATE = defineSearchAttributeKey('TradingOrderState', SearchAttributeType.KEYWORD);
export const ORDER_SEARCH_ATTRIBUTES = [SA_MARKET, SA_STRATEGY, SA_SIDE, SA_ORDER_STATE] as const;

/** Operator identity and reason carried by every control signal; both are required. */
export interface OperatorRequest {
  operator: string;
  reason: string;
}

// ---- order lifecycle ----

export interface OrderWorkflowInput {
  order: OrderIntent;
  context: OrderContext;
  /** Cancel an unfilled or partly filled order after this long (case study: 10 minutes). */
  ttlMs: number;
  halted: string | null;
  ordersInLastMinute: number;
  /** Set by the starter when the server accepted the custom search attributes. */
  searchAttributes: boolean;
  /** Overrides of the following limits (defaults: FOLLOW_LIMITS in order-lifecycle.ts). */
  limits?: OrderFollowLimits;
  /** The lifecycle handed over by continue-as-new; absent on a fresh start. */
  carry?: OrderCarry;
  /** The session's level of automation (semi-auto: the order waits for an approval); absent: full. */
  automation?: AutomationSettings;
}

/** Bounds on following an order the venue is slow to finish (all optional; tests lower them). */
export interface OrderFollowLimits {
  /** Continue as new once the run's history holds this many events (or the server suggests it). */
  historyEvents?: number;
  /** Longest wait between two polls of a working order. */
  pollMaxMs?: number;
  /** How long after our cancel the venue may still report the order live before a HIGH ORDER_UNRESOLVED alert. */
  unresolvedAfterMs?: number;
  /** Longest wait between two polls once that alert went out. */
  unresolvedPollMaxMs?: number;
}

/** Everything the next run needs to go on following a sent order. Times are activity-clock epoch ms. */
export interface OrderCarry {
  order: Order;
  cancelRequest: OperatorRequest | null;
  haltRequest: OperatorRequest | null;
  ttlExpired: boolean;
  /** When the time-to-live runs out; null when it was never started. */
  ttlDeadline: number | null;
  /** When our cancel was answered; null when none was sent. */
  cancelSentAt: number | null;
  unresolvedAlerted: boolean;
  /** The latest time an activity reported: the next run measures the time-to-live from it. */
  lastSeenAt: number;
  riskCheckedAt: number | null;
  submitAttempts: number;
  polls: number;
  alertFailures: number;
  continuedRuns: number;
}

export interface OrderTimings {
  riskCheckedAt: number | null;
  submittedAt: number | null;
  acknowledgedAt: number | null;
  firstFillAt: number | null;
  completedAt: number | null;
}

export interface OrderStatus {
  clientOrderId: string;
  marketId: string;
  side: 'BUY' | 'SELL';
  state: OrderState;
  quantity: Quantity;
  filledQuantity: Quantity;
  averageFillPrice: Price | null;
  fees: Money;
  venueOrderId: string | null;
  rejectReason: string | null;
  cancelRequested: OperatorRequest | null;
  haltRequested: OperatorRequest | null;
  fills: readonly RecordedFill[];
  timings: OrderTimings;
  submitAttempts: number;
  polls: number;
  /** Alerts that could not be sent after their retries (logged; the order went on). */
  alertFailures: number;
  /** Times this order's workflow continued as new. */
  continuedRuns: number;
  /** Signals refused for bad payloads, newest last. */
  refusedSignals: string[];
  /** Where the order stands with its approval (semi-automatic orders; absent from older workflows). */
  approval?: OrderApprovalStatus;
}

/** Cancel this order: before submission it is never sent; during submission it is cancelled as soon as the venue acknowledges it. */
export const cancelOrderSignal = defineSignal<[OperatorRequest]>('cancel');
/** Trading halted (from the session): an order not yet submitted is never sent; a working order keeps working. */
export const haltOrderSignal = defineSignal<[OperatorRequest]>('halt');
export const orderStatusQuery = defineQuery<OrderStatus>('orderStatus');

/**
 * Sent by an order workflow to its session when it ends, so the session releases the market.
 * `state` is final unless the workflow failed (then it is the last known state).
 */
export interface OrderFinished {
  clientOrderId: string;
  marketId: string;
  state: OrderState;
  /** The venue failure type that refused the order ('AUTH': our credentials); absent otherwise and from older orders. */
  venueFailure?: string;
}
export const orderFinishedSignal = defineSignal<[OrderFinished]>('orderFinished');

// ---- trading session ----

export interface SessionWorkflowInput {
  /** Strategy key used in IDs, e.g. "ema-mr". */
  strategy: string;
  strategyName: string;
  strategyParams: Record<string, unknown>;
  tradingDay: string;
  marketIds: string[];
  /** Epoch ms at which the session stops trading, cancels open orders and writes its summary. */
  endOfDayAt: number;
  /** Longest single watch of the market data before the session checks in (bounds history growth). */
  watchPeriodMs: number;
  /** Market data polling interval inside the watch (case study: 30 s). */
  pollIntervalMs: number;
  orderTtlMs: number;
  /** Loss of the day at which the daily-loss breaker trips, in micros (also drives the 50% alert). */
  maxDailyLoss: Money;
  breakers: BreakerConfig;
  searchAttributes: boolean;
  /** History length at which the session continues as new even unprompted (default 8 000; tests lower it). */
  continueAsNewAtEvents?: number;
  /** Working orders when the venue connection comes back after an outage (default 'cancel'; CONNECTION_LOST_POLICY). */
  connectionLostPolicy?: ConnectionLostPolicy;
  /** AUTOMATION_LEVEL and APPROVAL_TIMEOUT; absent (sessions from before levels existed): full automation. */
  automation?: AutomationSettings;
  /** State handed over by continue-as-new; absent on a fresh start. */
  carry?: SessionCarry;
}

export interface SessionCarry {
  breakers: BreakerState;
  strategyState: Record<string, unknown>;
  sequence: number;
  actionSequence: number;
  recentOrderTimes: number[];
  lastAt: number;
  alertedHalfLoss: boolean;
  // Absent from carries handed over before they were added; read as the fresh-start values.
  ordersStarted?: number;
  lastSignalAt?: number | null;
  quoteTimes?: Record<string, number>;
  preflight?: PreflightCheck[] | null;
  refusedSignals?: string[];
  reservations?: Record<string, string>;
  /** Journal entries and breaker changes not yet in the records. */
  pendingJournal?: OperatorAction[];
  pendingBreakerChanges?: PendingBreakerChange[];
  kill?: KillSwitchRequest | null;
  orderNotices?: OrderNotice[];
  unsentAlerts?: string[];
  recordFailures?: string[];
  /** `since` of the last connection outage the session acted on. */
  outageHandled?: number | null;
  /** Working orders still to be cancelled at the venue (a halt with cancelOrders, a connection outage). */
  cancelWorking?: OperatorRequest | null;
  warmth?: Record<string, MarketWarmth>;
  /** Control updates applied with a journal key (absent in carries from before them). */
  appliedControls?: AppliedControl[];
}

/** Breaker trips and lifts waiting to be written (`at` fixed when queued, so a retried write is the same row). */
export interface PendingBreakerChange {
  tripped: BreakerTrip[];
  lifted: BreakerTrip[];
  at: number;
  /**
   * Names this change in the records (run ID and a count), so two changes at the same instant (a
   * halt, a resume and a halt before the next snapshot) are three rows, not one. Absent on
   * changes made by runs from before it existed.
   */
  key?: string;
  trippedRecorded: boolean;
  alerted: boolean;
}

/** What the session still has to tell the order workflows it started: halt them, or cancel them (kill switch). */
export interface OrderNotice {
  signal: 'halt' | 'cancel';
  request: OperatorRequest;
}

/** A halt; `cancelOrders` also cancels the working orders (the kill switch always does). */
export interface HaltRequest extends OperatorRequest {
  cancelOrders?: boolean;
}

/** What the session does with its working orders when the venue connection comes back after an outage. */
export const CONNECTION_LOST_POLICIES = ['cancel', 'keep'] as const;
export type ConnectionLostPolicy = (typeof CONNECTION_LOST_POLICIES)[number];

export interface KillSwitchRequest extends OperatorRequest {
  /** Also send orders that bring every position to zero. */
  flatten?: boolean;
}

export interface DailyResetRequest {
  tradingDay: string;
  /** When that trading day began (epoch ms, in the configured zone): only daily-loss trips from before it are lifted. Absent: all are (older senders). */
  dayStartAt?: number;
}

export interface SessionStatus {
  strategy: string;
  tradingDay: string;
  mode: 'PREFLIGHT' | 'TRADING' | 'HALTED' | 'ENDED';
  breakerStatus: BreakerStatus;
  haltReason: string | null;
  trips: BreakerTrip[];
  preflight: PreflightCheck[] | null;
  snapshot: SessionSnapshot | null;
  ordersStarted: number;
  lastSignalAt: number | null;
  quoteTimes: Record<string, number>;
  refusedSignals: string[];
  /** Market → client order ID of the order the session started there and has not seen end: no second order goes there. */
  reservations: Record<string, string>;
  /** Alerts that could not be sent after their retries, newest last (at most 20). */
  unsentAlerts: string[];
  /** Record writes that failed and wait for another attempt, newest last (at most 20). */
  recordFailures: string[];
  /** Journal entries and breaker changes not yet in the records. */
  unrecorded: number;
  /** Each market's warm-up against what the strategy needs (strategies with a warm-up; absent in sessions from before it). */
  warmth?: Record<string, MarketWarmth>;
  /** Control updates applied with a journal key, newest last (at most 20): each links to the surface's journal row. */
  appliedControls?: AppliedControl[];
}

export const haltSignal = defineSignal<[HaltRequest]>('halt');
export const resumeSignal = defineSignal<[OperatorRequest]>('resume');
export const killSwitchSignal = defineSignal<[KillSwitchRequest]>('killSwitch');
export const dailyResetSignal = defineSignal<[DailyResetRequest]>('dailyReset');
export const sessionStatusQuery = defineQuery<SessionStatus>('sessionStatus');

// ---- operations: reconciliation, daily reset, market resolution, the day's session ----

/**
 * Set by the server on every workflow a Schedule starts: the time the schedule meant (a run that
 * waited for a worker across midnight still belongs to the day it was scheduled for).
 */
export const SA_SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ReconciliationWorkflowInput {
  policy: ReconciliationPolicy;
  /** Remind the operators this often while a halting mismatch waits for their decision. */
  reminderMs: number;
}

export interface ReconciliationDecisionRequest extends OperatorRequest {
  decision: 'ADOPT_VENUE' | 'STAY_HALTED';
}

export interface ReconciliationStatus {
  runId: string;
  phase: 'CHECKING' | 'CLEAN' | 'REPORTED' | 'WAITING_FOR_OPERATOR' | 'DECIDED';
  discrepancies: number;
  summary: string;
  haltedSessions: string[];
  /** The operator's decision: kept from whenever it came, applied once the run waits for it. */
  decision: ReconciliationDecisionRequest | null;
  reminders: number;
  /** Alerts that could not be delivered after their retries (the run carried on without them). */
  undeliveredAlerts: string[];
}

/** The answer to a decision sent as an update. */
export interface ReconciliationDecisionAnswer {
  accepted: true;
  runId: string;
  decision: ReconciliationDecisionRequest['decision'];
  /** The run's phase when the decision arrived: before WAITING_FOR_OPERATOR it is kept and applied if the run halts. */
  phase: ReconciliationStatus['phase'];
}

/** Kept for compatibility: a refused signal is only noted in the run (use the update to get an answer). */
export const reconciliationDecisionSignal = defineSignal<[ReconciliationDecisionRequest]>('reconciliationDecision');
/** The decision with an answer: refused (with the reason) when invalid or when the run already has one. */
export const reconciliationDecisionUpdate = defineUpdate<ReconciliationDecisionAnswer, [ReconciliationDecisionRequest]>('decideReconciliation');
export const reconciliationStatusQuery = defineQuery<ReconciliationStatus>('reconciliationStatus');

export interface DailyResetWorkflowInput {
  /**
   * The trading day that starts with this reset; null (the schedule's case): the day, in the
   * configured time zone, of the time the schedule meant (else the workflow's start time).
   */
  tradingDay: string | null;
}

export interface DailyResetResult {
  tradingDay: string;
  liftedTrips: number;
  sessionsSignalled: number;
  /** False when the report could not be emailed after its retries (the reset itself is done). */
  reportSent: boolean;
  reportProblem: string | null;
}

/** A session input without its day: what the session-start schedule carries (built from the config). */
export type SessionTemplate = Omit<SessionWorkflowInput, 'tradingDay' | 'endOfDayAt' | 'carry'>;

export interface StartDaySessionInput {
  template: SessionTemplate;
  /** IANA zone of the trading day (the config's). */
  timeZone: string;
}

export type StartDaySessionResult =
  | { status: 'STARTED' | 'ALREADY_STARTED'; workflowId: string; tradingDay: string }
  | { status: 'NO_MARKETS'; workflowId: null; tradingDay: string };

// ---- levels of automation: the approval of a semi-automatic order (order-lifecycle.ts) ----

/** A semi-automatic order's approval, as its status query reports it. */
export interface OrderApprovalStatus {
  phase: ApprovalPhase;
  /** When it expires unapproved (activity-clock epoch ms: the risk check's time plus APPROVAL_TIMEOUT); null before it waits. */
  deadlineAt: number | null;
  /** The operator's decision, once taken. */
  decision: (OperatorRequest & { kind: 'APPROVE' | 'REJECT' }) | null;
  outcome: ApprovalOutcome | null;
  /** The order's limit price (null: a market order) and strategy, for the approvals list. */
  limitPrice: Price | null;
  strategy: string;
}

/** What approve and reject answer: the outcome, the order's state then, and why it was refused (when it was). */
export interface OrderApprovalAnswer {
  clientOrderId: string;
  outcome: ApprovalOutcome;
  state: OrderState;
  reason: string | null;
}

/** Approve a semi-automatic order: the risk check runs again, then the order is sent (or refused). Validator: operator and reason. */
export const approveOrderUpdate = defineUpdate<OrderApprovalAnswer, [OperatorRequest]>('approveOrder');
/** Reject a semi-automatic order: it ends REJECTED and is never sent. Validator: operator and reason. */
export const rejectOrderUpdate = defineUpdate<OrderApprovalAnswer, [OperatorRequest]>('rejectOrder');

// ---- operator control with an answer (Workflow Updates; runtime/desk-control.ts sends them) ----

/**
 * An operator request sent as an update. `journalKey`: the row the surface (CLI, dashboard) wrote
 * before acting; the workflow links its own record to it instead of journaling a second row.
 * Absent (older clients, the schedule): the workflow journals the request itself, as for a signal.
 */
export interface ControlRequest extends OperatorRequest {
  journalKey?: string;
}

export interface SessionHaltRequest extends ControlRequest {
  /** Also cancel the session's working orders. */
  cancelOrders?: boolean;
}

export interface SessionKillRequest extends ControlRequest {
  /** Also send orders that bring every position to zero. */
  flatten?: boolean;
}

export const CONTROL_ACTIONS = ['HALT', 'RESUME', 'KILL_SWITCH', 'CANCEL_ORDER', 'HALT_ORDER'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/**
 * What one workflow answered to a control update. APPLIED: the request took effect, or was already
 * in effect (a second halt: `sessionsHalted` 0 and `reason` says so). REFUSED: nothing changed, and
 * `reason` says why (an order already final cannot be cancelled).
 */
export interface ControlOutcome {
  outcome: 'APPLIED' | 'REFUSED';
  action: ControlAction;
  workflowId: string;
  /** What it did, or why it was refused. */
  reason: string;
  journalKey: string | null;
  /** 1 when this request halted a trading session (0: it was halted already, or this is an order). */
  sessionsHalted: number;
  /** 1 when this request lifted a session's halt. */
  sessionsResumed: number;
  /** Orders in flight the session passed the halt or cancel on to (their own answers come from their updates). */
  ordersTold: number;
  /** 1 when an order that had not reached the venue will now never be sent. */
  ordersNotSent: number;
  /** Orders a cancel went to the venue for (the kill switch: every open order of the strategy). */
  ordersCancelled: number;
  /** 1 when a halted order was already working at the venue and keeps working (a halt does not cancel). */
  ordersKeptWorking: number;
  /** The session's halt after the request (null: trading); the order's state for an order. */
  stateAfter: string | null;
}

/** The counts of a control answer that did nothing (yet): each answer starts from these. */
export const NO_CONTROL_COUNTS = Object.freeze({
  sessionsHalted: 0,
  sessionsResumed: 0,
  ordersTold: 0,
  ordersNotSent: 0,
  ordersCancelled: 0,
  ordersKeptWorking: 0,
}) satisfies Partial<ControlOutcome>;

/** An action applied through an update with a journal key, as the session keeps it (newest last, at most 20). */
export interface AppliedControl {
  journalKey: string;
  action: ControlAction;
  operator: string;
  outcome: ControlOutcome['outcome'];
  reason: string;
}

export const haltSessionUpdate = defineUpdate<ControlOutcome, [SessionHaltRequest]>('haltSession');
export const resumeSessionUpdate = defineUpdate<ControlOutcome, [ControlRequest]>('resumeSession');
export const killSwitchUpdate = defineUpdate<ControlOutcome, [SessionKillRequest]>('killSwitchSession');
export const cancelOrderUpdate = defineUpdate<ControlOutcome, [ControlRequest]>('cancelOrder');
export const haltOrderUpdate = defineUpdate<ControlOutcome, [ControlRequest]>('haltOrder');
