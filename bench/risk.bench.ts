/**
 * Pre-trade risk decisions per second on one core, on a realistic mix (about 90% approvals),
 * beside a naive checker measured in the same run: the shape of the reference's pre-trade risk manager, a list of
 * check closures built per order, each returning a result object, then filtered.
 */
import { type BenchResult, opsPerSecond } from './harness';
import type { Market, MarketSnapshot, Side } from '../domain/market';
import { formatDecimal, type Money, type Price, type Quantity } from '../domain/money';
import { CASE_STUDY_LIMITS, type RiskLimits } from '../domain/risk-limits';
import { checkOrder, type OrderRequest, type RiskContext, type RiskDecision, type RiskViolation } from '../domain/risk';
import { seededRandom } from '../domain/random';

const NOW = 1_700_000_000_000;

interface Case {
  order: OrderRequest;
  ctx: RiskContext;
}

/** Cases resembling the case-study bot's orders; about one in ten breaks a limit. */
function makeCases(n: number): Case[] {
  const rng = seededRandom(7);
  const rnd = () => rng.next();
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    const market: Market = { marketId: `MKT-${i % 40}`, category: `cat-${i % 4}`, tickSize: 10_000, resolvesAt: null, outcome: null };
    const bid = int(5, 90) * 10_000;
    const bad = rnd() < 0.1;
    const badRule = int(0, 5);
    const snapshot: MarketSnapshot = {
      marketId: market.marketId,
      ts: NOW - int(0, 60_000) - (bad && badRule === 0 ? 120_000 : 0),
      bid: bid as Price,
      ask: (bid + (bad && badRule === 1 ? 30_000 : 10_000)) as Price,
      last: bid as Price,
      averageDailyVolume: int(1_000, 20_000) as Quantity,
      intervalVolume: 0 as Quantity,
    };
    const side: Side = rnd() < 0.5 ? 'BUY' : 'SELL';
    const quantity = (bad && badRule === 2 ? 60 : int(1, 30)) as Quantity;
    const limitPrice = (side === 'BUY' ? bid + 10_000 : bid) as Price;
    const ctx: RiskContext = {
      halted: bad && badRule === 3 ? { reason: 'MANUAL by ops: review' } : null,
      market,
      snapshot,
      now: NOW,
      currentPosition: int(-40, 40),
      openPositionCount: int(0, 4),
      portfolioExposure: (int(0, 1_500) * 1_000_000) as Money,
      categoryExposure: (int(0, 600) * 1_000_000) as Money,
      dailyRealizedPnl: ((bad && badRule === 4 ? -250 : int(-100, 100)) * 1_000_000) as Money,
      unrealizedPnl: (int(-50, 50) * 1_000_000) as Money,
      openingUnrealizedPnl: 0 as Money,
      ordersInLastMinute: bad && badRule === 5 ? 10 : int(0, 5),
    };
    cases.push({ order: { marketId: market.marketId, side, quantity, limitPrice }, ctx });
  }
  return cases;
}

interface CheckResult {
  ok: boolean;
  violation: RiskViolation | null;
}

/** The straightforward version: a closure per rule, built for each order, each returning an object. */
function naiveCheckOrder(order: OrderRequest, ctx: RiskContext, limits: RiskLimits): RiskDecision {
  const s = ctx.snapshot;
  const pass: CheckResult = { ok: true, violation: null };
  const fail = (rule: RiskViolation['rule'], limit: number | null, observed: number | null, message: string): CheckResult => ({
    ok: false,
    violation: { rule, limit, observed, message },
  });
  const price = order.limitPrice ?? (order.side === 'BUY' ? s.ask : s.bid);
  const worth = (long: boolean) => (price === null || price <= 0 || price >= 1_000_000 ? 1_000_000 : long ? price : 1_000_000 - price);
  const after = ctx.currentPosition + (order.side === 'BUY' ? order.quantity : -order.quantity);
  const grows = Math.abs(after) > Math.abs(ctx.currentPosition);
  const reduces = (order.side === 'BUY' ? ctx.currentPosition < 0 : ctx.currentPosition > 0) && order.quantity <= Math.abs(ctx.currentPosition);
  const added = grows ? (Math.abs(after) - Math.abs(ctx.currentPosition)) * worth(after > 0) : 0;
  const dailyLoss = -(ctx.dailyRealizedPnl + ctx.unrealizedPnl - ctx.openingUnrealizedPnl);
  const closing = reduces || (order.side === 'BUY') === ctx.currentPosition < 0 ? Math.min(order.quantity, Math.abs(ctx.currentPosition)) : 0;
  const notional = closing * worth(true) + (order.quantity - closing) * worth(order.side === 'BUY');
  const mid = s.bid !== null && s.ask !== null ? Math.round((s.bid + s.ask) / 2) : s.last;
  const checks: (() => CheckResult)[] = [
    () => (ctx.halted === null ? pass : fail('TRADING_HALTED', null, null, `trading is halted: ${ctx.halted.reason}`)),
    () => (order.quantity > 0 && order.quantity <= limits.maxOrderSize ? pass : fail('ORDER_QUANTITY', limits.maxOrderSize, order.quantity, `order size ${order.quantity}`)),
    () => (!grows || Math.abs(after) <= limits.maxPositionSize ? pass : fail('POSITION_SIZE', limits.maxPositionSize, Math.abs(after), `position ${after}`)),
    () => (!grows || Math.abs(after) * worth(after > 0) <= limits.maxPositionValue ? pass : fail('POSITION_VALUE', limits.maxPositionValue, Math.abs(after) * worth(after > 0), `value ${formatDecimal(Math.abs(after) * worth(after > 0))}`)),
    () => (reduces || dailyLoss <= limits.maxDailyLoss ? pass : fail('DAILY_LOSS', limits.maxDailyLoss, dailyLoss, 'daily loss')),
    () => (!grows || ctx.portfolioExposure + added <= limits.maxPortfolioExposure ? pass : fail('PORTFOLIO_EXPOSURE', limits.maxPortfolioExposure, ctx.portfolioExposure + added, 'portfolio')),
    () => (!grows || ctx.categoryExposure + added <= limits.maxCategoryExposure ? pass : fail('CATEGORY_EXPOSURE', limits.maxCategoryExposure, ctx.categoryExposure + added, 'category')),
    () => (price !== null && price > 0 && price < 1_000_000 && price % ctx.market.tickSize === 0 ? pass : fail('PRICE_RANGE', null, price, 'price range')),
    () => (price !== null && mid !== null && Math.abs(price - mid) <= limits.maxPriceDeviation ? pass : fail('PRICE_DEVIATION', limits.maxPriceDeviation, null, 'deviation')),
    () => (order.quantity <= limits.maxVolumeFraction * s.averageDailyVolume ? pass : fail('VOLUME_FRACTION', limits.maxVolumeFraction * s.averageDailyVolume, order.quantity, 'volume')),
    () => (s.bid !== null && s.ask !== null && s.ask >= s.bid && s.ask - s.bid <= limits.maxSpread ? pass : fail('SPREAD', limits.maxSpread, null, 'spread')),
    () => (notional <= limits.fatFingerNotional ? pass : fail('FAT_FINGER', limits.fatFingerNotional, notional, 'fat finger')),
    () => (ctx.currentPosition !== 0 || ctx.openPositionCount < limits.maxOpenPositions ? pass : fail('MAX_OPEN_POSITIONS', limits.maxOpenPositions, ctx.openPositionCount + 1, 'open positions')),
    () => (ctx.ordersInLastMinute < limits.maxOrdersPerMinute ? pass : fail('ORDER_RATE', limits.maxOrdersPerMinute, ctx.ordersInLastMinute + 1, 'order rate')),
    () => (ctx.now - s.ts <= limits.maxQuoteAgeMs ? pass : fail('STALE_QUOTE', limits.maxQuoteAgeMs, ctx.now - s.ts, 'stale quote')),
  ];
  const results = checks.map((check) => check());
  const violations = results.filter((r) => !r.ok).map((r) => r.violation as RiskViolation);
  return violations.length === 0 ? { approved: true } : { approved: false, violations };
}

export async function run(): Promise<BenchResult[]> {
  const mixed = makeCases(4_096);
  const approvals = mixed.filter((c) => checkOrder(c.order, c.ctx, CASE_STUDY_LIMITS).approved);
  // Both checkers must agree before their speed means anything.
  for (const c of mixed) {
    const a = checkOrder(c.order, c.ctx, CASE_STUDY_LIMITS).approved;
    if (a !== naiveCheckOrder(c.order, c.ctx, CASE_STUDY_LIMITS).approved) throw new Error('risk bench: naive and real checkers disagree');
  }
  const share = approvals.length / mixed.length;
  const mask = mixed.length - 1;
  let sink = 0;

  const timed = (cases: Case[], check: typeof checkOrder) => {
    const m = cases.length;
    return opsPerSecond((i) => {
      const c = cases[i % m]!;
      if (check(c.order, c.ctx, CASE_STUDY_LIMITS).approved) sink++;
    });
  };
  const mixFigure = opsPerSecond((i) => {
    const c = mixed[i & mask]!;
    if (checkOrder(c.order, c.ctx, CASE_STUDY_LIMITS).approved) sink++;
  });
  const mixBaseline = opsPerSecond((i) => {
    const c = mixed[i & mask]!;
    if (naiveCheckOrder(c.order, c.ctx, CASE_STUDY_LIMITS).approved) sink++;
  });
  const approveFigure = timed(approvals, checkOrder);
  const approveBaseline = timed(approvals, naiveCheckOrder);
  if (sink < 0) console.log(sink);

  return [
    {
      name: 'pre-trade risk decision, mixed orders',
      figure: mixFigure,
      unit: 'decisions/s',
      baselineName: 'closure-per-rule checker',
      baselineFigure: mixBaseline,
      target: 500_000,
      notes: `${Math.round(share * 100)}% approvals, case-study limits, ${mixed.length} cases`,
    },
    {
      name: 'pre-trade risk decision, approvals only',
      figure: approveFigure,
      unit: 'decisions/s',
      baselineName: 'closure-per-rule checker',
      baselineFigure: approveBaseline,
      target: 500_000,
      notes: 'the path that allocates nothing',
    },
  ];
}
