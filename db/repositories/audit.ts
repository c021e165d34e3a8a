/**
 * The append-only audit log: every signal, order event, fill, risk decision, breaker change and
 * operator action, each under an idempotency key so a retried write appends nothing.
 */
import { and, asc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { auditLog, AUDIT_KINDS } from '../schema';
import { InvalidInput } from '../../domain/errors';
import { mapErrors } from './common';

export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditEntry {
  eventKey: string;
  kind: AuditKind;
  clientOrderId?: string | null;
  marketId?: string | null;
  strategy?: string | null;
  occurredAt: number;
  payload: Record<string, unknown>;
}

export interface StoredAuditEntry extends Required<AuditEntry> {
  seq: number;
  recordedAt: number;
}

/** Inserts entries whose keys are new; existing keys are left as they are. */
export async function appendAudit(ex: Executor, entries: readonly AuditEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const rows = await ex
    .insert(auditLog)
    .values(
      entries.map((e) => ({
        eventKey: e.eventKey,
        kind: e.kind,
        clientOrderId: e.clientOrderId ?? null,
        marketId: e.marketId ?? null,
        strategy: e.strategy ?? null,
        occurredAt: e.occurredAt,
        payload: e.payload,
      })),
    )
    .onConflictDoNothing({ target: auditLog.eventKey })
    .returning({ seq: auditLog.seq });
  return rows.length;
}

export interface SignalRecord {
  /** Unique per signal, e.g. "<strategy>:<market>:<at>" or the client order ID it led to. */
  signalId: string;
  strategy: string;
  marketId: string;
  clientOrderId?: string | null;
  at: number;
  payload: Record<string, unknown>;
}

export async function recordSignal(ex: Executor, s: SignalRecord): Promise<boolean> {
  if (typeof s.signalId !== 'string' || s.signalId.length === 0) throw InvalidInput.of('signalId', s.signalId, 'must be a non-empty string');
  if (!Number.isSafeInteger(s.at)) throw InvalidInput.of('at', s.at, 'must be epoch milliseconds');
  const n = await mapErrors(
    appendAudit(ex, [
      { eventKey: `SIGNAL:${s.signalId}`, kind: 'SIGNAL', clientOrderId: s.clientOrderId ?? null, marketId: s.marketId, strategy: s.strategy, occurredAt: s.at, payload: s.payload },
    ]),
  );
  return n === 1;
}

const toStored = (r: typeof auditLog.$inferSelect): StoredAuditEntry => ({ ...r, kind: r.kind as AuditKind });

/** Everything recorded about one order, from its signal to its final state, in time order. */
export async function orderAuditTrail(ex: Executor, clientOrderId: string): Promise<StoredAuditEntry[]> {
  const rows = await mapErrors(
    ex.select().from(auditLog).where(eq(auditLog.clientOrderId, clientOrderId)).orderBy(asc(auditLog.occurredAt), asc(auditLog.seq)),
  );
  return rows.map(toStored);
}

export async function listAudit(
  ex: Executor,
  filter: { kind?: AuditKind; from?: number; to?: number; limit?: number } = {},
): Promise<StoredAuditEntry[]> {
  const where: SQL[] = [];
  if (filter.kind) where.push(eq(auditLog.kind, filter.kind));
  if (filter.from !== undefined) where.push(gte(auditLog.occurredAt, filter.from));
  if (filter.to !== undefined) where.push(lt(auditLog.occurredAt, filter.to));
  const rows = await mapErrors(
    ex
      .select()
      .from(auditLog)
      .where(and(...where))
      .orderBy(asc(auditLog.seq))
      .limit(filter.limit ?? 1000),
  );
  return rows.map(toStored);
}
