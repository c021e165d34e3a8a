/**
 * The spread rule (case study: "Don't trade if spread > 1 cent") applies to entries only: an
 * order that reduces a position is never refused for the spread, and the default lets the case
 * study's own day-1 trade (15 at 0.43 in a 0.42/0.44 market) through.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../domain/backtest';
import type { Market, MarketSnapshot } from '../../domain/market';
import { px, usd, type Price, type Quantity } from '../../domain/money';
import { APPROVED, RiskRule, checkOrder, type OrderRequest, type RiskContext } from '../../domain/risk';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import type { Signal, Strategy } from '../../domain/strategy';

const NOW = 1_700_000_000_000;
const q = (n: number) => n as Quantity;
const market: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };

function ctx(currentPosition: number, bid: Price | null, ask: Price | null): RiskContext {
  return {
    halted: null,
    market,
    snapshot: { marketId: market.marketId, ts: NOW - 1_000, bid, ask, last: px(0.43), averageDailyVolume: q(10_000), intervalVolume: q(0) },
    now: NOW,
    currentPosition,
    openPositionCount: currentPosition === 0 ? 0 : 1,
    portfolioExposure: usd(Math.abs(currentPosition) * 0.43),
    categoryExposure: usd(Math.abs(currentPosition) * 0.43),
    dailyRealizedPnl: usd(0),
    unrealizedPnl: usd(0),
    openingUnrealizedPnl: usd(0),
    ordersInLastMinute: 0,
  };
}

const order = (side: 'BUY' | 'SELL', quantity: number, price = 0.43): OrderRequest => ({ marketId: market.marketId, side, quantity: q(quantity), limitPrice: px(price) });
const rules = (d: ReturnType<typeof checkOrder>): string[] => (d.approved ? [] : d.violations.map((v) => v.rule));

describe('spread rule', () => {
  it("lets the case study's day-1 entry through by default: 15 at 0.43 in a 0.42/0.44 market", () => {
    expect(CASE_STUDY_LIMITS.maxSpread).toBe(20_000);
    expect(checkOrder(order('BUY', 15), ctx(0, px(0.42), px(0.44)), CASE_STUDY_LIMITS)).toBe(APPROVED);
  });

  it('still refuses an entry in a wider market, a one-sided book or a crossed quote', () => {
    expect(rules(checkOrder(order('BUY', 15), ctx(0, px(0.42), px(0.45)), CASE_STUDY_LIMITS))).toEqual([RiskRule.SPREAD]);
    expect(rules(checkOrder(order('BUY', 15), ctx(0, null, px(0.44)), CASE_STUDY_LIMITS))).toContain(RiskRule.SPREAD);
    expect(rules(checkOrder(order('BUY', 15), ctx(0, px(0.44), px(0.43)), CASE_STUDY_LIMITS))).toContain(RiskRule.SPREAD);
  });

  it('counts adding to a position, and flipping through flat, as entries', () => {
    expect(rules(checkOrder(order('BUY', 10), ctx(10, px(0.40), px(0.45)), CASE_STUDY_LIMITS))).toEqual([RiskRule.SPREAD]);
    expect(rules(checkOrder(order('SELL', 20), ctx(10, px(0.40), px(0.45)), CASE_STUDY_LIMITS))).toEqual([RiskRule.SPREAD]);
  });

  it('never refuses an order that reduces a position for the spread, however wide or one-sided the book', () => {
    for (const [bid, ask] of [
      [px(0.40), px(0.45)],
      [null, px(0.45)],
      [px(0.40), null],
      [px(0.44), px(0.43)],
    ] as const) {
      const sellLong = checkOrder(order('SELL', 10), ctx(10, bid, ask), CASE_STUDY_LIMITS);
      const coverShort = checkOrder(order('BUY', 4), ctx(-10, bid, ask), CASE_STUDY_LIMITS);
      expect(rules(sellLong)).not.toContain(RiskRule.SPREAD);
      expect(rules(coverShort)).not.toContain(RiskRule.SPREAD);
    }
  });

  it('in the backtest an exit in a wide market is placed while an entry there is refused', () => {
    const T0 = Date.UTC(2024, 2, 1);
    const quote = (minute: number, bid: number, ask: number): MarketSnapshot => ({
      marketId: market.marketId,
      ts: T0 + minute * 60_000,
      bid: px(bid),
      ask: px(ask),
      last: null,
      averageDailyVolume: q(100_000),
      intervalVolume: q(1_000),
    });
    const plan: Record<number, Pick<Signal, 'side' | 'price' | 'intent'>> = {
      0: { side: 'BUY', price: px(0.43), intent: 'ENTER' },
      2: { side: 'SELL', price: px(0.45), intent: 'EXIT' },
      4: { side: 'BUY', price: px(0.40), intent: 'ENTER' },
    };
    let minute = 0;
    const strategy: Strategy<null> = {
      name: 'scripted',
      params: {},
      initialState: () => null,
      onSnapshot(state, snap) {
        const step = plan[Math.round((snap.ts - T0) / 60_000)];
        minute += 1;
        return { state, signal: step ? { marketId: snap.marketId, confidence: 1, metadata: {}, ...step } : null };
      },
    };
    const r = runBacktest([quote(0, 0.42, 0.43), quote(1, 0.42, 0.43), quote(2, 0.40, 0.45), quote(3, 0.45, 0.46), quote(4, 0.40, 0.45), quote(5, 0.40, 0.41)], {
      strategy: strategy as Strategy<unknown>,
      markets: [market],
      limits: CASE_STUDY_LIMITS,
      sizing: { kind: 'confidence', maxOrderSize: 10 },
      fillModel: { fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, feeCoefficientPpm: 0 },
      seed: 1,
      orderTtlMs: 10 * 60_000,
    });
    expect(minute).toBe(6);
    expect(r.ordersPlaced).toBe(2);
    expect(r.rejectionsByRule).toEqual({ SPREAD: 1 });
    expect(r.fills.map((f) => f.side)).toEqual(['BUY', 'SELL']);
  });
});
