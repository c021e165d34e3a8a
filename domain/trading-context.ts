/**
 * The one place that turns ledger state into the `RiskContext` a pre-trade check needs. The
 * backtester calls it now and the session workflow will call it live, so both judge an order
 * from the same figures:
 *
 * - exposure (portfolio and this market's category) and unrealized P&L come from
 *   `portfolioSummary` at the given marks (each position's worst case, worst-case.ts);
 * - `openingUnrealizedPnl` is the unrealized P&L at the trading day's opening marks, so the
 *   daily-loss rule measures the day from its open, not from each position's entry;
 * - `dailyRealizedPnl` is the ledger's realized P&L since the trading day began *net of the
 *   day's fees*, so the daily-loss rule sees what the account actually lost;
 * - `equity` (the base of the %-of-portfolio rules) is `cash` plus each position at its mark
 *   (ledger.ts `accountEquity`), given only when the caller passes the cash: null cash (the venue
 *   never reported any) makes it unknown, which refuses orders that grow a position;
 * - `ordersInLastMinute` counts order times in the trailing 60 s window (now - 60 s, now].
 */
import type { Ledger } from './ledger';
import { accountEquity, portfolioSummary, quantityOf } from './ledger';
import type { Market, MarketSnapshot } from './market';
import type { Money, Price } from './money';
import type { RiskContext } from './risk';

export const ORDER_RATE_WINDOW_MS = 60_000;

export interface TradingContextInput {
  ledger: Ledger;
  /** Every market the ledger may hold, by ID (for categories). */
  markets: Record<string, Pick<Market, 'category'>>;
  /** Latest mark per market (mid, else last), null when unknown. */
  marks: Record<string, Price | null>;
  /** The market and quote the order is priced against. */
  market: Market;
  snapshot: MarketSnapshot;
  /** Epoch ms of the decision, passed in. */
  now: number;
  halted: { reason: string } | null;
  /** Epoch ms at which earlier orders were sent (any order, ascending or not). */
  recentOrderTimes: readonly number[];
  /** Unrealized P&L of the positions held at the trading day's open, at its opening marks. */
  openingUnrealizedPnl: Money;
  /** The account's cash; absent: the context carries no equity; null: equity unknown. */
  cash?: Money | null;
}

/** Orders sent in (now - windowMs, now]. */
export function countOrdersInWindow(times: readonly number[], now: number, windowMs = ORDER_RATE_WINDOW_MS): number {
  let n = 0;
  for (const t of times) if (t > now - windowMs && t <= now) n += 1;
  return n;
}

export function buildRiskContext(input: TradingContextInput): RiskContext {
  const { ledger, market } = input;
  const summary = portfolioSummary(ledger, input.marks, input.markets);
  const equity = input.cash === undefined ? {} : { equity: input.cash === null ? null : accountEquity(input.cash, Object.values(ledger.positions), input.marks) };
  return {
    ...equity,
    halted: input.halted,
    market,
    snapshot: input.snapshot,
    now: input.now,
    currentPosition: quantityOf(ledger, market.marketId),
    openPositionCount: summary.openPositions,
    portfolioExposure: summary.exposure,
    categoryExposure: (summary.exposureByCategory[market.category] ?? 0) as Money,
    dailyRealizedPnl: (ledger.dailyRealizedPnl - ledger.dailyFees) as Money,
    unrealizedPnl: summary.unrealizedPnl,
    openingUnrealizedPnl: input.openingUnrealizedPnl,
    ordersInLastMinute: countOrdersInWindow(input.recentOrderTimes, input.now),
  };
}
