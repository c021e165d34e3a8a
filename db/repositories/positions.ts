/**
 * What is held and what it earned: positions with unrealized P&L at the stored or given marks,
 * position history, daily P&L, and market resolution. The P&L arithmetic is the core ledger's.
 */
import { and, asc, desc, eq, gte, lt, lte, ne, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { dailyPnl, markets, positionHistory, positions } from '../schema';
import { InvalidInput } from '../../domain/errors';
import { validateTradingDay } from '../../domain/ids';
import { averageEntryPrice, dailyPnlSinceOpen, dailyUnrealizedChanges, settlePosition, unrealizedPnl, type Position } from '../../domain/ledger';
import type { Outcome } from '../../domain/market';
import { MICROS, parseMicros, parseSignedQuantity, type Money, type Price } from '../../domain/money';
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
  /** Gross of fees: fills and resolutions of the day, summed from position history. */
  realizedPnl: Money;
  fees: Money;
  /** Cumulative, of the positions held at the day's latest mark (`markDailyPnl`); null until marked. */
  unrealizedPnl: Money | null;
  /**
   * Unrealized P&L the day opened with: recorded by `openTradingDay`, else the last earlier day's
   * closing mark, else 0 (ledger.ts `dailyUnrealizedChanges`).
   */
  openingUnrealizedPnl: Money;
  /** When the opening was recorded; null when it is the fallback above. */
  openedAt: number | null;
  /** unrealized − opening: the day's own change in unrealized P&L; null until marked. */
  unrealizedChange: Money | null;
  /** The day's P&L: realized − fees + (unrealizedChange or 0). Summing it over days is exact. */
  netPnl: Money;
  fillCount: number;
  contractsTraded: number;
  notionalTraded: Money;
  markedAt: number | null;
}

interface DayTotals {
  account: string;
  tradingDay: string;
  realizedPnl: Money;
  fees: Money;
  fillCount: number;
  contractsTraded: number;
  notionalTraded: Money;
}

async function dayTotals(ex: Executor, account: string, from?: string, to?: string): Promise<DayTotals[]> {
  const where: SQL[] = [eq(positionHistory.account, account)];
  if (from !== undefined) where.push(gte(positionHistory.tradingDay, from));
  if (to !== undefined) where.push(lte(positionHistory.tradingDay, to));
  const rows = await mapErrors(
    ex
      .select({
        tradingDay: positionHistory.tradingDay,
        realized: sql<string>`sum(${positionHistory.realizedDelta})::text`,
        fees: sql<string>`sum(${positionHistory.fee})::text`,
        fills: sql<string>`count(*) filter (where ${positionHistory.cause} = 'FILL')::text`,
        contracts: sql<string>`sum(${positionHistory.contractsTraded})::text`,
        notional: sql<string>`sum(${positionHistory.notionalTraded})::text`,
      })
      .from(positionHistory)
      .where(and(...where))
      .groupBy(positionHistory.tradingDay),
  );
  return rows.map((r) => ({
    account,
    tradingDay: r.tradingDay,
    realizedPnl: parseMicros(r.realized, 'realized_pnl') as Money,
    fees: parseMicros(r.fees, 'fees') as Money,
    fillCount: Number(r.fills),
    contractsTraded: parseSignedQuantity(r.contracts, 'contracts_traded'),
    notionalTraded: parseMicros(r.notional, 'notional_traded') as Money,
  }));
}

/** Daily P&L history, newest day first: live sums over position history beside the day's mark. */
export async function listDailyPnl(ex: Executor, filter: { account?: string; from?: string; to?: string; limit?: number } = {}): Promise<DailyPnlView[]> {
  const account = filter.account ?? 'paper';
  const from = filter.from === undefined ? undefined : validateTradingDay(filter.from, 'from');
  const to = filter.to === undefined ? undefined : validateTradingDay(filter.to, 'to');
  const totals = await dayTotals(ex, account, from, to);
  // Marks from before `from` too: a day's opening falls back on the close of the day before it.
  const where: SQL[] = [eq(dailyPnl.account, account)];
  if (to !== undefined) where.push(lte(dailyPnl.tradingDay, to));
  const markRows = await mapErrors(ex.select().from(dailyPnl).where(and(...where)).orderBy(asc(dailyPnl.tradingDay)));
  const changes = dailyUnrealizedChanges(markRows);
  const marks = new Map(markRows.map((m, i) => [m.tradingDay, { ...m, ...changes[i]! }]));
  let carried = 0 as Money;
  for (const m of markRows) if (m.unrealizedPnl !== null && (from === undefined || m.tradingDay < from)) carried = m.unrealizedPnl;
  const days = new Set([...totals.map((t) => t.tradingDay), ...[...marks.keys()].filter((d) => from === undefined || d >= from)]);
  const byDay = new Map(totals.map((t) => [t.tradingDay, t]));
  const ascending = [...days].sort();
  const views = ascending.map((day): DailyPnlView => {
    const t = byDay.get(day) ?? { account, tradingDay: day, realizedPnl: 0 as Money, fees: 0 as Money, fillCount: 0, contractsTraded: 0, notionalTraded: 0 as Money };
    const m = marks.get(day);
    const unrealized = m ? m.unrealizedPnl : null;
    // A day with fills but no mark opened with the last close before it.
    const opening = m ? m.openingUnrealizedPnl : carried;
    if (unrealized !== null) carried = unrealized;
    const change = m ? m.unrealizedChange : null;
    return {
      ...t,
      unrealizedPnl: unrealized,
      openingUnrealizedPnl: opening,
      openedAt: m ? m.openedAt : null,
      unrealizedChange: change,
      netPnl: dailyPnlSinceOpen({ realizedPnl: t.realizedPnl, fees: t.fees, unrealizedPnl: change ?? 0, openingUnrealizedPnl: 0 }),
      markedAt: m ? m.markedAt : null,
    };
  });
  return views.reverse().slice(0, filter.limit ?? 366);
}

/**
 * Marks the day: unrealized P&L of the open positions at the stored marks (or `marks`), stored
 * with a snapshot of the day's realized figures. Repeating it replaces the mark, so it is safe
 * to run intraday and again at the close.
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
  const row = await dailyRow(ex, account, day, unrealized, input.at);
  const { account: _a, tradingDay: _d, ...update } = row;
  await mapErrors(ex.insert(dailyPnl).values(row).onConflictDoUpdate({ target: [dailyPnl.account, dailyPnl.tradingDay], set: update }));
  const [view] = await listDailyPnl(ex, { account, from: day, to: day });
  return view!;
}

/** The day's row of daily_pnl from its fill totals and the unrealized P&L given, marked at `at`. */
async function dailyRow(ex: Executor, account: string, day: string, unrealized: Money, at: number) {
  const [t] = await dayTotals(ex, account, day, day);
  return {
    account,
    tradingDay: day,
    realizedPnl: t?.realizedPnl ?? (0 as Money),
    fees: t?.fees ?? (0 as Money),
    unrealizedPnl: unrealized,
    fillCount: t?.fillCount ?? 0,
    contractsTraded: t?.contractsTraded ?? 0,
    notionalTraded: t?.notionalTraded ?? (0 as Money),
    markedAt: at,
  };
}

/**
 * Records the unrealized P&L the trading day opens with, once: the positions as they stood when
 * the day began (each market's last position-history row from an earlier trading day, so fills
 * of the day itself never count as held at the open), at their stored marks. Once recorded, a day
 * keeps its opening however often this runs, so a restart, a retried
 * reset or a second worker never moves the point the day's loss is measured from. The daily reset
 * calls it at the day's start; the day's first session snapshot calls it when the reset has not.
 * Returns the recorded opening.
 */
export async function openTradingDay(ex: Executor, input: { account?: string; tradingDay: string; at: number }): Promise<{ openingUnrealizedPnl: Money; openedAt: number }> {
  const account = input.account ?? 'paper';
  const day = validateTradingDay(input.tradingDay);
  if (!Number.isSafeInteger(input.at)) throw InvalidInput.of('at', input.at, 'must be epoch milliseconds');
  return transaction(ex, async (tx) => {
    const heldAtOpen = await tx
      .selectDistinctOn([positionHistory.marketId], { marketId: positionHistory.marketId, quantity: positionHistory.quantity, costBasis: positionHistory.costBasis })
      .from(positionHistory)
      .where(and(eq(positionHistory.account, account), lt(positionHistory.tradingDay, day)))
      .orderBy(positionHistory.marketId, desc(positionHistory.id));
    const marks = new Map((await tx.select({ marketId: positions.marketId, mark: positions.markPrice }).from(positions).where(eq(positions.account, account))).map((r) => [r.marketId, r.mark]));
    let opening = 0;
    for (const h of heldAtOpen) {
      if (h.quantity === 0) continue;
      opening += unrealizedPnl({ marketId: h.marketId, quantity: h.quantity, costBasis: h.costBasis, realizedPnl: 0 as Money, fees: 0 as Money }, marks.get(h.marketId) ?? null);
    }
    const open = await listPositions(tx, { account, openOnly: true });
    const unrealized = open.reduce((s, p) => s + p.unrealizedPnl, 0) as Money;
    await tx
      .insert(dailyPnl)
      .values({ ...(await dailyRow(tx, account, day, unrealized, input.at)), openingUnrealizedPnl: opening as Money, openedAt: input.at })
      .onConflictDoUpdate({
        target: [dailyPnl.account, dailyPnl.tradingDay],
        set: {
          openingUnrealizedPnl: sql`coalesce(${dailyPnl.openingUnrealizedPnl}, excluded.opening_unrealized_pnl)`,
          openedAt: sql`coalesce(${dailyPnl.openedAt}, excluded.opened_at)`,
        },
      });
    const [row] = await tx
      .select({ opening: dailyPnl.openingUnrealizedPnl, openedAt: dailyPnl.openedAt })
      .from(dailyPnl)
      .where(and(eq(dailyPnl.account, account), eq(dailyPnl.tradingDay, day)));
    return { openingUnrealizedPnl: row!.opening!, openedAt: row!.openedAt! };
  });
}

/**
 * Realizes a resolved market for an account (the reference's P&L formulas via the core's `settlePosition`) and
 * records the outcome on the market. Idempotent: the history row is keyed "SETTLE:<market>:<account>".
 */
export async function settleMarketPosition(
  ex: Executor,
  input: { account?: string; marketId: string; outcome: Outcome; at: number; tradingDay: string },
): Promise<{ settled: boolean; position: AccountPosition | null }> {
  const account = input.account ?? 'paper';
  if (input.outcome !== 'YES' && input.outcome !== 'NO') throw InvalidInput.of('outcome', input.outcome, 'must be YES or NO');
  if (!Number.isSafeInteger(input.at)) throw InvalidInput.of('at', input.at, 'must be epoch milliseconds');
  const day = validateTradingDay(input.tradingDay);
  const settleKey = `SETTLE:${input.marketId}:${account}`;
  return transaction(ex, async (tx) => {
    await tx.update(markets).set({ outcome: input.outcome }).where(eq(markets.marketId, input.marketId));
    const [row] = await tx
      .select()
      .from(positions)
      .where(and(eq(positions.account, account), eq(positions.marketId, input.marketId)))
      .for('update');
    if (!row) return { settled: false, position: null };
    const before: Position = { marketId: row.marketId, quantity: row.quantity, costBasis: row.costBasis, realizedPnl: row.realizedPnl, fees: row.fees };
    const [done] = await tx.select({ id: positionHistory.id }).from(positionHistory).where(eq(positionHistory.tradeId, settleKey));
    if (done || before.quantity === 0) return { settled: false, position: { account, ...before } };
    const after = settlePosition(before, input.outcome);
    await tx.insert(positionHistory).values({
      account,
      marketId: input.marketId,
      tradeId: settleKey,
      cause: 'SETTLEMENT',
      tradingDay: day,
      quantity: after.quantity,
      costBasis: after.costBasis,
      realizedPnl: after.realizedPnl,
      fees: after.fees,
      realizedDelta: (after.realizedPnl - before.realizedPnl) as Money,
      fee: 0 as Money,
      contractsTraded: 0,
      notionalTraded: 0 as Money,
      changedAt: input.at,
    });
    await tx
      .update(positions)
      .set({ quantity: after.quantity, costBasis: after.costBasis, realizedPnl: after.realizedPnl, updatedAt: sql`now()` })
      .where(and(eq(positions.account, account), eq(positions.marketId, input.marketId)));
    await appendAudit(tx, [
      { eventKey: settleKey, kind: 'SETTLEMENT', marketId: input.marketId, occurredAt: input.at, payload: { outcome: input.outcome, account, before, after } },
    ]);
    return { settled: true, position: { account, ...after } };
  });
}
