import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import {
  ORDER_EVENT_TYPES,
  applyOrderEvent,
  createOrder,
  isTerminal,
  transitionTarget,
  type Order,
  type OrderEvent,
  type OrderState,
} from '../../domain/order';

const COID = 'prop-20260105-000001';
const MARKET = 'PROP-MKT';
const T0 = 1_767_600_000_000;

/** Trade IDs come from a small pool so that duplicates and conflicting repeats are frequent. */
const fillArb: fc.Arbitrary<Fill> = fc.record({
  tradeId: fc.constantFrom('t0', 't1', 't2', 't3', 't4', 't5'),
  clientOrderId: fc.constantFrom(COID, COID, COID, COID, 'someone-else'),
  marketId: fc.constant(MARKET),
  side: fc.constantFrom('BUY' as const, 'BUY' as const, 'BUY' as const, 'SELL' as const),
  quantity: fc.constantFrom(1, 2, 5, 10, 25, 50, 60).map((q) => q as Quantity),
  price: fc.constantFrom(430_000, 440_000).map((p) => p as Price),
  fee: fc.constantFrom(0, 1_000).map((f) => f as Money),
  ts: fc.constant(T0),
});

const WEIGHTS: Record<(typeof ORDER_EVENT_TYPES)[number], number> = {
  OrderSubmitRequested: 4,
  OrderAccepted: 3,
  OrderSubmitAmbiguous: 1,
  OrderNotFoundAtVenue: 1,
  OrderRejected: 1,
  OrderFilled: 8,
  OrderCancelRequested: 2,
  OrderCanceled: 1,
  OrderCancelRejected: 1,
  OrderExpired: 1,
};

const eventArb = (ts: number): fc.Arbitrary<OrderEvent> =>
  fc.oneof(...ORDER_EVENT_TYPES.map((type) => ({ arbitrary: fc.constant(type), weight: WEIGHTS[type] }))).chain((type): fc.Arbitrary<OrderEvent> => {
    switch (type) {
      case 'OrderAccepted':
        return fc.constantFrom('V-1', 'V-1', 'V-2').map((venueOrderId) => ({ type, ts, venueOrderId }));
      case 'OrderSubmitAmbiguous':
      case 'OrderRejected':
      case 'OrderCancelRejected':
        return fc.constant({ type, ts, reason: 'because' });
      case 'OrderFilled':
        return fillArb.map((fill) => ({ type, ts, fill }));
      default:
        return fc.constant({ type, ts });
    }
  });

/** Event types weighted toward the working path, with fills about a third of all events. */
const scenarioArb = fc.record({
  quantity: fc.constantFrom(1, 3, 10, 50, 100, 150),
  events: fc.array(
    fc.integer({ min: 1, max: 1_000 }).chain((dt) => eventArb(T0 + dt)),
    { maxLength: 40 },
  ),
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

interface Step {
  before: Order;
  event: OrderEvent;
  after: Order | null;
  error: unknown;
}

function run(quantity: number, events: OrderEvent[]): { steps: Step[]; final: Order } {
  let order = deepFreeze(createOrder({ clientOrderId: COID, marketId: MARKET, side: 'BUY', quantity, limitPrice: 450_000, ts: T0 }));
  const steps: Step[] = [];
  for (const event of events) {
    try {
      const after = deepFreeze(applyOrderEvent(order, event));
      steps.push({ before: order, event, after, error: null });
      order = after;
    } catch (error) {
      steps.push({ before: order, event, after: null, error });
    }
  }
  return { steps, final: order };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

describe('order state machine under random event sequences', () => {
  it('never reaches an illegal state', () => {
    fc.assert(
      fc.property(scenarioArb, ({ quantity, events }) => {
        const { steps } = run(quantity, events);
        const reached = new Set<OrderState>(['CREATED']);
        const distinct = new Map<string, number>();
        for (const { before, event, after, error } of steps) {
          if (error !== null) {
            // Only typed domain errors, and the order is left as it was (it is frozen).
            expect(error).toBeInstanceOf(DomainError);
            continue;
          }
          const o = after as Order;
          reached.add(o.state);

          if (o !== before) {
            expect(transitionTarget(before.state, event.type)).not.toBeNull();
            expect(isTerminal(before)).toBe(false);
          }
          if (isTerminal(before)) {
            // Terminal states absorb everything but an exact duplicate fill, which changes nothing.
            expect(o).toBe(before);
            expect(event.type).toBe('OrderFilled');
            if (event.type === 'OrderFilled') expect(before.fills.some((f) => f.tradeId === event.fill.tradeId)).toBe(true);
          }
          if (event.type === 'OrderFilled' && o !== before) {
            expect(distinct.has(event.fill.tradeId)).toBe(false);
            distinct.set(event.fill.tradeId, event.fill.quantity);
          }

          expect(o.filledQuantity).toBeLessThanOrEqual(o.quantity);
          expect(o.filledQuantity).toBe(sum([...distinct.values()]));
          expect(o.filledQuantity).toBe(sum(o.fills.map((f) => f.quantity)));
          expect(new Set(o.fills.map((f) => f.tradeId)).size).toBe(o.fills.length);
          expect(o.fillNotional).toBe(sum(o.fills.map((f) => f.price * f.quantity)));
          expect(o.fees).toBe(sum(o.fills.map((f) => f.fee)));
          expect(o.state === 'FILLED').toBe(o.filledQuantity === o.quantity);
          expect(o.fills.every((f) => f.clientOrderId === COID && f.side === 'BUY')).toBe(true);
          expect(new Set(Object.keys(o.timestamps))).toEqual(new Set(reached));
          expect(o.timestamps[o.state]).toBeDefined();
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('re-applying any successfully applied fill is a no-op at every later point', () => {
    fc.assert(
      fc.property(scenarioArb, ({ quantity, events }) => {
        const { final, steps } = run(quantity, events);
        for (const { event, after } of steps) {
          if (after !== null && event.type === 'OrderFilled') expect(applyOrderEvent(final, event)).toBe(final);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same sequence gives a deep-equal, JSON round-trippable order', () => {
    fc.assert(
      fc.property(scenarioArb, ({ quantity, events }) => {
        const a = run(quantity, events).final;
        const b = run(quantity, events).final;
        expect(b).toEqual(a);
        expect(JSON.parse(JSON.stringify(a))).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });

  it('reaches every state and every kind of refusal somewhere in the generated sequences', () => {
    const seen = new Set<OrderState>();
    const errors = new Set<string>();
    fc.assert(
      fc.property(scenarioArb, ({ quantity, events }) => {
        for (const s of run(quantity, events).steps) {
          if (s.after) seen.add(s.after.state);
          if (s.error instanceof DomainError) errors.add(s.error.type);
        }
      }),
      { numRuns: 500 },
    );
    expect([...errors].sort()).toEqual(['FillExceedsOrder', 'FillMismatch', 'InvalidInput', 'InvalidOrderTransition']);
    expect([...seen].sort()).toEqual(
      ['CANCELED', 'EXPIRED', 'FILLED', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'PENDING_SUBMIT', 'REJECTED', 'SUBMITTED', 'SUBMIT_UNKNOWN'].sort(),
    );
  });
});
