/**
 * What the workflows may ask of the outside world. Workflows import these types only
 * (`import type`), so the sandbox never loads activity code; `createActivities` in
 * activities/index.ts must satisfy them. Every payload is plain JSON: money in integer micros,
 * times in epoch milliseconds taken from the activity's clock, never from the workflow.
 */
import type { BreakerMetrics, BreakerTrip } from '../domain/breakers';
import type { Fill } from '../domain/fill';
import type { Side } from '../domain/market';
import type { Money, Price, Quantity } from '../domain/money';
import type { Order, OrderState } from '../domain/order';
import type { RiskViolation } from '../domain/risk';
import type { ExecutionRecord } from '../domain/execution-quality';
import type { FillModelParams } from '../domain/fill-model';
import type { Discrepancy, ReconciliationDecision, ReconciliationPolicy } from '../domain/reconciliation';
import type { VenueOrderStatus } from './venue';
import type { AutomationLevel } from '../domain/automation';

export type AlertLevel = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface AlertRequest {
  level: AlertLevel;
  /** Stable kind, e.g. TRADING_HALTED, RECONCILIATION_MISMATCH; cooldowns are per level and type. */
  type: string;
  /** Made in the workflow from business keys, so a retried activity sends at most one alert. */
  dedupeKey: string;
  title: string;
  body: string;
}

export interface AlertOutcome {
  /** False when the dedupe key was already recorded or the cooldown suppressed it. */
  sent: boolean;
  reason: 'SENT' | 'RECORDED' | 'DUPLICATE' | 'COOLDOWN';
}

/** Who the order belongs to and why it exists: recorded with the order. */
export interface OrderContext {
  strategy: string;
  sessionWorkflowId: string | null;
  tradingDay: string;
  signal: { price: Price; confidence: number; at: number; metadata: Record<string, string | number> };
}

export interface OrderIntent {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  limitPrice: Price | null;
}

export interface AssessOrderInput {
  order: OrderIntent;
  context: OrderContext;
  /** Halt reason known to the session when it started the order, or null. */
  halted: string | null;
  ordersInLastMinute: number;
}

export interface AssessOrderResult {
  approved: boolean;
  violations: RiskViolation[];
  at: number;
}

export type SubmitResult =
  | { outcome: 'ACCEPTED'; venueOrderId: string; status: VenueOrderStatus; at: number }
  | { outcome: 'REJECTED'; reason: string; at: number };

export type LookupResult =
  | { found: true; venueOrderId: string; status: VenueOrderStatus; at: number }
  | { found: false; at: number };

export interface OrderProgress {
  /** Null when the venue does not know the order. */
  venueOrderId: string | null;
  status: VenueOrderStatus | null;
  rejectReason: string | null;
  /** Every fill of this order recorded in the ledger so far (already persisted, exactly once). */
  fills: Fill[];
  at: number;
}

/** How an order activity that reads the ledger treats the venue's fills. */
export interface OrderFillOptions {
  /**
   * False: the order workflow has just run the `syncFills` step and the activity only reads.
   * Absent (orders recorded before that step): it syncs the venue's fills first, as it did.
   */
  syncFills?: boolean;
}

export interface OrderActivities {
  /** Pre-trade risk with the recorded portfolio and a fresh quote; the decision is recorded. */
  assessOrder(input: AssessOrderInput, options?: OrderFillOptions): Promise<AssessOrderResult>;
  /** Inserts the order (idempotent by client order ID) or advances its recorded state. */
  recordOrder(order: Order, context: OrderContext): Promise<void>;
  submitOrder(order: OrderIntent): Promise<SubmitResult>;
  lookupOrder(clientOrderId: string): Promise<LookupResult>;
  /** The same activity as SessionActivities.syncFills: the account's venue fills into the ledger. */
  syncFills(): Promise<FillSyncResult>;
  /** This order's status at the venue and its fills in the ledger (syncing the venue's fills first unless told not to). */
  pollOrder(clientOrderId: string, options?: OrderFillOptions): Promise<OrderProgress>;
  cancelOrder(clientOrderId: string): Promise<{ status: VenueOrderStatus | null; at: number }>;
  recordExecution(record: ExecutionRecord): Promise<void>;
  raiseAlert(alert: AlertRequest): Promise<AlertOutcome>;
}

export interface OperatorAction {
  action: 'HALT' | 'RESUME' | 'KILL_SWITCH' | 'DAILY_RESET' | 'RECONCILIATION_DECISION' | 'SIGNAL_REJECTED' | AutomationAction;
  operator: string;
  reason: string;
  /** The workflow that received it and the sequence of the action there: the idempotency key. */
  workflowId: string;
  sequence: number;
  details: Record<string, string | number | boolean | null>;
}

/** Levels of automation: a session's level when it changed, and each semi-automatic order's approval, rejection or expiry. */
export type AutomationAction = 'AUTOMATION_LEVEL' | 'ORDER_APPROVED' | 'ORDER_REJECTED' | 'ORDER_EXPIRED';

export interface PreflightCheck {
  name: 'VENUE_REACHABLE' | 'MARKET_DATA_FRESH' | 'RISK_CONFIG_VALID' | 'RECONCILIATION_CLEAN' | 'ALERTING_REACHABLE';
  ok: boolean;
  detail: string;
}

export interface WatchInput {
  strategy: string;
  strategyName: string;
  strategyParams: Record<string, unknown>;
  /** Per-market compact strategy state, carried between calls (and across continue-as-new). */
  strategyState: Record<string, unknown>;
  marketIds: string[];
  /** Return at this time (activity clock) if no signal came first. */
  untilMs: number;
  pollIntervalMs: number;
  /**
   * Market → client order ID of the order the session started there and has not seen end: no
   * signal is returned for such a market while that order is not final in the records. Absent
   * from a session that predates reservations.
   */
  reservedMarkets?: Record<string, string>;
}

/** An order the session reserved a market for and that has ended: final in the records, or its workflow closed. */
export interface EndedOrder {
  clientOrderId: string;
  /** Its state in the records; null when its workflow closed before recording one. */
  state: OrderState | null;
}

export interface WatchSignal {
  marketId: string;
  side: Side;
  price: Price;
  confidence: number;
  intent: 'ENTER' | 'EXIT';
  /** Contracts after sizing against the recorded position; 0 means nothing to send. */
  quantity: Quantity;
  metadata: Record<string, string | number>;
}

export interface WatchResult {
  strategyState: Record<string, unknown>;
  signal: WatchSignal | null;
  at: number;
  /** Newest quote time per market, for the freshness view. */
  quoteTimes: Record<string, number>;
  /** Reserved orders (WatchInput.reservedMarkets) the watch saw final in the records. */
  endedOrders?: EndedOrder[];
  /** The last venue connection outage that outlasted the alert threshold and has ended (this worker's view). */
  connectionOutage?: ConnectionOutage | null;
}

/** A venue connection lost from `since` until `restoredAt` (epoch ms, activity clock). */
export interface ConnectionOutage {
  since: number;
  restoredAt: number;
}

export interface SessionSnapshot {
  at: number;
  metrics: BreakerMetrics;
  realizedPnl: Money;
  unrealizedPnl: Money;
  fees: Money;
  exposure: Money;
  openPositions: number;
  openOrders: { clientOrderId: string; marketId: string; side: Side; state: string }[];
  /** Which of the `reservedOrders` asked about have ended. */
  endedOrders?: EndedOrder[];
}

export interface SessionSnapshotInput {
  strategy: string;
  tradingDay: string;
  /** Client order IDs the session holds markets for; the snapshot says which have ended. */
  reservedOrders?: string[];
  /**
   * False: the session has just run the `syncFills` step and the snapshot only reads. Absent
   * (sessions recorded before that step): the snapshot syncs the venue's fills first, as it did.
   */
  syncFills?: boolean;
}

/** What one fill sync did: venue pages read, fills seen, fills the ledger recorded for the first time. */
export interface FillSyncResult {
  pages: number;
  fillsSeen: number;
  fillsInserted: number;
}

/** What one settlement sync did; `supported` false: the venue reports no settlements. */
export interface SettlementSyncResult {
  supported: boolean;
  pages: number;
  settlementsSeen: number;
  settlementsBooked: number;
}

/** A market's warm-up as the session reports it; `carriedFrom`: the trading day whose state it carried on from. */
export interface MarketWarmth {
  observations: number;
  hours: number;
  neededObservations: number;
  neededHours: number;
  warm: boolean;
  carriedFrom?: string | null;
}

/** With the strategy (sessions from before the strategy-state carry send none): its carried state is loaded too. */
export interface CarryoverInput {
  strategy: string;
  tradingDay: string;
  strategyName?: string;
  strategyParams?: Record<string, unknown>;
  marketIds?: string[];
}

export interface Carryover {
  trips: BreakerTrip[];
  lastSequence: number;
  lastActionSequence?: number;
  /** The level last journaled (AUTOMATION_LEVEL) for the strategy; absent or null: none yet (or activities from before levels). */
  lastAutomationLevel?: AutomationLevel | null;
  /** Each market's state left by an earlier session of the same strategy and params (absent: none asked for). */
  strategyState?: Record<string, unknown>;
  warmth?: Record<string, MarketWarmth>;
}

export interface StrategyStateInput {
  strategy: string;
  tradingDay: string;
  strategyName: string;
  strategyParams: Record<string, unknown>;
  strategyState: Record<string, unknown>;
  /** Newest quote time per market (the state's watermark). */
  quoteTimes: Record<string, number>;
}

export interface SessionActivities {
  preflight(input: { strategy: string; marketIds: string[] }): Promise<PreflightCheck[]>;
  watchForSignal(input: WatchInput): Promise<WatchResult>;
  /**
   * Records the account's venue fills the ledger has not seen (fills, positions and order totals,
   * idempotent by trade ID), so what follows reads current figures.
   */
  syncFills(): Promise<FillSyncResult>;
  sessionSnapshot(input: SessionSnapshotInput): Promise<SessionSnapshot>;
  /**
   * What a fresh session must not forget: the trips still active for this strategy (manual halts,
   * drawdown, an unreset daily loss; halts outlive sessions and restarts) and the last client order
   * sequence used today, so a restarted session never reuses a client order ID; and the last
   * journal sequence of the day's session workflow, so a restarted run never reuses a journal key
   * (absent from results recorded before it was added).
   */
  loadCarryover(input: CarryoverInput): Promise<Carryover>;
  /**
   * Records each market's strategy state as the session holds it (after every watch), so the next
   * day's session, or one started again, carries on warm; returns how warm each market is.
   */
  saveStrategyState(input: StrategyStateInput): Promise<{ warmth: Record<string, MarketWarmth> }>;
  /** `changeKey` names the change (unique per change): without it, changes at the same instant collapse into one row. */
  recordBreakerChange(input: { strategy: string; tradingDay: string; change: 'TRIPPED' | 'LIFTED'; trips: BreakerTrip[]; at: number; changeKey?: string }): Promise<void>;
  recordOperatorAction(action: OperatorAction): Promise<void>;
  /** Cancels every open order of the strategy (kill switch, end of day); optionally flattens positions. */
  cancelAllOpenOrders(input: { strategy: string; flatten: boolean; reason: string }): Promise<{ canceled: string[]; flattenOrders: string[] }>;
  /** `syncFills: false`: the session has just run the `syncFills` step (absent: the summary syncs first, as it did). */
  writeDailySummary(input: { strategy: string; tradingDay: string; syncFills?: boolean }): Promise<void>;
  raiseAlert(alert: AlertRequest): Promise<AlertOutcome>;
}

export interface ReconciliationOutcome {
  /** Idempotency key of the run: the workflow ID of the reconciliation that asked for it. */
  runId: string;
  discrepancies: Discrepancy[];
  decision: ReconciliationDecision;
  at: number;
}

export interface OperationsActivities {
  /** Venue positions, cash and open orders against the records; the run and its discrepancies are recorded. */
  reconcileAccount(input: { runId: string; policy: ReconciliationPolicy }): Promise<ReconciliationOutcome>;
  /** Adopts the venue's positions and cash into the records, journaled under the run. */
  adoptVenueFigures(input: { runId: string; operator: string; reason: string }): Promise<void>;
  /** Workflow IDs of the sessions currently running (from the trading-sessions records). */
  listActiveSessions(): Promise<string[]>;
  /**
   * Rolls the daily P&L counters to a new trading day and lifts recorded DAILY_LOSS trips (and only
   * those). Without a day, the new day is the day of `scheduledAt` (the time the schedule meant,
   * epoch ms) in the configured time zone; without either, today by the activity's clock.
   */
  /** `dayStartAt`: when the new trading day began in the configured zone (sessions lift only daily-loss trips from before it). */
  resetDailyCounters(input: { tradingDay: string | null; scheduledAt?: number | null }): Promise<{ tradingDay: string; previousDay: string; liftedTrips: number; dayStartAt?: number }>;
  /** Emails the daily report of a finished trading day. */
  sendDailyReport(input: { tradingDay: string }): Promise<void>;
  /** Settles positions in markets the venue reports resolved (resolution P&L), once per market. */
  settleResolvedMarkets(): Promise<{ settled: { marketId: string; outcome: 'YES' | 'NO'; realizedPnl: Money }[] }>;
  /** Books the settlements the venue reported since the last sync (resolution P&L), each once. */
  syncSettlements(): Promise<SettlementSyncResult>;
  recordOperatorAction(action: OperatorAction): Promise<void>;
  raiseAlert(alert: AlertRequest): Promise<AlertOutcome>;
}

// ---- shadow trading (workflows/shadow-session.ts, activities/shadow.ts) ----

/** The market watch of a shadow session: as the live watch, positions from the run's paper fills, each quote recorded for the replay. */
export interface ShadowWatchInput {
  /** `<workflow ID>/<first run ID>` (domain/ids.ts shadowRunKey): the run the quotes are recorded under. */
  shadowRun: string;
  strategy: string;
  strategyName: string;
  strategyParams: Record<string, unknown>;
  strategyState: Record<string, unknown>;
  marketIds: string[];
  untilMs: number;
  pollIntervalMs: number;
}

export interface ShadowWatchResult {
  strategyState: Record<string, unknown>;
  signal: WatchSignal | null;
  /** Activity clock when it returned: the decision time of `signal`. */
  at: number;
  /** Venue time of the quote the signal came from; null without a signal. */
  quotedAt: number | null;
  quoteTimes: Record<string, number>;
}

export interface ShadowDecisionInput {
  /** domain/ids.ts shadowDecisionKey, made in the workflow: the comparison is written once under it. */
  decisionKey: string;
  shadowRun: string;
  sessionId: string;
  strategy: string;
  strategyName: string;
  strategyParams: Record<string, unknown>;
  tradingDay: string;
  signal: WatchSignal;
  quotedAt: number;
  decidedAt: number;
  /** The paper fill model the shadow executes on (domain/fill-model.ts). */
  fillModel: FillModelParams;
  /** How far apart the decision and a replayed signal may be and still agree. */
  toleranceMs: number;
  /**
   * The paper order's time-to-live (LIVE's order TTL): it works over the quotes that follow until
   * it fills or this passes. Absent or null (a run before working orders): tried on its own quote only.
   */
  orderTtlMs?: number | null;
}

/** What one decision's comparison found (the row in shadow_comparisons holds the rest). */
export interface ShadowDecisionResult {
  aligned: boolean;
  riskApproved: boolean;
  /** The failing risk rules, as text; empty when approved. */
  violations: string[];
  paperFilled: Quantity;
  /** Signed micros per contract from the touch, adverse positive; null when not measured. */
  modelledSlippage: number | null;
  observedSlippage: number | null;
  at: number;
}

export interface ShadowActivities {
  watchShadow(input: ShadowWatchInput): Promise<ShadowWatchResult>;
  /** Risk as LIVE, the paper fill, the book walk and the replay's verdict, recorded once per decision key. */
  compareShadowDecision(input: ShadowDecisionInput): Promise<ShadowDecisionResult>;
  recordOperatorAction(action: OperatorAction): Promise<void>;
  raiseAlert(alert: AlertRequest): Promise<AlertOutcome>;
}
