/**
 * Adopting the venue's figures into the records (`adoptVenueFigures`), for a finished
 * reconciliation run, once per run: for each position difference the run recorded, the venue's
 * current quantity is written into the records if it still equals what the run saw (else the
 * market is skipped: the next run decides). The difference is booked without realizing P&L:
 * at the position's own average entry while it keeps its side (reducing keeps the exact entry
 * ratio), at the venue's mark (mid, else last) when a position opens or changes side. Fills
 * are never touched; the change is in the audit log (RECONCILIATION, `adoptionAuditKey`)
 * and the journal (OVERRIDE under the run ID, sequence 0). Booking moves the cost basis, so the
 * cash baseline moves by the same amount (cash unchanged), unless the run found a cash
 * difference: then local cash is set to the venue's.
 */
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../domain/operator-request';
import { and, eq, sql } from 'drizzle-orm';
import { appendAudit, listDiscrepancies, listPositions, recordOperatorAction, RecordNotFound } from '../db';
import { transaction } from '../db/repositories/common';
import { positions, reconciliationRuns } from '../db/schema';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { adoptionAuditKey } from '../domain/ids';
import { averageEntryPrice, positionsNetCashFlow, type Position } from '../domain/ledger';
import { markPrice } from '../domain/market';
import { mulDiv, notional, quantityLots, subtractQuantity, type Money, type Price } from '../domain/money';
import type { OperationsActivities } from '../contracts/activities';
import { reportOperatorAction, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import { getRun, latestAnchor, POSITION_KINDS, validText, type Adoption, type RunSummary } from './reconciliation-runs';

/** How a recorded position changes to hold `target` contracts (two decimals at most), without realizing P&L. */
export function bookAdoption(before: Position, target: number, mark: Price | null): { after: Position; bookedAt: Price | null } | null {
  const q = before.quantity;
  if (target === q) return { after: before, bookedAt: null };
  if (target === 0) return { after: { ...before, quantity: 0, costBasis: 0 as Money }, bookedAt: averageEntryPrice(before) };
  const sameSide = q !== 0 && q > 0 === target > 0;
  if (sameSide && Math.abs(target) < Math.abs(q)) {
    return { after: { ...before, quantity: target, costBasis: mulDiv(before.costBasis, quantityLots(target, 'target'), quantityLots(q)) as Money }, bookedAt: averageEntryPrice(before) };
  }
  if (sameSide) {
    const entry = averageEntryPrice(before) as Price;
    return { after: { ...before, quantity: target, costBasis: (before.costBasis + notional(entry, subtractQuantity(target, q))) as Money }, bookedAt: entry };
  }
  if (mark === null) return null;
  return { after: { ...before, quantity: target, costBasis: notional(mark, target) }, bookedAt: mark };
}


async function adoptVenueFigures(deps: ActivityDeps, input: { runId: string; operator: string; reason: string }): Promise<void> {
  const { db, venue, config, clock } = deps;
  const account = config.account;
  const problems: FieldProblem[] = [];
  if (!validText(input?.runId, 200)) problems.push({ field: 'runId', value: input?.runId, problem: 'must be a workflow ID of 1-200 characters' });
  for (const [field, max] of [['operator', MAX_OPERATOR_LENGTH], ['reason', MAX_REASON_LENGTH]] as const) {
    const problem = operatorTextProblem(input?.[field], max);
    if (problem !== null) problems.push({ field, value: input?.[field], problem });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  const { runId, operator, reason } = input;

  const run = await getRun(db, runId);
  if (!run) throw new RecordNotFound('reconciliation_runs', 'run_id', runId);
  if (run.account !== account) throw InvalidInput.of('runId', runId, `is a run of account ${run.account}, not ${account}`);
  if (run.status === 'RUNNING') throw InvalidInput.of('runId', runId, 'has not finished: reconcile before adopting');
  if ((run.summary as RunSummary | null)?.adoption) return;

  const found = await listDiscrepancies(db, runId);
  const seen = new Map<string, number>();
  for (const d of found) if (POSITION_KINDS.has(d.kind) && d.marketId) seen.set(d.marketId, Number(d.venue ?? 0));
  const cashSeen = found.some((d) => d.kind === 'CASH_MISMATCH');

  const venueNow = new Map((await venue.getPositions()).map((p) => [p.marketId, p.quantity]));
  const venueCash = cashSeen ? (await venue.getBalance()).cash : null;
  const recordedNow = new Map((await listPositions(db, { account })).map((p) => [p.marketId, p]));
  // A mark only where a position opens or changes side (no entry price to book at).
  const marks = new Map<string, Price | null>();
  for (const [marketId] of seen) {
    const target = venueNow.get(marketId) ?? 0;
    const q = recordedNow.get(marketId)?.quantity ?? 0;
    if (target === 0 || (q !== 0 && q > 0 === target > 0)) continue;
    let mark: Price | null = null;
    try {
      mark = markPrice(await venue.getMarketSnapshot(marketId));
    } catch {
      mark = null;
    }
    marks.set(marketId, mark ?? recordedNow.get(marketId)?.mark ?? null);
  }

  const at = clock();
  let journaled: Record<string, unknown> | null = null;
  await transaction(db, async (tx) => {
    journaled = null;
    const locked = await getRun(tx, runId, true);
    if (!locked || (locked.summary as RunSummary | null)?.adoption) return;
    const adoption: Adoption = { at, operator, reason, adopted: [], skipped: [], cashAdopted: false, cash: { baseline: 0 as Money, at, source: 'ADOPTED' } };
    let costBasisChange = 0;
    for (const marketId of [...seen.keys()].sort()) {
      const target = venueNow.get(marketId) ?? 0;
      if (target !== seen.get(marketId)) {
        adoption.skipped.push({ marketId, reason: `the venue now holds ${target}, not the ${seen.get(marketId)} the run saw` });
        continue;
      }
      const [row] = await tx
        .select()
        .from(positions)
        .where(and(eq(positions.account, account), eq(positions.marketId, marketId)))
        .for('update');
      const before: Position = row
        ? { marketId, quantity: row.quantity, costBasis: row.costBasis, realizedPnl: row.realizedPnl, fees: row.fees }
        : { marketId, quantity: 0, costBasis: 0 as Money, realizedPnl: 0 as Money, fees: 0 as Money };
      if (before.quantity === target) {
        adoption.skipped.push({ marketId, reason: 'the records already agree' });
        continue;
      }
      const booked = bookAdoption(before, target, marks.get(marketId) ?? null);
      if (booked === null) {
        adoption.skipped.push({ marketId, reason: 'no venue price to book the new position at' });
        continue;
      }
      const { after, bookedAt } = booked;
      if (row) {
        await tx
          .update(positions)
          .set({ quantity: after.quantity, costBasis: after.costBasis, updatedAt: sql`now()` })
          .where(and(eq(positions.account, account), eq(positions.marketId, marketId)));
      } else {
        await tx.insert(positions).values({ account, marketId, quantity: after.quantity, costBasis: after.costBasis });
      }
      const change = (after.costBasis - before.costBasis) as Money;
      costBasisChange += change;
      adoption.adopted.push({ marketId, before: before.quantity, after: after.quantity, bookedAt, costBasisChange: change });
      await appendAudit(tx, [
        {
          eventKey: adoptionAuditKey(runId, marketId),
          kind: 'RECONCILIATION',
          marketId,
          occurredAt: at,
          payload: { runId, operator, reason, account, before, after, bookedAt },
        },
      ]);
    }
    const anchor = (await latestAnchor(tx, account, null)) ?? { baseline: 0 as Money, at, source: 'FIRST_RUN' as const };
    if (venueCash !== null) {
      const flow = positionsNetCashFlow(await listPositions(tx, { account }));
      adoption.cash.baseline = (venueCash - flow) as Money;
      adoption.cashAdopted = true;
    } else {
      adoption.cash.baseline = (anchor.baseline + costBasisChange) as Money;
    }
    await recordOperatorAction(tx, {
      action: 'OVERRIDE',
      operator,
      reason,
      workflowId: runId,
      sequence: 0,
      details: {
        kind: 'ADOPT_VENUE_FIGURES',
        runId,
        adoptedMarkets: adoption.adopted.map((a) => `${a.marketId}:${a.before}->${a.after}`).join(',') || null,
        skippedMarkets: adoption.skipped.map((s) => s.marketId).join(',') || null,
        cashAdopted: adoption.cashAdopted,
      },
      at,
    });
    journaled = {
      kind: 'ADOPT_VENUE_FIGURES',
      runId,
      adoptedMarkets: adoption.adopted.map((a) => `${a.marketId}:${a.before}->${a.after}`).join(',') || null,
      cashAdopted: adoption.cashAdopted,
    };
    const summary: RunSummary = { ...((locked.summary as RunSummary | null) ?? {}), adoption };
    await tx
      .update(reconciliationRuns)
      .set({ summary: summary as Record<string, unknown> })
      .where(eq(reconciliationRuns.runId, runId));
  });
  const details = journaled as Record<string, unknown> | null;
  if (details) reportOperatorAction(deps, { action: 'OVERRIDE', operator, reason, workflowId: runId, sequence: 0, details });
}

export function createAdoptionActivities(deps: ActivityDeps): Pick<OperationsActivities, 'adoptVenueFigures'> {
  return {
    adoptVenueFigures: (input) => runActivity(() => adoptVenueFigures(deps, input)),
  };
}
