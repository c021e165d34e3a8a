/**
 * Alerts are recorded under their dedupe key BEFORE they are sent, so a
 * retried activity finds the key and sends nothing; the delivery result is written afterwards.
 */
import { and, desc, eq, gte, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordNotFound } from '../errors';
import { ALERT_DELIVERY, ALERT_LEVELS, alerts } from '../schema';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { mapErrors } from './common';

export type AlertLevel = (typeof ALERT_LEVELS)[number];
export type AlertDelivery = (typeof ALERT_DELIVERY)[number];

export interface AlertRecordInput {
  level: AlertLevel;
  type: string;
  dedupeKey: string;
  title: string;
  body: string;
  raisedAt: number;
}

export type StoredAlert = typeof alerts.$inferSelect;

const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;

/** inserted = false when the dedupe key was already recorded: the caller must not send again. */
export async function recordAlert(ex: Executor, a: AlertRecordInput): Promise<{ inserted: boolean; alert: StoredAlert }> {
  const problems: FieldProblem[] = [];
  if (!(ALERT_LEVELS as readonly string[]).includes(a.level)) problems.push({ field: 'level', value: a.level, problem: `must be one of ${ALERT_LEVELS.join(', ')}` });
  if (!text(a.type, 64)) problems.push({ field: 'type', value: a.type, problem: 'must be 1-64 characters' });
  if (!text(a.dedupeKey, 256)) problems.push({ field: 'dedupeKey', value: a.dedupeKey, problem: 'must be 1-256 characters' });
  if (!text(a.title, 300)) problems.push({ field: 'title', value: a.title, problem: 'must be 1-300 characters' });
  if (typeof a.body !== 'string' || a.body.length > 10_000) problems.push({ field: 'body', value: a.body, problem: 'must be text of at most 10000 characters' });
  if (!Number.isSafeInteger(a.raisedAt) || a.raisedAt < 0) problems.push({ field: 'raisedAt', value: a.raisedAt, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  const [inserted] = await mapErrors(ex.insert(alerts).values(a).onConflictDoNothing({ target: alerts.dedupeKey }).returning());
  if (inserted) return { inserted: true, alert: inserted };
  const [stored] = await mapErrors(ex.select().from(alerts).where(eq(alerts.dedupeKey, a.dedupeKey)));
  return { inserted: false, alert: stored! };
}

/** Writes how delivery went. Only a PENDING alert changes, so a retry cannot overwrite a result. */
export async function markAlertDelivery(
  ex: Executor,
  dedupeKey: string,
  result: { delivery: Exclude<AlertDelivery, 'PENDING'>; at: number; error?: string | null },
): Promise<{ changed: boolean }> {
  if (!(ALERT_DELIVERY as readonly string[]).includes(result.delivery) || result.delivery === ('PENDING' as string)) {
    throw InvalidInput.of('delivery', result.delivery, 'must be SENT, FAILED or SUPPRESSED');
  }
  if (!Number.isSafeInteger(result.at)) throw InvalidInput.of('at', result.at, 'must be epoch milliseconds');
  const rows = await mapErrors(
    ex
      .update(alerts)
      .set({ delivery: result.delivery, sentAt: result.delivery === 'SENT' ? result.at : null, deliveryError: result.error ?? null })
      .where(and(eq(alerts.dedupeKey, dedupeKey), eq(alerts.delivery, 'PENDING')))
      .returning({ id: alerts.id }),
  );
  if (rows.length > 0) return { changed: true };
  const [exists] = await mapErrors(ex.select({ id: alerts.id }).from(alerts).where(eq(alerts.dedupeKey, dedupeKey)));
  if (!exists) throw new RecordNotFound('alerts', 'dedupe_key', dedupeKey);
  return { changed: false };
}

/** The newest SENT alert of a level and type, for per-(level, type) cooldowns. */
export async function lastSentAlert(ex: Executor, level: AlertLevel, type: string): Promise<StoredAlert | null> {
  const [row] = await mapErrors(
    ex
      .select()
      .from(alerts)
      .where(and(eq(alerts.level, level), eq(alerts.type, type), eq(alerts.delivery, 'SENT')))
      .orderBy(desc(alerts.sentAt))
      .limit(1),
  );
  return row ?? null;
}

export async function listAlerts(ex: Executor, filter: { level?: AlertLevel; type?: string; since?: number; delivery?: AlertDelivery; limit?: number } = {}): Promise<StoredAlert[]> {
  const where: SQL[] = [];
  if (filter.level !== undefined) where.push(eq(alerts.level, filter.level));
  if (filter.type !== undefined) where.push(eq(alerts.type, filter.type));
  if (filter.since !== undefined) where.push(gte(alerts.raisedAt, filter.since));
  if (filter.delivery !== undefined) where.push(eq(alerts.delivery, filter.delivery));
  return mapErrors(
    ex
      .select()
      .from(alerts)
      .where(and(...where))
      .orderBy(desc(alerts.raisedAt), desc(alerts.id))
      .limit(filter.limit ?? 500),
  );
}
