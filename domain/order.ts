/**
 * The order state machine (the reference's order state machine, extended for ambiguous submissions and cancel races).
 *
 * An `Order` is a plain JSON object kept in workflow state; `applyOrderEvent` returns a new one
 * and never mutates its argument. Every legal (state, event) pair is in `ORDER_TRANSITIONS`;
 * any other pair throws `InvalidOrderTransition`. Fills are idempotent by venue trade ID.
 */
import { DomainError, ErrorType, InvalidInput, describeValue, type FieldProblem } from './errors';
import { validateFill, type Fill } from './fill';
import { validateClientOrderId } from './ids';
import { validateMarketId, type Side } from './market';
import { MICROS, ZERO, add, addQuantity, averagePrice, notional, subtractQuantity, type Money, type Price, type Quantity } from './money';

/** An order's status as the venue reports it (the venue contract and reconciliation read it). */
export type VenueOrderStatus = 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export const ORDER_STATES = [
  'CREATED',
  'PENDING_SUBMIT',
  'SUBMITTED',
  'SUBMIT_UNKNOWN',
  'PARTIALLY_FILLED',
  'FILLED',
  'PENDING_CANCEL',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
] as const;

/**
 * - CREATED: built and not yet cleared to go; pre-trade risk may still reject it.
 * - PENDING_SUBMIT: cleared to go; the submit request is about to be or is being sent.
 * - SUBMIT_UNKNOWN: the submit request may or may not have reached the venue (timeout, dropped
 *   connection). Before any resubmission the workflow must look the order up by client order ID.
 * - SUBMITTED: the venue acknowledged it and nothing has filled.
 * - PENDING_CANCEL: cancel sent, not yet confirmed; fills can still arrive.
 */
export type OrderState = (typeof ORDER_STATES)[number];

export const TERMINAL_STATES: readonly OrderState[] = ['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'];

export const ORDER_EVENT_TYPES = [
  'OrderSubmitRequested',
  'OrderAccepted',
  'OrderSubmitAmbiguous',
  'OrderNotFoundAtVenue',
  'OrderRejected',
  'OrderFilled',
  'OrderCancelRequested',
  'OrderCanceled',
  'OrderCancelRejected',
  'OrderExpired',
] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

interface EventBase<T extends OrderEventType> {
  type: T;
  /** Epoch milliseconds when the workflow learned of the event (passed in, never read from a clock). */
  ts: number;
}

/** Pre-trade risk passed; the workflow is about to send the order. */
export type OrderSubmitRequested = EventBase<'OrderSubmitRequested'>;
/** The venue acknowledged the order (submit response, or a lookup after an ambiguous submit). */
export interface OrderAccepted extends EventBase<'OrderAccepted'> {
  venueOrderId: string;
}
/** The submit request failed in a way that leaves unknown whether the venue received it. */
export interface OrderSubmitAmbiguous extends EventBase<'OrderSubmitAmbiguous'> {
  reason: string;
}
/** A lookup by client order ID after an ambiguous submit found nothing: resubmit with the SAME ID. */
export type OrderNotFoundAtVenue = EventBase<'OrderNotFoundAtVenue'>;
/** Refused by pre-trade risk (from CREATED) or by the venue; the order never worked in the market. */
export interface OrderRejected extends EventBase<'OrderRejected'> {
  reason: string;
}
export interface OrderFilled extends EventBase<'OrderFilled'> {
  fill: Fill;
}
export type OrderCancelRequested = EventBase<'OrderCancelRequested'>;
/** Confirmed canceled: after our request, or unsolicited by the venue (halt, operator). */
export type OrderCanceled = EventBase<'OrderCanceled'>;
/** The venue refused the cancel (e.g. too late: already filled); the order is working as far as we know. */
export interface OrderCancelRejected extends EventBase<'OrderCancelRejected'> {
  reason: string;
}
/** Venue-side expiry, or our time-to-live ran out before the order reached the venue. */
export type OrderExpired = EventBase<'OrderExpired'>;

export type OrderEvent =
  | OrderSubmitRequested
  | OrderAccepted
  | OrderSubmitAmbiguous
  | OrderNotFoundAtVenue
  | OrderRejected
  | OrderFilled
  | OrderCancelRequested
  | OrderCanceled
  | OrderCancelRejected
  | OrderExpired;

type TransitionTable = { readonly [S in OrderState]: { readonly [E in OrderEventType]?: OrderState } };

/**
 * Every legal transition. Two targets depend on fills, resolved in `resolveTarget`:
 * - a fill that completes the quantity goes to FILLED whatever the entry says;
 * - a working target of SUBMITTED becomes PARTIALLY_FILLED when something has filled
 *   (OrderCancelRejected after fills arrived during PENDING_CANCEL).
 * Self-transitions (OrderAccepted in a working state) record a late or repeated acknowledgement,
 * e.g. when a fill reached us before the submit response. Terminal states have no entries:
 * only an exact duplicate of an already-applied fill is accepted there, as a no-op.
 * PENDING_SUBMIT -> EXPIRED is for a request not in flight (before the first send, or after the
 * venue said it does not have the order); SUBMIT_UNKNOWN must be resolved by a lookup first.
 */
export const ORDER_TRANSITIONS = {
  CREATED: {
    OrderSubmitRequested: 'PENDING_SUBMIT',
    OrderRejected: 'REJECTED',
    OrderExpired: 'EXPIRED',
  },
  PENDING_SUBMIT: {
    OrderAccepted: 'SUBMITTED',
    OrderSubmitAmbiguous: 'SUBMIT_UNKNOWN',
    OrderRejected: 'REJECTED',
    OrderFilled: 'PARTIALLY_FILLED',
    OrderExpired: 'EXPIRED',
  },
  SUBMIT_UNKNOWN: {
    OrderAccepted: 'SUBMITTED',
    OrderNotFoundAtVenue: 'PENDING_SUBMIT',
    OrderRejected: 'REJECTED',
    OrderFilled: 'PARTIALLY_FILLED',
  },
  SUBMITTED: {
    OrderAccepted: 'SUBMITTED',
    OrderRejected: 'REJECTED',
    OrderFilled: 'PARTIALLY_FILLED',
    OrderCancelRequested: 'PENDING_CANCEL',
    OrderCanceled: 'CANCELED',
    OrderExpired: 'EXPIRED',
  },
  PARTIALLY_FILLED: {
    OrderAccepted: 'PARTIALLY_FILLED',
    OrderFilled: 'PARTIALLY_FILLED',
    OrderCancelRequested: 'PENDING_CANCEL',
    OrderCanceled: 'CANCELED',
    OrderExpired: 'EXPIRED',
  },
  PENDING_CANCEL: {
    OrderAccepted: 'PENDING_CANCEL',
    OrderFilled: 'PENDING_CANCEL',
    OrderCanceled: 'CANCELED',
    OrderCancelRejected: 'SUBMITTED',
    OrderExpired: 'EXPIRED',
  },
  FILLED: {},
  CANCELED: {},
  REJECTED: {},
  EXPIRED: {},
} as const satisfies TransitionTable;

// Compile-time exhaustiveness: a new state needs a row (the `satisfies` above), and a new event
// type that no row mentions fails here.
type CoveredEvents = { [S in OrderState]: keyof (typeof ORDER_TRANSITIONS)[S] }[OrderState];
type UncoveredEvents = Exclude<OrderEventType, CoveredEvents>;
const everyEventCovered: [UncoveredEvents] extends [never] ? true : UncoveredEvents = true;
void everyEventCovered;

const TABLE: TransitionTable = ORDER_TRANSITIONS;

/** A fill as applied to an order, with when the workflow received it (our clock, for latency). */
export interface RecordedFill extends Fill {
  receivedAt: number;
}

export interface Order {
  readonly clientOrderId: string;
  readonly marketId: string;
  readonly side: Side;
  readonly quantity: Quantity;
  /** Null for a market order. */
  readonly limitPrice: Price | null;
  readonly venueOrderId: string | null;
  readonly state: OrderState;
  readonly filledQuantity: Quantity;
  /** Sum over fills of price × quantity, in micros. */
  readonly fillNotional: Money;
  readonly fees: Money;
  /** Applied fills in the order they arrived; trade IDs are unique. */
  readonly fills: readonly RecordedFill[];
  /** Epoch milliseconds when each state was FIRST reached. */
  readonly timestamps: Readonly<Partial<Record<OrderState, number>>>;
  readonly rejectReason: string | null;
  /** Reason given by the latest ambiguous submission, kept for the audit trail. */
  readonly ambiguityReason: string | null;
  readonly cancelRejectReason: string | null;
}

export interface NewOrder {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: number;
  limitPrice: number | null;
  /** Epoch milliseconds of creation. */
  ts: number;
}

export class InvalidOrderTransition extends DomainError {
  constructor(
    readonly from: OrderState,
    readonly eventType: OrderEventType,
    readonly clientOrderId: string,
  ) {
    super(
      ErrorType.InvalidOrderTransition,
      `order ${describeValue(clientOrderId)}: ${eventType} is not allowed in state ${from}`,
    );
  }
}

/** The same venue trade ID arrived again with different content. */
export class FillMismatch extends DomainError {
  constructor(
    readonly clientOrderId: string,
    readonly tradeId: string,
    readonly fields: string[],
  ) {
    super(
      ErrorType.FillMismatch,
      `order ${describeValue(clientOrderId)}: trade ${describeValue(tradeId)} was already applied with different ${fields.join(', ')}`,
    );
  }
}

export class FillExceedsOrder extends DomainError {
  constructor(
    readonly clientOrderId: string,
    readonly tradeId: string,
    readonly fillQuantity: number,
    readonly remaining: number,
  ) {
    super(
      ErrorType.FillExceedsOrder,
      `order ${describeValue(clientOrderId)}: trade ${describeValue(tradeId)} of ${fillQuantity} exceeds the remaining ${remaining}`,
    );
  }
}

const isTimestamp = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function createOrder(params: NewOrder): Order {
  const problems: FieldProblem[] = [];
  const check = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof InvalidInput) problems.push(...e.problems);
      else throw e;
    }
  };
  check(() => validateClientOrderId(params.clientOrderId));
  check(() => validateMarketId(params.marketId));
  if (params.side !== 'BUY' && params.side !== 'SELL') {
    problems.push({ field: 'side', value: params.side, problem: 'must be BUY or SELL' });
  }
  if (!Number.isSafeInteger(params.quantity) || params.quantity <= 0) {
    problems.push({ field: 'quantity', value: params.quantity, problem: 'must be a positive whole number of contracts' });
  }
  const lp = params.limitPrice;
  if (lp !== null && (!Number.isSafeInteger(lp) || lp <= 0 || lp >= MICROS)) {
    problems.push({ field: 'limitPrice', value: lp, problem: 'must be null or integer micros inside (0, 1)' });
  }
  if (!isTimestamp(params.ts)) problems.push({ field: 'ts', value: params.ts, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return {
    clientOrderId: params.clientOrderId,
    marketId: params.marketId,
    side: params.side,
    quantity: params.quantity as Quantity,
    limitPrice: lp as Price | null,
    venueOrderId: null,
    state: 'CREATED',
    filledQuantity: 0 as Quantity,
    fillNotional: ZERO,
    fees: ZERO,
    fills: [],
    timestamps: { CREATED: params.ts },
    rejectReason: null,
    ambiguityReason: null,
    cancelRejectReason: null,
  };
}

const nonEmptyText = (v: unknown): boolean => typeof v === 'string' && v.trim().length > 0 && v.length <= 1000;

/** Checks an event from outside (signal payload, activity result); reports every bad field. */
export function validateOrderEvent(event: OrderEvent): OrderEvent {
  if (typeof event !== 'object' || event === null) throw InvalidInput.of('event', event, 'must be an object');
  if (!(ORDER_EVENT_TYPES as readonly string[]).includes(event.type)) {
    throw InvalidInput.of('event.type', event.type, `must be one of ${ORDER_EVENT_TYPES.join(', ')}`);
  }
  const problems: FieldProblem[] = [];
  if (!isTimestamp(event.ts)) problems.push({ field: 'event.ts', value: event.ts, problem: 'must be epoch milliseconds' });
  switch (event.type) {
    case 'OrderAccepted':
      if (!nonEmptyText(event.venueOrderId)) {
        problems.push({ field: 'event.venueOrderId', value: event.venueOrderId, problem: 'must be a non-empty string' });
      }
      break;
    case 'OrderSubmitAmbiguous':
    case 'OrderRejected':
    case 'OrderCancelRejected':
      if (!nonEmptyText(event.reason)) problems.push({ field: 'event.reason', value: event.reason, problem: 'must be a non-empty string' });
      break;
    case 'OrderFilled':
      if (typeof event.fill !== 'object' || event.fill === null) {
        problems.push({ field: 'event.fill', value: event.fill, problem: 'must be a fill' });
      } else {
        try {
          validateFill(event.fill);
        } catch (e) {
          if (!(e instanceof InvalidInput)) throw e;
          problems.push(...e.problems.map((p) => ({ ...p, field: `event.fill.${p.field}` })));
        }
      }
      break;
    case 'OrderSubmitRequested':
    case 'OrderNotFoundAtVenue':
    case 'OrderCancelRequested':
    case 'OrderCanceled':
    case 'OrderExpired':
      break;
    default:
      return assertNever(event);
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return event;
}

function assertNever(x: never): never {
  throw InvalidInput.of('event.type', (x as { type?: unknown }).type, 'is not an order event');
}

/** The table's entry for a pair, or null when the pair is illegal. */
export function transitionTarget(from: OrderState, eventType: OrderEventType): OrderState | null {
  return TABLE[from][eventType] ?? null;
}

export function allowedEvents(state: OrderState): OrderEventType[] {
  return ORDER_EVENT_TYPES.filter((t) => TABLE[state][t] !== undefined);
}

function lookupTarget(order: Order, eventType: OrderEventType): OrderState {
  const target = transitionTarget(order.state, eventType);
  if (target === null) throw new InvalidOrderTransition(order.state, eventType, order.clientOrderId);
  return target;
}

function resolveTarget(target: OrderState, filled: number, qty: number): OrderState {
  if (filled === qty) return 'FILLED';
  if (target === 'SUBMITTED' && filled > 0) return 'PARTIALLY_FILLED';
  return target;
}

function moveTo(order: Order, state: OrderState, ts: number, changes: Partial<Order> = {}): Order {
  const timestamps = state in order.timestamps ? order.timestamps : { ...order.timestamps, [state]: ts };
  return { ...order, ...changes, state, timestamps };
}

/**
 * Applies one event and returns the new order. Throws InvalidInput (malformed event, fill for
 * another order, conflicting venue order ID), InvalidOrderTransition, FillMismatch or
 * FillExceedsOrder; the argument is never modified.
 */
export function applyOrderEvent(order: Order, event: OrderEvent): Order {
  validateOrderEvent(event);
  if (event.type === 'OrderFilled') return applyFill(order, event);
  const target = resolveTarget(lookupTarget(order, event.type), order.filledQuantity, order.quantity);
  switch (event.type) {
    case 'OrderAccepted': {
      if (order.venueOrderId !== null && order.venueOrderId !== event.venueOrderId) {
        throw InvalidInput.of(
          'event.venueOrderId',
          event.venueOrderId,
          `differs from the venue order ID ${describeValue(order.venueOrderId)} already recorded for ${describeValue(order.clientOrderId)}`,
        );
      }
      if (order.venueOrderId === event.venueOrderId && order.state === target) return order;
      return moveTo(order, target, event.ts, { venueOrderId: event.venueOrderId });
    }
    case 'OrderSubmitAmbiguous':
      return moveTo(order, target, event.ts, { ambiguityReason: event.reason });
    case 'OrderRejected':
      return moveTo(order, target, event.ts, { rejectReason: event.reason });
    case 'OrderCancelRejected':
      return moveTo(order, target, event.ts, { cancelRejectReason: event.reason });
    case 'OrderSubmitRequested':
    case 'OrderNotFoundAtVenue':
    case 'OrderCancelRequested':
    case 'OrderCanceled':
    case 'OrderExpired':
      return moveTo(order, target, event.ts);
    default:
      return assertNever(event);
  }
}

export function applyOrderEvents(order: Order, events: readonly OrderEvent[]): Order {
  return events.reduce(applyOrderEvent, order);
}

const FILL_CONTENT_FIELDS = ['clientOrderId', 'marketId', 'side', 'quantity', 'price', 'fee'] as const;

/**
 * Fill identity: the venue trade ID. A repeat with the same economic content is a no-op;
 * `ts` is not compared, because the same trade seen on the stream and in a REST lookup may
 * carry timestamps of different precision.
 */
function applyFill(order: Order, event: OrderFilled): Order {
  const fill = event.fill;
  const problems: FieldProblem[] = [];
  if (fill.clientOrderId !== order.clientOrderId) {
    problems.push({ field: 'event.fill.clientOrderId', value: fill.clientOrderId, problem: `must be ${describeValue(order.clientOrderId)}` });
  }
  if (fill.marketId !== order.marketId) {
    problems.push({ field: 'event.fill.marketId', value: fill.marketId, problem: `must be ${describeValue(order.marketId)}` });
  }
  if (fill.side !== order.side) problems.push({ field: 'event.fill.side', value: fill.side, problem: `must be ${order.side}` });
  if (problems.length > 0) throw new InvalidInput(problems);

  const previous = order.fills.find((f) => f.tradeId === fill.tradeId);
  if (previous !== undefined) {
    const differing = FILL_CONTENT_FIELDS.filter((k) => previous[k] !== fill[k]);
    if (differing.length > 0) throw new FillMismatch(order.clientOrderId, fill.tradeId, differing);
    return order;
  }

  const tableTarget = lookupTarget(order, 'OrderFilled');
  const remaining = remainingQuantity(order);
  if (fill.quantity > remaining) throw new FillExceedsOrder(order.clientOrderId, fill.tradeId, fill.quantity, remaining);

  const filledQuantity = addQuantity(order.filledQuantity, fill.quantity);
  const recorded: RecordedFill = { ...fill, receivedAt: event.ts };
  return moveTo(order, resolveTarget(tableTarget, filledQuantity, order.quantity), event.ts, {
    filledQuantity,
    fillNotional: add(order.fillNotional, notional(fill.price, fill.quantity)),
    fees: add(order.fees, fill.fee),
    fills: [...order.fills, recorded],
  });
}

/** Exact in hundredths of a contract, so a fractionally filled order compares exactly. */
export const remainingQuantity = (order: Order): Quantity => subtractQuantity(order.quantity, order.filledQuantity);

/** Quantity-weighted mean fill price, rounded to the nearest micro; null before any fill. */
export function averageFillPrice(order: Order): Price | null {
  return order.filledQuantity === 0 ? null : averagePrice(order.fillNotional, order.filledQuantity);
}

const stateOf = (o: Order | OrderState): OrderState => (typeof o === 'string' ? o : o.state);

export const isTerminal = (o: Order | OrderState): boolean => TERMINAL_STATES.includes(stateOf(o));

/** Not terminal: the order may still change and may still add exposure. */
export const isOpen = (o: Order | OrderState): boolean => !isTerminal(o);

/** Confirmed live at the venue (acknowledged or filling, cancel possibly in flight). */
export const isWorking = (o: Order | OrderState): boolean => {
  const s = stateOf(o);
  return s === 'SUBMITTED' || s === 'PARTIALLY_FILLED' || s === 'PENDING_CANCEL';
};

export const canCancel = (o: Order | OrderState): boolean => transitionTarget(stateOf(o), 'OrderCancelRequested') !== null;

/** The reference's order state machine: a partially filled order that is then canceled leaves a partial position. */
export const canceledAfterPartial = (order: Order): boolean => order.state === 'CANCELED' && order.filledQuantity > 0;
