/**
 * What is held and what it earned: positions with unrealized P&L at the stored or given marks,
 * position history, daily P&L, and market resolution. The P&L arithmetic is the core ledger's.
 */
import { and, asc, desc, eq, gte, lte, ne, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { dailyPnl, markets, positionHistory, positions } from '../schema';
import { InvalidInput } from '../../workflows/domain/errors';
import { validateTradingDay } from '../../workflows/domain/ids';
import { averageEntryPrice, settlePosition, unrealizedPnl, type Position } from '../../workflows/domain/ledger';
import type { Outcome } from '../../workflows/domain/market';
import { MICROS, type Money, type Price } from '../../workflows/domain/money';
import { appendAudit } from './audit';
import { mapErrors, transaction } from './common';
import type { AccountPosition } from './fills';

export interface PositionView extends AccountPosition {
  /** The mark used: the one passed in, else the last stored mark, else null. */
  mark: Price | null;
  markedAt: number | null;
  averageEntryPrice: Price | null;
  unrealizedPnl: Money;
  /** realized + unrealized - fees. */
  totalPnl: Money;
  fillCount: number;
  lastTradeId: string | null;
  updatedAt: number;
}

type PositionRow = typeof positions.$inferSelect;

function view(r: PositionRow, override: Price | null | undefined): PositionView {
  const p: Position = { marketId: r.marketId, quantity: r.quantity, costBasis: r.costBasis, realizedPnl: r.realizedPnl, fees: r.fees };
  const mark = override !== undefined ? override : r.markPrice;
  const unrealized = unrealizedPnl(p, mark);
  return {
    account: r.account,
    ...p,
    mark,
    markedAt: override !== undefined ? null : r.markedAt,
    averageEntryPrice: averageEntryPrice(p),
    unrealizedPnl: unrealized,
    totalPnl: (r.realizedPnl + unrealized - r.fees) as Money,
    fillCount: r.fillCount,
    lastTradeId: r.lastTradeId,
    updatedAt: r.updatedAt,
  };
}

/** Positions of an account with P&L; `marks` overrides stored marks per market. */
export async function listPositions(
  ex: Executor,
  filter: { account?: string; openOnly?: boolean; marks?: Record<string, Price | null> } = {},
): Promise<PositionView[]> {
  const where: SQL[] = [eq(positions.account, filter.account ?? 'paper')];
  if (filter.openOnly) where.push(ne(positions.quantity, 0));
  const rows = await mapErrors(ex.select().from(positions).where(and(...where)).orderBy(asc(positions.marketId)));
  const marks = filter.marks ?? {};
  return rows.map((r) => view(r, Object.prototype.hasOwnProperty.call(marks, r.marketId) ? marks[r.marketId] : undefined));
}

function checkMark(marketId: string, mark: unknown): Price {
  if (typeof mark !== 'number' || !Number.isSafeInteger(mark) || mark <= 0 || mark >= MICROS) {
    throw InvalidInput.of(`marks.${marketId}`, mark, 'must be integer micros inside (0, 1)');
  }
  return mark as Price;
}

/** Stores the latest mark per market for an account's positions (for the dashboard and daily P&L). */
export async function markPositions(ex: Executor, account: string, marks: Record<string, Price>, at: number): Promise<number> {
  const entries = Object.entries(marks).map(([m, p]) => [m, checkMark(m, p)] as const);
  if (!Number.isSafeInteger(at)) throw InvalidInput.of('at', at, 'must be epoch milliseconds');
  return transaction(ex, async (tx) => {
    let n = 0;
    for (const [marketId, mark] of entries.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const r = await tx
        .update(positions)
        .set({ markPrice: mark, markedAt: at })
        .where(and(eq(positions.account, account), eq(positions.marketId, marketId)))
        .returning({ marketId: positions.marketId });
      n += r.length;
    }
    return n;
  });
}

export async function positionHistoryOf(ex: Executor, account: string, marketId: string) {
  return mapErrors(
    ex
      .select()
      .from(positionHistory)
      .where(and(eq(positionHistory.account, account), eq(positionHistory.marketId, marketId)))
      .orderBy(asc(positionHistory.id)),
  );
}

export interface DailyPnlView {
  account: string;
  tradingDay: string;
  realizedPnl: Money;
  fees: Money;
  unrealizedPnl: Money | null;
  /** realized + (unrealized or 0) - fees. */
  netPnl: Money;
  fillCount: number;
  contractsTraded: number;
  notionalTraded: Money;
  markedAt: number | null;
}

const dailyView = (r: typeof dailyPnl.$inferSelect): DailyPnlView => ({
  account: r.account,
  tradingDay: r.tradingDay,
  realizedPnl: r.realizedPnl,
  fees: r.fees,
  unrealizedPnl: r.unrealizedPnl,
  netPnl: (r.realizedPnl + (r.unrealizedPnl ?? 0) - r.fees) as Money,
  fillCount: r.fillCount,
  contractsTraded: r.contractsTraded,
  notionalTraded: r.notionalTraded,
  markedAt: r.markedAt,
});

/** Daily P&L history, newest day first. */
export async function listDailyPnl(ex: Executor, filter: { account?: string; from?: string; to?: string; limit?: number } = {}): Promise<DailyPnlView[]> {
  const where: SQL[] = [eq(dailyPnl.account, filter.account ?? 'paper')];
  if (filter.from !== undefined) where.push(gte(dailyPnl.tradingDay, validateTradingDay(filter.from, 'from')));
  if (filter.to !== undefined) where.push(lte(dailyPnl.tradingDay, validateTradingDay(filter.to, 'to')));
  const rows = await mapErrors(
    ex
      .select()
      .from(dailyPnl)
      .where(and(...where))
      .orderBy(desc(dailyPnl.tradingDay))
      .limit(filter.limit ?? 366),
  );
  return rows.map(dailyView);
}

/**
 * Stores the day's unrealized P&L: the open positions at the stored marks (or `marks`).
 * Repeating it replaces the figure, so it is safe to run intraday and again at the close.
 */
export async function markDailyPnl(
  ex: Executor,
  input: { account?: string; tradingDay: string; at: number; marks?: Record<string, Price | null> },
): Promise<DailyPnlView> {
  const account = input.account ?? 'paper';
  const day = validateTradingDay(input.tradingDay);
  if (!Number.isSafeInteger(input.at)) throw InvalidInput.of('at', input.at, 'must be epoch milliseconds');
  const open = await listPositions(ex, { account, openOnly: true, ...(input.marks ? { marks: input.marks } : {}) });
  const unrealized = open.reduce((s, p) => s + p.unrealizedPnl, 0) as Money;
  const [row] = await mapErrors(
    ex
      .insert(dailyPnl)
      .values({ account, tradingDay: day, unrealizedPnl: unrealized, markedAt: input.at })
      .onConflictDoUpdate({ target: [dailyPnl.account, dailyPnl.tradingDay], set: { unrealizedPnl: unrealized, markedAt: input.at } })
      .returning(),
  );
  return dailyView(row!);
}

/**
 * Realizes a resolved market for an account (ch. 19.7.2 via the core's `settlePosition`) and
 * records the outcome on the market. Idempotent: the history row is keyed "SETTLE:<market>".
 */
export async function settleMarketPosition(
  ex: Executor,
  input: { account?: string; marketId: string; outcome: Outcome; at: number; tradingDay: string },
): Promise<{ settled: boolean; position: AccountPosition | null }> {
  const account = input.account ?? 'paper';
  if (input.outcome !== 'YES' && input.outcome !== 'NO') throw InvalidInput.of('outcome', input.outcome, 'must be YES or NO');
  const day = validateTradingDay(input.tradingDay);
  return transaction(ex, async (tx) => {
    await tx.update(markets).set({ outcome: input.outcome }).where(eq(markets.marketId, input.marketId));
    const [row] = await tx
      .select()
      .from(positions)
      .where(and(eq(positions.account, account), eq(positions.marketId, input.marketId)))
      .for('update');
    if (!row) return { settled: false, position: null };
    const before: Position = { marketId: row.marketId, quantity: row.quantity, costBasis: row.costBasis, realizedPnl: row.realizedPnl, fees: row.fees };
    const current = { account, ...before };
    const eventKey = `SETTLE:${input.marketId}`;
    const [history] = await tx
      .insert(positionHistory)
      .values({ account, marketId: input.marketId, tradeId: `${eventKey}:${account}`, quantity: 0, costBasis: 0 as Money, realizedPnl: before.realizedPnl, fees: before.fees, changedAt: input.at })
      .onConflictDoNothing()
      .returning({ id: positionHistory.id });
    if (!history || before.quantity === 0) return { settled: false, position: current };
    const after = settlePosition(before, input.outcome);
    await tx
      .update(positionHistory)
      .set({ realizedPnl: after.realizedPnl })
      .where(eq(positionHistory.id, history.id));
    await tx
      .update(positions)
      .set({ quantity: 0, costBasis: 0 as Money, realizedPnl: after.realizedPnl })
      .where(and(eq(positions.account, account), eq(positions.marketId, input.marketId)));
    const delta = (after.realizedPnl - before.realizedPnl) as Money;
    await tx
      .insert(dailyPnl)
      .values({ account, tradingDay: day, realizedPnl: delta })
      .onConflictDoUpdate({ target: [dailyPnl.account, dailyPnl.tradingDay], set: { realizedPnl: sql`${dailyPnl.realizedPnl} + excluded.realized_pnl` } });
    await appendAudit(tx, [
      { eventKey: `${eventKey}:${account}`, kind: 'SETTLEMENT', marketId: input.marketId, occurredAt: input.at, payload: { settlement: input.outcome, account, before, after } },
    ]);
    return { settled: true, position: { account, ...after } };
  });
}
