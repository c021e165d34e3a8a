/**
 * Shadow trading's records: the quotes a shadow session decided on (for the replay) and one
 * comparison per decision. Both writes are idempotent on their keys: a retried activity writes
 * once, and a second write of the same key with other figures is a conflict, not an overwrite.
 */
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordConflict, RecordNotFound } from '../errors';
import { shadowComparisons, shadowQuotes } from '../schema';
import type { Money, Price, Quantity } from '../../domain/money';
import type { Side } from '../../domain/market';
import { differingFields, mapErrors } from './common';

export type ShadowComparisonRow = typeof shadowComparisons.$inferSelect;
export type NewShadowComparison = Omit<typeof shadowComparisons.$inferInsert, 'recordedAt'> & {
  side: Side;
  quantity: Quantity;
  paperFilled: Quantity;
  bookFilled: Quantity;
  paperFee: Money;
  limitPrice: Price | null;
};

const COMPARED_FIELDS = ['shadowRun', 'marketId', 'side', 'quantity', 'aligned', 'riskApproved', 'paperFilled', 'paperPrice', 'bookFilled', 'bookPrice'] as const;

/**
 * Records a decision's comparison once. Returns the stored row: the new one, or the one a
 * previous attempt wrote (which must agree on the figures: a decision is computed from its key).
 */
export async function recordShadowComparison(ex: Executor, row: NewShadowComparison): Promise<{ row: ShadowComparisonRow; inserted: boolean }> {
  const inserted = await mapErrors(ex.insert(shadowComparisons).values(row).onConflictDoNothing().returning());
  if (inserted[0]) return { row: inserted[0], inserted: true };
  const [stored] = await mapErrors(ex.select().from(shadowComparisons).where(eq(shadowComparisons.decisionKey, row.decisionKey)));
  if (!stored) throw new RecordNotFound('shadow_comparisons', 'decision_key', row.decisionKey);
  const differ = differingFields(stored as Record<string, unknown>, row as Record<string, unknown>, COMPARED_FIELDS);
  if (differ.length > 0) {
    const first = differ[0] as keyof ShadowComparisonRow;
    throw new RecordConflict('shadow_comparisons', row.decisionKey, differ, stored[first], (row as Record<string, unknown>)[first]);
  }
  return { row: stored, inserted: false };
}

export async function listShadowComparisons(ex: Executor, filter: { shadowRun?: string; strategy?: string; tradingDay?: string }): Promise<ShadowComparisonRow[]> {
  const where = and(
    filter.shadowRun === undefined ? undefined : eq(shadowComparisons.shadowRun, filter.shadowRun),
    filter.strategy === undefined ? undefined : eq(shadowComparisons.strategy, filter.strategy),
    filter.tradingDay === undefined ? undefined : eq(shadowComparisons.tradingDay, filter.tradingDay),
  );
  return mapErrors(ex.select().from(shadowComparisons).where(where).orderBy(asc(shadowComparisons.decidedAt), asc(shadowComparisons.decisionKey)));
}

/** The shadow runs on record, newest first, with their decision counts. */
export async function listShadowRuns(ex: Executor, filter: { strategy?: string } = {}): Promise<{ shadowRun: string; sessionId: string; strategy: string; tradingDay: string; decisions: number; lastDecidedAt: number }[]> {
  const rows = await mapErrors(
    ex
      .select({
        shadowRun: shadowComparisons.shadowRun,
        sessionId: shadowComparisons.sessionId,
        strategy: shadowComparisons.strategy,
        tradingDay: shadowComparisons.tradingDay,
        decisions: sql<string>`count(*)`,
        last: sql<string>`(extract(epoch from max(${shadowComparisons.decidedAt})) * 1000)::bigint`,
      })
      .from(shadowComparisons)
      .where(filter.strategy === undefined ? undefined : eq(shadowComparisons.strategy, filter.strategy))
      .groupBy(shadowComparisons.shadowRun, shadowComparisons.sessionId, shadowComparisons.strategy, shadowComparisons.tradingDay),
  );
  return rows
    .map((r) => ({ shadowRun: r.shadowRun, sessionId: r.sessionId, strategy: r.strategy, tradingDay: r.tradingDay, decisions: Number(r.decisions), lastDecidedAt: Number(r.last) }))
    .sort((a, b) => b.lastDecidedAt - a.lastDecidedAt);
}

export interface ShadowQuoteRow {
  marketId: string;
  kind: 'WARM' | 'QUOTE';
  quotedAt: number;
  payload: Record<string, unknown>;
}

/** Records quotes (and warm states) of a shadow run; a quote already recorded is left as it is. */
export async function recordShadowQuotes(ex: Executor, shadowRun: string, rows: readonly ShadowQuoteRow[]): Promise<void> {
  if (rows.length === 0) return;
  await mapErrors(
    ex
      .insert(shadowQuotes)
      .values(rows.map((r) => ({ shadowRun, ...r })))
      .onConflictDoNothing(),
  );
}

/** A market's recorded warm state and quotes in a shadow run up to `until` (inclusive), oldest first. */
export async function listShadowQuotes(ex: Executor, filter: { shadowRun: string; marketId: string; until: number }): Promise<ShadowQuoteRow[]> {
  const rows = await mapErrors(
    ex
      .select()
      .from(shadowQuotes)
      .where(and(eq(shadowQuotes.shadowRun, filter.shadowRun), eq(shadowQuotes.marketId, filter.marketId), lte(shadowQuotes.quotedAt, filter.until)))
      .orderBy(asc(shadowQuotes.quotedAt)),
  );
  return rows.map((r) => ({ marketId: r.marketId, kind: r.kind as 'WARM' | 'QUOTE', quotedAt: r.quotedAt, payload: r.payload }));
}
