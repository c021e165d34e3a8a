import { describe, expect, it } from 'vitest';
import { ErrorType, InvalidInput } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import {
  FillExceedsOrder,
  FillMismatch,
  InvalidOrderTransition,
  ORDER_EVENT_TYPES,
  ORDER_STATES,
  ORDER_TRANSITIONS,
  allowedEvents,
  applyOrderEvent,
  applyOrderEvents,
  averageFillPrice,
  canCancel,
  canceledAfterPartial,
  createOrder,
  isOpen,
  isTerminal,
  isWorking,
  remainingQuantity,
  type Order,
  type OrderEvent,
  type OrderEventType,
  type OrderState,
} from '../../domain/order';

const COID = 'mr-20260105-000001';
const MARKET = 'FED-RATE-JAN';
const T0 = 1_767_600_000_000;

const newOrder = (quantity = 100, side: 'BUY' | 'SELL' = 'BUY'): Order =>
  createOrder({ clientOrderId: COID, marketId: MARKET, side, quantity, limitPrice: 450_000, ts: T0 });

const fill = (tradeId: string, quantity: number, price = 430_000, fee = 0, side: 'BUY' | 'SELL' = 'BUY'): Fill => ({
  tradeId,
  clientOrderId: COID,
  marketId: MARKET,
  side,
  quantity: quantity as Quantity,
  price: price as Price,
  fee: fee as Money,
  ts: T0 + 500,
});

const ev = {
  submit: (ts = T0 + 1): OrderEvent => ({ type: 'OrderSubmitRequested', ts }),
  accepted: (ts = T0 + 2, venueOrderId = 'V-1'): OrderEvent => ({ type: 'OrderAccepted', ts, venueOrderId }),
  ambiguous: (ts = T0 + 2): OrderEvent => ({ type: 'OrderSubmitAmbiguous', ts, reason: 'timeout after 10s' }),
  notFound: (ts = T0 + 3): OrderEvent => ({ type: 'OrderNotFoundAtVenue', ts }),
  rejected: (ts = T0 + 2, reason = 'insufficient balance'): OrderEvent => ({ type: 'OrderRejected', ts, reason }),
  filled: (f: Fill, ts = T0 + 5): OrderEvent => ({ type: 'OrderFilled', ts, fill: f }),
  cancelReq: (ts = T0 + 6): OrderEvent => ({ type: 'OrderCancelRequested', ts }),
  canceled: (ts = T0 + 7): OrderEvent => ({ type: 'OrderCanceled', ts }),
  cancelRejected: (ts = T0 + 7): OrderEvent => ({ type: 'OrderCancelRejected', ts, reason: 'too late to cancel' }),
  expired: (ts = T0 + 8): OrderEvent => ({ type: 'OrderExpired', ts }),
};

/** A path of events that reaches each state from CREATED. */
const PATHS: Record<OrderState, OrderEvent[]> = {
  CREATED: [],
  PENDING_SUBMIT: [ev.submit()],
  SUBMIT_UNKNOWN: [ev.submit(), ev.ambiguous()],
  SUBMITTED: [ev.submit(), ev.accepted()],
  PARTIALLY_FILLED: [ev.submit(), ev.accepted(), ev.filled(fill('t-path', 40))],
  FILLED: [ev.submit(), ev.accepted(), ev.filled(fill('t-path', 100))],
  PENDING_CANCEL: [ev.submit(), ev.accepted(), ev.cancelReq()],
  CANCELED: [ev.submit(), ev.accepted(), ev.cancelReq(), ev.canceled()],
  REJECTED: [ev.rejected()],
  EXPIRED: [ev.submit(), ev.accepted(), ev.expired()],
};

const orderIn = (state: OrderState): Order => applyOrderEvents(newOrder(), PATHS[state]);

/** One representative event of each type; the fill is new (trade ID never used by a path). */
const SAMPLE: Record<OrderEventType, OrderEvent> = {
  OrderSubmitRequested: ev.submit(T0 + 100),
  OrderAccepted: ev.accepted(T0 + 100),
  OrderSubmitAmbiguous: ev.ambiguous(T0 + 100),
  OrderNotFoundAtVenue: ev.notFound(T0 + 100),
  OrderRejected: ev.rejected(T0 + 100),
  OrderFilled: ev.filled(fill('t-sample', 10), T0 + 100),
  OrderCancelRequested: ev.cancelReq(T0 + 100),
  OrderCanceled: ev.canceled(T0 + 100),
  OrderCancelRejected: ev.cancelRejected(T0 + 100),
  OrderExpired: ev.expired(T0 + 100),
};

/** The legal pairs written out independently of the module, with the state the sample event leads to. */
const EXPECTED: [OrderState, OrderEventType, OrderState][] = [
  ['CREATED', 'OrderSubmitRequested', 'PENDING_SUBMIT'],
  ['CREATED', 'OrderRejected', 'REJECTED'],
  ['CREATED', 'OrderExpired', 'EXPIRED'],
  ['PENDING_SUBMIT', 'OrderAccepted', 'SUBMITTED'],
  ['PENDING_SUBMIT', 'OrderSubmitAmbiguous', 'SUBMIT_UNKNOWN'],
  ['PENDING_SUBMIT', 'OrderRejected', 'REJECTED'],
  ['PENDING_SUBMIT', 'OrderFilled', 'PARTIALLY_FILLED'],
  ['PENDING_SUBMIT', 'OrderExpired', 'EXPIRED'],
  ['SUBMIT_UNKNOWN', 'OrderAccepted', 'SUBMITTED'],
  ['SUBMIT_UNKNOWN', 'OrderNotFoundAtVenue', 'PENDING_SUBMIT'],
  ['SUBMIT_UNKNOWN', 'OrderRejected', 'REJECTED'],
  ['SUBMIT_UNKNOWN', 'OrderFilled', 'PARTIALLY_FILLED'],
  ['SUBMITTED', 'OrderAccepted', 'SUBMITTED'],
  ['SUBMITTED', 'OrderRejected', 'REJECTED'],
  ['SUBMITTED', 'OrderFilled', 'PARTIALLY_FILLED'],
  ['SUBMITTED', 'OrderCancelRequested', 'PENDING_CANCEL'],
  ['SUBMITTED', 'OrderCanceled', 'CANCELED'],
  ['SUBMITTED', 'OrderExpired', 'EXPIRED'],
  ['PARTIALLY_FILLED', 'OrderAccepted', 'PARTIALLY_FILLED'],
  ['PARTIALLY_FILLED', 'OrderFilled', 'PARTIALLY_FILLED'],
  ['PARTIALLY_FILLED', 'OrderCancelRequested', 'PENDING_CANCEL'],
  ['PARTIALLY_FILLED', 'OrderCanceled', 'CANCELED'],
  ['PARTIALLY_FILLED', 'OrderExpired', 'EXPIRED'],
  ['PENDING_CANCEL', 'OrderAccepted', 'PENDING_CANCEL'],
  ['PENDING_CANCEL', 'OrderFilled', 'PENDING_CANCEL'],
  ['PENDING_CANCEL', 'OrderCanceled', 'CANCELED'],
  ['PENDING_CANCEL', 'OrderCancelRejected', 'SUBMITTED'],
  ['PENDING_CANCEL', 'OrderExpired', 'EXPIRED'],
];

const legal = new Set(EXPECTED.map(([s, e]) => `${s}/${e}`));
const illegalPairs = ORDER_STATES.flatMap((s) => ORDER_EVENT_TYPES.filter((e) => !legal.has(`${s}/${e}`)).map((e) => [s, e] as const));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('transition table', () => {
  it('holds exactly the expected legal pairs', () => {
    const actual = ORDER_STATES.flatMap((s) =>
      Object.entries(ORDER_TRANSITIONS[s]).map(([e, to]) => `${s}/${e}->${to}`),
    ).sort();
    const expected = EXPECTED.map(([s, e, to]) => `${s}/${e}->${to}`).sort();
    expect(actual).toEqual(expected);
    expect(actual).toHaveLength(28);
  });

  it.each(EXPECTED)('%s + %s -> %s', (from, type, to) => {
    const before = orderIn(from);
    expect(before.state).toBe(from);
    const after = applyOrderEvent(before, SAMPLE[type]);
    expect(after.state).toBe(to);
    expect(allowedEvents(from)).toContain(type);
  });

  it(`throws InvalidOrderTransition for each of the ${illegalPairs.length} illegal pairs`, () => {
    expect(illegalPairs.length).toBe(ORDER_STATES.length * ORDER_EVENT_TYPES.length - EXPECTED.length);
    for (const [from, type] of illegalPairs) {
      const before = orderIn(from);
      const err = thrown(() => applyOrderEvent(before, SAMPLE[type]));
      expect(err, `${from} + ${type}`).toBeInstanceOf(InvalidOrderTransition);
      const e = err as InvalidOrderTransition;
      expect(e.type).toBe(ErrorType.InvalidOrderTransition);
      expect([e.from, e.eventType, e.clientOrderId]).toEqual([from, type, COID]);
      expect(e.message).toContain(from);
      expect(e.message).toContain(type);
    }
  });

  it('terminal states have no outgoing transitions', () => {
    for (const s of ['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'] as const) {
      expect(allowedEvents(s)).toEqual([]);
      expect(isTerminal(s)).toBe(true);
    }
  });
});

describe('fill-dependent resolution and races', () => {
  it('a fill while PENDING_CANCEL stays PENDING_CANCEL, and the cancel then leaves a canceled-after-partial order', () => {
    const pending = orderIn('PENDING_CANCEL');
    const partly = applyOrderEvent(pending, ev.filled(fill('t1', 30)));
    expect(partly.state).toBe('PENDING_CANCEL');
    expect(partly.filledQuantity).toBe(30);
    const done = applyOrderEvent(partly, ev.canceled());
    expect(done.state).toBe('CANCELED');
    expect(canceledAfterPartial(done)).toBe(true);
    expect(canceledAfterPartial(orderIn('CANCELED'))).toBe(false);
  });

  it('a fill that completes the order while PENDING_CANCEL goes to FILLED; the late cancel confirmation is refused', () => {
    const filled = applyOrderEvent(orderIn('PENDING_CANCEL'), ev.filled(fill('t1', 100)));
    expect(filled.state).toBe('FILLED');
    expect(() => applyOrderEvent(filled, ev.canceled())).toThrow(InvalidOrderTransition);
  });

  it('a cancel rejected after fills arrived returns to PARTIALLY_FILLED, without fills to SUBMITTED', () => {
    const partly = applyOrderEvents(orderIn('PENDING_CANCEL'), [ev.filled(fill('t1', 30)), ev.cancelRejected()]);
    expect(partly.state).toBe('PARTIALLY_FILLED');
    expect(partly.cancelRejectReason).toBe('too late to cancel');
    expect(applyOrderEvent(orderIn('PENDING_CANCEL'), ev.cancelRejected()).state).toBe('SUBMITTED');
  });

  it('a full fill goes straight to FILLED from every fillable state', () => {
    for (const s of ['PENDING_SUBMIT', 'SUBMIT_UNKNOWN', 'SUBMITTED', 'PENDING_CANCEL'] as const) {
      expect(applyOrderEvent(orderIn(s), ev.filled(fill('t-full', 100))).state).toBe('FILLED');
    }
    expect(applyOrderEvent(orderIn('PARTIALLY_FILLED'), ev.filled(fill('t-rest', 60))).state).toBe('FILLED');
  });

  it('a fill discovered while SUBMIT_UNKNOWN proves the venue has the order; the late acknowledgement records its ID', () => {
    const partly = applyOrderEvent(orderIn('SUBMIT_UNKNOWN'), ev.filled(fill('t1', 25), T0 + 10));
    expect(partly.state).toBe('PARTIALLY_FILLED');
    expect(partly.venueOrderId).toBeNull();
    const acked = applyOrderEvent(partly, ev.accepted(T0 + 11, 'V-9'));
    expect(acked.state).toBe('PARTIALLY_FILLED');
    expect(acked.venueOrderId).toBe('V-9');
    expect(acked.timestamps.SUBMITTED).toBeUndefined();
  });

  it('not found after an ambiguous submit goes back to PENDING_SUBMIT; the resubmission is then acknowledged', () => {
    const order = applyOrderEvents(newOrder(), [
      ev.submit(T0 + 1),
      ev.ambiguous(T0 + 2),
      ev.notFound(T0 + 3),
      ev.accepted(T0 + 4, 'V-2'),
    ]);
    expect(order.state).toBe('SUBMITTED');
    expect(order.clientOrderId).toBe(COID);
    expect(order.ambiguityReason).toBe('timeout after 10s');
    // Timestamps keep the FIRST time a state was reached.
    expect(order.timestamps).toEqual({ CREATED: T0, PENDING_SUBMIT: T0 + 1, SUBMIT_UNKNOWN: T0 + 2, SUBMITTED: T0 + 4 });
  });

  it('a second ambiguous submit is not a transition: the workflow must look the order up first', () => {
    expect(() => applyOrderEvent(orderIn('SUBMIT_UNKNOWN'), ev.ambiguous())).toThrow(InvalidOrderTransition);
    expect(() => applyOrderEvent(orderIn('SUBMIT_UNKNOWN'), ev.submit())).toThrow(InvalidOrderTransition);
    expect(() => applyOrderEvent(orderIn('SUBMIT_UNKNOWN'), ev.expired())).toThrow(InvalidOrderTransition);
  });

  it('a repeated acknowledgement with the same venue ID changes nothing; a different ID is refused', () => {
    const submitted = orderIn('SUBMITTED');
    expect(applyOrderEvent(submitted, ev.accepted(T0 + 50, 'V-1'))).toBe(submitted);
    const err = thrown(() => applyOrderEvent(submitted, ev.accepted(T0 + 50, 'V-2')));
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems[0]).toMatchObject({ field: 'event.venueOrderId', value: 'V-2' });
  });

  it('records the reject reason, whether from risk (CREATED) or from the venue', () => {
    const risk = applyOrderEvent(newOrder(), ev.rejected(T0 + 1, 'daily loss limit reached'));
    expect(risk).toMatchObject({ state: 'REJECTED', rejectReason: 'daily loss limit reached', filledQuantity: 0 });
    expect(risk.timestamps.PENDING_SUBMIT).toBeUndefined();
    const venue = applyOrderEvent(orderIn('PENDING_SUBMIT'), ev.rejected(T0 + 2, 'market closed'));
    expect(venue.rejectReason).toBe('market closed');
  });
});

describe('fills', () => {
  it('applies a duplicate trade ID with identical content as a no-op (same object), even after FILLED', () => {
    const once = applyOrderEvent(orderIn('SUBMITTED'), ev.filled(fill('t1', 40)));
    expect(applyOrderEvent(once, ev.filled(fill('t1', 40), T0 + 99))).toBe(once);
    const full = applyOrderEvent(once, ev.filled(fill('t2', 60)));
    expect(full.state).toBe('FILLED');
    expect(applyOrderEvent(full, ev.filled(fill('t1', 40)))).toBe(full);
    expect(applyOrderEvent(full, ev.filled(fill('t2', 60)))).toBe(full);
  });

  it('ignores only the venue timestamp when comparing a repeated trade', () => {
    const once = applyOrderEvent(orderIn('SUBMITTED'), ev.filled(fill('t1', 40)));
    expect(applyOrderEvent(once, ev.filled({ ...fill('t1', 40), ts: T0 + 501 }))).toBe(once);
  });

  it('refuses the same trade ID with different content, naming the fields', () => {
    const once = applyOrderEvent(orderIn('SUBMITTED'), ev.filled(fill('t1', 40, 430_000, 100)));
    const err = thrown(() => applyOrderEvent(once, ev.filled(fill('t1', 40, 440_000, 200))));
    expect(err).toBeInstanceOf(FillMismatch);
    expect((err as FillMismatch).type).toBe(ErrorType.FillMismatch);
    expect((err as FillMismatch).fields).toEqual(['price', 'fee']);
    expect((err as FillMismatch).tradeId).toBe('t1');
    expect(thrown(() => applyOrderEvent(once, ev.filled(fill('t1', 41))))).toBeInstanceOf(FillMismatch);
  });

  it('refuses a fill larger than the remaining quantity', () => {
    const partly = orderIn('PARTIALLY_FILLED');
    expect(remainingQuantity(partly)).toBe(60);
    const err = thrown(() => applyOrderEvent(partly, ev.filled(fill('t9', 61))));
    expect(err).toBeInstanceOf(FillExceedsOrder);
    expect(err).toMatchObject({ type: ErrorType.FillExceedsOrder, fillQuantity: 61, remaining: 60, tradeId: 't9' });
  });

  it('refuses a fill for another order, market or side with InvalidInput naming the field', () => {
    const order = orderIn('SUBMITTED');
    const cases: [Partial<Fill>, string][] = [
      [{ clientOrderId: 'other-1' }, 'event.fill.clientOrderId'],
      [{ marketId: 'OTHER' }, 'event.fill.marketId'],
      [{ side: 'SELL' }, 'event.fill.side'],
    ];
    for (const [change, field] of cases) {
      const err = thrown(() => applyOrderEvent(order, ev.filled({ ...fill('t1', 10), ...change })));
      expect(err).toBeInstanceOf(InvalidInput);
      expect((err as InvalidInput).problems.map((p) => p.field)).toEqual([field]);
    }
  });

  it('refuses a malformed fill, naming every bad field', () => {
    const err = thrown(() =>
      applyOrderEvent(orderIn('SUBMITTED'), ev.filled({ ...fill('t1', 10), quantity: 0 as Quantity, price: 1_000_000 as Price })),
    );
    expect((err as InvalidInput).problems.map((p) => p.field)).toEqual(['event.fill.quantity', 'event.fill.price']);
  });

  it('a new fill on a terminal order is an invalid transition (a reconciliation matter, never applied silently)', () => {
    for (const s of ['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'] as const) {
      expect(() => applyOrderEvent(orderIn(s), ev.filled(fill('t-late', 1)))).toThrow(InvalidOrderTransition);
    }
  });

  it('computes an exact average price: 100 @ 0.43 + 50 @ 0.44 -> 0.433333', () => {
    let o = applyOrderEvents(newOrder(150), [ev.submit(), ev.accepted()]);
    expect(averageFillPrice(o)).toBeNull();
    o = applyOrderEvent(o, ev.filled(fill('a', 100, 430_000, 1_500)));
    expect(averageFillPrice(o)).toBe(430_000);
    o = applyOrderEvent(o, ev.filled(fill('b', 50, 440_000, 700)));
    expect(o.state).toBe('FILLED');
    expect(o.fillNotional).toBe(65_000_000);
    expect(o.fees).toBe(2_200);
    expect(averageFillPrice(o)).toBe(433_333);
    expect(o.fills.map((f) => [f.tradeId, f.receivedAt])).toEqual([
      ['a', T0 + 5],
      ['b', T0 + 5],
    ]);
  });

  it('rounds the average half away from zero: 1 @ 0.000001 + 1 @ 0.000002 -> 0.000002', () => {
    const o = applyOrderEvents(newOrder(2), [ev.submit(), ev.filled(fill('a', 1, 1)), ev.filled(fill('b', 1, 2))]);
    expect(averageFillPrice(o)).toBe(2);
  });
});

describe('order object', () => {
  it('is never mutated and stays JSON-serialisable', () => {
    let o = deepFreeze(newOrder());
    for (const e of [ev.submit(), ev.accepted(), ev.filled(fill('t1', 40)), ev.cancelReq(), ev.filled(fill('t2', 10)), ev.canceled()]) {
      const next = deepFreeze(applyOrderEvent(o, e));
      expect(next).not.toBe(o);
      o = next;
    }
    expect(JSON.parse(JSON.stringify(o))).toEqual(o);
    expect(o).toMatchObject({ state: 'CANCELED', filledQuantity: 50, venueOrderId: 'V-1' });
    expect(Object.keys(o.timestamps).sort()).toEqual(['CANCELED', 'CREATED', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'PENDING_SUBMIT', 'SUBMITTED']);
  });

  it('createOrder reports every bad field with its value', () => {
    const err = thrown(() =>
      createOrder({ clientOrderId: '', marketId: 'has space', side: 'HOLD' as 'BUY', quantity: 1.5, limitPrice: 1_000_000, ts: -1 }),
    );
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems.map((p) => [p.field, p.value])).toEqual([
      ['clientOrderId', ''],
      ['marketId', 'has space'],
      ['side', 'HOLD'],
      ['quantity', 1.5],
      ['limitPrice', 1_000_000],
      ['ts', -1],
    ]);
    expect(() => createOrder({ clientOrderId: COID, marketId: MARKET, side: 'BUY', quantity: 0, limitPrice: null, ts: T0 })).toThrow(
      /quantity.*got 0/,
    );
    expect(() => createOrder({ clientOrderId: COID, marketId: MARKET, side: 'BUY', quantity: 5, limitPrice: 0, ts: T0 })).toThrow(
      /limitPrice.*got 0/,
    );
  });

  it('createOrder accepts a market order (no limit price)', () => {
    const o = createOrder({ clientOrderId: COID, marketId: MARKET, side: 'SELL', quantity: 5, limitPrice: null, ts: T0 });
    expect(o).toMatchObject({ state: 'CREATED', limitPrice: null, filledQuantity: 0, fills: [], timestamps: { CREATED: T0 } });
  });

  it('refuses malformed events with InvalidInput naming the field', () => {
    const o = newOrder();
    expect((thrown(() => applyOrderEvent(o, { type: 'OrderBogus', ts: T0 } as unknown as OrderEvent)) as InvalidInput).problems[0]).toMatchObject({
      field: 'event.type',
      value: 'OrderBogus',
    });
    expect((thrown(() => applyOrderEvent(o, { type: 'OrderSubmitRequested', ts: 1.5 })) as InvalidInput).problems[0]).toMatchObject({
      field: 'event.ts',
    });
    expect((thrown(() => applyOrderEvent(o, { type: 'OrderRejected', ts: T0, reason: ' ' })) as InvalidInput).problems[0]).toMatchObject({
      field: 'event.reason',
    });
    expect(
      (thrown(() => applyOrderEvent(orderIn('PENDING_SUBMIT'), { type: 'OrderAccepted', ts: T0, venueOrderId: '' })) as InvalidInput).problems[0],
    ).toMatchObject({ field: 'event.venueOrderId' });
  });
});

describe('helpers', () => {
  it.each(ORDER_STATES.map((s) => [s]))('%s', (state) => {
    const o = orderIn(state);
    const terminal = ['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'].includes(state);
    expect(isTerminal(o)).toBe(terminal);
    expect(isOpen(o)).toBe(!terminal);
    expect(isWorking(o)).toBe(['SUBMITTED', 'PARTIALLY_FILLED', 'PENDING_CANCEL'].includes(state));
    expect(canCancel(o)).toBe(state === 'SUBMITTED' || state === 'PARTIALLY_FILLED');
  });
});
