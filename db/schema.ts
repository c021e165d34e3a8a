/**
 * The durable business record (docs/design.md, "What is durable"): every table the traders,
 * accountants and dashboard read. Money and prices are numeric(20,6) mapped to integer micros,
 * contracts are numeric(20,2) (a fill may be a fraction of a contract, domain/money.ts),
 * instants are timestamptz mapped to epoch milliseconds. No table names a
 * schema, so migrations apply into whatever schema leads the search_path (tests use one each).
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, customType, date, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { InvalidInput } from '../domain/errors';
import { parseMicros, parseQuantity, parseSignedQuantity, quantityText, toNumericString, type Money, type Price, type Quantity } from '../domain/money';
import { ORDER_STATES } from '../domain/order';

function micros(value: number, column: string): string {
  if (!Number.isSafeInteger(value)) throw InvalidInput.of(column, value, 'must be an integer number of micros');
  return toNumericString(value);
}

function numericText(value: unknown, column: string): string {
  if (typeof value !== 'string') throw InvalidInput.of(column, value, 'numeric column must arrive from the driver as text');
  return value;
}

/** numeric(20,6) carrying signed integer micros; never passes through a binary float. */
export const moneyColumn = customType<{ data: Money; driverData: string }>({
  dataType: () => 'numeric(20, 6)',
  toDriver: (v) => micros(v, 'money'),
  fromDriver: (v) => parseMicros(numericText(v, 'money'), 'money') as Money,
});

/** numeric(20,6) carrying a contract price in micros. Range checks live in CHECK constraints. */
export const priceColumn = customType<{ data: Price; driverData: string }>({
  dataType: () => 'numeric(20, 6)',
  toDriver: (v) => micros(v, 'price'),
  fromDriver: (v) => parseMicros(numericText(v, 'price'), 'price') as Price,
});

/** The driver hands numeric back as text; a number (never expected) is read through its decimal form. */
const countText = (value: unknown): unknown => (typeof value === 'number' || typeof value === 'bigint' ? String(value) : value);

/**
 * numeric(20,2) of contracts (never negative on orders and fills): the exact decimal, written
 * with `quantityText` and read with `parseQuantity`, so "0.37" round-trips without a float step.
 */
export const contractsColumn = customType<{ data: Quantity; driverData: string }>({
  dataType: () => 'numeric(20, 2)',
  toDriver: (v) => quantityText(v, 'quantity'),
  fromDriver: (v) => parseQuantity(countText(v), 'quantity'),
});

/** numeric(20,2) of signed contracts (a position: negative when short). */
export const signedContractsColumn = customType<{ data: number; driverData: string }>({
  dataType: () => 'numeric(20, 2)',
  toDriver: (v) => quantityText(v, 'quantity'),
  fromDriver: (v) => parseSignedQuantity(countText(v), 'quantity'),
});

/** timestamptz carried as epoch milliseconds, the core's unit of time. */
export const instantColumn = customType<{ data: number; driverData: string | Date }>({
  dataType: () => 'timestamp (3) with time zone',
  toDriver: (v) => {
    if (!Number.isSafeInteger(v)) throw InvalidInput.of('timestamp', v, 'must be epoch milliseconds');
    return new Date(v).toISOString();
  },
  fromDriver: (v) => {
    const ms = v instanceof Date ? v.getTime() : Date.parse(v);
    if (!Number.isFinite(ms)) throw InvalidInput.of('timestamp', v, 'is not a timestamp');
    return ms;
  },
});

const inList = (column: string, values: readonly string[]) => sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(', ')})`);
const price01 = (column: string) => sql.raw(`${column} > 0 and ${column} < 1`);
const recordedAt = () => instantColumn('recorded_at').notNull().default(sql`now()`);
const updatedAt = () => instantColumn('updated_at').notNull().default(sql`now()`);

export const SIDES = ['BUY', 'SELL'] as const;
export const OUTCOMES = ['YES', 'NO'] as const;
export const ALERT_LEVELS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export const ALERT_DELIVERY = ['PENDING', 'SENT', 'FAILED', 'SUPPRESSED'] as const;
/** Where an alert is delivered (activities/alerts.ts); one alert_deliveries row per alert and sink. */
export const ALERT_SINKS = ['EMAIL', 'WEBHOOK'] as const;
export const ALERT_SINK_DELIVERY = ['PENDING', 'SENT', 'FAILED'] as const;
export const BREAKER_CHANGES = ['TRIPPED', 'LIFTED'] as const;
export const OPERATOR_ACTIONS = [
  'HALT',
  'RESUME',
  'KILL_SWITCH',
  'DAILY_RESET',
  'RECONCILIATION_DECISION',
  'SIGNAL_REJECTED',
  'OVERRIDE',
  // Levels of automation: a session's level when it changed; a semi-automatic order's approval, rejection, expiry.
  'AUTOMATION_LEVEL',
  'ORDER_APPROVED',
  'ORDER_REJECTED',
  'ORDER_EXPIRED',
] as const;
export const SESSION_MODES = ['PAPER', 'LIVE', 'SHADOW'] as const;
export const SESSION_STATUSES = ['RUNNING', 'HALTED', 'STOPPED', 'COMPLETED'] as const;
export const RECONCILIATION_STATUSES = ['RUNNING', 'CLEAN', 'DISCREPANCIES', 'FAILED'] as const;
export const AUDIT_KINDS = [
  'SIGNAL',
  'ORDER_CREATED',
  'ORDER_EVENT',
  'FILL',
  'SETTLEMENT',
  'RISK_DECISION',
  'BREAKER',
  'OPERATOR_ACTION',
  'RECONCILIATION',
] as const;

export const venues = pgTable('venues', {
  venueId: text('venue_id').primaryKey(),
  name: text('name').notNull(),
  recordedAt: recordedAt(),
});

export const markets = pgTable(
  'markets',
  {
    marketId: text('market_id').primaryKey(),
    venueId: text('venue_id').notNull().default('paper'),
    title: text('title'),
    category: text('category').notNull(),
    tickSize: priceColumn('tick_size').notNull(),
    resolvesAt: instantColumn('resolves_at'),
    outcome: text('outcome'),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('markets_outcome_valid', inList('outcome', OUTCOMES)),
    check('markets_tick_size_valid', price01('tick_size')),
    index('markets_venue_idx').on(t.venueId),
  ],
);

export const tradingSessions = pgTable(
  'trading_sessions',
  {
    sessionId: text('session_id').primaryKey(),
    strategy: text('strategy').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    account: text('account').notNull().default('paper'),
    mode: text('mode').notNull(),
    status: text('status').notNull(),
    startedAt: instantColumn('started_at').notNull(),
    endedAt: instantColumn('ended_at'),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
  },
  (t) => [
    check('trading_sessions_mode_valid', inList('mode', SESSION_MODES)),
    check('trading_sessions_status_valid', inList('status', SESSION_STATUSES)),
    index('trading_sessions_day_idx').on(t.tradingDay, t.strategy),
  ],
);

export interface SignalSnapshot {
  price: Price;
  confidence: number;
  at: number;
  metadata: Record<string, string | number>;
}

export const orders = pgTable(
  'orders',
  {
    clientOrderId: text('client_order_id').primaryKey(),
    venueOrderId: text('venue_order_id'),
    account: text('account').notNull().default('paper'),
    marketId: text('market_id').notNull(),
    side: text('side').notNull(),
    quantity: contractsColumn('quantity').notNull(),
    limitPrice: priceColumn('limit_price'),
    strategy: text('strategy').notNull(),
    sessionId: text('session_id'),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    signal: jsonb('signal').$type<SignalSnapshot>(),
    state: text('state').notNull(),
    /** Epoch milliseconds when each state was first reached. */
    stateTimes: jsonb('state_times').$type<Partial<Record<string, number>>>().notNull(),
    /** Sequence of the newest order event applied to this row: updates never move it backwards. */
    lastEventSeq: integer('last_event_seq').notNull().default(0),
    filledQuantity: contractsColumn('filled_quantity').notNull().default(sql`0`),
    fillNotional: moneyColumn('fill_notional').notNull().default(sql`0`),
    fees: moneyColumn('fees').notNull().default(sql`0`),
    rejectReason: text('reject_reason'),
    createdAt: instantColumn('created_at').notNull(),
    updatedAt: instantColumn('updated_at').notNull(),
  },
  (t) => [
    check('orders_side_valid', inList('side', SIDES)),
    check('orders_state_valid', inList('state', ORDER_STATES)),
    check('orders_quantity_positive', sql`quantity > 0`),
    check('orders_limit_price_valid', price01('limit_price')),
    check('orders_filled_quantity_valid', sql`filled_quantity >= 0`),
    index('orders_state_idx').on(t.state),
    index('orders_market_idx').on(t.marketId),
    index('orders_strategy_day_idx').on(t.strategy, t.tradingDay),
    index('orders_day_idx').on(t.tradingDay),
    index('orders_venue_order_idx').on(t.venueOrderId),
  ],
);

export const orderEvents = pgTable(
  'order_events',
  {
    clientOrderId: text('client_order_id').notNull(),
    seq: integer('seq').notNull(),
    eventType: text('event_type').notNull(),
    state: text('state').notNull(),
    occurredAt: instantColumn('occurred_at').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    primaryKey({ name: 'order_events_pk', columns: [t.clientOrderId, t.seq] }),
    check('order_events_state_valid', inList('state', ORDER_STATES)),
    check('order_events_seq_positive', sql`seq > 0`),
  ],
);

export const fills = pgTable(
  'fills',
  {
    tradeId: text('trade_id').primaryKey(),
    clientOrderId: text('client_order_id').notNull(),
    account: text('account').notNull().default('paper'),
    marketId: text('market_id').notNull(),
    side: text('side').notNull(),
    quantity: contractsColumn('quantity').notNull(),
    price: priceColumn('price').notNull(),
    fee: moneyColumn('fee').notNull(),
    filledAt: instantColumn('filled_at').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    check('fills_side_valid', inList('side', SIDES)),
    check('fills_quantity_positive', sql`quantity > 0`),
    check('fills_price_valid', price01('price')),
    check('fills_fee_valid', sql`fee >= 0`),
    index('fills_order_idx').on(t.clientOrderId),
    index('fills_position_idx').on(t.account, t.marketId),
    index('fills_day_idx').on(t.tradingDay),
  ],
);

export const positions = pgTable(
  'positions',
  {
    account: text('account').notNull(),
    marketId: text('market_id').notNull(),
    quantity: signedContractsColumn('quantity').notNull().default(sql`0`),
    costBasis: moneyColumn('cost_basis').notNull().default(sql`0`),
    realizedPnl: moneyColumn('realized_pnl').notNull().default(sql`0`),
    fees: moneyColumn('fees').notNull().default(sql`0`),
    fillCount: integer('fill_count').notNull().default(0),
    lastTradeId: text('last_trade_id'),
    markPrice: priceColumn('mark_price'),
    markedAt: instantColumn('marked_at'),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'positions_pk', columns: [t.account, t.marketId] }),
    check('positions_mark_price_valid', price01('mark_price')),
    check('positions_fees_valid', sql`fees >= 0`),
  ],
);

export const POSITION_CHANGE_CAUSES = ['FILL', 'SETTLEMENT'] as const;

/**
 * One row per position change (a fill, or a market's resolution), with the position after it
 * and what the change itself contributed. Daily realized P&L, fees and volume are sums over these
 * rows, so concurrent fills append rows instead of queueing on one per-day counter row.
 */
export const positionHistory = pgTable(
  'position_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    account: text('account').notNull(),
    marketId: text('market_id').notNull(),
    /** The fill that caused the change ("SETTLE:<market>:<account>" for a resolution): one row each. */
    tradeId: text('trade_id').notNull(),
    cause: text('cause').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    quantity: signedContractsColumn('quantity').notNull(),
    costBasis: moneyColumn('cost_basis').notNull(),
    realizedPnl: moneyColumn('realized_pnl').notNull(),
    fees: moneyColumn('fees').notNull(),
    realizedDelta: moneyColumn('realized_delta').notNull(),
    fee: moneyColumn('fee').notNull(),
    contractsTraded: signedContractsColumn('contracts_traded').notNull(),
    notionalTraded: moneyColumn('notional_traded').notNull(),
    changedAt: instantColumn('changed_at').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    uniqueIndex('position_history_trade_idx').on(t.tradeId),
    check('position_history_cause_valid', inList('cause', POSITION_CHANGE_CAUSES)),
    index('position_history_position_idx').on(t.account, t.marketId, t.id),
    index('position_history_day_idx').on(t.account, t.tradingDay),
  ],
);

/**
 * The day's mark: unrealized P&L of the open positions, and a snapshot of the day's realized
 * figures taken at the same moment (written by `markDailyPnl`; the live figures are sums over
 * position_history). The day's opening figure (`openTradingDay`, written once by the daily reset
 * or the day's first snapshot) is what the day's loss is measured from.
 */
export const dailyPnl = pgTable(
  'daily_pnl',
  {
    account: text('account').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    realizedPnl: moneyColumn('realized_pnl').notNull(),
    fees: moneyColumn('fees').notNull(),
    unrealizedPnl: moneyColumn('unrealized_pnl').notNull(),
    fillCount: integer('fill_count').notNull(),
    contractsTraded: signedContractsColumn('contracts_traded').notNull(),
    notionalTraded: moneyColumn('notional_traded').notNull(),
    markedAt: instantColumn('marked_at').notNull(),
    /** Unrealized P&L of the positions held when the day opened, at their marks then; null until recorded. */
    openingUnrealizedPnl: moneyColumn('opening_unrealized_pnl'),
    openedAt: instantColumn('opened_at'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ name: 'daily_pnl_pk', columns: [t.account, t.tradingDay] })],
);

export interface StoredRiskViolation {
  rule: string;
  limit: number | null;
  observed: number | null;
  message: string;
}

export const riskDecisions = pgTable(
  'risk_decisions',
  {
    decisionId: text('decision_id').primaryKey(),
    clientOrderId: text('client_order_id'),
    account: text('account').notNull().default('paper'),
    strategy: text('strategy').notNull(),
    marketId: text('market_id').notNull(),
    approved: boolean('approved').notNull(),
    /** Every failing rule; empty exactly when approved. */
    violations: jsonb('violations').$type<StoredRiskViolation[]>().notNull(),
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    decidedAt: instantColumn('decided_at').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    check('risk_decisions_violations_match', sql`approved = (jsonb_array_length(violations) = 0)`),
    index('risk_decisions_order_idx').on(t.clientOrderId),
    index('risk_decisions_strategy_idx').on(t.strategy, t.decidedAt),
  ],
);

export const breakerEvents = pgTable(
  'breaker_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventKey: text('event_key').notNull(),
    strategy: text('strategy').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    change: text('change').notNull(),
    kind: text('kind').notNull(),
    reason: text('reason').notNull(),
    observed: text('observed'),
    limitValue: text('limit_value'),
    since: instantColumn('since').notNull(),
    operator: text('operator'),
    occurredAt: instantColumn('occurred_at').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    uniqueIndex('breaker_events_key_idx').on(t.eventKey),
    check('breaker_events_change_valid', inList('change', BREAKER_CHANGES)),
    index('breaker_events_strategy_idx').on(t.strategy, t.kind, t.id),
  ],
);

export const operatorActions = pgTable(
  'operator_actions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workflowId: text('workflow_id').notNull(),
    sequence: integer('sequence').notNull(),
    action: text('action').notNull(),
    operator: text('operator').notNull(),
    reason: text('reason').notNull(),
    details: jsonb('details').$type<Record<string, string | number | boolean | null>>().notNull(),
    occurredAt: instantColumn('occurred_at').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    uniqueIndex('operator_actions_key_idx').on(t.workflowId, t.sequence),
    check('operator_actions_action_valid', inList('action', OPERATOR_ACTIONS)),
    check('operator_actions_operator_present', sql`length(operator) > 0`),
    check('operator_actions_reason_present', sql`length(reason) > 0`),
    index('operator_actions_time_idx').on(t.occurredAt),
  ],
);

export const alerts = pgTable(
  'alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    dedupeKey: text('dedupe_key').notNull(),
    level: text('level').notNull(),
    type: text('type').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    raisedAt: instantColumn('raised_at').notNull(),
    delivery: text('delivery').notNull().default('PENDING'),
    sentAt: instantColumn('sent_at'),
    deliveryError: text('delivery_error'),
    recordedAt: recordedAt(),
  },
  (t) => [
    uniqueIndex('alerts_dedupe_key_idx').on(t.dedupeKey),
    check('alerts_level_valid', inList('level', ALERT_LEVELS)),
    check('alerts_delivery_valid', inList('delivery', ALERT_DELIVERY)),
    index('alerts_level_type_idx').on(t.level, t.type, t.raisedAt),
    index('alerts_time_idx').on(t.raisedAt),
  ],
);

/**
 * Each sink's delivery of one alert (activities/alerts.ts), so a retry re-sends only to the sinks
 * that failed: an email that went out is not sent again because the webhook failed, nor the reverse.
 */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    /** The alert's dedupe key (alerts.dedupe_key). */
    dedupeKey: text('dedupe_key').notNull(),
    sink: text('sink').notNull(),
    state: text('state').notNull(),
    attempts: integer('attempts').notNull().default(0),
    sentAt: instantColumn('sent_at'),
    error: text('error'),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'alert_deliveries_pk', columns: [t.dedupeKey, t.sink] }),
    check('alert_deliveries_sink_valid', inList('sink', ALERT_SINKS)),
    check('alert_deliveries_state_valid', inList('state', ALERT_SINK_DELIVERY)),
  ],
);

export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    runId: text('run_id').primaryKey(),
    account: text('account').notNull().default('paper'),
    status: text('status').notNull(),
    policy: text('policy'),
    startedAt: instantColumn('started_at').notNull(),
    finishedAt: instantColumn('finished_at'),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
  },
  (t) => [check('reconciliation_runs_status_valid', inList('status', RECONCILIATION_STATUSES)), index('reconciliation_runs_time_idx').on(t.startedAt)],
);

export const reconciliationDiscrepancies = pgTable(
  'reconciliation_discrepancies',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id').notNull(),
    /** Stable within a run (e.g. "POSITION:<market>"), so a retried write adds nothing. */
    discrepancyKey: text('discrepancy_key').notNull(),
    kind: text('kind').notNull(),
    marketId: text('market_id'),
    clientOrderId: text('client_order_id'),
    local: jsonb('local').$type<unknown>(),
    venue: jsonb('venue').$type<unknown>(),
    resolution: text('resolution'),
    recordedAt: recordedAt(),
  },
  (t) => [uniqueIndex('reconciliation_discrepancies_key_idx').on(t.runId, t.discrepancyKey)],
);

export const executionQuality = pgTable(
  'execution_quality',
  {
    clientOrderId: text('client_order_id').primaryKey(),
    marketId: text('market_id').notNull(),
    side: text('side').notNull(),
    intendedPrice: priceColumn('intended_price').notNull(),
    orderQuantity: contractsColumn('order_quantity').notNull(),
    filledQuantity: contractsColumn('filled_quantity').notNull(),
    averageFillPrice: priceColumn('average_fill_price'),
    /** Signed micros per contract against the intended price, adverse positive. */
    slippage: moneyColumn('slippage'),
    fees: moneyColumn('fees').notNull(),
    signalAt: instantColumn('signal_at').notNull(),
    submittedAt: instantColumn('submitted_at'),
    firstFillAt: instantColumn('first_fill_at'),
    completedAt: instantColumn('completed_at'),
    finalState: text('final_state').notNull(),
    record: jsonb('record').$type<Record<string, unknown>>().notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    check('execution_quality_side_valid', inList('side', SIDES)),
    check('execution_quality_state_valid', inList('final_state', ORDER_STATES)),
    index('execution_quality_market_idx').on(t.marketId),
  ],
);

/** Append-only (a trigger in the migrations refuses UPDATE and DELETE). */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    /** Idempotency key, e.g. "FILL:<tradeId>": a retried write appends nothing. */
    eventKey: text('event_key').notNull(),
    kind: text('kind').notNull(),
    clientOrderId: text('client_order_id'),
    marketId: text('market_id'),
    strategy: text('strategy'),
    occurredAt: instantColumn('occurred_at').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    uniqueIndex('audit_log_event_key_idx').on(t.eventKey),
    check('audit_log_kind_valid', inList('kind', AUDIT_KINDS)),
    index('audit_log_order_idx').on(t.clientOrderId, t.occurredAt),
    index('audit_log_time_idx').on(t.occurredAt),
  ],
);

/**
 * Where the fill sync stands per account: the venue's opaque fill cursor. Written only after the
 * fills before it are committed, so a crash between the two re-reads fills (recorded once each by
 * trade ID) and never skips one.
 */
export const venueCursors = pgTable('venue_cursors', {
  account: text('account').primaryKey(),
  venue: text('venue').notNull(),
  fillCursor: text('fill_cursor').notNull(),
  updatedAt: updatedAt(),
});

/**
 * The venue's order ID for each of our client order IDs, for venues whose fills name only their
 * own order ID (Kalshi). One client order ID per venue order ID: a second, different one is
 * refused, never overwritten (db/repositories/venue-order-ids.ts).
 */
export const venueOrderIds = pgTable(
  'venue_order_ids',
  {
    venue: text('venue').notNull(),
    venueOrderId: text('venue_order_id').notNull(),
    clientOrderId: text('client_order_id').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [primaryKey({ name: 'venue_order_ids_pk', columns: [t.venue, t.venueOrderId] }), index('venue_order_ids_client_idx').on(t.clientOrderId)],
);

export const SETTLEMENT_RESULTS = ['YES', 'NO', 'VOID'] as const;

/**
 * Each market resolution the venue settled for an account, booked once (keyed on the venue's
 * settlement ID): what the venue reported, and what the records booked for it (the local
 * position it closed and the realized P&L that added). db/repositories/settlements.ts.
 */
export const venueSettlements = pgTable(
  'venue_settlements',
  {
    account: text('account').notNull(),
    venue: text('venue').notNull(),
    settlementId: text('settlement_id').notNull(),
    marketId: text('market_id').notNull(),
    result: text('result').notNull(),
    /** Signed YES contracts the venue says the settlement removed. */
    quantity: signedContractsColumn('quantity').notNull(),
    cash: moneyColumn('cash').notNull(),
    fee: moneyColumn('fee').notNull(),
    settledAt: instantColumn('settled_at').notNull(),
    /** The records' position in the market just before booking (closed by it). */
    localQuantity: signedContractsColumn('local_quantity').notNull(),
    realizedDelta: moneyColumn('realized_delta').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [
    primaryKey({ name: 'venue_settlements_pk', columns: [t.account, t.venue, t.settlementId] }),
    check('venue_settlements_result_valid', inList('result', SETTLEMENT_RESULTS)),
    check('venue_settlements_fee_valid', sql`fee >= 0`),
    index('venue_settlements_market_idx').on(t.account, t.marketId),
  ],
);

/**
 * The LIVE capital ramp per account: one row per step entered (a share of LIVE_CAPITAL_CAP), never
 * changed afterwards. The step in force is the highest share recorded; it moves up only when the
 * LIVE criteria passed over the period since the step before began (worker/stages.ts).
 */
export const liveCapitalSteps = pgTable(
  'live_capital_steps',
  {
    account: text('account').notNull(),
    percent: integer('percent').notNull(),
    /** The cap and the step's capital when the step began, for the record. */
    capitalCap: moneyColumn('capital_cap').notNull(),
    capital: moneyColumn('capital').notNull(),
    beganAt: instantColumn('began_at').notNull(),
    reason: text('reason').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [primaryKey({ name: 'live_capital_steps_pk', columns: [t.account, t.percent] }), check('live_capital_steps_percent_valid', sql`percent between 1 and 100`)],
);

// ---- shadow trading (docs/design.md, "SHADOW") ----


/**
 * The quotes a shadow session decided on, and each market's strategy state at its first quote
 * (`kind` WARM): what the replay of each decision steps through. Keyed by the session run, the
 * market and the quote time, so a retried watch records each quote once.
 */
export const shadowQuotes = pgTable(
  'shadow_quotes',
  {
    shadowRun: text('shadow_run').notNull(),
    marketId: text('market_id').notNull(),
    kind: text('kind').notNull(),
    quotedAt: instantColumn('quoted_at').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [primaryKey({ columns: [t.shadowRun, t.marketId, t.kind, t.quotedAt] }), check('shadow_quotes_kind_valid', inList('kind', ['WARM', 'QUOTE']))],
);

/**
 * One row per shadow decision (`decision_key`, made in the workflow, so a retried activity writes
 * once): the risk check as LIVE makes it, signal alignment against the replay, the paper fill
 * model's fill and the venue book's executable price for the same quantity. Slippage is signed
 * micros per contract from the touch, adverse positive.
 */
export const shadowComparisons = pgTable(
  'shadow_comparisons',
  {
    decisionKey: text('decision_key').primaryKey(),
    shadowRun: text('shadow_run').notNull(),
    sessionId: text('session_id').notNull(),
    strategy: text('strategy').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    marketId: text('market_id').notNull(),
    side: text('side').notNull(),
    quantity: contractsColumn('quantity').notNull(),
    limitPrice: priceColumn('limit_price'),
    decidedAt: instantColumn('decided_at').notNull(),
    quotedAt: instantColumn('quoted_at').notNull(),
    touch: priceColumn('touch'),
    riskApproved: boolean('risk_approved').notNull(),
    aligned: boolean('aligned').notNull(),
    paperFilled: contractsColumn('paper_filled').notNull(),
    paperPrice: priceColumn('paper_price'),
    paperFee: moneyColumn('paper_fee').notNull(),
    bookFilled: contractsColumn('book_filled').notNull(),
    bookPrice: priceColumn('book_price'),
    modelledSlippage: moneyColumn('modelled_slippage'),
    observedSlippage: moneyColumn('observed_slippage'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [check('shadow_comparisons_side_valid', inList('side', SIDES)), index('shadow_comparisons_run_idx').on(t.shadowRun, t.decidedAt), index('shadow_comparisons_strategy_idx').on(t.strategy, t.tradingDay)],
);

/**
 * The strategy's state per market as the session last left it (its quotes stepped through the
 * pure strategy), so the next day's session carries on warm instead of starting empty. One row
 * per account, strategy key and market, overwritten as the session goes; it is used only by a
 * session with the same strategy and the same validated params.
 */
export const strategyStates = pgTable(
  'strategy_states',
  {
    account: text('account').notNull(),
    strategy: text('strategy').notNull(),
    marketId: text('market_id').notNull(),
    strategyName: text('strategy_name').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    state: jsonb('state').$type<unknown>().notNull(),
    /** Time of the last quote stepped into the state. */
    quotedAt: instantColumn('quoted_at').notNull(),
    tradingDay: date('trading_day', { mode: 'string' }).notNull(),
    sessionId: text('session_id').notNull(),
    recordedAt: recordedAt(),
  },
  (t) => [primaryKey({ name: 'strategy_states_pk', columns: [t.account, t.strategy, t.marketId] })],
);
