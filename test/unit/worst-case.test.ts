/**
 * Issue 14, "Shorts are measured at p×q": a short YES at p loses (1 − p) per contract if the market
 * resolves YES, a long loses p if it resolves NO. A short at 0.10 and a long at 0.90 of the same size
 * have the same worst case and must get the same risk figures.
 */
import { describe, expect, it } from 'vitest';
import { emptyPosition, applyFillToPosition, portfolioSummary, positionExposure, type Ledger } from '../../domain/ledger';
import type { Market, MarketSnapshot } from '../../domain/market';
import { px, usd, type Money, type Quantity } from '../../domain/money';
import { checkOrder, type OrderRequest, type RiskContext, type RiskDecision } from '../../domain/risk';
import type { RiskLimits } from '../../domain/risk-limits';
import { buildRiskContext } from '../../domain/trading-context';
import { worstCaseValue } from '../../domain/worst-case';

const NOW = 1_700_000_000_000;
const q = (n: number) => n as Quantity;
const market: Market = { marketId: 'M', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };

function snap(bid: number, ask: number): MarketSnapshot {
  return { marketId: 'M', ts: NOW, bid: px(bid), ask: px(ask), last: null, averageDailyVolume: q(1_000_000), intervalVolume: q(0) };
}

const WIDE: RiskLimits = {
  maxOrderSize: 1_000_000,
  maxPositionSize: 1_000_000,
  maxPositionValue: usd(1e9),
  maxDailyLoss: usd(1e9),
  maxPortfolioExposure: usd(1e9),
  maxCategoryExposure: usd(1e9),
  maxPriceDeviation: 1_000_000,
  maxVolumeFraction: 1,
  maxSpread: 1_000_000,
  fatFingerNotional: usd(1e9),
  maxOpenPositions: 1_000,
  maxOrdersPerMinute: 1_000,
  maxQuoteAgeMs: 3_600_000,
};

function ctx(snapshot: MarketSnapshot, over: Partial<RiskContext> = {}): RiskContext {
  return {
    halted: null,
    market,
    snapshot,
    now: NOW,
    currentPosition: 0,
    openPositionCount: 0,
    portfolioExposure: usd(0),
    categoryExposure: usd(0),
    dailyRealizedPnl: usd(0),
    unrealizedPnl: usd(0),
    openingUnrealizedPnl: usd(0),
    ordersInLastMinute: 0,
    ...over,
  };
}

const observed = (d: RiskDecision, rule: string): number | null | undefined => (d.approved ? undefined : d.violations.find((v) => v.rule === rule)?.observed);

/** Long 50 YES at 0.90 and short 50 YES at 0.10: both lose $45 in the worst case. */
const longOrder: OrderRequest = { marketId: 'M', side: 'BUY', quantity: q(50), limitPrice: px(0.9) };
const shortOrder: OrderRequest = { marketId: 'M', side: 'SELL', quantity: q(50), limitPrice: px(0.1) };
const longSnap = snap(0.89, 0.9);
const shortSnap = snap(0.1, 0.11);

describe('the worst case of a binary position', () => {
  it('is p×q for a long and (1 − p)×q for a short', () => {
    expect(worstCaseValue(50, px(0.9))).toBe(usd(45));
    expect(worstCaseValue(-50, px(0.1))).toBe(usd(45));
    expect(worstCaseValue(-50, px(0.9))).toBe(usd(5));
    expect(worstCaseValue(0, px(0.5))).toBe(0);
    // No price: the most a contract pays, on either side.
    expect(worstCaseValue(-3, null)).toBe(usd(3));
  });
});

describe('pre-trade rules measure a short at (1 − p)×q', () => {
  it('a short at 0.10 with a $45 worst case fails the $10 position-value limit the long fails', () => {
    const limits = { ...WIDE, maxPositionValue: usd(10) };
    const long = checkOrder(longOrder, ctx(longSnap), limits);
    const short = checkOrder(shortOrder, ctx(shortSnap), limits);
    expect(observed(long, 'POSITION_VALUE')).toBe(usd(45));
    expect(observed(short, 'POSITION_VALUE')).toBe(usd(45));
  });

  it('fat-finger notional, portfolio and category exposure agree for the two', () => {
    const limits = { ...WIDE, fatFingerNotional: usd(10), maxPortfolioExposure: usd(10), maxCategoryExposure: usd(10) };
    for (const [o, s] of [
      [longOrder, longSnap],
      [shortOrder, shortSnap],
    ] as const) {
      const d = checkOrder(o, ctx(s), limits);
      expect(observed(d, 'FAT_FINGER')).toBe(usd(45));
      expect(observed(d, 'PORTFOLIO_EXPOSURE')).toBe(usd(45));
      expect(observed(d, 'CATEGORY_EXPOSURE')).toBe(usd(45));
    }
  });

  it('adding to a short adds (1 − p) per contract', () => {
    const limits = { ...WIDE, maxPortfolioExposure: usd(50) };
    const d = checkOrder({ ...shortOrder, quantity: q(10) }, ctx(shortSnap, { currentPosition: -50, portfolioExposure: usd(45), categoryExposure: usd(45) }), limits);
    expect(observed(d, 'PORTFOLIO_EXPOSURE')).toBe(usd(54));
  });
});

describe('ledger exposure measures a short at (1 − p)×q', () => {
  const short = applyFillToPosition(emptyPosition('M'), { side: 'SELL', quantity: q(50), price: px(0.1), fee: usd(0) });
  const long = applyFillToPosition(emptyPosition('M'), { side: 'BUY', quantity: q(50), price: px(0.9), fee: usd(0) });

  it('at a mark and, without one, at cost', () => {
    expect(positionExposure(short, px(0.1))).toBe(usd(45));
    expect(positionExposure(long, px(0.9))).toBe(usd(45));
    expect(positionExposure(short, null)).toBe(usd(45));
    expect(positionExposure(long, null)).toBe(usd(45));
  });

  it('portfolio summary and the risk context built from it', () => {
    const ledger: Ledger = { positions: { M: short }, appliedTradeIds: {}, previousTradeIds: {}, dailyRealizedPnl: usd(0), dailyFees: usd(0) };
    const summary = portfolioSummary(ledger, { M: px(0.1) }, { M: { category: 'politics' } });
    expect(summary.exposure).toBe(usd(45));
    expect(summary.exposureByCategory).toEqual({ politics: usd(45) });
    const rc = buildRiskContext({ ledger, markets: { M: market }, marks: { M: px(0.1) }, market, snapshot: shortSnap, now: NOW, halted: null, recentOrderTimes: [], openingUnrealizedPnl: 0 as Money });
    expect(rc.portfolioExposure).toBe(usd(45));
    expect(rc.categoryExposure).toBe(usd(45));
  });
});
