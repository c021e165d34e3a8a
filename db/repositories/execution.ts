/**
 * Execution-quality records, one per order. Writing again replaces the record: the workflow
 * writes it when the order ends, and a retry writes the same thing.
 */
import { and, desc, eq, gte, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { executionQuality } from '../schema';
import { validateExecutionRecord, slippageMicros, type ExecutionRecord } from '../../domain/execution-quality';
import { averagePrice, notional as notionalOf, sumQuantities, type Money } from '../../domain/money';
import { mapErrors } from './common';

export async function recordExecution(ex: Executor, r: ExecutionRecord): Promise<void> {
  validateExecutionRecord(r);
  const filled = sumQuantities(r.fills.map((f) => f.quantity));
  const notional = r.fills.reduce((s, f) => s + notionalOf(f.price, f.quantity), 0) as Money;
  const fees = r.fills.reduce((s, f) => s + f.fee, 0) as Money;
  const avg = filled > 0 ? averagePrice(notional, filled) : null;
  const row = {
    clientOrderId: r.clientOrderId,
    marketId: r.marketId,
    side: r.side,
    intendedPrice: r.intendedPrice,
    orderQuantity: r.orderQuantity,
    filledQuantity: filled,
    averageFillPrice: avg,
    slippage: avg === null ? null : (slippageMicros(r.side, r.intendedPrice, avg) as Money),
    fees,
    signalAt: r.signalAt,
    submittedAt: r.submittedAt,
    firstFillAt: r.firstFillAt,
    completedAt: r.completedAt,
    finalState: r.finalState,
    record: { ...r } as unknown as Record<string, unknown>,
  };
  const { clientOrderId: _key, ...update } = row;
  await mapErrors(ex.insert(executionQuality).values(row).onConflictDoUpdate({ target: executionQuality.clientOrderId, set: update }));
}

/** Records as the core's ExecutionRecord, for `summarise` and the alert checks. */
export async function listExecutions(ex: Executor, filter: { marketId?: string; since?: number; limit?: number } = {}): Promise<ExecutionRecord[]> {
  const where: SQL[] = [];
  if (filter.marketId !== undefined) where.push(eq(executionQuality.marketId, filter.marketId));
  if (filter.since !== undefined) where.push(gte(executionQuality.signalAt, filter.since));
  const rows = await mapErrors(
    ex
      .select({ record: executionQuality.record })
      .from(executionQuality)
      .where(and(...where))
      .orderBy(desc(executionQuality.signalAt))
      .limit(filter.limit ?? 1000),
  );
  return rows.map((r) => r.record as unknown as ExecutionRecord);
}
