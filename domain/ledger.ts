/**
 * Positions and P&L (the reference's position tracking and P&L), exact in integer micros.
 *
 * A position keeps its signed quantity and its signed cost basis: the sum of what the
 * contracts still held cost (negative for a short, which was entered by selling). Then
 *
 *   unrealized = quantity * mark - costBasis
 *
 * which is (mark - avgEntry) * q for a long and (avgEntry - mark) * |q| for a short, with the
 * average kept as the exact ratio costBasis / quantity rather than a rounded price. Reducing
 * q of Q held contracts removes mulDiv(costBasis, q, Q) of the basis, and closing the last
 * contract removes whatever is left, so rounding never accumulates. With these rules
 *
 *   realizedPnl - costBasis == sum of sell notionals - sum of buy notionals (+ resolution payouts)
 *
 * holds exactly after every step, hence realized + unrealized - fees equals the cash flow
 * plus the position valued at the mark, to the micro (test/unit/ledger.property.test.ts).
 *
 * Realized P&L here is gross; fees are kept beside it, and total = realized + unrealized - fees.
 *
 * Quantities may be fractional (two decimals, domain/money.ts): every quantity sum is taken in
 * hundredths (`addQuantity`), every value is `notional(price, quantity)`, and a fill's notional
 * is computed once and split between the contracts it closes and those it opens, so the identity
 * above stays exact even where a fractional notional is rounded (a price off the 100-micro grid).
 */
import { ArithmeticOverflow, InvalidInput, UnknownMarket } from './errors';
import { executionProblems, validateFill, type Fill } from './fill';
import { markPrice, validateMarketId, type MarketSnapshot, type Outcome } from './market';
import { MICROS, ZERO, addQuantity, mulDiv, notional, quantityLots, subtractQuantity, type Money, type Price } from './money';
import { worstCaseAtCost, worstCaseValue } from './worst-case';

export interface Position {
  marketId: string;
  /** Signed contracts, at most two decimals: positive long, negative short. */
  quantity: number;
  /** Signed cost of the contracts still held: quantity * average entry, exact integer micros. */
  costBasis: Money;
  /** Gross of fees. */
  realizedPnl: Money;
  /** Cumulative fees paid on this market. */
  fees: Money;
}

/** The part of a fill that moves a position: a whole Fill is passed as it is. */
export type PositionFill = Pick<Fill, 'side' | 'quantity' | 'price' | 'fee'>;

/**
 * Everything the trading core knows about what it holds. A plain JSON-serialisable object:
 * it lives in workflow state and in the backtester.
 *
 * Trade-ID memory: `appliedTradeIds` grows by one key per fill. `pruneTradeIds` moves it to
 * `previousTradeIds` and starts an empty window, so a duplicate is still recognised for one
 * more window and the memory stays bounded by two windows (call it at each trading day start
 * or every N fills). A fill replayed later than that is not recognised here; the unique
 * trade-ID constraint in the database and the order's own fill accounting catch it upstream.
 */
export interface Ledger {
  positions: Record<string, Position>;
  /** Trade IDs applied in the current window. */
  appliedTradeIds: Record<string, true>;
  /** Trade IDs applied in the window before the last `pruneTradeIds`. */
  previousTradeIds: Record<string, true>;
  /** Realized P&L since `startTradingDay`, gross of fees, including resolutions. */
  dailyRealizedPnl: Money;
  /** Fees since `startTradingDay`. */
  dailyFees: Money;
}

const hasOwn = Object.prototype.hasOwnProperty;

function safe(what: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new ArithmeticOverflow(what, value);
  return value;
}

export function emptyPosition(marketId: string): Position {
  return { marketId: validateMarketId(marketId), quantity: 0, costBasis: ZERO, realizedPnl: ZERO, fees: ZERO };
}

export function emptyLedger(): Ledger {
  return { positions: {}, appliedTradeIds: {}, previousTradeIds: {}, dailyRealizedPnl: ZERO, dailyFees: ZERO };
}

function checkPositionFill(fill: PositionFill): void {
  const problems = executionProblems(fill);
  if (problems.length > 0) throw new InvalidInput(problems);
}

function checkMark(mark: Price | null, field: string): void {
  if (mark !== null && (!Number.isSafeInteger(mark) || mark <= 0 || mark >= MICROS)) {
    throw InvalidInput.of(field, mark, 'must be integer micros inside (0, 1) or null');
  }
}

/**
 * Applies one execution and returns the new position. Adding opens at the fill price;
 * reducing realizes (exit - entry) * q on a long or (entry - exit) * q on a short; a fill
 * larger than the holding closes it and opens the rest on the other side at the fill price.
 */
export function applyFillToPosition(position: Position, fill: PositionFill): Position {
  checkPositionFill(fill);
  const held = position.quantity;
  const signed = fill.side === 'BUY' ? fill.quantity : -fill.quantity;
  const fees = safe('fees', position.fees + fill.fee) as Money;
  // Signed value of the whole fill: + paid when buying, - received when selling.
  const fillValue = notional(fill.price, signed);

  if (held === 0 || (held > 0) === (signed > 0)) {
    return {
      marketId: position.marketId,
      quantity: addQuantity(held, signed),
      costBasis: safe('cost basis', position.costBasis + fillValue) as Money,
      realizedPnl: position.realizedPnl,
      fees,
    };
  }

  const heldAbs = Math.abs(held);
  const closed = Math.min(fill.quantity, heldAbs);
  const removed = closed === heldAbs ? position.costBasis : mulDiv(position.costBasis, quantityLots(closed), quantityLots(heldAbs));
  // What the closed contracts fetch: + proceeds when selling a long, - cost when covering a short.
  const exitValue = notional(fill.price, held > 0 ? closed : -closed);
  const realizedPnl = safe('realized P&L', position.realizedPnl + (exitValue - removed)) as Money;
  const opened = subtractQuantity(fill.quantity, closed);
  const quantity = addQuantity(held, signed);
  // The opened remainder costs the rest of the fill's value, so the two parts add up to it exactly.
  const costBasis = opened > 0 ? fillValue + exitValue : closed === heldAbs ? 0 : position.costBasis - removed;
  return { marketId: position.marketId, quantity, costBasis: safe('cost basis', costBasis) as Money, realizedPnl, fees };
}

/** Average entry price of the open contracts, rounded half away from zero; null when flat. */
export function averageEntryPrice(position: Position): Price | null {
  if (position.quantity === 0) return null;
  return mulDiv(Math.abs(position.costBasis), 100, Math.abs(quantityLots(position.quantity))) as Price;
}

/** quantity * mark - costBasis (the reference's P&L formulas, both long and short); 0 when flat or without a mark. */
export function unrealizedPnl(position: Position, mark: Price | null): Money {
  checkMark(mark, 'mark');
  if (position.quantity === 0 || mark === null) return ZERO;
  return safe('unrealized P&L', notional(mark, position.quantity) - position.costBasis) as Money;
}

/** realized + unrealized - fees for one market. */
export function positionTotalPnl(position: Position, mark: Price | null): Money {
  return safe('total P&L', position.realizedPnl + unrealizedPnl(position, mark) - position.fees) as Money;
}

function checkOutcome(outcome: Outcome): void {
  if (outcome !== 'YES' && outcome !== 'NO') throw InvalidInput.of('outcome', outcome, 'must be YES or NO');
}

/**
 * Resolution (the reference's P&L formulas): each contract is worth 1 if the market resolves YES and 0 if NO.
 * The position is realized at that value and flattened; fees are unchanged.
 */
export function settlePosition(position: Position, outcome: Outcome): Position {
  checkOutcome(outcome);
  if (position.quantity === 0) return position;
  const payout = outcome === 'YES' ? notional(MICROS as Money, position.quantity) : 0;
  return {
    marketId: position.marketId,
    quantity: 0,
    costBasis: ZERO,
    realizedPnl: safe('realized P&L', position.realizedPnl + payout - position.costBasis) as Money,
    fees: position.fees,
  };
}

/**
 * A resolution the venue paid at its own figure (a voided market: no YES or NO value). The
 * position is realized at `payout` in total and flattened, the same way `settlePosition` is.
 */
export function settlePositionAtPayout(position: Position, payout: Money): Position {
  if (!Number.isSafeInteger(payout)) throw InvalidInput.of('payout', payout, 'must be integer micros');
  if (position.quantity === 0) return position;
  return {
    marketId: position.marketId,
    quantity: 0,
    costBasis: ZERO,
    realizedPnl: safe('realized P&L', position.realizedPnl + payout - position.costBasis) as Money,
    fees: position.fees,
  };
}

export function hasApplied(ledger: Ledger, tradeId: string): boolean {
  return hasOwn.call(ledger.appliedTradeIds, tradeId) || hasOwn.call(ledger.previousTradeIds, tradeId);
}

export function positionOf(ledger: Ledger, marketId: string): Position | null {
  return hasOwn.call(ledger.positions, marketId) ? (ledger.positions[marketId] as Position) : null;
}

/** Signed contracts held in a market; 0 when never traded. */
export function quantityOf(ledger: Ledger, marketId: string): number {
  return positionOf(ledger, marketId)?.quantity ?? 0;
}

function applyValidFill(ledger: Ledger, fill: Fill): void {
  const before = positionOf(ledger, fill.marketId) ?? emptyPosition(fill.marketId);
  const after = applyFillToPosition(before, fill);
  ledger.positions[fill.marketId] = after;
  ledger.appliedTradeIds[fill.tradeId] = true;
  ledger.dailyRealizedPnl = safe('daily realized P&L', ledger.dailyRealizedPnl + (after.realizedPnl - before.realizedPnl)) as Money;
  ledger.dailyFees = safe('daily fees', ledger.dailyFees + fill.fee) as Money;
}

/**
 * Applies a venue fill once: a trade ID already applied (in this or the previous window)
 * leaves the ledger unchanged and reports applied = false. Pure: the input ledger is not
 * touched. Cost: the touched position is rebuilt, and the positions record and the current
 * trade-ID window are copied shallowly (O(markets + trade IDs in the window)); see
 * `applyFillInPlace` for the owner of a private ledger in a hot loop.
 */
export function applyFill(ledger: Ledger, fill: Fill): { ledger: Ledger; applied: boolean } {
  validateFill(fill);
  if (hasApplied(ledger, fill.tradeId)) return { ledger, applied: false };
  const next: Ledger = { ...ledger, positions: { ...ledger.positions }, appliedTradeIds: { ...ledger.appliedTradeIds } };
  applyValidFill(next, fill);
  return { ledger: next, applied: true };
}

/**
 * Same rules as `applyFill`, O(1), but updates `ledger` itself. Position objects are replaced,
 * never mutated, so a Position read earlier keeps its value. Only for a ledger nobody else holds
 * (the backtester's, or a workflow's own state object).
 */
export function applyFillInPlace(ledger: Ledger, fill: Fill): boolean {
  validateFill(fill);
  if (hasApplied(ledger, fill.tradeId)) return false;
  applyValidFill(ledger, fill);
  return true;
}

/** Starts a new trading day: zeroes the daily counters and nothing else. */
export function startTradingDay(ledger: Ledger): Ledger {
  return { ...ledger, dailyRealizedPnl: ZERO, dailyFees: ZERO };
}

/** Starts a new trade-ID window; IDs from the window before the previous one are forgotten. */
export function pruneTradeIds(ledger: Ledger): Ledger {
  return { ...ledger, appliedTradeIds: {}, previousTradeIds: ledger.appliedTradeIds };
}

export function rememberedTradeIdCount(ledger: Ledger): number {
  return Object.keys(ledger.appliedTradeIds).length + Object.keys(ledger.previousTradeIds).length;
}

/** Realizes a resolved market (also counted in the daily realized P&L). */
export function settleMarket(ledger: Ledger, marketId: string, outcome: Outcome): Ledger {
  checkOutcome(outcome);
  const before = positionOf(ledger, marketId);
  if (before === null) throw new UnknownMarket(marketId);
  const after = settlePosition(before, outcome);
  if (after === before) return ledger;
  return {
    ...ledger,
    positions: { ...ledger.positions, [marketId]: after },
    dailyRealizedPnl: safe('daily realized P&L', ledger.dailyRealizedPnl + (after.realizedPnl - before.realizedPnl)) as Money,
  };
}

/**
 * Net cash the ledger's trading has moved: sell proceeds - buy costs - fees + resolution payouts.
 * Local cash for reconciliation is the starting balance plus this. Exact by the invariant above.
 */
export function netCashFlow(ledger: Ledger): Money {
  return positionsNetCashFlow(Object.values(ledger.positions));
}

/** `netCashFlow` over positions as the records list them. */
export function positionsNetCashFlow(positions: Iterable<Pick<Position, 'realizedPnl' | 'costBasis' | 'fees'>>): Money {
  let total = 0;
  for (const p of positions) total += p.realizedPnl - p.costBasis - p.fees;
  return safe('net cash flow', total) as Money;
}

/**
 * Equity: cash plus each open position at its mark, at cost without one,
 *   cash + sum of (costBasis + unrealizedPnl) = cash + sum of quantity * mark
 * so a short counts negative (what buying it back at the mark would cost). The session's
 * drawdown breaker and the equity gauge read this figure; a market missing from `marks` has no mark.
 */
export function accountEquity(cash: Money, positions: Iterable<Position>, marks: Record<string, Price | null>): Money {
  let equity: number = cash;
  for (const p of positions) {
    if (p.quantity === 0) continue;
    const mark = hasOwn.call(marks, p.marketId) ? (marks[p.marketId] ?? null) : null;
    equity += p.costBasis + unrealizedPnl(p, mark);
  }
  return safe('equity', equity) as Money;
}

/** Mark per market from its snapshot: mid, else last, else null (market.ts `markPrice`). */
export function marksFromSnapshots(snapshots: Iterable<Pick<MarketSnapshot, 'marketId' | 'bid' | 'ask' | 'last'>>): Record<string, Price | null> {
  const marks = new Map<string, Price | null>();
  for (const s of snapshots) marks.set(s.marketId, markPrice(s));
  return Object.fromEntries(marks);
}

export interface PortfolioSummary {
  /** Markets with a non-zero quantity. */
  openPositions: number;
  /** Sum of each open position's exposure (see `positionExposure`). */
  exposure: Money;
  exposureByCategory: Record<string, Money>;
  realizedPnl: Money;
  unrealizedPnl: Money;
  fees: Money;
  /** realized + unrealized - fees. */
  totalPnl: Money;
  largestPosition: { marketId: string; exposure: Money } | null;
  dailyRealizedPnl: Money;
  dailyFees: Money;
}

/**
 * The trading day's P&L, measured from the day's opening marks:
 *
 *   realized today − fees today + (unrealized now − unrealized at the open)
 *
 * where the open's unrealized P&L is that of the positions held when the day began, at their
 * marks then (a position opened today contributes 0 there: it was opened at its entry). Summed
 * over days this telescopes to the total P&L, so a position carried over midnight brings none of
 * yesterday's loss into today; the daily-loss breaker and the DAILY_LOSS rule read this figure.
 */
export function dailyPnlSinceOpen(day: { realizedPnl: number; fees: number; unrealizedPnl: number; openingUnrealizedPnl: number }): Money {
  return safe('daily P&L', day.realizedPnl - day.fees + (day.unrealizedPnl - day.openingUnrealizedPnl)) as Money;
}

/**
 * Each day's opening unrealized P&L and the change in unrealized P&L over the day, from the days
 * recorded for an account in ascending order: the opening recorded for the day, else the closing
 * figure of the last earlier day with one (what was held then is what the day opened with), else
 * 0. Summed over days the changes telescope to the last close, so a multi-day total counts each
 * move of a mark once, never a day's cumulative unrealized again on every day it is held.
 */
export function dailyUnrealizedChanges(
  days: readonly { unrealizedPnl: number | null; openingUnrealizedPnl: number | null }[],
): { openingUnrealizedPnl: Money; unrealizedChange: Money | null }[] {
  let lastClose = 0;
  return days.map((d) => {
    const opening = d.openingUnrealizedPnl ?? lastClose;
    if (d.unrealizedPnl !== null) lastClose = d.unrealizedPnl;
    return { openingUnrealizedPnl: opening as Money, unrealizedChange: d.unrealizedPnl === null ? null : (safe('unrealized change', d.unrealizedPnl - opening) as Money) };
  });
}

/**
 * What an open position can lose (worst-case.ts): p×q for a long, (1 − p)×q for a short, at the
 * mark, or at entry (the cost basis) when there is no mark. Portfolio and category exposure, the
 * pre-trade rules and the dashboard sum this figure, so a short and a long with the same worst
 * case weigh the same.
 */
export function positionExposure(position: Position, mark: Price | null): Money {
  checkMark(mark, 'mark');
  if (position.quantity === 0) return ZERO;
  const e = mark === null ? worstCaseAtCost(position.quantity, position.costBasis) : worstCaseValue(position.quantity, mark);
  return safe('exposure', e) as Money;
}

/**
 * Portfolio figures at the given marks. A market missing from `marks` counts as having no mark
 * (no unrealized P&L, exposure at cost); an open position whose market is missing from
 * `markets` is an UnknownMarket error, because its category cannot be guessed.
 */
export function portfolioSummary(
  ledger: Ledger,
  marks: Record<string, Price | null>,
  markets: Record<string, { category: string }>,
): PortfolioSummary {
  let openPositions = 0;
  let exposure = 0;
  let realized = 0;
  let unrealized = 0;
  let fees = 0;
  const byCategory = new Map<string, number>();
  let largest: { marketId: string; exposure: Money } | null = null;

  for (const p of Object.values(ledger.positions)) {
    realized += p.realizedPnl;
    fees += p.fees;
    if (p.quantity === 0) continue;
    const mark = hasOwn.call(marks, p.marketId) ? (marks[p.marketId] ?? null) : null;
    checkMark(mark, `marks.${p.marketId}`);
    if (!hasOwn.call(markets, p.marketId)) throw new UnknownMarket(p.marketId);
    const category = (markets[p.marketId] as { category: string }).category;
    const e = positionExposure(p, mark);
    openPositions += 1;
    exposure += e;
    unrealized += unrealizedPnl(p, mark);
    byCategory.set(category, safe('category exposure', (byCategory.get(category) ?? 0) + e));
    if (largest === null || e > largest.exposure || (e === largest.exposure && p.marketId < largest.marketId)) {
      largest = { marketId: p.marketId, exposure: e };
    }
  }

  return {
    openPositions,
    exposure: safe('exposure', exposure) as Money,
    exposureByCategory: Object.fromEntries(byCategory) as Record<string, Money>,
    realizedPnl: safe('realized P&L', realized) as Money,
    unrealizedPnl: safe('unrealized P&L', unrealized) as Money,
    fees: safe('fees', fees) as Money,
    totalPnl: safe('total P&L', realized + unrealized - fees) as Money,
    largestPosition: largest,
    dailyRealizedPnl: ledger.dailyRealizedPnl,
    dailyFees: ledger.dailyFees,
  };
}
