import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import type { Market, MarketSnapshot } from '../../domain/market';
import { px, usd, type Money, type Price, type Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS, PORTFOLIO_PERCENT_FIELDS, RISK_LIMIT_FIELDS, type RiskLimits } from '../../domain/risk-limits';
import {
  APPROVED,
  RISK_RULES,
  RISK_RULE_TABLE,
  RISK_RULE_UNITS,
  RiskRule,
  checkOrder,
  describeDecision,
  type OrderRequest,
  type RiskContext,
  type RiskDecision,
} from '../../domain/risk';

const NOW = 1_700_000_000_000;
const q = (n: number) => n as Quantity;

const market: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };
const snapshot: MarketSnapshot = {
  marketId: 'PRES-2028',
  ts: NOW - 1_000,
  bid: px(0.42),
  ask: px(0.43),
  last: px(0.42),
  averageDailyVolume: q(1_000),
  intervalVolume: q(0),
};

/** Passes every case-study limit: buy 10 at 0.43 in a 0.42/0.43 market, flat, two other positions. */
function ctx(over: Partial<RiskContext> = {}, snap: Partial<MarketSnapshot> = {}): RiskContext {
  return {
    halted: null,
    market,
    snapshot: { ...snapshot, ...snap },
    now: NOW,
    currentPosition: 0,
    openPositionCount: 2,
    portfolioExposure: usd(100),
    categoryExposure: usd(50),
    dailyRealizedPnl: usd(0),
    unrealizedPnl: usd(0),
    openingUnrealizedPnl: usd(0),
    ordersInLastMinute: 0,
    ...over,
  };
}

function order(over: Partial<OrderRequest> = {}): OrderRequest {
  return { marketId: 'PRES-2028', side: 'BUY', quantity: q(10), limitPrice: px(0.43), ...over };
}

/** Limits so wide that only the one under test can bind. */
const LOOSE: RiskLimits = {
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

function rules(d: RiskDecision): string[] {
  return d.approved ? [] : d.violations.map((v) => v.rule);
}

function violation(d: RiskDecision, rule: RiskRule) {
  if (d.approved) throw new Error(`expected a refusal on ${rule}`);
  const v = d.violations.find((x) => x.rule === rule);
  if (!v) throw new Error(`expected ${rule} among ${rules(d).join(', ')}`);
  return v;
}

interface Boundary {
  rule: RiskRule;
  limit: keyof RiskLimits;
  order?: Partial<OrderRequest>;
  ctx?: Partial<RiskContext>;
  snap?: Partial<MarketSnapshot>;
  /** The value the rule observes: a limit equal to it passes, one unit lower fails. */
  observed: number;
  /** The smallest step of the limit (1 micro, 1 contract, a ppm of a ratio). */
  step: number;
}

const boundaries: Boundary[] = [
  { rule: RiskRule.ORDER_QUANTITY, limit: 'maxOrderSize', order: { quantity: q(37) }, observed: 37, step: 1 },
  { rule: RiskRule.POSITION_SIZE, limit: 'maxPositionSize', ctx: { currentPosition: 30 }, observed: 40, step: 1 },
  { rule: RiskRule.POSITION_SIZE, limit: 'maxPositionSize', order: { side: 'SELL', limitPrice: px(0.42) }, ctx: { currentPosition: -30 }, observed: 40, step: 1 },
  { rule: RiskRule.POSITION_VALUE, limit: 'maxPositionValue', ctx: { currentPosition: 30 }, observed: 17_200_000, step: 1 },
  { rule: RiskRule.DAILY_LOSS, limit: 'maxDailyLoss', ctx: { dailyRealizedPnl: usd(-100), unrealizedPnl: usd(-50.5) }, observed: 150_500_000, step: 1 },
  { rule: RiskRule.PORTFOLIO_EXPOSURE, limit: 'maxPortfolioExposure', observed: 104_300_000, step: 1 },
  { rule: RiskRule.CATEGORY_EXPOSURE, limit: 'maxCategoryExposure', observed: 54_300_000, step: 1 },
  { rule: RiskRule.PRICE_DEVIATION, limit: 'maxPriceDeviation', order: { limitPrice: px(0.5) }, observed: 75_000, step: 1 },
  { rule: RiskRule.SPREAD, limit: 'maxSpread', observed: 10_000, step: 1 },
  { rule: RiskRule.FAT_FINGER, limit: 'fatFingerNotional', observed: 4_300_000, step: 1 },
  { rule: RiskRule.MAX_OPEN_POSITIONS, limit: 'maxOpenPositions', observed: 3, step: 1 },
  { rule: RiskRule.ORDER_RATE, limit: 'maxOrdersPerMinute', ctx: { ordersInLastMinute: 4 }, observed: 5, step: 1 },
  { rule: RiskRule.STALE_QUOTE, limit: 'maxQuoteAgeMs', snap: { ts: NOW - 90_000 }, observed: 90_000, step: 1 },
];

describe('pre-trade risk: each rule at its boundary', () => {
  it('the base order passes the case-study limits and approval is the shared object', () => {
    const d = checkOrder(order(), ctx(), CASE_STUDY_LIMITS);
    expect(d).toBe(APPROVED);
    expect(describeDecision(d)).toBe('APPROVED');
  });

  for (const b of boundaries) {
    it(`${b.rule}: exactly at the limit passes, one step tighter fails alone`, () => {
      const o = order(b.order);
      const c = ctx(b.ctx, b.snap);
      expect(checkOrder(o, c, { ...LOOSE, [b.limit]: b.observed })).toBe(APPROVED);
      const d = checkOrder(o, c, { ...LOOSE, [b.limit]: b.observed - b.step });
      expect(rules(d)).toEqual([b.rule]);
      const v = violation(d, b.rule);
      expect(v.limit).toBe(b.observed - b.step);
      expect(v.observed).toBe(b.observed);
      expect(v.message.length).toBeGreaterThan(10);
    });
  }

  it('VOLUME_FRACTION: 10 contracts is exactly 1% of 1,000; 0.999999% fails', () => {
    expect(checkOrder(order(), ctx(), { ...LOOSE, maxVolumeFraction: 0.01 })).toBe(APPROVED);
    const d = checkOrder(order(), ctx(), { ...LOOSE, maxVolumeFraction: 0.009999 });
    expect(rules(d)).toEqual([RiskRule.VOLUME_FRACTION]);
    expect(violation(d, RiskRule.VOLUME_FRACTION)).toMatchObject({ observed: 10, limit: 9.999 });
    // 0.07 × 100 is 7.000000000000001 in binary floats; the check is exact either way.
    expect(checkOrder(order({ quantity: q(7) }), ctx({}, { averageDailyVolume: q(100) }), { ...LOOSE, maxVolumeFraction: 0.07 })).toBe(APPROVED);
    expect(checkOrder(order({ quantity: q(29) }), ctx({}, { averageDailyVolume: q(100) }), { ...LOOSE, maxVolumeFraction: 0.29 })).toBe(APPROVED);
  });

  it('VOLUME_FRACTION: no recorded volume refuses any order', () => {
    const d = checkOrder(order({ quantity: q(1) }), ctx({}, { averageDailyVolume: q(0) }), LOOSE);
    expect(violation(d, RiskRule.VOLUME_FRACTION)).toMatchObject({ observed: 1, limit: 0 });
  });

  it('TRADING_HALTED names the halt reason', () => {
    const d = checkOrder(order(), ctx({ halted: { reason: 'MANUAL by alice: news event' } }), LOOSE);
    expect(rules(d)).toEqual([RiskRule.TRADING_HALTED]);
    expect(violation(d, RiskRule.TRADING_HALTED)).toEqual({ rule: 'TRADING_HALTED', limit: null, observed: null, message: 'trading is halted: MANUAL by alice: news event' });
  });

  it('ORDER_QUANTITY: zero contracts is refused, not approved', () => {
    const d = checkOrder(order({ quantity: q(0) }), ctx(), LOOSE);
    expect(rules(d)).toEqual([RiskRule.ORDER_QUANTITY]);
    expect(violation(d, RiskRule.ORDER_QUANTITY).observed).toBe(0);
  });

  it('PRICE_RANGE: off the tick grid, at 0, at 1 and above are refused', () => {
    expect(rules(checkOrder(order({ limitPrice: 435_000 as Price }), ctx(), LOOSE))).toEqual([RiskRule.PRICE_RANGE]);
    expect(violation(checkOrder(order({ limitPrice: 0 as Price }), ctx(), LOOSE), RiskRule.PRICE_RANGE).observed).toBe(0);
    expect(rules(checkOrder(order({ limitPrice: 1_000_000 as Price }), ctx(), LOOSE))).toEqual([RiskRule.PRICE_RANGE]);
    expect(rules(checkOrder(order({ limitPrice: -10_000 as Price }), ctx(), LOOSE))).toContain(RiskRule.PRICE_RANGE);
    expect(checkOrder(order({ limitPrice: px(0.01) }), ctx(), LOOSE)).toBe(APPROVED);
    expect(checkOrder(order({ limitPrice: px(0.99) }), ctx(), LOOSE)).toBe(APPROVED);
    // A finer grid accepts the half-cent price.
    expect(checkOrder(order({ limitPrice: 435_000 as Price }), ctx({ market: { ...market, tickSize: 1_000 } }), LOOSE)).toBe(APPROVED);
  });

  it('PRICE_DEVIATION is measured from the mid, else from the last trade, else fails with observed null', () => {
    // mid of 0.42/0.43 is 0.425: 0.525 is 0.10 away.
    const fine = { ...ctx(), market: { ...market, tickSize: 5_000 } };
    expect(checkOrder(order({ limitPrice: px(0.525) }), fine, { ...LOOSE, maxPriceDeviation: 100_000 })).toBe(APPROVED);
    expect(rules(checkOrder(order({ limitPrice: px(0.53) }), fine, { ...LOOSE, maxPriceDeviation: 100_000 }))).toEqual([RiskRule.PRICE_DEVIATION]);
    // One-sided book: measured from last (0.42), and SPREAD fails too.
    const oneSided = ctx({}, { bid: null });
    const d = checkOrder(order({ limitPrice: px(0.6) }), oneSided, { ...LOOSE, maxPriceDeviation: 100_000 });
    expect(violation(d, RiskRule.PRICE_DEVIATION).observed).toBe(180_000);
    const none = checkOrder(order(), ctx({}, { bid: null, last: null }), LOOSE);
    expect(violation(none, RiskRule.PRICE_DEVIATION)).toMatchObject({ observed: null, limit: 1_000_000 });
  });

  it('SPREAD: a one-sided or crossed quote is refused', () => {
    expect(violation(checkOrder(order(), ctx({}, { ask: null }), LOOSE), RiskRule.SPREAD).observed).toBeNull();
    expect(violation(checkOrder(order(), ctx({}, { bid: px(0.44), ask: px(0.43) }), LOOSE), RiskRule.SPREAD).observed).toBe(-10_000);
    expect(checkOrder(order(), ctx({}, { bid: px(0.43), ask: px(0.43) }), LOOSE)).toBe(APPROVED);
  });

  it('MAX_OPEN_POSITIONS counts only orders that open a new position', () => {
    const full = ctx({ openPositionCount: 5 });
    expect(rules(checkOrder(order(), full, CASE_STUDY_LIMITS))).toEqual([RiskRule.MAX_OPEN_POSITIONS]);
    expect(checkOrder(order(), { ...full, currentPosition: 20 }, CASE_STUDY_LIMITS)).toBe(APPROVED);
    expect(checkOrder(order({ side: 'SELL', limitPrice: px(0.42) }), { ...full, currentPosition: 20 }, CASE_STUDY_LIMITS)).toBe(APPROVED);
  });

  it('STALE_QUOTE: a quote from the future by clock skew is not stale', () => {
    expect(checkOrder(order(), ctx({}, { ts: NOW + 500 }), CASE_STUDY_LIMITS)).toBe(APPROVED);
  });
});

describe('pre-trade risk: market orders', () => {
  it('a market buy is valued at the ask, a market sell at the bid (a short sale at its worst case, 1 − bid)', () => {
    const buy = checkOrder(order({ limitPrice: null }), ctx(), { ...LOOSE, fatFingerNotional: usd(4.29) });
    expect(violation(buy, RiskRule.FAT_FINGER).observed).toBe(4_300_000);
    const sell = checkOrder(order({ side: 'SELL', limitPrice: null }), ctx({ currentPosition: 10 }), { ...LOOSE, fatFingerNotional: usd(4.19) });
    expect(violation(sell, RiskRule.FAT_FINGER).observed).toBe(4_200_000);
    // Selling 10 against 4 held: 4 at 0.42 and 6 opened short at 0.58.
    const through = checkOrder(order({ side: 'SELL', limitPrice: null }), ctx({ currentPosition: 4 }), { ...LOOSE, fatFingerNotional: usd(5.15) });
    expect(violation(through, RiskRule.FAT_FINGER).observed).toBe(4 * 420_000 + 6 * 580_000);
    expect(checkOrder(order({ limitPrice: null }), ctx(), CASE_STUDY_LIMITS)).toBe(APPROVED);
  });

  it('a market order with nothing to cross is refused and valued at 1.00 per contract', () => {
    const d = checkOrder(order({ limitPrice: null }), ctx({}, { ask: null }), LOOSE);
    expect(violation(d, RiskRule.PRICE_RANGE).observed).toBeNull();
    expect(violation(d, RiskRule.PRICE_DEVIATION).observed).toBeNull();
    const e = checkOrder(order({ limitPrice: null }), ctx({}, { ask: null }), { ...LOOSE, fatFingerNotional: usd(9.99) });
    expect(violation(e, RiskRule.FAT_FINGER).observed).toBe(10_000_000);
  });
});

describe('pre-trade risk: orders that reduce a position', () => {
  const tight: RiskLimits = { ...LOOSE, maxPositionSize: 100, maxPositionValue: usd(40), maxPortfolioExposure: usd(100), maxCategoryExposure: usd(50) };
  const over = ctx({ currentPosition: 150, portfolioExposure: usd(500), categoryExposure: usd(300) });

  it('a position above the holding limits can still be reduced', () => {
    expect(checkOrder(order({ side: 'SELL', quantity: q(20), limitPrice: px(0.42) }), over, tight)).toBe(APPROVED);
  });

  it('a flip that leaves a smaller position is a reduction', () => {
    expect(checkOrder(order({ side: 'SELL', quantity: q(250), limitPrice: px(0.42) }), over, tight)).toBe(APPROVED);
  });

  it('adding to that position is refused on every holding rule', () => {
    const d = checkOrder(order({ quantity: q(1) }), over, tight);
    expect(rules(d).sort()).toEqual([RiskRule.CATEGORY_EXPOSURE, RiskRule.PORTFOLIO_EXPOSURE, RiskRule.POSITION_SIZE, RiskRule.POSITION_VALUE].sort());
    expect(violation(d, RiskRule.PORTFOLIO_EXPOSURE).observed).toBe(500_430_000);
  });

  it('a flip adds exposure only for the contracts beyond flat, never more than qty × price', () => {
    // short 30, buy 50: long 20 afterwards, fewer contracts than the 30 held, so nothing is added.
    expect(checkOrder(order({ quantity: q(50) }), ctx({ currentPosition: -30, portfolioExposure: usd(100) }), { ...LOOSE, maxPortfolioExposure: usd(100) })).toBe(APPROVED);
    // short 10, buy 50: +40 long, 30 contracts more than before at 0.43 = 12.90 added.
    const d = checkOrder(order({ quantity: q(50) }), ctx({ currentPosition: -10, portfolioExposure: usd(100) }), { ...LOOSE, maxPortfolioExposure: usd(100) });
    expect(violation(d, RiskRule.PORTFOLIO_EXPOSURE).observed).toBe(112_900_000);
    expect(112_900_000).toBeLessThanOrEqual(100_000_000 + 50 * 430_000);
  });

  it('the daily-loss stop never refuses an order that only reduces the position (issue 14)', () => {
    const spent = { currentPosition: 20, dailyRealizedPnl: usd(-201) };
    expect(checkOrder(order({ side: 'SELL', limitPrice: px(0.42) }), ctx(spent), CASE_STUDY_LIMITS)).toBe(APPROVED);
    expect(checkOrder(order({ side: 'SELL', limitPrice: px(0.42), quantity: q(20) }), ctx(spent), { ...CASE_STUDY_LIMITS, maxOrderSize: 20 })).toBe(APPROVED);
    // Adding, or selling through flat into a short, is still refused.
    expect(rules(checkOrder(order(), ctx(spent), CASE_STUDY_LIMITS))).toEqual([RiskRule.DAILY_LOSS]);
    expect(rules(checkOrder(order({ side: 'SELL', limitPrice: px(0.42), quantity: q(30) }), ctx(spent), LOOSE_LOSS))).toEqual([RiskRule.DAILY_LOSS]);
  });

  it('the daily loss is measured from the day opening marks: yesterday carried loss is not today loss', () => {
    // Held since yesterday, −$250 unrealized at today's open and −$260 now: today lost $10.
    const carried = { currentPosition: 20, unrealizedPnl: usd(-260), openingUnrealizedPnl: usd(-250) };
    expect(checkOrder(order(), ctx(carried), CASE_STUDY_LIMITS)).toBe(APPROVED);
    const d = checkOrder(order(), ctx({ ...carried, dailyRealizedPnl: usd(-190.000001) }), CASE_STUDY_LIMITS);
    expect(violation(d, RiskRule.DAILY_LOSS).observed).toBe(200_000_001);
  });
});

const LOOSE_LOSS: RiskLimits = { ...LOOSE, maxDailyLoss: CASE_STUDY_LIMITS.maxDailyLoss };

/** An order that breaks every rule at once against the case-study limits. */
const everyRuleBroken = (): RiskDecision =>
  checkOrder(
    order({ quantity: q(900), limitPrice: 995_000 as Price }),
    ctx(
      {
        halted: { reason: 'DAILY_LOSS' },
        currentPosition: 0,
        openPositionCount: 5,
        portfolioExposure: usd(1_900),
        categoryExposure: usd(790),
        dailyRealizedPnl: usd(-150),
        unrealizedPnl: usd(-60),
        ordersInLastMinute: 10,
        equity: usd(5_000),
      },
      { bid: px(0.4), ask: px(0.45), ts: NOW - 120_000, averageDailyVolume: q(1_000) },
    ),
    CASE_STUDY_LIMITS,
  );

describe('pre-trade risk: the rule table', () => {
  it('has one row per rule name, in the order violations are listed', () => {
    expect(Object.keys(RISK_RULE_TABLE)).toEqual([...RISK_RULES]);
    const d = everyRuleBroken();
    expect(rules(d)).toEqual([...RISK_RULES]);
    for (const v of rules(d)) expect(Object.keys(RISK_RULE_TABLE)).toContain(v);
  });

  it('reads every risk limit, each from exactly one rule, and states each rule\'s unit', () => {
    const read = RISK_RULES.map((r) => RISK_RULE_TABLE[r].limitField).filter((f) => f !== null);
    expect([...read].sort()).toEqual([...RISK_LIMIT_FIELDS, ...PORTFOLIO_PERCENT_FIELDS].sort());
    for (const r of RISK_RULES) expect(RISK_RULE_UNITS[r]).toBe(RISK_RULE_TABLE[r].unit);
  });

  it("each violation's limit is the limit its row reads (the volume rule states it in contracts)", () => {
    const d = everyRuleBroken();
    if (d.approved) throw new Error('expected a refusal');
    for (const v of d.violations) {
      const field = RISK_RULE_TABLE[v.rule].limitField;
      if (field === null) expect(v.limit).toBeNull();
      else if (v.rule === RiskRule.VOLUME_FRACTION) expect(v.limit).toBe(CASE_STUDY_LIMITS.maxVolumeFraction * 1_000);
      // The percent rules state their limit as money: that share of the context's equity ($5,000).
      else if (v.rule === RiskRule.POSITION_PERCENT || v.rule === RiskRule.TOTAL_EXPOSURE_PERCENT) expect(v.limit).toBe((5_000 * 1_000_000 * (CASE_STUDY_LIMITS[field] as number)) / 100);
      else expect(v.limit).toBe(CASE_STUDY_LIMITS[field]);
    }
  });
});

describe('pre-trade risk: reporting', () => {
  it('lists every failing rule at once, with money rendered as decimals', () => {
    const d = everyRuleBroken();
    expect(new Set(rules(d))).toEqual(new Set(RISK_RULES));
    expect(violation(d, RiskRule.DAILY_LOSS).message).toBe('daily loss 210.00 (realized today + change in unrealized since the open) exceeds the limit of 200.00');
    expect(violation(d, RiskRule.POSITION_VALUE).message).toContain('895.50');
    expect(violation(d, RiskRule.SPREAD).message).toBe('spread 0.05 exceeds the limit of 0.02');
    expect(describeDecision(d)).toMatch(/^REJECTED TRADING_HALTED, ORDER_QUANTITY, /);
  });
});

describe('pre-trade risk: case-study examples', () => {
  it("day 1: 15 contracts at 0.43 in a 0.42/0.44 market fails the case study's literal 1-cent spread rule, and passes the 2-cent default", () => {
    const d = checkOrder(order({ quantity: q(15) }), ctx({}, { ask: px(0.44) }), { ...CASE_STUDY_LIMITS, maxSpread: 10_000 });
    expect(rules(d)).toEqual([RiskRule.SPREAD]);
    expect(violation(d, RiskRule.SPREAD)).toMatchObject({ limit: 10_000, observed: 20_000 });
    expect(checkOrder(order({ quantity: q(15) }), ctx({}, { ask: px(0.44) }), CASE_STUDY_LIMITS)).toBe(APPROVED);
  });

  it('100 contracts per market: holding 90, a buy of 10 passes and a buy of 11 does not', () => {
    const c = ctx({ currentPosition: 90 }, { averageDailyVolume: q(10_000) });
    expect(checkOrder(order(), c, CASE_STUDY_LIMITS)).toBe(APPROVED);
    expect(rules(checkOrder(order({ quantity: q(11) }), c, CASE_STUDY_LIMITS))).toEqual([RiskRule.POSITION_SIZE]);
  });

  it('50 contracts per order and 3% of daily volume', () => {
    const c = ctx({}, { averageDailyVolume: q(10_000), bid: px(0.3), ask: px(0.31), last: px(0.3) });
    expect(checkOrder(order({ quantity: q(50), limitPrice: px(0.31) }), c, CASE_STUDY_LIMITS)).toBe(APPROVED);
    expect(rules(checkOrder(order({ quantity: q(51), limitPrice: px(0.31) }), c, CASE_STUDY_LIMITS))).toEqual([RiskRule.ORDER_QUANTITY]);
    const thin = ctx({}, { averageDailyVolume: q(500) });
    expect(rules(checkOrder(order({ quantity: q(16) }), thin, CASE_STUDY_LIMITS))).toEqual([RiskRule.VOLUME_FRACTION]);
    expect(checkOrder(order({ quantity: q(15) }), thin, CASE_STUDY_LIMITS)).toBe(APPROVED);
  });

  it('$200 daily loss: a loss of exactly $200 still trades, $200.000001 stops', () => {
    expect(checkOrder(order(), ctx({ dailyRealizedPnl: usd(-150), unrealizedPnl: usd(-50) }), CASE_STUDY_LIMITS)).toBe(APPROVED);
    expect(rules(checkOrder(order(), ctx({ dailyRealizedPnl: usd(-150), unrealizedPnl: usd(-50.000001) }), CASE_STUDY_LIMITS))).toEqual([RiskRule.DAILY_LOSS]);
  });

  it('$2,000 portfolio and $800 category exposure', () => {
    expect(rules(checkOrder(order(), ctx({ portfolioExposure: usd(1_996), categoryExposure: usd(100) }), CASE_STUDY_LIMITS))).toEqual([RiskRule.PORTFOLIO_EXPOSURE]);
    expect(checkOrder(order(), ctx({ portfolioExposure: usd(1_995.7), categoryExposure: usd(795.7) }), CASE_STUDY_LIMITS)).toBe(APPROVED);
    expect(rules(checkOrder(order(), ctx({ portfolioExposure: usd(1_000), categoryExposure: usd(796) }), CASE_STUDY_LIMITS))).toEqual([RiskRule.CATEGORY_EXPOSURE]);
  });

  it('0.10 from the market: a buy at 0.60 in a 0.42/0.43 market is refused', () => {
    expect(rules(checkOrder(order({ limitPrice: px(0.6), quantity: q(5) }), ctx(), CASE_STUDY_LIMITS))).toEqual([RiskRule.PRICE_DEVIATION]);
  });
});

describe('pre-trade risk: bad input is an error, never an approval', () => {
  const bad: [string, OrderRequest, RiskContext][] = [
    ['NaN quantity', order({ quantity: NaN as Quantity }), ctx()],
    ['negative quantity', order({ quantity: -5 as Quantity }), ctx()],
    ['fractional quantity', order({ quantity: 1.5 as Quantity }), ctx()],
    ['unknown side', order({ side: 'HOLD' as 'BUY' }), ctx()],
    ['NaN price', order({ limitPrice: NaN as Price }), ctx()],
    ['fractional price micros', order({ limitPrice: 430_000.5 as Price }), ctx()],
    ['order for another market', order({ marketId: 'OTHER' }), ctx()],
    ['snapshot of another market', order(), ctx({}, { marketId: 'OTHER' })],
    ['NaN exposure', order(), ctx({ portfolioExposure: NaN as Money })],
    ['negative open position count', order(), ctx({ openPositionCount: -1 })],
    ['position with 3 decimals', order(), ctx({ currentPosition: 0.505 })],
    ['NaN now', order(), ctx({ now: NaN })],
    ['halt without a reason', order(), ctx({ halted: {} as { reason: string } })],
  ];
  for (const [name, o, c] of bad) {
    it(name, () => {
      expect(() => checkOrder(o, c, LOOSE)).toThrow(InvalidInput);
    });
  }

  it('reports every bad field at once', () => {
    try {
      checkOrder(order({ quantity: -1 as Quantity, side: 'X' as 'BUY', marketId: 'OTHER' }), ctx({ ordersInLastMinute: NaN }), LOOSE);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['order.side', 'order.quantity', 'order.marketId', 'ctx.ordersInLastMinute']);
      expect((e as InvalidInput).message).toContain('order.quantity: must be a whole, non-negative number of contracts (got -1)');
    }
  });
});
