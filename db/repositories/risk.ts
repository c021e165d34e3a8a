/** Pre-trade risk decisions: approved or rejected, with every failing rule. Idempotent by decision ID. */
import { and, desc, eq, gte, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordConflict } from '../errors';
import { riskDecisions, type StoredRiskViolation } from '../schema';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { appendAudit } from './audit';
import { ACCOUNT_RE, differingFields, mapErrors, transaction } from './common';

export interface RiskDecisionRecord {
  /** Made from business keys (e.g. the client order ID, or "<coid>:<attempt>"). */
  decisionId: string;
  clientOrderId: string | null;
  account?: string;
  strategy: string;
  marketId: string;
  approved: boolean;
  /** Every failing rule; must be empty exactly when approved. */
  violations: StoredRiskViolation[];
  /** The order and context the decision was made on. */
  request: Record<string, unknown>;
  decidedAt: number;
}

function validate(d: RiskDecisionRecord): void {
  const problems: FieldProblem[] = [];
  if (typeof d.decisionId !== 'string' || d.decisionId.length === 0 || d.decisionId.length > 160) problems.push({ field: 'decisionId', value: d.decisionId, problem: 'must be 1-160 characters' });
  if (typeof d.strategy !== 'string' || d.strategy.length === 0) problems.push({ field: 'strategy', value: d.strategy, problem: 'must be a strategy name' });
  if (typeof d.marketId !== 'string' || d.marketId.length === 0) problems.push({ field: 'marketId', value: d.marketId, problem: 'must be a market ID' });
  if (typeof d.approved !== 'boolean') problems.push({ field: 'approved', value: d.approved, problem: 'must be true or false' });
  if (!Array.isArray(d.violations)) problems.push({ field: 'violations', value: d.violations, problem: 'must be an array' });
  else if (d.approved === (d.violations.length > 0)) {
    problems.push({ field: 'violations', value: d.violations.length, problem: d.approved ? 'must be empty for an approval' : 'must name every failing rule of a rejection' });
  }
  if (d.account !== undefined && !ACCOUNT_RE.test(d.account)) problems.push({ field: 'account', value: d.account, problem: 'must be 1-64 letters, digits, "_", "." or "-"' });
  if (!Number.isSafeInteger(d.decidedAt) || d.decidedAt < 0) problems.push({ field: 'decidedAt', value: d.decidedAt, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
}

export async function recordRiskDecision(ex: Executor, d: RiskDecisionRecord): Promise<{ inserted: boolean }> {
  validate(d);
  const row = {
    decisionId: d.decisionId,
    clientOrderId: d.clientOrderId,
    account: d.account ?? 'paper',
    strategy: d.strategy,
    marketId: d.marketId,
    approved: d.approved,
    violations: d.violations,
    request: d.request,
    decidedAt: d.decidedAt,
  };
  return transaction(ex, async (tx) => {
    const [inserted] = await tx.insert(riskDecisions).values(row).onConflictDoNothing().returning({ id: riskDecisions.decisionId });
    if (!inserted) {
      const [stored] = await tx.select().from(riskDecisions).where(eq(riskDecisions.decisionId, d.decisionId));
      const diff = differingFields(stored!, { ...stored!, ...row }, ['clientOrderId', 'account', 'strategy', 'marketId', 'approved', 'violations']);
      if (diff.length > 0) {
        const f = diff[0] as keyof typeof row;
        throw new RecordConflict('risk_decisions', d.decisionId, diff, stored![f], row[f]);
      }
      return { inserted: false };
    }
    await appendAudit(tx, [
      {
        eventKey: `RISK_DECISION:${d.decisionId}`,
        kind: 'RISK_DECISION',
        clientOrderId: d.clientOrderId,
        marketId: d.marketId,
        strategy: d.strategy,
        occurredAt: d.decidedAt,
        payload: { decisionId: d.decisionId, approved: d.approved, violations: d.violations },
      },
    ]);
    return { inserted: true };
  });
}

export async function listRiskDecisions(ex: Executor, filter: { strategy?: string; approved?: boolean; clientOrderId?: string; since?: number; limit?: number } = {}) {
  const where: SQL[] = [];
  if (filter.strategy !== undefined) where.push(eq(riskDecisions.strategy, filter.strategy));
  if (filter.approved !== undefined) where.push(eq(riskDecisions.approved, filter.approved));
  if (filter.clientOrderId !== undefined) where.push(eq(riskDecisions.clientOrderId, filter.clientOrderId));
  if (filter.since !== undefined) where.push(gte(riskDecisions.decidedAt, filter.since));
  return mapErrors(
    ex
      .select()
      .from(riskDecisions)
      .where(and(...where))
      .orderBy(desc(riskDecisions.decidedAt))
      .limit(filter.limit ?? 1000),
  );
}
