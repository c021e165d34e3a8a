/**
 * Shadow trading's records: the quotes a shadow session decided on (for the replay) and one
 * comparison per decision. Both writes are idempotent on their keys: a retried activity writes
 * once, and a second write of the same key with other figures is a conflict, not an overwrite.
 */
import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
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

/** A market's recorded warm state and quotes in a shadow run from `from` up to `until` (both inclusive, absent: no bound), oldest first. */
export async function listShadowQuotes(ex: Executor, filter: { shadowRun: string; marketId: string; until?: number; from?: number }): Promise<ShadowQuoteRow[]> {
  const rows = await mapErrors(
    ex
      .select()
      .from(shadowQuotes)
      .where(
        and(
          eq(shadowQuotes.shadowRun, filter.shadowRun),
          eq(shadowQuotes.marketId, filter.marketId),
          filter.until === undefined ? undefined : lte(shadowQuotes.quotedAt, filter.until),
          filter.from === undefined ? undefined : gte(shadowQuotes.quotedAt, filter.from),
        ),
      )
      .orderBy(asc(shadowQuotes.quotedAt)),
  );
  return rows.map((r) => ({ marketId: r.marketId, kind: r.kind as 'WARM' | 'QUOTE', quotedAt: r.quotedAt, payload: r.payload }));
}

/** A decision's paper order as worked so far (domain/shadow.ts `workPaperOrder`), kept in the comparison's detail. */
export interface ShadowPaperOrder {
  status: 'WORKING' | 'FILLED' | 'EXPIRED';
  ttlMs: number;
  expiresAt: number;
  workedThrough: number;
  fills: { quotedAt: number; quantity: number; price: number; fee: number; touch: number; bookPrice: number | null }[];
}

/**
 * Writes what a working paper order has done since: its fills and their totals, the slippage they
 * measured, and its status. Idempotent and monotonic: the figures are recomputed from the
 * decision key and the recorded quotes, so a retry writes the same; a row whose order is no longer
 * WORKING, or that was already worked as far (same quote, same status), is left as it is.
 * Returns whether it wrote.
 */
export async function recordShadowPaperOrder(
  ex: Executor,
  decisionKey: string,
  work: { paperFilled: Quantity; paperPrice: Price | null; paperFee: Money; modelledSlippage: Money | null; observedSlippage: Money | null; paperOrder: ShadowPaperOrder },
): Promise<boolean> {
  const order = work.paperOrder;
  const updated = await mapErrors(
    ex
      .update(shadowComparisons)
      .set({
        paperFilled: work.paperFilled,
        paperPrice: work.paperPrice,
        paperFee: work.paperFee,
        modelledSlippage: work.modelledSlippage,
        ...(work.paperFilled > 0 ? { observedSlippage: work.observedSlippage } : {}),
        detail: sql`jsonb_set(${shadowComparisons.detail}, '{paperOrder}', ${JSON.stringify(order)}::jsonb)`,
      })
      .where(
        and(
          eq(shadowComparisons.decisionKey, decisionKey),
          sql`${shadowComparisons.detail}->'paperOrder'->>'status' = 'WORKING'`,
          sql`((${shadowComparisons.detail}->'paperOrder'->>'workedThrough')::bigint < ${order.workedThrough} or ${order.status} <> 'WORKING')`,
        ),
      )
      .returning({ decisionKey: shadowComparisons.decisionKey }),
  );
  return updated.length > 0;
}

/** The run's comparisons whose paper order still works. */
export async function listWorkingShadowOrders(ex: Executor, shadowRun: string): Promise<ShadowComparisonRow[]> {
  return mapErrors(
    ex
      .select()
      .from(shadowComparisons)
      .where(and(eq(shadowComparisons.shadowRun, shadowRun), sql`${shadowComparisons.detail}->'paperOrder'->>'status' = 'WORKING'`))
      .orderBy(asc(shadowComparisons.decidedAt), asc(shadowComparisons.decisionKey)),
  );
}
