/** Reconciliation runs against the venue and the discrepancies each found. */
import { asc, desc, eq } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordNotFound } from '../errors';
import { RECONCILIATION_STATUSES, reconciliationDiscrepancies, reconciliationRuns } from '../schema';
import { InvalidInput } from '../../domain/errors';
import { appendAudit } from './audit';
import { mapErrors, transaction } from './common';

export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

export interface Discrepancy {
  /** Stable within the run, e.g. "POSITION:<market>" or "ORDER:<clientOrderId>". */
  key: string;
  kind: string;
  marketId?: string | null;
  clientOrderId?: string | null;
  local: unknown;
  venue: unknown;
  resolution?: string | null;
}

export async function startReconciliationRun(ex: Executor, run: { runId: string; account?: string; policy?: string | null; startedAt: number }): Promise<{ inserted: boolean }> {
  if (typeof run.runId !== 'string' || run.runId.length === 0) throw InvalidInput.of('runId', run.runId, 'must be a non-empty ID');
  if (!Number.isSafeInteger(run.startedAt)) throw InvalidInput.of('startedAt', run.startedAt, 'must be epoch milliseconds');
  const rows = await mapErrors(
    ex
      .insert(reconciliationRuns)
      .values({ runId: run.runId, account: run.account ?? 'paper', status: 'RUNNING', policy: run.policy ?? null, startedAt: run.startedAt })
      .onConflictDoNothing()
      .returning({ id: reconciliationRuns.runId }),
  );
  return { inserted: rows.length === 1 };
}

/** Adds discrepancies to a run; ones already recorded under the same key are skipped. */
export async function recordDiscrepancies(ex: Executor, runId: string, items: readonly Discrepancy[], at: number): Promise<{ inserted: number }> {
  items.forEach((d, i) => {
    if (typeof d.key !== 'string' || d.key.length === 0) throw InvalidInput.of(`discrepancies[${i}].key`, d.key, 'must be a non-empty key');
    if (typeof d.kind !== 'string' || d.kind.length === 0) throw InvalidInput.of(`discrepancies[${i}].kind`, d.kind, 'must name the kind');
  });
  if (items.length === 0) return { inserted: 0 };
  return transaction(ex, async (tx) => {
    const [run] = await tx.select({ id: reconciliationRuns.runId }).from(reconciliationRuns).where(eq(reconciliationRuns.runId, runId));
    if (!run) throw new RecordNotFound('reconciliation_runs', 'run_id', runId);
    const rows = await tx
      .insert(reconciliationDiscrepancies)
      .values(
        items.map((d) => ({
          runId,
          discrepancyKey: d.key,
          kind: d.kind,
          marketId: d.marketId ?? null,
          clientOrderId: d.clientOrderId ?? null,
          local: d.local ?? null,
          venue: d.venue ?? null,
          resolution: d.resolution ?? null,
        })),
      )
      .onConflictDoNothing()
      .returning({ key: reconciliationDiscrepancies.discrepancyKey });
    await appendAudit(
      tx,
      items.map((d) => ({
        eventKey: `RECONCILIATION:${runId}:${d.key}`,
        kind: 'RECONCILIATION' as const,
        clientOrderId: d.clientOrderId ?? null,
        marketId: d.marketId ?? null,
        occurredAt: at,
        payload: { runId, kind: d.kind, local: d.local ?? null, venue: d.venue ?? null },
      })),
    );
    return { inserted: rows.length };
  });
}

export async function finishReconciliationRun(
  ex: Executor,
  runId: string,
  result: { status: Exclude<ReconciliationStatus, 'RUNNING'>; finishedAt: number; summary?: Record<string, unknown> },
): Promise<void> {
  if (!(RECONCILIATION_STATUSES as readonly string[]).includes(result.status) || result.status === ('RUNNING' as string)) {
    throw InvalidInput.of('status', result.status, 'must be CLEAN, DISCREPANCIES or FAILED');
  }
  const rows = await mapErrors(
    ex
      .update(reconciliationRuns)
      .set({ status: result.status, finishedAt: result.finishedAt, summary: result.summary ?? null })
      .where(eq(reconciliationRuns.runId, runId))
      .returning({ id: reconciliationRuns.runId }),
  );
  if (rows.length === 0) throw new RecordNotFound('reconciliation_runs', 'run_id', runId);
}

export async function listReconciliationRuns(ex: Executor, limit = 50) {
  return mapErrors(ex.select().from(reconciliationRuns).orderBy(desc(reconciliationRuns.startedAt)).limit(limit));
}

export async function listDiscrepancies(ex: Executor, runId: string) {
  return mapErrors(
    ex.select().from(reconciliationDiscrepancies).where(eq(reconciliationDiscrepancies.runId, runId)).orderBy(asc(reconciliationDiscrepancies.id)),
  );
}
