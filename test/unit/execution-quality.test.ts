import { describe, expect, it } from 'vitest';
import { ErrorType, InvalidInput } from '../../domain/errors';
import {
  FILL_RATE_ALERT_DEFAULTS,
  SLIPPAGE_ALERT_DEFAULTS,
  analyseOrder,
  executionRecordFromOrder,
  implementationShortfall,
  isFillRateLow,
  isSlippageUnusual,
  slippageMicros,
  summarise,
  summariseByMarket,
  summariseDistribution,
  validateExecutionRecord,
  type ExecutionFill,
  type ExecutionRecord,
} from '../../domain/execution-quality';
import type { Money, Price, Quantity } from '../../domain/money';
import { applyOrderEvents, createOrder } from '../../domain/order';

const f = (quantity: number, price: number, fee: number, ts: number): ExecutionFill => ({
  quantity: quantity as Quantity,
  price: price as Price,
  fee: fee as Money,
  ts,
});

function rec(over: Partial<ExecutionRecord> & Pick<ExecutionRecord, 'clientOrderId'>): ExecutionRecord {
  return {
    marketId: 'M1',
    side: 'BUY',
    intendedPrice: 500_000 as Price,
    orderQuantity: 10 as Quantity,
    fills: [],
    signalAt: 0,
    submittedAt: 0,
    firstFillAt: null,
    completedAt: 0,
    finalState: 'EXPIRED',
    ...over,
  };
}

/*
 * Hand-worked book (micros; times in ms):
 *  A BUY  target 0.40, 100: 60 @ 0.41 (fee 0.10), 40 @ 0.42 (fee 0.05). FILLED.
 *     slippage 10_000 and 20_000; cost 600_000 + 800_000 = 1_400_000; mean 14_000 = 350 bps.
 *  B SELL target 0.60, 50: 50 @ 0.59. FILLED. slippage 10_000; cost 500_000; 166.67 bps.
 *  C BUY  target 0.30, 20: 10 @ 0.29 (price improvement). CANCELED after partial.
 *     slippage -10_000; cost -100_000; -333.33 bps.
 *  D BUY  target 0.50, 10: nothing filled. EXPIRED.
 *  E risk-rejected: never submitted.
 *  F submitted, still open, unfilled: pending.
 */
const A = rec({
  clientOrderId: 'A',
  intendedPrice: 400_000 as Price,
  orderQuantity: 100 as Quantity,
  fills: [f(60, 410_000, 100_000, 350), f(40, 420_000, 50_000, 600)],
  signalAt: 0,
  submittedAt: 100,
  firstFillAt: 350,
  completedAt: 900,
  finalState: 'FILLED',
});
const B = rec({
  clientOrderId: 'B',
  side: 'SELL',
  intendedPrice: 600_000 as Price,
  orderQuantity: 50 as Quantity,
  fills: [f(50, 590_000, 0, 1_250)],
  signalAt: 1_000,
  submittedAt: 1_050,
  firstFillAt: 1_250,
  completedAt: 1_250,
  finalState: 'FILLED',
});
const C = rec({
  clientOrderId: 'C',
  marketId: 'M2',
  intendedPrice: 300_000 as Price,
  orderQuantity: 20 as Quantity,
  fills: [f(10, 290_000, 0, 2_500)],
  signalAt: 2_000,
  submittedAt: 2_200,
  firstFillAt: 2_500,
  completedAt: 3_000,
  finalState: 'CANCELED',
});
const D = rec({ clientOrderId: 'D', marketId: 'M2', signalAt: 3_000, submittedAt: 3_100, completedAt: 5_000, finalState: 'EXPIRED' });
const E = rec({ clientOrderId: 'E', marketId: 'M2', signalAt: 4_000, submittedAt: null, completedAt: 4_000, finalState: 'REJECTED' });
const F = rec({ clientOrderId: 'F', marketId: 'M2', signalAt: 5_000, submittedAt: 5_050, completedAt: null, finalState: 'SUBMITTED' });
const BOOK = [A, B, C, D, E, F];

describe('slippage', () => {
  it('is fill - target for buys and target - fill for sells; positive is worse', () => {
    expect(slippageMicros('BUY', 400_000 as Price, 410_000 as Price)).toBe(10_000);
    expect(slippageMicros('BUY', 400_000 as Price, 390_000 as Price)).toBe(-10_000);
    expect(slippageMicros('SELL', 600_000 as Price, 590_000 as Price)).toBe(10_000);
    expect(slippageMicros('SELL', 600_000 as Price, 610_000 as Price)).toBe(-10_000);
  });

  it('per fill and quantity-weighted per order, in micros and bps', () => {
    const a = analyseOrder(A);
    expect(a.fills).toEqual([
      { micros: 10_000, bps: 250 },
      { micros: 20_000, bps: 500 },
    ]);
    expect(a.slippageCost).toBe(1_400_000);
    expect(a.meanSlippageMicros).toBe(14_000);
    expect(a.meanSlippageBps).toBeCloseTo(350, 10);
    expect(a.averageFillPrice).toBe(414_000);
    expect(a.fees).toBe(150_000);
    expect(a.filledQuantity).toBe(100);

    const b = analyseOrder(B);
    expect(b.slippageCost).toBe(500_000);
    expect(b.meanSlippageBps).toBeCloseTo(166.666_666_7, 6);

    const c = analyseOrder(C);
    expect(c.slippageCost).toBe(-100_000);
    expect(c.meanSlippageBps).toBeCloseTo(-333.333_333_3, 6);

    const d = analyseOrder(D);
    expect([d.filledQuantity, d.slippageCost, d.meanSlippageMicros, d.meanSlippageBps, d.averageFillPrice]).toEqual([0, 0, null, null, null]);
  });

  it('per-order latencies', () => {
    expect(analyseOrder(A).latency).toEqual({ signalToSubmit: 100, submitToFirstFill: 250, signalToFirstFill: 350, signalToCompletion: 900 });
    expect(analyseOrder(D).latency).toEqual({ signalToSubmit: 100, submitToFirstFill: null, signalToFirstFill: null, signalToCompletion: null });
    expect(analyseOrder(E).latency.signalToSubmit).toBeNull();
  });
});

describe('implementation shortfall', () => {
  it('matches the hand-worked figures and equals the slippage cost', () => {
    // paper: A (1-0.40)*100 = 60; B 0.60*50 = 30; C (1-0.30)*10 = 7 -> 97.000000
    // actual: A 0.59*60 + 0.58*40 = 58.6; B 0.59*50 = 29.5; C 0.71*10 = 7.1 -> 95.200000
    const is = implementationShortfall(BOOK);
    expect(is).toEqual({ paperPnl: 97_000_000, actualPnl: 95_200_000, shortfall: 1_800_000, ratio: 1_800_000 / 97_000_000 });
    expect(is.ratio).toBeCloseTo(0.018_556_7, 6);
  });

  it('is 0 when the paper P&L is 0 (nothing filled)', () => {
    expect(implementationShortfall([D, E, F])).toEqual({ paperPnl: 0, actualPnl: 0, shortfall: 0, ratio: 0 });
  });

  it('can be negative when execution beat the signal', () => {
    expect(implementationShortfall([C]).ratio).toBeCloseTo(-100_000 / 7_000_000, 12);
  });
});

describe('summarise', () => {
  const s = summarise(BOOK);

  it('counts orders for the fill rates, leaving out the unsent and the still-pending', () => {
    expect(s).toMatchObject({ orders: 6, submitted: 5, decided: 4, pending: 1, withFill: 3, fullyFilled: 2, fillRate: 0.75, fullFillRate: 0.5 });
  });

  it('totals quantity, notional, fees and slippage', () => {
    expect(s.filledQuantity).toBe(160);
    // 60*0.41 + 40*0.42 + 50*0.59 + 10*0.29 = 24.6 + 16.8 + 29.5 + 2.9
    expect(s.fillNotional).toBe(73_800_000);
    expect(s.fees).toBe(150_000);
    expect(s.slippage.cost).toBe(1_800_000);
    expect(s.slippage.costWithFees).toBe(1_950_000);
    expect(s.slippage.meanMicros).toBe(11_250); // 1_800_000 / 160
    // (60*250 + 40*500 + 50*166.67 - 10*333.33) / 160 = 40_000 / 160
    expect(s.slippage.meanBps).toBeCloseTo(250, 9);
    expect(s.slippage.perOrderMicros).toMatchObject({ count: 3, median: 10_000, min: -10_000, max: 14_000, p95: 14_000 });
    expect(s.slippage.perOrderMicros?.mean).toBeCloseTo(14_000 / 3, 9);
    expect(s.implementationShortfall.shortfall).toBe(s.slippage.cost);
  });

  it('summarises each latency', () => {
    expect(s.latencyMs.signalToSubmit).toEqual({ count: 5, mean: 100, median: 100, p95: 200, min: 50, max: 200 });
    expect(s.latencyMs.submitToFirstFill).toEqual({ count: 3, mean: 250, median: 250, p95: 300, min: 200, max: 300 });
    expect(s.latencyMs.signalToFirstFill).toMatchObject({ count: 3, median: 350, min: 250, max: 500 });
    expect(s.latencyMs.signalToFirstFill?.mean).toBeCloseTo(1_100 / 3, 9);
    expect(s.latencyMs.signalToCompletion).toMatchObject({ count: 3, median: 900, min: 250, max: 1_000 });
  });

  it('is empty-safe', () => {
    const empty = summarise([]);
    expect(empty).toMatchObject({ orders: 0, fillRate: null, fullFillRate: null, filledQuantity: 0 });
    expect(empty.slippage).toMatchObject({ cost: 0, meanMicros: null, meanBps: null, perOrderMicros: null });
    expect(empty.latencyMs.signalToSubmit).toBeNull();
  });

  it('rejects a bad record, naming every bad field', () => {
    const bad = { ...A, intendedPrice: 0 as Price, fills: [f(60, 410_000, -1, 350), f(41, 420_000, 0, 600)] };
    let err: unknown;
    try {
      summarise([bad]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems.map((p) => p.field)).toEqual(['intendedPrice', 'fills[0].fee', 'fills']);
  });

  it('refuses times that run backwards and inconsistent completion', () => {
    expect(() => validateExecutionRecord({ ...A, submittedAt: 400 })).toThrow(/firstFillAt.*earlier/);
    expect(() => validateExecutionRecord({ ...F, completedAt: 6_000 })).toThrow(/completedAt/);
    expect(() => validateExecutionRecord({ ...A, firstFillAt: null })).toThrow(/firstFillAt/);
  });
});

describe('summariseByMarket', () => {
  it('splits by market in sorted order', () => {
    const by = summariseByMarket([C, A, D, B, E, F]);
    expect(Object.keys(by)).toEqual(['M1', 'M2']);
    expect(by.M1).toMatchObject({ orders: 2, withFill: 2, fillRate: 1, filledQuantity: 150 });
    expect(by.M1?.slippage.cost).toBe(1_900_000);
    expect(by.M2).toMatchObject({ orders: 4, submitted: 3, decided: 2, withFill: 1, fillRate: 0.5, filledQuantity: 10 });
    expect(by.M2?.slippage.cost).toBe(-100_000);
  });
});

describe('summariseDistribution', () => {
  it("uses the chapter's p95 rank (sorted[floor(0.95 n)]) and the mean of the two middle values for an even count", () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(summariseDistribution(xs)).toEqual({ count: 20, mean: 10.5, median: 10.5, p95: 20, min: 1, max: 20 });
    expect(summariseDistribution([7])).toEqual({ count: 1, mean: 7, median: 7, p95: 7, min: 7, max: 7 });
    expect(summariseDistribution([])).toBeNull();
  });
});

describe('alerts (as the reference alert table lists them)', () => {
  const finished = (id: string, filled: boolean): ExecutionRecord =>
    filled
      ? rec({ clientOrderId: id, fills: [f(10, 500_000, 0, 10)], submittedAt: 5, firstFillAt: 10, completedAt: 10, finalState: 'FILLED' })
      : rec({ clientOrderId: id, submittedAt: 5, completedAt: 50, finalState: 'EXPIRED' });

  it('case study: 5 filled of 8 is a 62.5% fill rate, not low; 3 of 8 is low', () => {
    const fiveOfEight = summarise(['1', '2', '3', '4', '5', '6', '7', '8'].map((id, i) => finished(id, i < 5)));
    expect(fiveOfEight.fillRate).toBe(0.625);
    expect(isFillRateLow(fiveOfEight, { minFillRate: 0.5, minOrders: 8 })).toBe(false);
    const threeOfEight = summarise(['1', '2', '3', '4', '5', '6', '7', '8'].map((id, i) => finished(id, i < 3)));
    expect(threeOfEight.fillRate).toBe(0.375);
    expect(isFillRateLow(threeOfEight, { minFillRate: 0.5, minOrders: 8 })).toBe(true);
    // Below the minimum sample the rate is not judged.
    expect(isFillRateLow(threeOfEight, FILL_RATE_ALERT_DEFAULTS)).toBe(false);
    // Exactly 50% is not below 50%.
    const half = summarise(['1', '2', '3', '4'].map((id, i) => finished(id, i < 2)));
    expect(isFillRateLow(half, { minFillRate: 0.5, minOrders: 4 })).toBe(false);
  });

  it('unusual slippage: mean strictly above the threshold, once enough orders filled', () => {
    const s = summarise(BOOK); // mean 11_250 micros over 3 filled orders
    expect(isSlippageUnusual(s, { maxMeanSlippageMicros: 10_000, minFilledOrders: 3 })).toBe(true);
    expect(isSlippageUnusual(s, { maxMeanSlippageMicros: 11_250, minFilledOrders: 3 })).toBe(false);
    expect(isSlippageUnusual(s, SLIPPAGE_ALERT_DEFAULTS)).toBe(false); // only 3 of the 5 filled orders needed
    expect(isSlippageUnusual(summarise([]), { maxMeanSlippageMicros: 0, minFilledOrders: 1 })).toBe(false);
  });

  it('alert parameters report every bad field', () => {
    const s = summarise(BOOK);
    let err: unknown;
    try {
      isFillRateLow(s, { minFillRate: 1.5, minOrders: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).type).toBe(ErrorType.InvalidConfig);
    expect((err as InvalidInput).problems.map((p) => [p.field, p.value])).toEqual([
      ['minFillRate', 1.5],
      ['minOrders', 0],
    ]);
    expect(() => isSlippageUnusual(s, { maxMeanSlippageMicros: 0.5, minFilledOrders: 2.5 })).toThrow(/maxMeanSlippageMicros.*minFilledOrders/);
  });
});

describe('executionRecordFromOrder', () => {
  it('takes submit time, fill arrival times and completion from the order', () => {
    const T = 1_767_600_000_000;
    const coid = 'mr-20260105-000009';
    const fill = (tradeId: string, quantity: number, price: number) => ({
      tradeId,
      clientOrderId: coid,
      marketId: 'M1',
      side: 'BUY' as const,
      quantity: quantity as Quantity,
      price: price as Price,
      fee: 0 as Money,
      ts: T, // venue clock; not used for latency
    });
    const order = applyOrderEvents(createOrder({ clientOrderId: coid, marketId: 'M1', side: 'BUY', quantity: 30, limitPrice: 450_000, ts: T }), [
      { type: 'OrderSubmitRequested', ts: T + 20 },
      { type: 'OrderAccepted', ts: T + 80, venueOrderId: 'V-7' },
      { type: 'OrderFilled', ts: T + 300, fill: fill('x1', 10, 440_000) },
      { type: 'OrderCancelRequested', ts: T + 400 },
      { type: 'OrderFilled', ts: T + 450, fill: fill('x2', 5, 450_000) },
      { type: 'OrderCanceled', ts: T + 500 },
    ]);
    const r = executionRecordFromOrder(order, { intendedPrice: 440_000 as Price, signalAt: T + 5 });
    expect(r).toMatchObject({ submittedAt: T + 20, firstFillAt: T + 300, completedAt: T + 500, finalState: 'CANCELED', orderQuantity: 30 });
    expect(r.fills.map((x) => [x.quantity, x.price, x.ts])).toEqual([
      [10, 440_000, T + 300],
      [5, 450_000, T + 450],
    ]);
    const a = analyseOrder(r);
    expect(a.slippageCost).toBe(50_000); // 5 contracts 1 cent worse
    expect(a.latency).toEqual({ signalToSubmit: 15, submitToFirstFill: 280, signalToFirstFill: 295, signalToCompletion: 495 });
  });
});
