/**
 * Fractional contracts (issue 13: a venue may fill "0.37" of a contract): the quantity helpers of
 * domain/money.ts and every domain rule that adds, subtracts or values quantities.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { analyseOrder, isSlippageUnusual, summarise, type ExecutionRecord } from '../../domain/execution-quality';
import { executionProblems, validateFill, type Fill } from '../../domain/fill';
import {
  accountEquity,
  applyFill,
  applyFillToPosition,
  averageEntryPrice,
  emptyLedger,
  emptyPosition,
  netCashFlow,
  positionExposure,
  settleMarket,
  settlePosition,
  unrealizedPnl,
  type PositionFill,
} from '../../domain/ledger';
import type { Side } from '../../domain/market';
import {
  addQuantity,
  averagePrice,
  contractQuantity,
  isContractQuantity,
  notional,
  parseQuantity,
  parseSignedQuantity,
  positiveQuantity,
  quantityFromLots,
  quantityLots,
  quantityText,
  subtractQuantity,
  sumQuantities,
  type Money,
  type Price,
  type Quantity,
} from '../../domain/money';
import { FillExceedsOrder, applyOrderEvents, averageFillPrice, createOrder, remainingQuantity, type OrderEvent } from '../../domain/order';
import { reconcile } from '../../domain/reconciliation';
import { exitQuantity } from '../../domain/sizing';
import type { OrderCarry, OrderWorkflowInput } from '../../workflows/api';
import { validateOrderWorkflowInput } from '../../workflows/validation';

const q = (text: string): Quantity => parseQuantity(text);

/** Exact decimal arithmetic on strings, independent of the code under test. */
const lotsOfText = (text: string): bigint => {
  const negative = text.startsWith('-');
  const [whole, frac = ''] = text.replace(/^[+-]/, '').split('.');
  const lots = BigInt(whole!) * 100n + BigInt(frac.padEnd(2, '0'));
  return negative ? -lots : lots;
};
const textOfLots = (lots: bigint): string => {
  const negative = lots < 0n;
  const abs = negative ? -lots : lots;
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};
/** A 2-decimal count as a venue writes it: "12", "12.5", "0.37", "3.00". */
const countText = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 10_000_000 })), fc.integer({ min: 0, max: 99 }), fc.constantFrom(0, 1, 2))
  .map(([whole, cents, style]) => (style === 0 && cents === 0 ? String(whole) : style === 1 && cents % 10 === 0 ? `${whole}.${cents / 10}` : `${whole}.${String(cents).padStart(2, '0')}`));

describe('quantity helpers', () => {
  it('sums and differences of any 2-decimal quantities equal the exact decimal result', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(countText, fc.boolean()), { minLength: 1, maxLength: 40 }), (terms) => {
        let exact = 0n;
        let running: number = 0;
        for (const [text, minus] of terms) {
          exact += minus ? -lotsOfText(text) : lotsOfText(text);
          running = minus ? subtractQuantity(running, parseQuantity(text)) : addQuantity(running, parseQuantity(text));
        }
        expect(quantityText(running)).toBe(textOfLots(exact));
        // The result is the number nearest the exact decimal, so it compares exactly with a parsed one.
        expect(running).toBe(parseSignedQuantity(textOfLots(exact)));
        expect(sumQuantities(terms.filter(([, minus]) => !minus).map(([t]) => parseQuantity(t)))).toBe(
          parseQuantity(textOfLots(terms.filter(([, minus]) => !minus).reduce((s, [t]) => s + lotsOfText(t), 0n))),
        );
      }),
    );
  });

  it('a naive float sum drifts where the lot sum does not (negative control)', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(addQuantity(q('0.1'), q('0.2'))).toBe(0.3);
    expect(addQuantity(addQuantity(q('0.37'), q('0.63')), q('0.01'))).toBe(1.01);
    expect(subtractQuantity(q('1'), q('0.63'))).toBe(0.37);
    expect(sumQuantities([0.1, 0.2, 0.7].map((x) => x as Quantity))).toBe(1);
  });

  it('whole quantities add as plain integers', () => {
    expect(addQuantity(3 as Quantity, 4)).toBe(7);
    expect(subtractQuantity(3, 4)).toBe(-1);
    expect(quantityText(-7)).toBe('-7.00');
  });

  it('refuses a third decimal, naming the field', () => {
    expect(() => quantityLots(0.375, 'fill.quantity')).toThrow(/fill\.quantity: must be a number of contracts with at most 2 decimal places \(got 0\.375\)/);
    expect(() => parseQuantity('0.375', 'count_fp')).toThrow(/count_fp/);
    expect(() => parseSignedQuantity('-0.375', 'position_fp')).toThrow(/position_fp/);
    expect(() => addQuantity(1, 0.001)).toThrow(InvalidInput);
    expect(() => quantityText(0.1 + 0.2, 'orders.filled_quantity')).toThrow(/orders\.filled_quantity/);
    expect(isContractQuantity(0.37)).toBe(true);
    expect(isContractQuantity(-12.5)).toBe(true);
    expect(isContractQuantity(0.30000000000000004)).toBe(false);
    expect(isContractQuantity(Number.NaN)).toBe(false);
    expect(isContractQuantity('0.37')).toBe(false);
  });

  it('reads and writes signed fixed-point counts exactly', () => {
    expect(parseSignedQuantity('-3.5')).toBe(-3.5);
    expect(parseSignedQuantity('+0.37')).toBe(0.37);
    expect(Object.is(parseSignedQuantity('-0.00'), 0)).toBe(true);
    expect(quantityText(-0.37)).toBe('-0.37');
    expect(quantityFromLots(37)).toBe(0.37);
    expect(() => parseSignedQuantity('1e3')).toThrow(/signed count/);
  });

  it('orders stay whole; fills and positions may carry two decimals', () => {
    expect(() => positiveQuantity(0.5)).toThrow(/whole/);
    expect(contractQuantity(0.37)).toBe(0.37);
    expect(() => contractQuantity(-0.37)).toThrow(/non-negative/);
    expect(() => contractQuantity(0.371, 'fills[0].quantity')).toThrow(/fills\[0\]\.quantity/);
    expect(() => createOrder({ clientOrderId: 'o-1', marketId: 'M', side: 'BUY', quantity: 1.5, limitPrice: 400_000, ts: 0 })).toThrow(/quantity: must be a positive whole number/);
    // Exits are whole orders: a fraction left by fractional fills is not ordered.
    expect(exitQuantity(-10.37, 100)).toBe(10);
    expect(exitQuantity(0.37, 100)).toBe(0);
    expect(exitQuantity(250, 100)).toBe(100);
  });
});

describe('notional of a fractional quantity', () => {
  it('is exact for prices on the 100-micro grid (4-decimal dollars)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9_999 }), countText, fc.boolean(), (ticks, text, short) => {
        const p = (ticks * 100) as Price;
        const lots = lotsOfText(text) * (short ? -1n : 1n);
        const exact = (BigInt(p) * lots) / 100n;
        expect((BigInt(p) * lots) % 100n).toBe(0n);
        expect(notional(p, parseSignedQuantity(textOfLots(lots)))).toBe(Number(exact));
      }),
    );
    expect(notional(420_000 as Price, q('0.37'))).toBe(155_400);
    expect(notional(420_000 as Price, -0.37)).toBe(-155_400);
  });

  it('rounds half away from zero to the micro off the grid; whole quantities are the plain product', () => {
    expect(notional(123_457 as Price, q('0.37'))).toBe(45_679); // 45_679.09
    expect(notional(150 as Price, q('0.01'))).toBe(2); // 1.5 -> 2
    expect(notional(150 as Price, -0.01)).toBe(-2);
    expect(notional(333_333 as Price, 3 as Quantity)).toBe(999_999);
  });

  it('averages over fractional quantities', () => {
    expect(averagePrice(155_400 as Money, q('0.37'))).toBe(420_000);
    expect(averagePrice(439_000 as Money, q('1'))).toBe(439_000);
    expect(averagePrice(100 as Money, q('0.03'))).toBe(3_333);
  });
});

const fill = (n: number, over: Partial<Fill> = {}): Fill => ({
  tradeId: `t-${n}`,
  clientOrderId: 'o-1',
  marketId: 'KX-1',
  side: 'BUY',
  quantity: q('0.37'),
  price: 420_000 as Price,
  fee: 1_000 as Money,
  ts: 1_000 + n,
  ...over,
});

describe('fill validation', () => {
  it('accepts up to two decimals and refuses a third, naming the field and the value', () => {
    expect(validateFill(fill(1))).toEqual(fill(1));
    expect(executionProblems(fill(1, { quantity: 0.01 as Quantity }))).toEqual([]);
    const err = (() => {
      try {
        validateFill(fill(1, { quantity: 0.375 as Quantity }));
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems).toEqual([{ field: 'quantity', value: 0.375, problem: 'must be a positive number of contracts with at most 2 decimal places' }]);
    expect(executionProblems(fill(1, { quantity: 0 as Quantity })).map((p) => p.field)).toEqual(['quantity']);
  });
});

describe('order state machine with fractional fills', () => {
  const submitted = (quantity = 1) => {
    const o = createOrder({ clientOrderId: 'o-1', marketId: 'KX-1', side: 'BUY', quantity, limitPrice: 450_000, ts: 0 });
    return applyOrderEvents(o, [
      { type: 'OrderSubmitRequested', ts: 1 },
      { type: 'OrderAccepted', venueOrderId: 'v-1', ts: 2 },
    ]);
  };
  const filled = (f: Fill): OrderEvent => ({ type: 'OrderFilled', fill: f, ts: f.ts });

  it('0.37 then 0.63 fills a one-contract order exactly', () => {
    const partial = applyOrderEvents(submitted(), [filled(fill(1))]);
    expect(partial).toMatchObject({ state: 'PARTIALLY_FILLED', filledQuantity: 0.37, fillNotional: 155_400 });
    expect(remainingQuantity(partial)).toBe(0.63);
    const done = applyOrderEvents(partial, [filled(fill(2, { quantity: q('0.63'), price: 450_000 as Price }))]);
    expect(done).toMatchObject({ state: 'FILLED', filledQuantity: 1, fillNotional: 155_400 + 283_500, fees: 2_000 });
    expect(averageFillPrice(done)).toBe(438_900);
  });

  it('0.1 + 0.2 + 0.7 completes the order, where a float sum would overfill it', () => {
    const o = applyOrderEvents(submitted(), [
      filled(fill(1, { quantity: q('0.1') })),
      filled(fill(2, { quantity: q('0.2') })),
      filled(fill(3, { quantity: q('0.7') })),
    ]);
    expect(o.state).toBe('FILLED');
    expect(o.filledQuantity).toBe(1);
  });

  it('refuses a fill over the remaining fraction and keeps a repeat idempotent', () => {
    const partial = applyOrderEvents(submitted(), [filled(fill(1, { quantity: q('0.63') }))]);
    expect(() => applyOrderEvents(partial, [filled(fill(2, { quantity: q('0.38') }))])).toThrow(FillExceedsOrder);
    expect(() => applyOrderEvents(partial, [filled(fill(2, { quantity: q('0.38') }))])).toThrow(/of 0\.38 exceeds the remaining 0\.37/);
    expect(applyOrderEvents(partial, [filled(fill(1, { quantity: q('0.63') }))])).toBe(partial);
  });
});

describe('ledger with fractional fills', () => {
  it('buy 0.37 at 0.4200, buy 0.63 at 0.4500, sell 0.5 at 0.6000: cash and P&L to the micro', () => {
    let ledger = emptyLedger();
    const fills = [
      fill(1, { quantity: q('0.37'), price: 420_000 as Price }),
      fill(2, { quantity: q('0.63'), price: 450_000 as Price }),
      fill(3, { quantity: q('0.5'), price: 600_000 as Price, side: 'SELL' }),
    ];
    for (const f of fills) ledger = applyFill(ledger, f).ledger;
    const p = ledger.positions['KX-1']!;
    // Cost 155_400 + 283_500 = 438_900 for 1 contract; selling half removes 219_450.
    expect(p).toEqual({ marketId: 'KX-1', quantity: 0.5, costBasis: 219_450, realizedPnl: 300_000 - 219_450, fees: 3_000 });
    expect(averageEntryPrice(p)).toBe(438_900);
    expect(netCashFlow(ledger)).toBe(-155_400 - 283_500 + 300_000 - 3_000);
    expect(unrealizedPnl(p, 550_000 as Price)).toBe(275_000 - 219_450);
    expect(positionExposure(p, 550_000 as Price)).toBe(275_000);
    expect(accountEquity(1_000_000 as Money, [p], { 'KX-1': 550_000 as Price })).toBe(1_275_000);
    expect(ledger.dailyRealizedPnl).toBe(80_550);
    // Resolution YES pays 1 per contract: 0.5 contracts pay 500_000.
    const settled = settleMarket(ledger, 'KX-1', 'YES');
    expect(settled.positions['KX-1']).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: 80_550 + 500_000 - 219_450 });
    expect(netCashFlow(settled)).toBe(-155_400 - 283_500 + 300_000 - 3_000 + 500_000);
  });

  it('a fractional fill through flat closes the long and opens the rest short', () => {
    const long = applyFillToPosition(emptyPosition('KX-1'), { side: 'BUY', quantity: q('0.5'), price: 400_000 as Price, fee: 0 as Money });
    const flipped = applyFillToPosition(long, { side: 'SELL', quantity: q('1.25'), price: 600_000 as Price, fee: 0 as Money });
    expect(flipped).toMatchObject({ quantity: -0.75, costBasis: -450_000, realizedPnl: 100_000 });
    const covered = applyFillToPosition(flipped, { side: 'BUY', quantity: q('0.75'), price: 500_000 as Price, fee: 0 as Money });
    expect(covered).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: 100_000 + 75_000 });
    expect(settlePosition(flipped, 'NO')).toMatchObject({ quantity: 0, realizedPnl: 100_000 + 450_000 });
  });

  const side = fc.constantFrom<Side>('BUY', 'SELL');
  const anyPrice = fc.integer({ min: 1, max: 999_999 }).map((p) => p as Price);
  const gridPrice = fc.integer({ min: 1, max: 9_999 }).map((t) => (t * 100) as Price);
  const lots = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 100_000_000 }));
  const fractionalFill = (price: fc.Arbitrary<Price>) =>
    fc.record({ side, quantity: lots.map((l) => quantityFromLots(l)), price, fee: fc.integer({ min: 0, max: 50_000 }).map((f) => f as Money) });
  const signedLots = (f: PositionFill): number => (f.side === 'BUY' ? 1 : -1) * quantityLots(f.quantity);

  it('realized - costBasis == sells - buys and the position equals the exact sum of fills, for any fractional sequence and any price', () => {
    fc.assert(
      fc.property(fc.array(fractionalFill(anyPrice), { maxLength: 60 }), anyPrice, (fills, mark) => {
        const p = fills.reduce((pos, f) => applyFillToPosition(pos, f), emptyPosition('M'));
        const cash = fills.reduce((c, f) => c - notional(f.price, f.side === 'BUY' ? f.quantity : -f.quantity) - f.fee, 0);
        expect(p.realizedPnl - p.costBasis - p.fees).toBe(cash);
        expect(quantityLots(p.quantity)).toBe(fills.reduce((s, f) => s + signedLots(f), 0));
        expect(p.realizedPnl + unrealizedPnl(p, mark) - p.fees).toBe(cash + notional(mark, p.quantity));
        if (p.quantity === 0) expect(p.costBasis).toBe(0);
      }),
    );
  });

  it('on the 100-micro grid every cash figure is the exact decimal product', () => {
    fc.assert(
      fc.property(fc.array(fractionalFill(gridPrice), { maxLength: 40 }), (fills) => {
        const p = fills.reduce((pos, f) => applyFillToPosition(pos, f), emptyPosition('M'));
        const exactCash = fills.reduce((c, f) => c - (BigInt(f.price) * BigInt(signedLots(f))) / 100n - BigInt(f.fee), 0n);
        expect(BigInt(p.realizedPnl - p.costBasis - p.fees)).toBe(exactCash);
      }),
    );
  });
});

describe('reconciliation with fractional venue positions', () => {
  const view = (positions: Record<string, number>, filledQuantity = 0.37) => ({
    positions,
    cash: 0 as Money,
    openOrders: { 'o-1': { marketId: 'KX-1', state: 'PARTIALLY_FILLED', status: 'PARTIALLY_FILLED' as const, filledQuantity } },
  });

  it('equal fractional positions agree; a hundredth apart is a critical mismatch', () => {
    const local = view({ 'KX-1': addQuantity(q('0.1'), q('0.27')) });
    expect(reconcile(local, view({ 'KX-1': 0.37 }), { cash: 0 as Money })).toEqual([]);
    const diff = reconcile(local, view({ 'KX-1': 0.38 }, 0.38), { cash: 0 as Money });
    expect(diff.map((d) => [d.kind, d.severity, d.local, d.venue])).toEqual([
      ['POSITION_QUANTITY_MISMATCH', 'CRITICAL', 0.37, 0.38],
      ['ORDER_FILL_MISMATCH', 'WARNING', 0.37, 0.38],
    ]);
    expect(reconcile(view({ 'KX-1': -0.5 }), view({}), { cash: 0 as Money })[0]).toMatchObject({ kind: 'POSITION_LOCAL_ONLY', local: -0.5, venue: 0 });
  });

  it('refuses a third decimal naming the field', () => {
    expect(() => reconcile(view({ 'KX-1': 0.375 }), view({}), { cash: 0 as Money })).toThrow(/local\.positions\.KX-1: must be a signed number of contracts with at most 2 decimal places/);
  });
});

describe('execution quality with fractional fills', () => {
  const record: ExecutionRecord = {
    clientOrderId: 'o-1',
    marketId: 'KX-1',
    side: 'BUY',
    intendedPrice: 420_000 as Price,
    orderQuantity: 1 as Quantity,
    fills: [
      { quantity: q('0.1'), price: 430_000 as Price, fee: 0 as Money, ts: 3 },
      { quantity: q('0.2'), price: 430_000 as Price, fee: 0 as Money, ts: 4 },
      { quantity: q('0.7'), price: 420_000 as Price, fee: 0 as Money, ts: 5 },
    ],
    signalAt: 1,
    submittedAt: 2,
    firstFillAt: 3,
    completedAt: 5,
    finalState: 'FILLED',
  };

  it('sums the filled quantity exactly and counts the order as fully filled', () => {
    const a = analyseOrder(record);
    expect(a.filledQuantity).toBe(1);
    expect(a.slippageCost).toBe(3_000);
    expect(a.averageFillPrice).toBe(423_000);
    const s = summarise([record, record]);
    expect(s.filledQuantity).toBe(2);
    expect(s.fullyFilled).toBe(2);
    expect(isSlippageUnusual(s, { minFilledOrders: 1, maxMeanSlippageMicros: 2_999 })).toBe(true);
    expect(isSlippageUnusual(s, { minFilledOrders: 1, maxMeanSlippageMicros: 3_000 })).toBe(false);
  });
});

describe('an order workflow carried over with fractional fills', () => {
  const order = applyOrderEvents(createOrder({ clientOrderId: 'o-1', marketId: 'KX-1', side: 'BUY', quantity: 2, limitPrice: 450_000, ts: 0 }), [
    { type: 'OrderSubmitRequested', ts: 1 },
    { type: 'OrderAccepted', venueOrderId: 'v-1', ts: 2 },
    { type: 'OrderFilled', fill: fill(1, { quantity: q('0.1') }), ts: 3 },
    { type: 'OrderFilled', fill: fill(2, { quantity: q('0.2') }), ts: 4 },
  ]);
  const input = (o: typeof order): OrderWorkflowInput => ({
    order: { clientOrderId: 'o-1', marketId: 'KX-1', side: 'BUY', quantity: 2 as Quantity, limitPrice: 450_000 as Price },
    context: { strategy: 'ema', sessionWorkflowId: null, tradingDay: '2026-12-05', signal: { price: 450_000 as Price, confidence: 0.6, at: 0, metadata: {} } },
    ttlMs: 600_000,
    halted: null,
    ordersInLastMinute: 0,
    searchAttributes: false,
    carry: JSON.parse(
      JSON.stringify({ order: o, cancelRequest: null, haltRequest: null, ttlExpired: false, ttlDeadline: 600_000, cancelSentAt: null, unresolvedAlerted: false, lastSeenAt: 4, riskCheckedAt: 1, submitAttempts: 1, polls: 2, alertFailures: 0, continuedRuns: 1 }),
    ) as OrderCarry,
  });

  it('validates: 0.1 + 0.2 adds up to the filled 0.3', () => {
    expect(order.filledQuantity).toBe(0.3);
    expect(() => validateOrderWorkflowInput(input(order))).not.toThrow();
  });

  it('refuses a filled quantity with a third decimal, naming the field', () => {
    expect(() => validateOrderWorkflowInput(input({ ...order, filledQuantity: 0.305 as Quantity }))).toThrow(/carry\.order\.filledQuantity: must be contracts \(at most 2 decimals\)/);
  });
});
