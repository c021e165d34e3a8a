/**
 * What a reconciliation run keeps in its record: the outcome, the cash anchor it compared with
 * and any adoption of the venue's figures. Shared by the comparison (reconciliation.ts) and the
 * adoption (adoption.ts).
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db';
import { mapErrors } from '../db/repositories/common';
import { reconciliationRuns } from '../db/schema';
import type { Money, Price } from '../domain/money';
import type { ReconciliationOutcome } from '../contracts/activities';

export interface CashAnchor {
  /** Local cash = baseline + net cash flow of the records. */
  baseline: Money;
  at: number;
  source: 'FIRST_RUN' | 'CARRIED' | 'ADOPTED';
}

export interface Adoption {
  at: number;
  operator: string;
  reason: string;
  adopted: { marketId: string; before: number; after: number; bookedAt: Price | null; costBasisChange: Money }[];
  skipped: { marketId: string; reason: string }[];
  cashAdopted: boolean;
  cash: CashAnchor;
}

export interface RunSummary {
  outcome?: ReconciliationOutcome;
  cash?: CashAnchor & { local: Money; venue: Money; netCashFlow: Money; derivation: string };
  adoption?: Adoption;
  /** Venue fills recorded by the sync that preceded the comparison. */
  fillsSynced?: number;
  /** Venue settlements booked by the sync that preceded the comparison. */
  settlementsBooked?: number;
}

export const CASH_DERIVATION = 'local cash = baseline + sum over positions of (realized P&L - cost basis - fees); baseline fixed at the first run, moved by adoptions';

export const POSITION_KINDS = new Set(['POSITION_LOCAL_ONLY', 'POSITION_VENUE_ONLY', 'POSITION_QUANTITY_MISMATCH']);

export const validText = (v: unknown, max: number): boolean => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

export async function getRun(ex: Executor, runId: string, lock = false) {
  const q = ex.select().from(reconciliationRuns).where(eq(reconciliationRuns.runId, runId));
  const [row] = await mapErrors(lock ? q.for('update') : q);
  return row ?? null;
}

/** The newest cash anchor recorded for the account (a run's own or an adoption's). */
export async function latestAnchor(ex: Executor, account: string, excludeRunId: string | null): Promise<CashAnchor | null> {
  const rows = await mapErrors(
    ex
      .select({ runId: reconciliationRuns.runId, summary: reconciliationRuns.summary })
      .from(reconciliationRuns)
      .where(and(eq(reconciliationRuns.account, account), sql`${reconciliationRuns.summary} is not null`))
      .orderBy(desc(reconciliationRuns.startedAt))
      .limit(200),
  );
  let best: CashAnchor | null = null;
  for (const r of rows) {
    if (r.runId === excludeRunId) continue;
    const s = r.summary as RunSummary;
    for (const a of [s.cash, s.adoption?.cash]) {
      if (a && Number.isSafeInteger(a.baseline) && (best === null || a.at > best.at)) best = { baseline: a.baseline, at: a.at, source: a.source };
    }
  }
  return best;
}
