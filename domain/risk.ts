/**
 * Pre-trade risk checks (ch. 19.5): one pure decision per order, made from precomputed
 * aggregates so it is O(1) and allocates nothing when the order is approved. A refusal lists
 * every failing rule with its limit and the observed value, never just the first one.
 *
 * Conventions:
 * - Every limit is a maximum; the observed value exactly at the limit passes.
 * - The order's price is its limit price; a market order (limitPrice null) is valued at the
 *   touch it would cross (ask for a buy, bid for a sell). With no price at all, PRICE_RANGE and
 *   PRICE_DEVIATION fail and the value rules use 1.00 per contract, the most a contract pays.
 * - Exposure of a position is |contracts| × price (the caller sums |position| × mark for
 *   portfolioExposure and categoryExposure). An order adds exposure only for the contracts by
 *   which it grows |position| in its market: a buy of 50 against a short of 30 adds 20. This is
 *   never more than the reference's conservative "current + qty × price". Nothing is subtracted
 *   for the closing part: it may not fill, and the aggregates are marked at other prices.
 * - The rules on holdings (POSITION_SIZE, POSITION_VALUE, PORTFOLIO_EXPOSURE, CATEGORY_EXPOSURE)
 *   pass an order that does not grow |position|. Otherwise a position left above a limit that
 *   was tightened, or by a price move, could not be reduced. DAILY_LOSS, TRADING_HALTED and the
 *   order-quality rules apply to every order: a halt is lifted by an operator or the daily reset
 *   (breakers.ts), and an emergency flatten goes through its own path.
 * - DAILY_LOSS passes while realized + unrealized ≥ −maxDailyLoss (the reference's code rejects
 *   only below the limit), so it follows the same "exactly at the limit passes" rule.
 */
import { InvalidInput, type FieldProblem } from './errors';
import { markPrice, type Market, type MarketSnapshot, type Side } from './market';
import { MICROS, formatDecimal, type Money, type Price, type Quantity } from './money';
import type { RiskLimits } from './risk-limits';

export interface OrderRequest {
  marketId: string;
  side: Side;
  quantity: Quantity;
  /** Limit price in micros; null for a market order. */
  limitPrice: Price | null;
}

/** What the check needs to know about the account and the market, built by the caller from the ledger. */
export interface RiskContext {
  /** Set while a circuit breaker or an operator has halted trading (breakers.ts haltReason). */
  halted: { reason: string } | null;
  market: Market;
  snapshot: MarketSnapshot;
  /** Epoch milliseconds of the decision, passed in (workflow code has no wall clock). */
  now: number;
  /** Signed contracts held in this market (+ long, − short). */
  currentPosition: number;
  /** Markets with a non-zero position. */
  openPositionCount: number;
  /** Σ |position| × mark over all markets, in micros. */
  portfolioExposure: Money;
  /** Σ |position| × mark over the markets of this market's category, in micros. */
  categoryExposure: Money;
  dailyRealizedPnl: Money;
  unrealizedPnl: Money;
  /** Orders sent in the trailing 60 s, not counting this one. */
  ordersInLastMinute: number;
}

export const RiskRule = {
  TRADING_HALTED: 'TRADING_HALTED',
  ORDER_QUANTITY: 'ORDER_QUANTITY',
  POSITION_SIZE: 'POSITION_SIZE',
  POSITION_VALUE: 'POSITION_VALUE',
  DAILY_LOSS: 'DAILY_LOSS',
  PORTFOLIO_EXPOSURE: 'PORTFOLIO_EXPOSURE',
  CATEGORY_EXPOSURE: 'CATEGORY_EXPOSURE',
  PRICE_RANGE: 'PRICE_RANGE',
  PRICE_DEVIATION: 'PRICE_DEVIATION',
  VOLUME_FRACTION: 'VOLUME_FRACTION',
  SPREAD: 'SPREAD',
  FAT_FINGER: 'FAT_FINGER',
  MAX_OPEN_POSITIONS: 'MAX_OPEN_POSITIONS',
  ORDER_RATE: 'ORDER_RATE',
  STALE_QUOTE: 'STALE_QUOTE',
} as const;
export type RiskRule = (typeof RiskRule)[keyof typeof RiskRule];

export const RISK_RULES = Object.keys(RiskRule) as readonly RiskRule[];

/** The unit of a rule's `limit` and `observed` numbers. */
export type RiskUnit = 'none' | 'contracts' | 'micros' | 'count' | 'ms';

export const RISK_RULE_UNITS: Readonly<Record<RiskRule, RiskUnit>> = {
  TRADING_HALTED: 'none',
  ORDER_QUANTITY: 'contracts',
  POSITION_SIZE: 'contracts',
  POSITION_VALUE: 'micros',
  DAILY_LOSS: 'micros',
  PORTFOLIO_EXPOSURE: 'micros',
  CATEGORY_EXPOSURE: 'micros',
  PRICE_RANGE: 'micros',
  PRICE_DEVIATION: 'micros',
  VOLUME_FRACTION: 'contracts',
  SPREAD: 'micros',
  FAT_FINGER: 'micros',
  MAX_OPEN_POSITIONS: 'count',
  ORDER_RATE: 'count',
  STALE_QUOTE: 'ms',
};

export interface RiskViolation {
  rule: RiskRule;
  /** The limit in the rule's unit (RISK_RULE_UNITS); null where the rule has no number. */
  limit: number | null;
  /** The value the order would produce, in the same unit; null when it cannot be known. */
  observed: number | null;
  message: string;
}

export type RiskDecision = { readonly approved: true } | { readonly approved: false; readonly violations: RiskViolation[] };

/** The one approval object, shared so that approving allocates nothing. */
export const APPROVED: { readonly approved: true } = Object.freeze({ approved: true });

const isInt = Number.isSafeInteger;
const isPriceOrNull = (p: unknown): boolean => p === null || isInt(p);

/** Cheap shape check on the hot path; the detailed report is built only when it fails. */
function inputLooksValid(o: OrderRequest, c: RiskContext): boolean {
  const s = c.snapshot;
  return (
    (o.side === 'BUY' || o.side === 'SELL') &&
    isInt(o.quantity) &&
    o.quantity >= 0 &&
    isPriceOrNull(o.limitPrice) &&
    typeof o.marketId === 'string' &&
    o.marketId === c.market.marketId &&
    o.marketId === s.marketId &&
    isInt(c.market.tickSize) &&
    c.market.tickSize > 0 &&
    isInt(c.now) &&
    isInt(s.ts) &&
    isPriceOrNull(s.bid) &&
    isPriceOrNull(s.ask) &&
    isPriceOrNull(s.last) &&
    isInt(s.averageDailyVolume) &&
    s.averageDailyVolume >= 0 &&
    isInt(c.currentPosition) &&
    isInt(c.openPositionCount) &&
    c.openPositionCount >= 0 &&
    isInt(c.portfolioExposure) &&
    c.portfolioExposure >= 0 &&
    isInt(c.categoryExposure) &&
    c.categoryExposure >= 0 &&
    isInt(c.dailyRealizedPnl) &&
    isInt(c.unrealizedPnl) &&
    isInt(c.ordersInLastMinute) &&
    c.ordersInLastMinute >= 0 &&
    (c.halted === null || (typeof c.halted === 'object' && typeof c.halted.reason === 'string'))
  );
}

function inputProblems(o: OrderRequest, c: RiskContext): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const need = (ok: boolean, field: string, value: unknown, problem: string) => {
    if (!ok) problems.push({ field, value, problem });
  };
  const s = c.snapshot;
  need(o.side === 'BUY' || o.side === 'SELL', 'order.side', o.side, 'must be BUY or SELL');
  need(isInt(o.quantity) && o.quantity >= 0, 'order.quantity', o.quantity, 'must be a whole, non-negative number of contracts');
  need(isPriceOrNull(o.limitPrice), 'order.limitPrice', o.limitPrice, 'must be integer micros or null');
  need(typeof o.marketId === 'string', 'order.marketId', o.marketId, 'must be a market ID');
  need(o.marketId === c.market.marketId, 'order.marketId', o.marketId, `does not match the context's market ${c.market.marketId}`);
  need(s.marketId === c.market.marketId, 'ctx.snapshot.marketId', s.marketId, `does not match the context's market ${c.market.marketId}`);
  need(isInt(c.market.tickSize) && c.market.tickSize > 0, 'ctx.market.tickSize', c.market.tickSize, 'must be positive integer micros');
  need(isInt(c.now), 'ctx.now', c.now, 'must be epoch milliseconds');
  need(isInt(s.ts), 'ctx.snapshot.ts', s.ts, 'must be epoch milliseconds');
  need(isPriceOrNull(s.bid), 'ctx.snapshot.bid', s.bid, 'must be integer micros or null');
  need(isPriceOrNull(s.ask), 'ctx.snapshot.ask', s.ask, 'must be integer micros or null');
  need(isPriceOrNull(s.last), 'ctx.snapshot.last', s.last, 'must be integer micros or null');
  need(isInt(s.averageDailyVolume) && s.averageDailyVolume >= 0, 'ctx.snapshot.averageDailyVolume', s.averageDailyVolume, 'must be a whole, non-negative number of contracts');
  need(isInt(c.currentPosition), 'ctx.currentPosition', c.currentPosition, 'must be a whole number of contracts');
  need(isInt(c.openPositionCount) && c.openPositionCount >= 0, 'ctx.openPositionCount', c.openPositionCount, 'must be a non-negative whole number');
  need(isInt(c.portfolioExposure) && c.portfolioExposure >= 0, 'ctx.portfolioExposure', c.portfolioExposure, 'must be non-negative integer micros');
  need(isInt(c.categoryExposure) && c.categoryExposure >= 0, 'ctx.categoryExposure', c.categoryExposure, 'must be non-negative integer micros');
  need(isInt(c.dailyRealizedPnl), 'ctx.dailyRealizedPnl', c.dailyRealizedPnl, 'must be integer micros');
  need(isInt(c.unrealizedPnl), 'ctx.unrealizedPnl', c.unrealizedPnl, 'must be integer micros');
  need(isInt(c.ordersInLastMinute) && c.ordersInLastMinute >= 0, 'ctx.ordersInLastMinute', c.ordersInLastMinute, 'must be a non-negative whole number');
  need(
    c.halted === null || (typeof c.halted === 'object' && typeof c.halted.reason === 'string'),
    'ctx.halted',
    c.halted,
    'must be null or { reason: string }',
  );
  return problems;
}

/** Volume fraction in parts per million, so the liquidity comparison is exact integer arithmetic. */
const ppm = (ratio: number): number => Math.round(ratio * 1_000_000);

const $ = (micros: number): string => formatDecimal(micros);

/**
 * Decides whether an order may be sent. Throws InvalidInput for malformed input (never a silent
 * approve); returns APPROVED, or every failing rule.
 */
export function checkOrder(order: OrderRequest, ctx: RiskContext, limits: RiskLimits): RiskDecision {
  if (!inputLooksValid(order, ctx)) throw new InvalidInput(inputProblems(order, ctx));

  const snap = ctx.snapshot;
  const qty = order.quantity;
  const buy = order.side === 'BUY';
  const cur = ctx.currentPosition;
  const next = buy ? cur + qty : cur - qty;
  const absCur = cur < 0 ? -cur : cur;
  const absNext = next < 0 ? -next : next;
  const grows = absNext > absCur;
  const addedContracts = grows ? absNext - absCur : 0;

  const bid = snap.bid;
  const ask = snap.ask;
  const twoSided = bid !== null && ask !== null;
  const orderPrice: number | null = order.limitPrice !== null ? order.limitPrice : buy ? ask : bid;
  const valuePrice = orderPrice !== null ? orderPrice : MICROS;
  // The mark of ch. 19.7: mid rounded to the micro, else last.
  const refPrice: number | null = markPrice(snap);

  const positionValue = absNext * valuePrice;
  const addedExposure = addedContracts * valuePrice;
  const portfolio = ctx.portfolioExposure + addedExposure;
  const category = ctx.categoryExposure + addedExposure;
  const dailyLoss = -(ctx.dailyRealizedPnl + ctx.unrealizedPnl);
  const priceOk = orderPrice !== null && orderPrice > 0 && orderPrice < MICROS && orderPrice % ctx.market.tickSize === 0;
  const deviation = orderPrice !== null && refPrice !== null ? Math.abs(orderPrice - refPrice) : null;
  const volumeOk = qty * 1_000_000 <= ppm(limits.maxVolumeFraction) * snap.averageDailyVolume;
  const spreadValue = twoSided ? ask - bid : null;
  const orderNotional = qty * valuePrice;
  const opensPosition = cur === 0 && qty > 0;
  const quoteAge = ctx.now - snap.ts;

  const pass =
    ctx.halted === null &&
    qty > 0 &&
    qty <= limits.maxOrderSize &&
    (!grows || absNext <= limits.maxPositionSize) &&
    (!grows || positionValue <= limits.maxPositionValue) &&
    dailyLoss <= limits.maxDailyLoss &&
    (!grows || portfolio <= limits.maxPortfolioExposure) &&
    (!grows || category <= limits.maxCategoryExposure) &&
    priceOk &&
    deviation !== null &&
    deviation <= limits.maxPriceDeviation &&
    volumeOk &&
    spreadValue !== null &&
    spreadValue >= 0 &&
    spreadValue <= limits.maxSpread &&
    orderNotional <= limits.fatFingerNotional &&
    (!opensPosition || ctx.openPositionCount < limits.maxOpenPositions) &&
    ctx.ordersInLastMinute < limits.maxOrdersPerMinute &&
    quoteAge <= limits.maxQuoteAgeMs;
  if (pass) return APPROVED;

  // Refusal path: allocation is fine here. Each test mirrors one clause of `pass` above.
  const v: RiskViolation[] = [];
  const add = (rule: RiskRule, limit: number | null, observed: number | null, message: string) => v.push({ rule, limit, observed, message });

  if (ctx.halted !== null) add(RiskRule.TRADING_HALTED, null, null, `trading is halted: ${ctx.halted.reason}`);
  if (!(qty > 0 && qty <= limits.maxOrderSize)) {
    add(RiskRule.ORDER_QUANTITY, limits.maxOrderSize, qty, qty > 0 ? `order of ${qty} contracts exceeds the limit of ${limits.maxOrderSize}` : 'order quantity must be positive (got 0)');
  }
  if (grows && absNext > limits.maxPositionSize) {
    add(RiskRule.POSITION_SIZE, limits.maxPositionSize, absNext, `resulting position of ${next} contracts exceeds the limit of ${limits.maxPositionSize}`);
  }
  if (grows && positionValue > limits.maxPositionValue) {
    add(RiskRule.POSITION_VALUE, limits.maxPositionValue, positionValue, `resulting position value ${$(positionValue)} exceeds the limit of ${$(limits.maxPositionValue)}`);
  }
  if (dailyLoss > limits.maxDailyLoss) {
    add(RiskRule.DAILY_LOSS, limits.maxDailyLoss, dailyLoss, `daily loss ${$(dailyLoss)} (realized + unrealized) exceeds the limit of ${$(limits.maxDailyLoss)}`);
  }
  if (grows && portfolio > limits.maxPortfolioExposure) {
    add(RiskRule.PORTFOLIO_EXPOSURE, limits.maxPortfolioExposure, portfolio, `portfolio exposure would be ${$(portfolio)}, above the limit of ${$(limits.maxPortfolioExposure)}`);
  }
  if (grows && category > limits.maxCategoryExposure) {
    add(
      RiskRule.CATEGORY_EXPOSURE,
      limits.maxCategoryExposure,
      category,
      `exposure to category ${ctx.market.category} would be ${$(category)}, above the limit of ${$(limits.maxCategoryExposure)}`,
    );
  }
  if (!priceOk) {
    add(
      RiskRule.PRICE_RANGE,
      null,
      orderPrice,
      orderPrice === null
        ? `market ${buy ? 'buy' : 'sell'} has no ${buy ? 'ask' : 'bid'} to price against`
        : `price ${$(orderPrice)} is not inside (0, 1) on the ${$(ctx.market.tickSize)} tick grid`,
    );
  }
  if (deviation === null || deviation > limits.maxPriceDeviation) {
    add(
      RiskRule.PRICE_DEVIATION,
      limits.maxPriceDeviation,
      deviation,
      deviation === null
        ? `no ${orderPrice === null ? 'order price' : 'market price (mid or last)'} to measure deviation against; limit ${$(limits.maxPriceDeviation)}`
        : `price ${$(orderPrice ?? 0)} is ${$(deviation)} from the market price ${$(refPrice ?? 0)}, above the limit of ${$(limits.maxPriceDeviation)}`,
    );
  }
  if (!volumeOk) {
    const allowed = (ppm(limits.maxVolumeFraction) * snap.averageDailyVolume) / 1_000_000;
    add(
      RiskRule.VOLUME_FRACTION,
      allowed,
      qty,
      `order of ${qty} contracts exceeds ${ppm(limits.maxVolumeFraction) / 10_000}% of average daily volume ${snap.averageDailyVolume} (limit ${allowed} contracts)`,
    );
  }
  if (spreadValue === null || spreadValue < 0 || spreadValue > limits.maxSpread) {
    add(
      RiskRule.SPREAD,
      limits.maxSpread,
      spreadValue,
      spreadValue === null
        ? `no two-sided quote (bid ${bid === null ? 'none' : $(bid)}, ask ${ask === null ? 'none' : $(ask)}); limit ${$(limits.maxSpread)}`
        : spreadValue < 0
          ? `crossed quote: ask ${$(ask ?? 0)} is below bid ${$(bid ?? 0)}`
          : `spread ${$(spreadValue)} exceeds the limit of ${$(limits.maxSpread)}`,
    );
  }
  if (orderNotional > limits.fatFingerNotional) {
    add(RiskRule.FAT_FINGER, limits.fatFingerNotional, orderNotional, `order notional ${$(orderNotional)} exceeds the fat-finger limit of ${$(limits.fatFingerNotional)}`);
  }
  if (opensPosition && ctx.openPositionCount >= limits.maxOpenPositions) {
    add(
      RiskRule.MAX_OPEN_POSITIONS,
      limits.maxOpenPositions,
      ctx.openPositionCount + 1,
      `opening a position would make ${ctx.openPositionCount + 1} open positions, above the limit of ${limits.maxOpenPositions}`,
    );
  }
  if (ctx.ordersInLastMinute >= limits.maxOrdersPerMinute) {
    add(
      RiskRule.ORDER_RATE,
      limits.maxOrdersPerMinute,
      ctx.ordersInLastMinute + 1,
      `this would be order ${ctx.ordersInLastMinute + 1} in the last minute, above the limit of ${limits.maxOrdersPerMinute}`,
    );
  }
  if (quoteAge > limits.maxQuoteAgeMs) {
    add(RiskRule.STALE_QUOTE, limits.maxQuoteAgeMs, quoteAge, `market data is ${quoteAge} ms old, above the limit of ${limits.maxQuoteAgeMs} ms`);
  }
  if (v.length === 0) throw new Error('risk check: refusal without a violation (the two rule lists disagree)');
  return { approved: false, violations: v };
}

/** One line for logs and alerts: "REJECTED ORDER_QUANTITY, SPREAD: …". */
export function describeDecision(d: RiskDecision): string {
  if (d.approved) return 'APPROVED';
  return `REJECTED ${d.violations.map((x) => x.rule).join(', ')}: ${d.violations.map((x) => x.message).join('; ')}`;
}
