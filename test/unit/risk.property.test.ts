import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Market, MarketSnapshot, Side } from '../../domain/market';
import type { Money, Price, Quantity } from '../../domain/money';
import { RISK_LIMIT_FIELDS, type RequiredLimitField, type RiskLimits } from '../../domain/risk-limits';
import { RiskRule, checkOrder, type OrderRequest, type RiskContext, type RiskDecision } from '../../domain/risk';

const NOW = 1_700_000_000_000;
const USD = 1_000_000;

const onGrid = (tick: number, lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((k) => k * tick);

const priceArb = (tick: number): fc.Arbitrary<number | null> =>
  fc.oneof(
    { weight: 18, arbitrary: onGrid(tick, 1, 1_000_000 / tick - 1) },
    { weight: 1, arbitrary: fc.integer({ min: -20_000, max: 1_020_000 }) },
    { weight: 1, arbitrary: fc.constant(null) },
  );

/** A quote: usually two-sided and a few ticks wide, sometimes one-sided, empty or crossed. */
const quoteArb = (tick: number): fc.Arbitrary<{ bid: number | null; ask: number | null }> =>
  fc.oneof(
    {
      weight: 16,
      arbitrary: fc
        .record({ bid: onGrid(tick, 1, 1_000_000 / tick - 5), width: fc.integer({ min: 0, max: 4 }) })
        .map(({ bid, width }) => ({ bid, ask: bid + width * tick })),
    },
    { weight: 1, arbitrary: fc.record({ bid: fc.constant(null), ask: priceArb(tick) }) },
    { weight: 1, arbitrary: fc.record({ bid: priceArb(tick), ask: fc.constant(null) }) },
    { weight: 1, arbitrary: fc.record({ bid: priceArb(tick), ask: priceArb(tick) }) },
  );

const caseArb = fc
  .constantFrom(1_000, 5_000, 10_000)
  .chain((tick) =>
    fc.record({
      tick: fc.constant(tick),
      side: fc.constantFrom<Side>('BUY', 'SELL'),
      quantity: fc.oneof({ weight: 15, arbitrary: fc.integer({ min: 1, max: 120 }) }, { weight: 1, arbitrary: fc.constant(0) }),
      limitPrice: priceArb(tick),
      quote: quoteArb(tick),
      last: priceArb(tick),
      adv: fc.oneof({ weight: 15, arbitrary: fc.integer({ min: 1, max: 4_000 }) }, { weight: 1, arbitrary: fc.constant(0) }),
      age: fc.integer({ min: -1_000, max: 150_000 }),
      halted: fc.oneof({ weight: 15, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant({ reason: 'manual' }) }),
      currentPosition: fc.oneof(fc.integer({ min: -150, max: 150 }), fc.constant(0)),
      openPositionCount: fc.integer({ min: 0, max: 8 }),
      portfolioExposure: fc.integer({ min: 0, max: 2_500 * USD }),
      categoryExposure: fc.integer({ min: 0, max: 1_000 * USD }),
      dailyRealizedPnl: fc.integer({ min: -300 * USD, max: 300 * USD }),
      unrealizedPnl: fc.integer({ min: -100 * USD, max: 100 * USD }),
      openingUnrealizedPnl: fc.oneof(fc.constant(0), fc.integer({ min: -100 * USD, max: 100 * USD })),
      ordersInLastMinute: fc.integer({ min: 0, max: 15 }),
      equity: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: fc.integer({ min: -100 * USD, max: 20_000 * USD }) }),
    }),
  )
  .map((r): [OrderRequest, RiskContext] => {
    const market: Market = { marketId: 'M', category: 'c', tickSize: r.tick, resolvesAt: null, outcome: null };
    const snapshot: MarketSnapshot = {
      marketId: 'M',
      ts: NOW - r.age,
      bid: r.quote.bid as Price | null,
      ask: r.quote.ask as Price | null,
      last: r.last as Price | null,
      averageDailyVolume: r.adv as Quantity,
      intervalVolume: 0 as Quantity,
    };
    const order: OrderRequest = { marketId: 'M', side: r.side, quantity: r.quantity as Quantity, limitPrice: r.limitPrice as Price | null };
    const ctx: RiskContext = {
      halted: r.halted,
      market,
      snapshot,
      now: NOW,
      currentPosition: r.currentPosition,
      openPositionCount: r.openPositionCount,
      portfolioExposure: r.portfolioExposure as Money,
      categoryExposure: r.categoryExposure as Money,
      dailyRealizedPnl: r.dailyRealizedPnl as Money,
      unrealizedPnl: r.unrealizedPnl as Money,
      openingUnrealizedPnl: r.openingUnrealizedPnl as Money,
      ordersInLastMinute: r.ordersInLastMinute,
      ...(r.equity === undefined ? {} : { equity: r.equity as Money | null }),
    };
    return [order, ctx];
  });

/**
 * What each limit is compared with, written out from the rule definitions (the reference's essential pre-trade checks and
 * risk.ts's header) independently of checkOrder's rule table. Null where the
 * rule fails whatever the limit.
 */
function observed(o: OrderRequest, c: RiskContext): Record<RequiredLimitField, number | null> & { grows: boolean; opens: boolean; reduces: boolean } {
  const s = c.snapshot;
  const after = c.currentPosition + (o.side === 'BUY' ? o.quantity : -o.quantity);
  const grows = Math.abs(after) > Math.abs(c.currentPosition);
  const p = o.limitPrice ?? (o.side === 'BUY' ? s.ask : s.bid);
  // What a contract can lose: a long its price, a short 1 − price, 1.00 without a usable price.
  const worth = (long: boolean) => (p === null || p <= 0 || p >= 1_000_000 ? 1_000_000 : long ? p : 1_000_000 - p);
  const added = (Math.abs(after) - Math.abs(c.currentPosition)) * worth(after > 0);
  const mid = s.bid !== null && s.ask !== null ? Math.round((s.bid + s.ask) / 2) : s.last;
  return {
    grows,
    opens: c.currentPosition === 0 && o.quantity > 0,
    // Toward flat without crossing it: the spread rule lets such an order through.
    reduces: (o.side === 'BUY' ? c.currentPosition < 0 : c.currentPosition > 0) && o.quantity <= Math.abs(c.currentPosition),
    maxOrderSize: o.quantity,
    maxPositionSize: Math.abs(after),
    maxPositionValue: Math.abs(after) * worth(after > 0),
    maxDailyLoss: -(c.dailyRealizedPnl + c.unrealizedPnl - c.openingUnrealizedPnl),
    maxPortfolioExposure: c.portfolioExposure + added,
    maxCategoryExposure: c.categoryExposure + added,
    maxPriceDeviation: p === null || mid === null ? null : Math.abs(p - mid),
    // The smallest fraction (in whole ppm) that admits the order.
    maxVolumeFraction: s.averageDailyVolume === 0 ? null : Math.ceil((o.quantity * 1_000_000) / s.averageDailyVolume) / 1_000_000,
    maxSpread: s.bid === null || s.ask === null || s.ask < s.bid ? null : s.ask - s.bid,
    // Contracts that reduce the position at their price, the rest at the worst case of the side they open.
    fatFingerNotional: (() => {
      const closing = (o.side === 'BUY' ? c.currentPosition < 0 : c.currentPosition > 0) ? Math.min(o.quantity, Math.abs(c.currentPosition)) : 0;
      return closing * worth(true) + (o.quantity - closing) * worth(o.side === 'BUY');
    })(),
    maxOpenPositions: c.openPositionCount + 1,
    maxOrdersPerMinute: c.ordersInLastMinute + 1,
    maxQuoteAgeMs: c.now - s.ts,
  };
}

/** Limits around the case-study values, so that every rule both passes and fails often. */
const randomLimitsArb: fc.Arbitrary<RiskLimits> = fc.record({
  maxOrderSize: fc.integer({ min: 1, max: 100 }),
  maxPositionSize: fc.integer({ min: 1, max: 200 }),
  maxPositionValue: fc.integer({ min: 1, max: 120 * USD }).map((n) => n as Money),
  maxDailyLoss: fc.integer({ min: 1, max: 400 * USD }).map((n) => n as Money),
  maxPortfolioExposure: fc.integer({ min: 1, max: 2_600 * USD }).map((n) => n as Money),
  maxCategoryExposure: fc.integer({ min: 1, max: 1_100 * USD }).map((n) => n as Money),
  maxPriceDeviation: fc.integer({ min: 1, max: 1_000_000 }),
  maxVolumeFraction: fc.integer({ min: 1, max: 100_000 }).map((ppm) => ppm / 1_000_000),
  maxSpread: fc.integer({ min: 1, max: 100_000 }),
  fatFingerNotional: fc.integer({ min: 1, max: 60 * USD }).map((n) => n as Money),
  maxOpenPositions: fc.integer({ min: 1, max: 9 }),
  maxOrdersPerMinute: fc.integer({ min: 1, max: 16 }),
  maxQuoteAgeMs: fc.integer({ min: 1, max: 160_000 }),
});

/**
 * A case with limits placed around what it observes: each limit is exactly at the observed value,
 * just above or just below it, or drawn at random, so approvals and single-rule refusals are common.
 */
const scenarioArb: fc.Arbitrary<[OrderRequest, RiskContext, RiskLimits]> = fc
  .tuple(caseArb, randomLimitsArb, fc.array(fc.integer({ min: 0, max: 19 }), { minLength: RISK_LIMIT_FIELDS.length, maxLength: RISK_LIMIT_FIELDS.length }))
  .map(([[order, ctx], random, picks]) => {
    const seen = observed(order, ctx);
    const limits: Record<string, number> = { ...random };
    RISK_LIMIT_FIELDS.forEach((field, i) => {
      const at = seen[field];
      const pick = picks[i] ?? 0;
      if (at === null || pick === 0) return;
      const step = field === 'maxVolumeFraction' ? 1e-6 : 1;
      // Limits are never negative (parseRiskLimits wants them positive), so tightening is lowering.
      const v = Math.max(0, pick <= 9 ? at : pick <= 17 ? at + (pick - 9) * step * 3 : at - step);
      limits[field] = field === 'maxVolumeFraction' ? Math.round(v * 1e6) / 1e6 : v;
    });
    return [order, ctx, limits as unknown as RiskLimits];
  });

/** Lowers each limit in a random subset by a random share of its value (to as low as zero). */
const tighteningArb = fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }), {
  minLength: RISK_LIMIT_FIELDS.length,
  maxLength: RISK_LIMIT_FIELDS.length,
});

function tighten(l: RiskLimits, factors: (number | null)[]): RiskLimits {
  const out: Record<string, number> = { ...l };
  RISK_LIMIT_FIELDS.forEach((field, i) => {
    const f = factors[i];
    if (f === null || f === undefined) return;
    out[field] = field === 'maxVolumeFraction' ? Math.floor(l[field] * 1_000_000 * f) / 1_000_000 : Math.floor(l[field] * f);
  });
  return out as unknown as RiskLimits;
}

const ruleSet = (d: RiskDecision): Set<string> => new Set(d.approved ? [] : d.violations.map((v) => v.rule));

function overEquity(c: RiskContext, grows: boolean, percent: number, value: number | null): boolean {
  if (c.equity === undefined || !grows) return false;
  if (c.equity === null || c.equity <= 0 || value === null) return true;
  return value > Math.floor((c.equity * percent) / 100);
}

/** The failing rules according to `observed` and the "exactly at the limit passes" convention. */
function oracle(o: OrderRequest, c: RiskContext, l: RiskLimits): Set<string> {
  const m = observed(o, c);
  const p = o.limitPrice ?? (o.side === 'BUY' ? c.snapshot.ask : c.snapshot.bid);
  const over = (field: RequiredLimitField) => {
    const v = m[field];
    return v === null || v > l[field];
  };
  const failing: [RiskRule, boolean][] = [
    [RiskRule.TRADING_HALTED, c.halted !== null],
    [RiskRule.ORDER_QUANTITY, o.quantity < 1 || over('maxOrderSize')],
    [RiskRule.POSITION_SIZE, m.grows && over('maxPositionSize')],
    [RiskRule.POSITION_VALUE, m.grows && over('maxPositionValue')],
    [RiskRule.DAILY_LOSS, !m.reduces && over('maxDailyLoss')],
    [RiskRule.PORTFOLIO_EXPOSURE, m.grows && over('maxPortfolioExposure')],
    [RiskRule.CATEGORY_EXPOSURE, m.grows && over('maxCategoryExposure')],
    [RiskRule.PRICE_RANGE, p === null || p <= 0 || p >= 1_000_000 || p % c.market.tickSize !== 0],
    [RiskRule.PRICE_DEVIATION, over('maxPriceDeviation')],
    // qty ≤ fraction × ADV, in exact integer parts per million.
    [RiskRule.VOLUME_FRACTION, BigInt(o.quantity) * 1_000_000n > BigInt(Math.round(l.maxVolumeFraction * 1e6)) * BigInt(c.snapshot.averageDailyVolume)],
    [RiskRule.SPREAD, !m.reduces && over('maxSpread')],
    [RiskRule.FAT_FINGER, over('fatFingerNotional')],
    [RiskRule.MAX_OPEN_POSITIONS, m.opens && over('maxOpenPositions')],
    [RiskRule.ORDER_RATE, over('maxOrdersPerMinute')],
    [RiskRule.STALE_QUOTE, over('maxQuoteAgeMs')],
    // Shares of equity (002's 10% / 25%), floored to the micro; unknown or non-positive equity refuses growth.
    [RiskRule.POSITION_PERCENT, overEquity(c, m.grows, l.maxPositionPercent ?? 10, m.maxPositionValue)],
    [RiskRule.TOTAL_EXPOSURE_PERCENT, overEquity(c, m.grows, l.maxTotalExposurePercent ?? 25, m.maxPortfolioExposure)],
  ];
  return new Set(failing.filter(([, fails]) => fails).map(([rule]) => rule));
}

describe('pre-trade risk properties', () => {
  it('tightening any subset of limits never turns a refusal into an approval, and only adds violations', () => {
    fc.assert(
      fc.property(scenarioArb, tighteningArb, ([order, ctx, loose], factors) => {
        const tight = tighten(loose, factors);
        const a = checkOrder(order, ctx, loose);
        const b = checkOrder(order, ctx, tight);
        if (!a.approved) expect(b.approved).toBe(false);
        const tightRules = ruleSet(b);
        for (const rule of ruleSet(a)) expect(tightRules.has(rule)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('the decision lists exactly the rules whose condition fails, so approval means every rule holds', () => {
    fc.assert(
      fc.property(scenarioArb, ([order, ctx, limits]) => {
        const d = checkOrder(order, ctx, limits);
        const expected = oracle(order, ctx, limits);
        expect(ruleSet(d)).toEqual(expected);
        expect(d.approved).toBe(expected.size === 0);
        if (!d.approved) {
          expect(new Set(d.violations.map((v) => v.rule)).size).toBe(d.violations.length);
          for (const v of d.violations) expect(v.message).not.toBe('');
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('both outcomes and every rule occur in the generated cases (the properties are not vacuous)', () => {
    const seen = new Set<string>();
    let approvals = 0;
    fc.assert(
      fc.property(scenarioArb, ([order, ctx, limits]) => {
        const d = checkOrder(order, ctx, limits);
        if (d.approved) approvals++;
        else for (const v of d.violations) seen.add(v.rule);
      }),
      { numRuns: 3_000 },
    );
    expect(seen).toEqual(new Set(Object.values(RiskRule)));
    expect(approvals).toBeGreaterThan(150);
    expect(approvals).toBeLessThan(2_850);
  });
});
