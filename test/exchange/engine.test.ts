import { describe, expect, it } from 'vitest';
import { DAY_MS, defaultEngineConfig, type EngineConfig, type MarketSpec } from '../../exchange/config';
import { PaperEngine } from '../../exchange/engine';
import { MICROS } from '../../domain/money';

const T0 = 1_767_225_600_000;

function spec(over: Partial<MarketSpec> = {}): MarketSpec {
  return {
    marketId: 'M-1',
    title: 'test market',
    category: 'politics',
    tickSize: 10_000,
    resolvesAt: T0 + DAY_MS,
    initialPrice: 500_000,
    averageDailyVolume: 8_640_000, // 100 contracts a second on average
    meanReversionPerDay: 24,
    volatilityPerSqrtDay: 3,
    fairDriftPerSqrtDay: 0.5,
    jumpsPerDay: 0,
    jumpStd: 0,
    spreadTicks: 2,
    depthBaseQuantity: 100,
    ...over,
  };
}

/** These tests follow the live engine from `initialPrice` at T0, so without pre-rolled history (see the history tests). */
function config(over: Partial<EngineConfig> = {}, market: Partial<MarketSpec> = {}): EngineConfig {
  return {
    ...defaultEngineConfig(7, T0),
    preRollMs: 0,
    fillModel: { fillProbability: 1, partialFillProbability: 0, participationRate: 0.1, slippageStd: 0, feeCoefficientPpm: 70_000 },
    markets: [spec(market)],
    ...over,
  };
}

function engineWith(over: Partial<EngineConfig> = {}, market: Partial<MarketSpec> = {}): PaperEngine {
  const e = new PaperEngine(config(over, market), T0);
  e.ensureAccount('k');
  return e;
}

describe('synthetic prices', () => {
  it('keep bid < ask inside (0, 1) on the tick grid, move, and are reproducible from the seed', () => {
    const run = (seed: number) => {
      const e = new PaperEngine(config({ seed }), T0);
      const mids: number[] = [];
      for (let i = 1; i <= 2_000; i++) {
        e.advanceTo(T0 + i * 1_000);
        const s = e.snapshot('M-1', 3);
        expect(s.bid! % 10_000).toBe(0);
        expect(s.bid!).toBeGreaterThan(0);
        expect(s.ask!).toBeLessThan(MICROS);
        expect(s.ask! - s.bid!).toBe(20_000);
        mids.push((s.bid! + s.ask!) / 2);
      }
      return mids;
    };
    const a = run(1);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(5);
  });

  it('revert toward the fair value: far from 0.5 start is pulled back when the fair value is 0.5', () => {
    const e = new PaperEngine(config({}, { initialPrice: 500_000, volatilityPerSqrtDay: 0.5, fairDriftPerSqrtDay: 0 }), T0);
    e.advanceTo(T0 + 3_600_000);
    const s = e.snapshot('M-1', 1);
    expect(Math.abs((s.bid! + s.ask!) / 2 - 500_000)).toBeLessThan(100_000);
  });

  it('report ts of the latest step and a positive 24h volume', () => {
    const e = engineWith();
    e.advanceTo(T0 + 10_500);
    const s = e.snapshot('M-1', 5);
    expect(s.ts).toBe(T0 + 10_000);
    expect(s.volume24h).toBeGreaterThan(0);
    expect(s.bids).toHaveLength(5);
  });
});

describe('fill model over time (manual clock)', () => {
  it('fills a buy limit only in steps where the ask is at or below the limit, never above it', () => {
    const e = engineWith();
    const start = e.snapshot('M-1', 1);
    const limit = start.bid! - 3 * 10_000;
    const { order } = e.placeOrder('k', { clientOrderId: 'b-1', marketId: 'M-1', side: 'BUY', quantity: 50, limitPrice: limit });
    expect(order.status).toBe('OPEN');
    let filledSteps = 0;
    for (let i = 1; i <= 20_000 && order.status !== 'FILLED'; i++) {
      const before = order.filledQuantity;
      e.advanceTo(T0 + i * 1_000);
      const ask = e.snapshot('M-1', 1).ask!;
      if (order.filledQuantity > before) {
        filledSteps++;
        expect(ask).toBeLessThanOrEqual(limit);
      } else {
        expect(ask > limit || e.snapshot('M-1', 1).intervalVolume < 10).toBe(true);
      }
    }
    expect(filledSteps).toBeGreaterThan(0);
    const fills = e.fillsAfter('k', 0, 1_000).fills;
    for (const f of fills) expect(f.price).toBeLessThanOrEqual(limit);
    expect(fills.reduce((n, f) => n + f.quantity, 0)).toBe(order.filledQuantity);
  });

  it('caps each fill by participation of the interval volume (partial fills)', () => {
    const e = engineWith({}, { averageDailyVolume: 864_000 }); // ~10 a second: at most ~1-3 per step at 10%
    const { order } = e.placeOrder('k', { clientOrderId: 'm-1', marketId: 'M-1', side: 'BUY', quantity: 200, limitPrice: 990_000 });
    for (let i = 1; i <= 30; i++) {
      const volumeBefore = order.filledQuantity;
      e.advanceTo(T0 + i * 1_000);
      const v = e.snapshot('M-1', 1).intervalVolume;
      expect(order.filledQuantity - volumeBefore).toBeLessThanOrEqual(Math.floor(0.1 * v));
    }
    expect(order.status).toBe('PARTIALLY_FILLED');
    expect(order.filledQuantity).toBeGreaterThan(0);
  });

  it('moves cash, position and fees consistently and gives unique increasing trade IDs', () => {
    const e = engineWith();
    const cash0 = e.balance('k').cash;
    e.placeOrder('k', { clientOrderId: 'c-1', marketId: 'M-1', side: 'BUY', quantity: 30, limitPrice: 990_000 });
    e.placeOrder('k', { clientOrderId: 'c-2', marketId: 'M-1', side: 'SELL', quantity: 10, limitPrice: 10_000 });
    for (let i = 1; i <= 60; i++) e.advanceTo(T0 + i * 1_000);
    const fills = e.fillsAfter('k', 0, 1_000).fills;
    expect(fills.length).toBeGreaterThan(1);
    const ids = fills.map((f) => f.tradeId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    let cash = cash0;
    let pos = 0;
    for (const f of fills) {
      cash += f.side === 'BUY' ? -f.quantity * f.price - f.fee : f.quantity * f.price - f.fee;
      pos += f.side === 'BUY' ? f.quantity : -f.quantity;
      expect(f.fee).toBeGreaterThan(0);
      expect(f.fee % 10_000).toBe(0);
    }
    expect(e.balance('k').cash).toBe(cash);
    expect(e.positions('k')).toEqual(pos === 0 ? [] : [{ marketId: 'M-1', quantity: pos }]);
    const page = e.fillsAfter('k', fills[0]!.seq, 1);
    expect(page.fills[0]!.tradeId).toBe(fills[1]!.tradeId);
  });

  it('expires an unfilled market order after its time to live', () => {
    const e = engineWith({ marketOrderTtlMs: 3_000 }, { averageDailyVolume: 1 });
    const { order } = e.placeOrder('k', { clientOrderId: 'mk-1', marketId: 'M-1', side: 'BUY', quantity: 5, limitPrice: null });
    e.advanceTo(T0 + 2_000);
    expect(order.status).toBe('OPEN');
    e.advanceTo(T0 + 3_000);
    expect(order.status).toBe('EXPIRED');
    expect(e.balance('k').reserved).toBe(0);
  });

  it("fills a market order at the touch plus the chapter's slippage |ε|, in micros off the tick grid", () => {
    const e = engineWith({ fillModel: { fillProbability: 1, partialFillProbability: 0, participationRate: 0.5, slippageStd: 5_000, feeCoefficientPpm: 0 } });
    const { order } = e.placeOrder('k', { clientOrderId: 'mk-2', marketId: 'M-1', side: 'BUY', quantity: 20, limitPrice: null });
    for (let i = 1; i <= 20 && order.status !== 'FILLED'; i++) e.advanceTo(T0 + i * 1_000);
    expect(order.status).toBe('FILLED');
    const fills = e.fillsAfter('k', 0, 100).fills;
    expect(fills.some((f) => f.price % 10_000 !== 0)).toBe(true);
    for (const f of fills) expect(Number.isSafeInteger(f.price)).toBe(true);
  });

  it('an order reaches the book only after the simulated latency; without latency on the next step', () => {
    const eager = { fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, feeCoefficientPpm: 0 };
    const instant = engineWith({ fillModel: { ...eager, latencyMeanMs: 0 } });
    const a = instant.placeOrder('k', { clientOrderId: 'lat-0', marketId: 'M-1', side: 'BUY', quantity: 5, limitPrice: 990_000 }).order;
    expect(a.activeAt).toBeUndefined();
    instant.advanceTo(T0 + 1_000);
    expect(a.status).toBe('FILLED');

    const slow = engineWith({ fillModel: { ...eager, latencyMeanMs: 2_500 } });
    const b = slow.placeOrder('k', { clientOrderId: 'lat-1', marketId: 'M-1', side: 'BUY', quantity: 5, limitPrice: 990_000 }).order;
    expect(b.status).toBe('OPEN');
    expect(b.activeAt).toBeGreaterThan(T0);
    const arrives = b.activeAt!;
    for (let t = T0 + 1_000; t < arrives; t += 1_000) {
      slow.advanceTo(t);
      expect(b.status).toBe('OPEN');
    }
    slow.advanceTo(Math.ceil(arrives / 1_000) * 1_000);
    expect(b.status).toBe('FILLED');
  });
});

describe('resolution and settlement', () => {
  it('settles a long YES at 1.000000 per contract, expires open orders and closes the market', () => {
    const e = engineWith();
    const { order } = e.placeOrder('k', { clientOrderId: 'r-1', marketId: 'M-1', side: 'BUY', quantity: 10, limitPrice: 990_000 });
    for (let i = 1; i <= 30 && order.status !== 'FILLED'; i++) e.advanceTo(T0 + i * 1_000);
    expect(order.status).toBe('FILLED');
    const resting = e.placeOrder('k', { clientOrderId: 'r-2', marketId: 'M-1', side: 'BUY', quantity: 10, limitPrice: 10_000 }).order;
    const cash = e.balance('k').cash;
    e.resolveMarket('M-1', 'YES');
    expect(e.balance('k').cash).toBe(cash + 10 * MICROS);
    expect(e.positions('k')).toEqual([]);
    expect(resting.status).toBe('EXPIRED');
    expect(e.balance('k').reserved).toBe(0);
    expect(e.settlementsAfter('k', 0).settlements).toEqual([expect.objectContaining({ marketId: 'M-1', outcome: 'YES', quantity: 10, payout: 10 * MICROS })]);
    const late = e.placeOrder('k', { clientOrderId: 'r-3', marketId: 'M-1', side: 'BUY', quantity: 1, limitPrice: 500_000 }).order;
    expect(late).toMatchObject({ status: 'REJECTED', rejectReason: 'MARKET_CLOSED' });
    expect(e.snapshot('M-1', 5)).toMatchObject({ bid: null, ask: null, bids: [], status: 'RESOLVED' });
  });

  it('resolves on its own at resolvesAt; a NO pays nothing and a short on YES pays 1 per contract', () => {
    const resolvesAt = T0 + 60_000;
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const e = new PaperEngine(config({ seed }, { resolvesAt }), T0);
      e.ensureAccount('k');
      e.adjustPosition('k', 'M-1', -4);
      const cash = e.balance('k').cash;
      e.advanceTo(resolvesAt + 5_000);
      const m = e.listMarkets()[0]!;
      expect(m.status).toBe('RESOLVED');
      outcomes.add(m.outcome!);
      expect(e.balance('k').cash).toBe(cash - (m.outcome === 'YES' ? 4 * MICROS : 0));
      expect(e.snapshot('M-1', 1).ts).toBe(resolvesAt);
    }
    expect(outcomes).toEqual(new Set(['YES', 'NO']));
  });
});

describe('reservations', () => {
  it('lets a held position be sold without cash, but needs collateral to sell short', () => {
    const e = new PaperEngine({ ...config(), startingCash: 5 * MICROS }, T0);
    e.ensureAccount('k');
    e.adjustPosition('k', 'M-1', 100);
    const covered = e.placeOrder('k', { clientOrderId: 's-1', marketId: 'M-1', side: 'SELL', quantity: 100, limitPrice: 990_000 }).order;
    expect(covered.status).toBe('OPEN');
    const naked = e.placeOrder('k', { clientOrderId: 's-2', marketId: 'M-1', side: 'SELL', quantity: 100, limitPrice: 500_000 }).order;
    expect(naked).toMatchObject({ status: 'REJECTED', rejectReason: 'INSUFFICIENT_BALANCE' });
  });

  it('crosses a long offline gap in bounded work', () => {
    const e = engineWith({ maxCatchUpSteps: 100 }, { resolvesAt: null });
    e.advanceTo(T0 + 30 * DAY_MS);
    expect(e.now).toBe(T0 + 30 * DAY_MS);
    // One jump across the gap plus the last 100 whole steps, not 2.6 million.
    expect(e.toState().markets[0]!.process.stepIndex).toBe(101);
  });
});
