/**
 * The %-of-portfolio limits of the notes (reference 002 `check_risk_limits`: 10% of the portfolio
 * per position, 25% in total), measured with the one worst-case rule (worst-case.ts) against the
 * account's equity (cash + positions at their marks, trading-context.ts).
 */
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { emptyLedger, applyFillInPlace } from '../../domain/ledger';
import type { Market, MarketSnapshot } from '../../domain/market';
import { px, usd, type Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS, PORTFOLIO_PERCENT_DEFAULTS, parseRiskLimits, type RiskLimits } from '../../domain/risk-limits';
import { RISK_RULE_TABLE, RiskRule, checkOrder, type OrderRequest, type RiskContext, type RiskDecision } from '../../domain/risk';
import { buildRiskContext } from '../../domain/trading-context';

const NOW = 1_700_000_000_000;
const q = (n: number) => n as Quantity;
const market: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };
const snapshot: MarketSnapshot = { marketId: 'PRES-2028', ts: NOW - 1_000, bid: px(0.09), ask: px(0.1), last: px(0.1), averageDailyVolume: q(1_000_000), intervalVolume: q(0) };

/** Only the percent limits can bind. */
const LOOSE: RiskLimits = {
  ...CASE_STUDY_LIMITS,
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
};

function ctx(over: Partial<RiskContext> = {}): RiskContext {
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
    equity: usd(1_000),
    ...over,
  };
}
const order = (over: Partial<OrderRequest> = {}): OrderRequest => ({ marketId: 'PRES-2028', side: 'BUY', quantity: q(10), limitPrice: px(0.1), ...over });
const rules = (d: RiskDecision) => (d.approved ? [] : d.violations.map((v) => v.rule));

describe('%-of-portfolio limits (reference 002: 10% per position, 25% in total)', () => {
  it('defaults are the notes\' 10% and 25%, carried by the case-study limits', () => {
    expect(PORTFOLIO_PERCENT_DEFAULTS).toEqual({ maxPositionPercent: 10, maxTotalExposurePercent: 25 });
    expect(CASE_STUDY_LIMITS.maxPositionPercent).toBe(10);
    expect(CASE_STUDY_LIMITS.maxTotalExposurePercent).toBe(25);
    expect(RISK_RULE_TABLE.POSITION_PERCENT.limitField).toBe('maxPositionPercent');
    expect(RISK_RULE_TABLE.TOTAL_EXPOSURE_PERCENT.limitField).toBe('maxTotalExposurePercent');
  });

  it('a long at exactly 10% of equity passes; one contract more fails with the limit in money', () => {
    // $1,000 equity: 10% = $100 = 1,000 contracts long at 0.10.
    expect(checkOrder(order({ quantity: q(1_000) }), ctx(), LOOSE).approved).toBe(true);
    const d = checkOrder(order({ quantity: q(1_001) }), ctx(), LOOSE);
    expect(rules(d)).toEqual([RiskRule.POSITION_PERCENT]);
    const v = !d.approved ? d.violations[0]! : null;
    expect(v).toMatchObject({ limit: 100_000_000, observed: 100_100_000 });
    expect(v!.message).toMatch(/10% of equity 1000\.00/);
  });

  it('a short is measured at its worst case (1 − p) × q: a short of 112 at 0.10 ($100.80) fails 10% of $1,000 as a long at 0.90 does', () => {
    const short = checkOrder(order({ side: 'SELL', quantity: q(112), limitPrice: px(0.1) }), ctx(), LOOSE);
    expect(rules(short)).toEqual([RiskRule.POSITION_PERCENT]);
    const long = checkOrder(order({ quantity: q(112), limitPrice: px(0.9) }), ctx({ snapshot: { ...snapshot, bid: px(0.89), ask: px(0.9), last: px(0.9) } }), LOOSE);
    expect(rules(long)).toEqual([RiskRule.POSITION_PERCENT]);
    expect(!short.approved && !long.approved && short.violations[0]!.observed === long.violations[0]!.observed).toBe(true);
    // The same short of 111 ($99.90) passes.
    expect(checkOrder(order({ side: 'SELL', quantity: q(111) }), ctx(), LOOSE).approved).toBe(true);
  });

  it('total exposure: existing worst-case exposure + the order above 25% of equity fails; at 25% passes', () => {
    // $200 held elsewhere; $50 more (500 at 0.10) reaches exactly $250 = 25% of $1,000.
    expect(checkOrder(order({ quantity: q(500) }), ctx({ portfolioExposure: usd(200) }), LOOSE).approved).toBe(true);
    const d = checkOrder(order({ quantity: q(501) }), ctx({ portfolioExposure: usd(200) }), LOOSE);
    expect(rules(d)).toEqual([RiskRule.TOTAL_EXPOSURE_PERCENT]);
    expect(!d.approved && d.violations[0]).toMatchObject({ limit: 250_000_000, observed: 250_100_000 });
  });

  it('an order that reduces a position passes both, however far above the limits the account is', () => {
    const d = checkOrder(order({ side: 'SELL', quantity: q(100) }), ctx({ currentPosition: 5_000, portfolioExposure: usd(900), equity: usd(100) }), LOOSE);
    expect(d.approved).toBe(true);
  });

  it('equity unknown (null) or not positive refuses an order that grows a position; equity absent leaves the rules unmeasured', () => {
    expect(rules(checkOrder(order(), ctx({ equity: null }), LOOSE))).toEqual([RiskRule.POSITION_PERCENT, RiskRule.TOTAL_EXPOSURE_PERCENT]);
    expect(rules(checkOrder(order(), ctx({ equity: usd(-5) }), LOOSE))).toEqual([RiskRule.POSITION_PERCENT, RiskRule.TOTAL_EXPOSURE_PERCENT]);
    const { equity: _omit, ...noEquity } = ctx();
    expect(checkOrder(order({ quantity: q(100_000) }), noEquity, LOOSE).approved).toBe(true);
  });

  it('tighter configured percentages bind: 5% of $1,000 refuses a $60 position', () => {
    const limits = { ...LOOSE, maxPositionPercent: 5 };
    expect(rules(checkOrder(order({ quantity: q(600) }), ctx(), limits))).toEqual([RiskRule.POSITION_PERCENT]);
  });
});

describe('parseRiskLimits: the percent limits', () => {
  const base = Object.fromEntries(Object.entries(CASE_STUDY_LIMITS).filter(([k]) => !k.endsWith('Percent')));
  const asConfig = { ...base, maxPositionValue: '500', maxDailyLoss: '200', maxPortfolioExposure: '2000', maxCategoryExposure: '800', maxPriceDeviation: '0.10', maxSpread: '0.02', fatFingerNotional: '25' };

  it('absent: the notes\' defaults; given: read as percentages', () => {
    expect(parseRiskLimits(asConfig)).toMatchObject({ maxPositionPercent: 10, maxTotalExposurePercent: 25 });
    expect(parseRiskLimits({ ...asConfig, maxPositionPercent: '7.5', maxTotalExposurePercent: 20 })).toMatchObject({ maxPositionPercent: 7.5, maxTotalExposurePercent: 20 });
  });

  it('every bad percentage is named with its value, and per position may not exceed the total', () => {
    const err = (input: Record<string, unknown>) => {
      try {
        parseRiskLimits(input);
      } catch (e) {
        return (e as InvalidInput).problems;
      }
      throw new Error('expected a refusal');
    };
    expect(err({ ...asConfig, maxPositionPercent: 0, maxTotalExposurePercent: 'lots' })).toEqual([
      { field: 'maxPositionPercent', value: 0, problem: 'must be a percentage above 0 and at most 100, with at most 2 decimals' },
      { field: 'maxTotalExposurePercent', value: 'lots', problem: 'must be a percentage above 0 and at most 100, with at most 2 decimals' },
    ]);
    expect(err({ ...asConfig, maxPositionPercent: 101 })[0]).toMatchObject({ field: 'maxPositionPercent', value: 101 });
    expect(err({ ...asConfig, maxPositionPercent: 30, maxTotalExposurePercent: 25 })[0]).toMatchObject({ field: 'maxPositionPercent', value: 30 });
  });
});

describe('buildRiskContext: equity from cash and the positions at their marks', () => {
  it('cash + a long of 100 marked at 0.50 = equity; no cash given: equity absent; null cash: unknown', () => {
    const ledger = emptyLedger();
    applyFillInPlace(ledger, { tradeId: 't1', clientOrderId: 'c1', marketId: 'PRES-2028', side: 'BUY', quantity: q(100), price: px(0.4), fee: usd(0), ts: NOW - 10_000 });
    const input = { ledger, markets: { 'PRES-2028': market }, marks: { 'PRES-2028': px(0.5) }, market, snapshot, now: NOW, halted: null, recentOrderTimes: [], openingUnrealizedPnl: usd(0) };
    expect(buildRiskContext({ ...input, cash: usd(960) }).equity).toBe(usd(1_010));
    expect(buildRiskContext({ ...input, cash: null }).equity).toBeNull();
    expect('equity' in buildRiskContext(input)).toBe(false);
  });
});
