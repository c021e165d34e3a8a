/**
 * Orders and their events. Creation is idempotent by client order ID; state changes arrive as
 * numbered events (the workflow's own sequence) stored once each, and the order row only moves
 * to an event's state when that event is newer than the last one applied: a late or repeated
 * event never moves the record backwards.
 */
import { and, asc, desc, eq, inArray, notInArray, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordConflict, RecordNotFound } from '../errors';
import { orderEvents, orders, type SignalSnapshot } from '../schema';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { validateClientOrderId, validateTradingDay } from '../../domain/ids';
import { validateMarketId, type Side } from '../../domain/market';
import { MICROS, type Money, type Price, type Quantity } from '../../domain/money';
import { ORDER_EVENT_TYPES, ORDER_STATES, TERMINAL_STATES, type OrderEventType, type OrderState } from '../../domain/order';
import { appendAudit, type AuditEntry } from './audit';
import { ACCOUNT_RE, differingFields, mapErrors, transaction } from './common';

export interface OrderRecord {
  clientOrderId: string;
  venueOrderId: string | null;
  account: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  limitPrice: Price | null;
  strategy: string;
  sessionId: string | null;
  tradingDay: string;
  signal: SignalSnapshot | null;
  state: OrderState;
  stateTimes: Partial<Record<OrderState, number>>;
  lastEventSeq: number;
  /** Accumulated from recorded fills (the fills table is the authority). */
  filledQuantity: Quantity;
  fillNotional: Money;
  fees: Money;
  rejectReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewOrderRecord {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  limitPrice: Price | null;
  strategy: string;
  tradingDay: string;
  createdAt: number;
  account?: string;
  sessionId?: string | null;
  signal?: SignalSnapshot | null;
}

type OrderRow = typeof orders.$inferSelect;

const toRecord = (r: OrderRow): OrderRecord => ({
  ...r,
  side: r.side as Side,
  state: r.state as OrderState,
  stateTimes: r.stateTimes as Partial<Record<OrderState, number>>,
  signal: r.signal ?? null,
});

const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const nonEmpty = (v: unknown, max = 128): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;

function collect(problems: FieldProblem[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInput) problems.push(...e.problems);
    else throw e;
  }
}

export function validateNewOrder(o: NewOrderRecord): NewOrderRecord {
  const problems: FieldProblem[] = [];
  collect(problems, () => validateClientOrderId(o.clientOrderId));
  collect(problems, () => validateMarketId(o.marketId));
  collect(problems, () => validateTradingDay(o.tradingDay));
  if (o.side !== 'BUY' && o.side !== 'SELL') problems.push({ field: 'side', value: o.side, problem: 'must be BUY or SELL' });
  if (!Number.isSafeInteger(o.quantity) || o.quantity <= 0) problems.push({ field: 'quantity', value: o.quantity, problem: 'must be a positive whole number of contracts' });
  if (o.limitPrice !== null && (!Number.isSafeInteger(o.limitPrice) || o.limitPrice <= 0 || o.limitPrice >= MICROS)) {
    problems.push({ field: 'limitPrice', value: o.limitPrice, problem: 'must be null or integer micros inside (0, 1)' });
  }
  if (!nonEmpty(o.strategy, 48)) problems.push({ field: 'strategy', value: o.strategy, problem: 'must be a non-empty name of at most 48 characters' });
  if (!isTime(o.createdAt)) problems.push({ field: 'createdAt', value: o.createdAt, problem: 'must be epoch milliseconds' });
  if (o.account !== undefined && (typeof o.account !== 'string' || !ACCOUNT_RE.test(o.account))) {
    problems.push({ field: 'account', value: o.account, problem: 'must be 1-64 letters, digits, "_", "." or "-"' });
  }
  if (o.sessionId != null && !nonEmpty(o.sessionId)) problems.push({ field: 'sessionId', value: o.sessionId, problem: 'must be null or a workflow ID' });
  if (o.signal != null) {
    const s = o.signal;
    if (!Number.isSafeInteger(s.price) || s.price <= 0 || s.price >= MICROS) problems.push({ field: 'signal.price', value: s.price, problem: 'must be integer micros inside (0, 1)' });
    if (typeof s.confidence !== 'number' || !Number.isFinite(s.confidence)) problems.push({ field: 'signal.confidence', value: s.confidence, problem: 'must be a finite number' });
    if (!isTime(s.at)) problems.push({ field: 'signal.at', value: s.at, problem: 'must be epoch milliseconds' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return o;
}

const IMMUTABLE_FIELDS = ['account', 'marketId', 'side', 'quantity', 'limitPrice', 'strategy', 'tradingDay', 'sessionId'] as const;

/**
 * Records a new order in state CREATED. Inserting the same client order ID again with the same
 * terms changes nothing (inserted = false); with different terms it is a RecordConflict.
 */
export async function insertOrder(ex: Executor, input: NewOrderRecord): Promise<{ inserted: boolean; order: OrderRecord }> {
  const o = validateNewOrder(input);
  const account = o.account ?? 'paper';
  return transaction(ex, async (tx) => {
    const [row] = await tx
      .insert(orders)
      .values({
        clientOrderId: o.clientOrderId,
        account,
        marketId: o.marketId,
        side: o.side,
        quantity: o.quantity,
        limitPrice: o.limitPrice,
        strategy: o.strategy,
        sessionId: o.sessionId ?? null,
        tradingDay: o.tradingDay,
        signal: o.signal ?? null,
        state: 'CREATED',
        stateTimes: { CREATED: o.createdAt },
        createdAt: o.createdAt,
        updatedAt: o.createdAt,
      })
      .onConflictDoNothing({ target: orders.clientOrderId })
      .returning();
    if (!row) {
      const [stored] = await tx.select().from(orders).where(eq(orders.clientOrderId, o.clientOrderId));
      if (!stored) throw new RecordNotFound('orders', 'client_order_id', o.clientOrderId);
      const offered = { ...stored, account, marketId: o.marketId, side: o.side, quantity: o.quantity, limitPrice: o.limitPrice, strategy: o.strategy, tradingDay: o.tradingDay, sessionId: o.sessionId ?? null };
      const diff = differingFields(stored, offered, IMMUTABLE_FIELDS);
      if (diff.length > 0) throw new RecordConflict('orders', o.clientOrderId, diff, stored[diff[0] as keyof OrderRow], offered[diff[0] as keyof OrderRow]);
      return { inserted: false, order: toRecord(stored) };
    }
    const audit: AuditEntry[] = [
      {
        eventKey: `ORDER_CREATED:${o.clientOrderId}`,
        kind: 'ORDER_CREATED',
        clientOrderId: o.clientOrderId,
        marketId: o.marketId,
        strategy: o.strategy,
        occurredAt: o.createdAt,
        payload: { side: o.side, quantity: o.quantity, limitPrice: o.limitPrice, account, tradingDay: o.tradingDay, sessionId: o.sessionId ?? null },
      },
    ];
    if (o.signal) {
      audit.unshift({
        eventKey: `SIGNAL:${o.clientOrderId}`,
        kind: 'SIGNAL',
        clientOrderId: o.clientOrderId,
        marketId: o.marketId,
        strategy: o.strategy,
        occurredAt: o.signal.at,
        payload: { ...o.signal },
      });
    }
    await appendAudit(tx, audit);
    return { inserted: true, order: toRecord(row) };
  });
}

/** The core's order events, plus a whole-order snapshot written by `saveOrderSnapshot`. */
export type RecordedEventType = OrderEventType | 'OrderSnapshot';
const RECORDED_EVENT_TYPES: readonly string[] = [...ORDER_EVENT_TYPES, 'OrderSnapshot'];

export interface OrderEventRecord {
  clientOrderId: string;
  /** The workflow's event sequence for this order, from 1: the idempotency and ordering key. */
  seq: number;
  eventType: RecordedEventType;
  /** The state the order reached with this event. */
  state: OrderState;
  at: number;
  venueOrderId?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
  /** First-reached time per state (the core Order's `timestamps`); merged, earliest kept. */
  stateTimes?: Partial<Record<OrderState, number>>;
}

function validateEvent(e: OrderEventRecord): void {
  const problems: FieldProblem[] = [];
  collect(problems, () => validateClientOrderId(e.clientOrderId));
  if (!Number.isSafeInteger(e.seq) || e.seq < 1 || e.seq > 2_147_483_647) problems.push({ field: 'seq', value: e.seq, problem: 'must be a positive 32-bit integer' });
  if (!RECORDED_EVENT_TYPES.includes(e.eventType)) problems.push({ field: 'eventType', value: e.eventType, problem: `must be one of ${RECORDED_EVENT_TYPES.join(', ')}` });
  for (const [state, at] of Object.entries(e.stateTimes ?? {})) {
    if (!(ORDER_STATES as readonly string[]).includes(state)) problems.push({ field: `stateTimes.${state}`, value: state, problem: 'is not an order state' });
    else if (!isTime(at)) problems.push({ field: `stateTimes.${state}`, value: at, problem: 'must be epoch milliseconds' });
  }
  if (!(ORDER_STATES as readonly string[]).includes(e.state)) problems.push({ field: 'state', value: e.state, problem: `must be one of ${ORDER_STATES.join(', ')}` });
  if (!isTime(e.at)) problems.push({ field: 'at', value: e.at, problem: 'must be epoch milliseconds' });
  if (e.venueOrderId != null && !nonEmpty(e.venueOrderId)) problems.push({ field: 'venueOrderId', value: e.venueOrderId, problem: 'must be null or a non-empty ID' });
  if (problems.length > 0) throw new InvalidInput(problems);
}

/**
 * Stores one order event and advances the order if it is the newest. Returns applied = false
 * for a repeat of a stored event (same sequence and content); a different event under a stored
 * sequence is a RecordConflict. An older event is kept in the history and fills in the time of
 * its state if that was missing, but leaves the current state alone.
 */
export async function recordOrderEvent(ex: Executor, e: OrderEventRecord): Promise<{ applied: boolean; order: OrderRecord }> {
  validateEvent(e);
  const detail = { ...(e.detail ?? {}), ...(e.venueOrderId ? { venueOrderId: e.venueOrderId } : {}), ...(e.reason ? { reason: e.reason } : {}) };
  return transaction(ex, async (tx) => {
    const [current] = await tx.select().from(orders).where(eq(orders.clientOrderId, e.clientOrderId)).for('update');
    if (!current) throw new RecordNotFound('orders', 'client_order_id', e.clientOrderId);
    const [inserted] = await tx
      .insert(orderEvents)
      .values({ clientOrderId: e.clientOrderId, seq: e.seq, eventType: e.eventType, state: e.state, occurredAt: e.at, detail })
      .onConflictDoNothing()
      .returning({ seq: orderEvents.seq });
    if (!inserted) {
      const [stored] = await tx.select().from(orderEvents).where(and(eq(orderEvents.clientOrderId, e.clientOrderId), eq(orderEvents.seq, e.seq)));
      const offered = { ...stored!, eventType: e.eventType, state: e.state, occurredAt: e.at, detail };
      const diff = differingFields(stored!, offered, ['eventType', 'state', 'occurredAt', 'detail']);
      if (diff.length > 0) {
        const f = diff[0] as keyof typeof offered;
        throw new RecordConflict('order_events', `${e.clientOrderId}#${e.seq}`, diff, stored![f], offered[f]);
      }
      return { applied: false, order: toRecord(current) };
    }

    const stateTimes = { ...current.stateTimes };
    for (const [state, at] of Object.entries({ ...(e.stateTimes ?? {}), [e.state]: e.stateTimes?.[e.state] ?? e.at })) {
      const known = stateTimes[state];
      if (at !== undefined && (known === undefined || at < known)) stateTimes[state] = at;
    }
    const newest = e.seq > current.lastEventSeq;
    const [updated] = await tx
      .update(orders)
      .set(
        newest
          ? {
              state: e.state,
              lastEventSeq: e.seq,
              stateTimes,
              venueOrderId: e.venueOrderId ?? current.venueOrderId,
              rejectReason: e.state === 'REJECTED' ? (e.reason ?? current.rejectReason) : current.rejectReason,
              updatedAt: Math.max(current.updatedAt, e.at),
            }
          : { stateTimes, venueOrderId: current.venueOrderId ?? e.venueOrderId ?? null },
      )
      .where(eq(orders.clientOrderId, e.clientOrderId))
      .returning();
    await appendAudit(tx, [
      {
        eventKey: `ORDER_EVENT:${e.clientOrderId}:${e.seq}`,
        kind: 'ORDER_EVENT',
        clientOrderId: e.clientOrderId,
        marketId: current.marketId,
        strategy: current.strategy,
        occurredAt: e.at,
        payload: { seq: e.seq, eventType: e.eventType, state: e.state, appliedToOrder: newest, ...detail },
      },
    ]);
    return { applied: true, order: toRecord(updated!) };
  });
}

export async function getOrder(ex: Executor, clientOrderId: string): Promise<OrderRecord | null> {
  const [row] = await mapErrors(ex.select().from(orders).where(eq(orders.clientOrderId, clientOrderId)));
  return row ? toRecord(row) : null;
}

export interface OrderFilter {
  state?: OrderState | readonly OrderState[];
  marketId?: string;
  strategy?: string;
  tradingDay?: string;
  account?: string;
  limit?: number;
}

function orderConditions(f: OrderFilter): SQL[] {
  const where: SQL[] = [];
  if (f.state !== undefined) {
    const states = typeof f.state === 'string' ? [f.state] : [...f.state];
    for (const s of states) if (!(ORDER_STATES as readonly string[]).includes(s)) throw InvalidInput.of('state', s, `must be one of ${ORDER_STATES.join(', ')}`);
    where.push(inArray(orders.state, states));
  }
  if (f.marketId !== undefined) where.push(eq(orders.marketId, f.marketId));
  if (f.strategy !== undefined) where.push(eq(orders.strategy, f.strategy));
  if (f.tradingDay !== undefined) where.push(eq(orders.tradingDay, validateTradingDay(f.tradingDay)));
  if (f.account !== undefined) where.push(eq(orders.account, f.account));
  return where;
}

function checkLimit(limit: number | undefined): number {
  const n = limit ?? 1000;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100_000) throw InvalidInput.of('limit', limit, 'must be a whole number from 1 to 100000');
  return n;
}

/** Orders by state, market, strategy, day and account, newest first. */
export async function listOrders(ex: Executor, filter: OrderFilter = {}): Promise<OrderRecord[]> {
  const rows = await mapErrors(
    ex
      .select()
      .from(orders)
      .where(and(...orderConditions(filter)))
      .orderBy(desc(orders.createdAt), desc(orders.clientOrderId))
      .limit(checkLimit(filter.limit)),
  );
  return rows.map(toRecord);
}

/** Orders not yet in a terminal state, oldest first. */
export async function listOpenOrders(ex: Executor, filter: Omit<OrderFilter, 'state'> = {}): Promise<OrderRecord[]> {
  const rows = await mapErrors(
    ex
      .select()
      .from(orders)
      .where(and(notInArray(orders.state, [...TERMINAL_STATES]), ...orderConditions(filter)))
      .orderBy(asc(orders.createdAt), asc(orders.clientOrderId))
      .limit(checkLimit(filter.limit)),
  );
  return rows.map(toRecord);
}

export async function listOrderEvents(ex: Executor, clientOrderId: string) {
  return mapErrors(ex.select().from(orderEvents).where(eq(orderEvents.clientOrderId, clientOrderId)).orderBy(asc(orderEvents.seq)));
}


/** The parts of the core's `Order` (domain/order.ts) a snapshot records. */
export interface OrderSnapshot {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  limitPrice: Price | null;
  venueOrderId: string | null;
  state: OrderState;
  timestamps: Readonly<Partial<Record<OrderState, number>>>;
  rejectReason: string | null;
}

/**
 * Records a whole order as the workflow holds it (the activity's `recordOrder`): inserts it if
 * new, then stores the snapshot as event `seq` of type OrderSnapshot, which advances the row
 * unless a newer event is already applied. `seq` must grow with every change the workflow
 * makes to the order (e.g. the count of events it has applied). Fill totals on the row come
 * from the fills table, never from the snapshot.
 */
export async function saveOrderSnapshot(
  ex: Executor,
  order: OrderSnapshot,
  context: { strategy: string; tradingDay: string; sessionWorkflowId: string | null; signal: SignalSnapshot | null; account?: string },
  seq: number,
): Promise<{ inserted: boolean; applied: boolean; order: OrderRecord }> {
  const createdAt = order.timestamps.CREATED;
  if (!isTime(createdAt)) throw InvalidInput.of('timestamps.CREATED', createdAt, 'must be epoch milliseconds');
  const created = await insertOrder(ex, {
    clientOrderId: order.clientOrderId,
    marketId: order.marketId,
    side: order.side,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    strategy: context.strategy,
    tradingDay: context.tradingDay,
    sessionId: context.sessionWorkflowId,
    signal: context.signal,
    createdAt: createdAt!,
    ...(context.account ? { account: context.account } : {}),
  });
  if (order.state === 'CREATED' && seq === 0) return { inserted: created.inserted, applied: false, order: created.order };
  const at = Math.max(...Object.values(order.timestamps).filter((t): t is number => t !== undefined));
  const result = await recordOrderEvent(ex, {
    clientOrderId: order.clientOrderId,
    seq,
    eventType: 'OrderSnapshot',
    state: order.state,
    at,
    venueOrderId: order.venueOrderId,
    reason: order.rejectReason,
    stateTimes: { ...order.timestamps },
  });
  return { inserted: created.inserted, ...result };
}
