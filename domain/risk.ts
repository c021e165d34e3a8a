/**
 * Pre-trade risk checks (the reference's pre-trade risk checks): one pure decision per order, made from precomputed
 * aggregates so it is O(1) and allocates nothing when the order is approved. A refusal lists
 * every failing rule with its limit and the observed value, never just the first one. Each rule
 * is written once, as a row of RISK_RULE_TABLE: the limit it reads, when it fails, its report.
 *
 * Conventions:
 * - Every limit is a maximum; the observed value exactly at the limit passes.
 * - The order's price is its limit price; a market order (limitPrice null) is valued at the
 *   touch it would cross (ask for a buy, bid for a sell). With no price at all, PRICE_RANGE and
 *   PRICE_DEVIATION fail and the value rules use 1.00 per contract, the most a contract pays.
 * - Exposure of a position is its worst case (worst-case.ts): p × contracts for a long,
 *   (1 − p) × contracts for a short, so a short at 0.10 weighs what a long at 0.90 does (the
 *   caller sums the same figure at the marks for portfolioExposure and categoryExposure). The
 *   fat-finger notional is what the order puts at stake (worst-case.ts `orderWorstCase`): the
 *   contracts that reduce the position at their price, those that open or add at their worst
 *   case, so a short sale of q at p counts q × (1 − p) and an exit is valued as it trades.
 *   An order adds exposure only for the contracts by
 *   which it grows |position| in its market: a buy of 50 against a short of 30 adds 20. This is
 *   never more than the reference's conservative "current + qty × price". Nothing is subtracted
 *   for the closing part: it may not fill, and the aggregates are marked at other prices.
 * - The rules on holdings (POSITION_SIZE, POSITION_VALUE, PORTFOLIO_EXPOSURE, CATEGORY_EXPOSURE)
 *   pass an order that does not grow |position|. Otherwise a position left above a limit that
 *   was tightened, or by a price move, could not be reduced. TRADING_HALTED and the order-quality
 *   rules apply to every order: a halt is lifted by an operator or the daily reset (breakers.ts),
 *   and an emergency flatten goes through its own path.
 * - DAILY_LOSS measures the day from its opening marks: realized today (net of fees) + the change
 *   in unrealized P&L since the day opened (ledger.ts `dailyPnlSinceOpen`), so a position carried
 *   overnight does not bring yesterday's loss into today. It passes while that is ≥ −maxDailyLoss
 *   (the reference's code rejects only below the limit), and it never refuses an order that only
 *   reduces a position: once the day's loss is spent the strategy must still be able to exit.
 * - POSITION_PERCENT and TOTAL_EXPOSURE_PERCENT (reference 002: 10% of the portfolio per position,
 *   25% in total) compare the same worst-case figures as POSITION_VALUE and PORTFOLIO_EXPOSURE
 *   with a share of `ctx.equity` (cash + positions at their marks, trading-context.ts), floored to
 *   the micro. Like the other holdings rules they pass an order that does not grow |position|. A
 *   context without `equity` (a caller that keeps no cash figure) leaves them unmeasured; equity
 *   null (unknown) or not positive refuses every order that grows a position.
 * - SPREAD applies to entries only: an order that reduces a position (toward flat, not through
 *   it) passes whatever the book looks like, since refusing it would keep the trader in a
 *   position exactly when the market has thinned. Adding to a position or flipping is an entry.
 */
import { InvalidInput, type FieldProblem } from './errors';
import { markPrice, type Market, type MarketSnapshot, type Side } from './market';
import { MICROS, addQuantity, formatDecimal, isContractQuantity, notional, subtractQuantity, type Money, type Price, type Quantity } from './money';
import { PORTFOLIO_PERCENT_DEFAULTS, type RiskLimits } from './risk-limits';
import { orderWorstCase, worstCasePerContract, worstCaseValue } from './worst-case';

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
  /** Realized P&L of the trading day, net of the day's fees. */
  dailyRealizedPnl: Money;
  /** Unrealized P&L of the open positions at the current marks. */
  unrealizedPnl: Money;
  /**
   * Unrealized P&L of the positions held when the trading day opened, at the day's opening marks
   * (recorded by the daily reset or the day's first snapshot); 0 when nothing was held.
   */
  openingUnrealizedPnl: Money;
  /** Orders sent in the trailing 60 s, not counting this one. */
  ordersInLastMinute: number;
  /**
   * The account's equity (cash + positions at their marks), the base of the %-of-portfolio rules;
   * null when it cannot be measured; absent: those rules are not measured.
   */
  equity?: Money | null;
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
  POSITION_PERCENT: 'POSITION_PERCENT',
  TOTAL_EXPOSURE_PERCENT: 'TOTAL_EXPOSURE_PERCENT',
} as const;
export type RiskRule = (typeof RiskRule)[keyof typeof RiskRule];

export const RISK_RULES = Object.keys(RiskRule) as readonly RiskRule[];

/** The unit of a rule's `limit` and `observed` numbers. */
export type RiskUnit = 'none' | 'contracts' | 'micros' | 'count' | 'ms';

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
const isWhole = (v: unknown): boolean => isInt(v) && (v as number) >= 0;

/** Notes a bad field when a report is being built; always false, the verdict on that field. */
function bad(problems: FieldProblem[] | null, field: string, value: unknown, problem: string): false {
  problems?.push({ field, value, problem });
  return false;
}

/**
 * The shape checks on the input, in the order a report lists them. With `problems` null it only
 * answers (the common, valid case allocates nothing); given a list, it fills it with every bad field.
 */
function inputValid(o: OrderRequest, c: RiskContext, problems: FieldProblem[] | null): boolean {
  const s = c.snapshot;
  let ok = true;
  if (!(o.side === 'BUY' || o.side === 'SELL')) ok = bad(problems, 'order.side', o.side, 'must be BUY or SELL');
  if (!isWhole(o.quantity)) ok = bad(problems, 'order.quantity', o.quantity, 'must be a whole, non-negative number of contracts');
  if (!isPriceOrNull(o.limitPrice)) ok = bad(problems, 'order.limitPrice', o.limitPrice, 'must be integer micros or null');
  if (typeof o.marketId !== 'string') ok = bad(problems, 'order.marketId', o.marketId, 'must be a market ID');
  if (o.marketId !== c.market.marketId) ok = bad(problems, 'order.marketId', o.marketId, `does not match the context's market ${c.market.marketId}`);
  if (s.marketId !== c.market.marketId) ok = bad(problems, 'ctx.snapshot.marketId', s.marketId, `does not match the context's market ${c.market.marketId}`);
  if (!(isInt(c.market.tickSize) && c.market.tickSize > 0)) ok = bad(problems, 'ctx.market.tickSize', c.market.tickSize, 'must be positive integer micros');
  if (!isInt(c.now)) ok = bad(problems, 'ctx.now', c.now, 'must be epoch milliseconds');
  if (!isInt(s.ts)) ok = bad(problems, 'ctx.snapshot.ts', s.ts, 'must be epoch milliseconds');
  if (!isPriceOrNull(s.bid)) ok = bad(problems, 'ctx.snapshot.bid', s.bid, 'must be integer micros or null');
  if (!isPriceOrNull(s.ask)) ok = bad(problems, 'ctx.snapshot.ask', s.ask, 'must be integer micros or null');
  if (!isPriceOrNull(s.last)) ok = bad(problems, 'ctx.snapshot.last', s.last, 'must be integer micros or null');
  if (!isWhole(s.averageDailyVolume)) ok = bad(problems, 'ctx.snapshot.averageDailyVolume', s.averageDailyVolume, 'must be a whole, non-negative number of contracts');
  if (!isContractQuantity(c.currentPosition)) ok = bad(problems, 'ctx.currentPosition', c.currentPosition, 'must be a number of contracts with at most 2 decimal places');
  if (!isWhole(c.openPositionCount)) ok = bad(problems, 'ctx.openPositionCount', c.openPositionCount, 'must be a non-negative whole number');
  if (!isWhole(c.portfolioExposure)) ok = bad(problems, 'ctx.portfolioExposure', c.portfolioExposure, 'must be non-negative integer micros');
  if (!isWhole(c.categoryExposure)) ok = bad(problems, 'ctx.categoryExposure', c.categoryExposure, 'must be non-negative integer micros');
  if (!isInt(c.dailyRealizedPnl)) ok = bad(problems, 'ctx.dailyRealizedPnl', c.dailyRealizedPnl, 'must be integer micros');
  if (!isInt(c.unrealizedPnl)) ok = bad(problems, 'ctx.unrealizedPnl', c.unrealizedPnl, 'must be integer micros');
  if (!isInt(c.openingUnrealizedPnl)) ok = bad(problems, 'ctx.openingUnrealizedPnl', c.openingUnrealizedPnl, 'must be integer micros');
  if (!(c.equity === undefined || c.equity === null || isInt(c.equity))) ok = bad(problems, 'ctx.equity', c.equity, 'must be integer micros, null or absent');
  if (!isWhole(c.ordersInLastMinute)) ok = bad(problems, 'ctx.ordersInLastMinute', c.ordersInLastMinute, 'must be a non-negative whole number');
  if (!(c.halted === null || (typeof c.halted === 'object' && typeof c.halted.reason === 'string'))) {
    ok = bad(problems, 'ctx.halted', c.halted, 'must be null or { reason: string }');
  }
  return ok;
}

function checkInput(o: OrderRequest, c: RiskContext): void {
  if (inputValid(o, c, null)) return;
  const problems: FieldProblem[] = [];
  inputValid(o, c, problems);
  throw new InvalidInput(problems);
}

/** Volume fraction in parts per million, so the liquidity comparison is exact integer arithmetic. */
const ppm = (ratio: number): number => Math.round(ratio * 1_000_000);

const $ = (micros: number): string => formatDecimal(micros);

/**
 * What the rules look at, derived once per order from the order and its context (see the
 * conventions in the header). One object, overwritten by each decision: checkOrder runs to
 * completion without yielding, so no two decisions share it, and approving allocates nothing.
 */
export interface RiskMeasures {
  order: OrderRequest;
  ctx: RiskContext;
  buy: boolean;
  qty: number;
  /** Signed position after the order, and its size. */
  next: number;
  absNext: number;
  /** The order grows |position| in its market. */
  grows: boolean;
  /** The order opens a position in a flat market. */
  opens: boolean;
  /** The order only reduces the position: against it, and no larger than it. */
  reduces: boolean;
  /** Limit price, else the touch it would cross; null when there is none. */
  orderPrice: number | null;
  /** The mark of the reference's position tracking and P&L (mid rounded to the micro, else last). */
  refPrice: number | null;
  positionValue: number;
  portfolio: number;
  category: number;
  dailyLoss: number;
  priceOk: boolean;
  deviation: number | null;
  spread: number | null;
  notional: number;
  quoteAge: number;
}

const scratch: RiskMeasures = {
  order: { marketId: '', side: 'BUY', quantity: 0 as Quantity, limitPrice: null },
  ctx: null as unknown as RiskContext,
  buy: true,
  qty: 0,
  next: 0,
  absNext: 0,
  grows: false,
  opens: false,
  reduces: false,
  orderPrice: null,
  refPrice: null,
  positionValue: 0,
  portfolio: 0,
  category: 0,
  dailyLoss: 0,
  priceOk: false,
  deviation: null,
  spread: null,
  notional: 0,
  quoteAge: 0,
};

function measure(order: OrderRequest, ctx: RiskContext): RiskMeasures {
  const m = scratch;
  const snap = ctx.snapshot;
  const qty = order.quantity;
  const buy = order.side === 'BUY';
  const cur = ctx.currentPosition;
  // A position may hold a fraction of a contract (fractional fills): quantities add in hundredths.
  const next = buy ? addQuantity(cur, qty) : subtractQuantity(cur, qty);
  const absCur = cur < 0 ? -cur : cur;
  const absNext = next < 0 ? -next : next;
  const grows = absNext > absCur;
  const orderPrice = order.limitPrice !== null ? order.limitPrice : buy ? snap.ask : snap.bid;
  // Worst case per contract (worst-case.ts): p on the long side, 1 − p on the short side, 1.00 without a price.
  const addedExposure = grows ? notional(worstCasePerContract(next > 0, orderPrice) as Money, subtractQuantity(absNext, absCur)) : 0;
  const refPrice = markPrice(snap);
  m.order = order;
  m.ctx = ctx;
  m.buy = buy;
  m.qty = qty;
  m.next = next;
  m.absNext = absNext;
  m.grows = grows;
  m.opens = cur === 0 && qty > 0;
  m.reduces = cur !== 0 && buy === cur < 0 && qty <= absCur;
  m.orderPrice = orderPrice;
  m.refPrice = refPrice;
  m.positionValue = worstCaseValue(next, orderPrice);
  m.portfolio = ctx.portfolioExposure + addedExposure;
  m.category = ctx.categoryExposure + addedExposure;
  m.dailyLoss = -(ctx.dailyRealizedPnl + ctx.unrealizedPnl - ctx.openingUnrealizedPnl);
  m.priceOk = orderPrice !== null && orderPrice > 0 && orderPrice < MICROS && orderPrice % ctx.market.tickSize === 0;
  m.deviation = orderPrice !== null && refPrice !== null ? Math.abs(orderPrice - refPrice) : null;
  m.spread = snap.bid !== null && snap.ask !== null ? snap.ask - snap.bid : null;
  m.notional = orderWorstCase(buy, qty, orderPrice, cur);
  m.quoteAge = ctx.now - snap.ts;
  return m;
}

/** One pre-trade rule: the limit it reads, when it fails, and what it reports then. */
export interface RiskRuleDefinition {
  /** The field of RiskLimits the rule compares with; null for a rule without a number. */
  readonly limitField: keyof RiskLimits | null;
  readonly unit: RiskUnit;
  readonly fails: (m: RiskMeasures, l: RiskLimits) => boolean;
  /** The violation's limit, observed value and message; asked only when the rule fails. */
  readonly report: (m: RiskMeasures, l: RiskLimits) => Omit<RiskViolation, 'rule'>;
}

/** `percent` of the context's equity in micros (floored); null when equity is unknown or not positive. */
function equityShare(m: RiskMeasures, percent: number): number | null {
  const equity = m.ctx.equity;
  return equity === null || equity === undefined || equity <= 0 ? null : Math.floor((equity * percent) / 100);
}

/** The percent rule: measured only with equity in the context, only for an order that grows |position|. */
function percentFails(m: RiskMeasures, percent: number, observed: number): boolean {
  if (m.ctx.equity === undefined || !m.grows) return false;
  const allowed = equityShare(m, percent);
  return allowed === null || observed > allowed;
}

function percentReport(m: RiskMeasures, percent: number, observed: number, what: string): Omit<RiskViolation, 'rule'> {
  const allowed = equityShare(m, percent);
  const equity = m.ctx.equity;
  return {
    limit: allowed,
    observed,
    message:
      allowed === null
        ? `${what} cannot be measured against equity ${equity === null || equity === undefined ? 'unknown' : $(equity)}; limit ${percent}% of equity`
        : `${what} would be ${$(observed)}, above ${percent}% of equity ${$(equity ?? 0)} (${$(allowed)})`,
  };
}

const positionPercent = (l: RiskLimits): number => l.maxPositionPercent ?? PORTFOLIO_PERCENT_DEFAULTS.maxPositionPercent;
const totalPercent = (l: RiskLimits): number => l.maxTotalExposurePercent ?? PORTFOLIO_PERCENT_DEFAULTS.maxTotalExposurePercent;

const volumeAllowed = (m: RiskMeasures, l: RiskLimits): number => (ppm(l.maxVolumeFraction) * m.ctx.snapshot.averageDailyVolume) / 1_000_000;

/**
 * Every pre-trade rule, the one definition checkOrder runs. A rule name without a row, or a
 * row without a name, does not compile. Violations are listed in RISK_RULES order.
 */
export const RISK_RULE_TABLE: { readonly [R in RiskRule]: RiskRuleDefinition } = {
  TRADING_HALTED: {
    limitField: null,
    unit: 'none',
    fails: (m) => m.ctx.halted !== null,
    report: (m) => ({ limit: null, observed: null, message: `trading is halted: ${m.ctx.halted?.reason ?? ''}` }),
  },
  ORDER_QUANTITY: {
    limitField: 'maxOrderSize',
    unit: 'contracts',
    fails: (m, l) => !(m.qty > 0 && m.qty <= l.maxOrderSize),
    report: (m, l) => ({
      limit: l.maxOrderSize,
      observed: m.qty,
      message: m.qty > 0 ? `order of ${m.qty} contracts exceeds the limit of ${l.maxOrderSize}` : 'order quantity must be positive (got 0)',
    }),
  },
  POSITION_SIZE: {
    limitField: 'maxPositionSize',
    unit: 'contracts',
    fails: (m, l) => m.grows && m.absNext > l.maxPositionSize,
    report: (m, l) => ({ limit: l.maxPositionSize, observed: m.absNext, message: `resulting position of ${m.next} contracts exceeds the limit of ${l.maxPositionSize}` }),
  },
  POSITION_VALUE: {
    limitField: 'maxPositionValue',
    unit: 'micros',
    fails: (m, l) => m.grows && m.positionValue > l.maxPositionValue,
    report: (m, l) => ({
      limit: l.maxPositionValue,
      observed: m.positionValue,
      message: `resulting position value ${$(m.positionValue)} exceeds the limit of ${$(l.maxPositionValue)}`,
    }),
  },
  DAILY_LOSS: {
    limitField: 'maxDailyLoss',
    unit: 'micros',
    fails: (m, l) => !m.reduces && m.dailyLoss > l.maxDailyLoss,
    report: (m, l) => ({
      limit: l.maxDailyLoss,
      observed: m.dailyLoss,
      message: `daily loss ${$(m.dailyLoss)} (realized today + change in unrealized since the open) exceeds the limit of ${$(l.maxDailyLoss)}`,
    }),
  },
  PORTFOLIO_EXPOSURE: {
    limitField: 'maxPortfolioExposure',
    unit: 'micros',
    fails: (m, l) => m.grows && m.portfolio > l.maxPortfolioExposure,
    report: (m, l) => ({
      limit: l.maxPortfolioExposure,
      observed: m.portfolio,
      message: `portfolio exposure would be ${$(m.portfolio)}, above the limit of ${$(l.maxPortfolioExposure)}`,
    }),
  },
  CATEGORY_EXPOSURE: {
    limitField: 'maxCategoryExposure',
    unit: 'micros',
    fails: (m, l) => m.grows && m.category > l.maxCategoryExposure,
    report: (m, l) => ({
      limit: l.maxCategoryExposure,
      observed: m.category,
      message: `exposure to category ${m.ctx.market.category} would be ${$(m.category)}, above the limit of ${$(l.maxCategoryExposure)}`,
    }),
  },
  PRICE_RANGE: {
    limitField: null,
    unit: 'micros',
    fails: (m) => !m.priceOk,
    report: (m) => ({
      limit: null,
      observed: m.orderPrice,
      message:
        m.orderPrice === null
          ? `market ${m.buy ? 'buy' : 'sell'} has no ${m.buy ? 'ask' : 'bid'} to price against`
          : `price ${$(m.orderPrice)} is not inside (0, 1) on the ${$(m.ctx.market.tickSize)} tick grid`,
    }),
  },
  PRICE_DEVIATION: {
    limitField: 'maxPriceDeviation',
    unit: 'micros',
    fails: (m, l) => m.deviation === null || m.deviation > l.maxPriceDeviation,
    report: (m, l) => ({
      limit: l.maxPriceDeviation,
      observed: m.deviation,
      message:
        m.deviation === null
          ? `no ${m.orderPrice === null ? 'order price' : 'market price (mid or last)'} to measure deviation against; limit ${$(l.maxPriceDeviation)}`
          : `price ${$(m.orderPrice ?? 0)} is ${$(m.deviation)} from the market price ${$(m.refPrice ?? 0)}, above the limit of ${$(l.maxPriceDeviation)}`,
    }),
  },
  VOLUME_FRACTION: {
    limitField: 'maxVolumeFraction',
    unit: 'contracts',
    fails: (m, l) => m.qty * 1_000_000 > ppm(l.maxVolumeFraction) * m.ctx.snapshot.averageDailyVolume,
    report: (m, l) => ({
      limit: volumeAllowed(m, l),
      observed: m.qty,
      message: `order of ${m.qty} contracts exceeds ${ppm(l.maxVolumeFraction) / 10_000}% of average daily volume ${m.ctx.snapshot.averageDailyVolume} (limit ${volumeAllowed(m, l)} contracts)`,
    }),
  },
  SPREAD: {
    limitField: 'maxSpread',
    unit: 'micros',
    fails: (m, l) => !m.reduces && (m.spread === null || m.spread < 0 || m.spread > l.maxSpread),
    report: (m, l) => {
      const { bid, ask } = m.ctx.snapshot;
      return {
        limit: l.maxSpread,
        observed: m.spread,
        message:
          m.spread === null
            ? `no two-sided quote (bid ${bid === null ? 'none' : $(bid)}, ask ${ask === null ? 'none' : $(ask)}); limit ${$(l.maxSpread)}`
            : m.spread < 0
              ? `crossed quote: ask ${$(ask ?? 0)} is below bid ${$(bid ?? 0)}`
              : `spread ${$(m.spread)} exceeds the limit of ${$(l.maxSpread)}`,
      };
    },
  },
  FAT_FINGER: {
    limitField: 'fatFingerNotional',
    unit: 'micros',
    fails: (m, l) => m.notional > l.fatFingerNotional,
    report: (m, l) => ({
      limit: l.fatFingerNotional,
      observed: m.notional,
      message: `order notional ${$(m.notional)} exceeds the fat-finger limit of ${$(l.fatFingerNotional)}`,
    }),
  },
  MAX_OPEN_POSITIONS: {
    limitField: 'maxOpenPositions',
    unit: 'count',
    fails: (m, l) => m.opens && m.ctx.openPositionCount >= l.maxOpenPositions,
    report: (m, l) => ({
      limit: l.maxOpenPositions,
      observed: m.ctx.openPositionCount + 1,
      message: `opening a position would make ${m.ctx.openPositionCount + 1} open positions, above the limit of ${l.maxOpenPositions}`,
    }),
  },
  ORDER_RATE: {
    limitField: 'maxOrdersPerMinute',
    unit: 'count',
    fails: (m, l) => m.ctx.ordersInLastMinute >= l.maxOrdersPerMinute,
    report: (m, l) => ({
      limit: l.maxOrdersPerMinute,
      observed: m.ctx.ordersInLastMinute + 1,
      message: `this would be order ${m.ctx.ordersInLastMinute + 1} in the last minute, above the limit of ${l.maxOrdersPerMinute}`,
    }),
  },
  STALE_QUOTE: {
    limitField: 'maxQuoteAgeMs',
    unit: 'ms',
    fails: (m, l) => m.quoteAge > l.maxQuoteAgeMs,
    report: (m, l) => ({ limit: l.maxQuoteAgeMs, observed: m.quoteAge, message: `market data is ${m.quoteAge} ms old, above the limit of ${l.maxQuoteAgeMs} ms` }),
  },
  POSITION_PERCENT: {
    limitField: 'maxPositionPercent',
    unit: 'micros',
    fails: (m, l) => percentFails(m, positionPercent(l), m.positionValue),
    report: (m, l) => percentReport(m, positionPercent(l), m.positionValue, `the worst case of the position in ${m.order.marketId}`),
  },
  TOTAL_EXPOSURE_PERCENT: {
    limitField: 'maxTotalExposurePercent',
    unit: 'micros',
    fails: (m, l) => percentFails(m, totalPercent(l), m.portfolio),
    report: (m, l) => percentReport(m, totalPercent(l), m.portfolio, 'portfolio exposure'),
  },
};

const RULES: readonly (RiskRuleDefinition & { rule: RiskRule })[] = RISK_RULES.map((rule) => ({ rule, ...RISK_RULE_TABLE[rule] }));

export const RISK_RULE_UNITS: Readonly<Record<RiskRule, RiskUnit>> = Object.fromEntries(RULES.map((r) => [r.rule, r.unit])) as Record<RiskRule, RiskUnit>;

/**
 * Decides whether an order may be sent. Throws InvalidInput for malformed input (never a silent
 * approve); returns APPROVED, or every failing rule.
 */
export function checkOrder(order: OrderRequest, ctx: RiskContext, limits: RiskLimits): RiskDecision {
  checkInput(order, ctx);
  const m = measure(order, ctx);
  let violations: RiskViolation[] | null = null;
  for (const r of RULES) {
    if (r.fails(m, limits)) (violations ??= []).push({ rule: r.rule, ...r.report(m, limits) });
  }
  return violations === null ? APPROVED : { approved: false, violations };
}

/** One line for logs and alerts: "REJECTED ORDER_QUANTITY, SPREAD: …". */
export function describeDecision(d: RiskDecision): string {
  if (d.approved) return 'APPROVED';
  return `REJECTED ${d.violations.map((x) => x.rule).join(', ')}: ${d.violations.map((x) => x.message).join('; ')}`;
}
