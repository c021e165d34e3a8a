/**
 * Alerts (the reference's alert table): recorded under their dedupe key before anything is sent, emailed
 * (and posted to the webhook, when one is configured) when the level calls for it, throttled per (level, type).
 *
 * Who is emailed: the levels of `config.alertEmailLevels` (ALERT_EMAIL_LEVELS), by default CRITICAL
 * and HIGH as in the reference's AlertManager; the others are only recorded. Reports (type
 * DAILY_REPORT) are emailed at any level and never throttled: they are asked for, once a day.
 * Cooldown: an emailable alert whose (level, type) was emailed, or is being emailed, within
 * `config.alertCooldownMs` (reference: 5 minutes) is recorded as SUPPRESSED and not emailed.
 *
 * Delivery protocol. The `delivery` column of the alert row is the state:
 *
 *   (no row) --decide--> SUPPRESSED                      not emailed (level, cooldown, no mailer)
 *   (no row) --decide--> PENDING --send ok-----> SENT
 *                                --send failed-> FAILED --retry claims--> PENDING ...
 *
 * - Deciding and recording happen in one transaction (serialised per level and type by an
 *   advisory lock, so two alerts of the same kind cannot both slip past the cooldown). A
 *   SUPPRESSED row is final when it appears; the reason is in `delivery_error`
 *   (RECORDED_ONLY / NO_MAILER / COOLDOWN).
 * - PENDING means "claimed for sending; the email may already have left". The row commits
 *   before the SMTP conversation starts. A retry that finds PENDING sends nothing and answers
 *   DUPLICATE: a worker that died after the send but before writing SENT must not send twice.
 *   The price is at-most-once: a crash in the instant between the commit and the SMTP
 *   connection leaves the alert recorded (PENDING, visible on the dashboard) but unsent.
 * - FAILED means the SMTP server refused or could not be reached: nothing was accepted, so the
 *   activity throws a retryable ALERT_DELIVERY_FAILED and Temporal's retry claims the row back
 *   (FAILED -> PENDING, a compare-and-set, so one retry wins) and sends again. The row shows
 *   the last error meanwhile. The one SMTP window this cannot close, a server that accepted
 *   the message but whose reply was lost, can produce a second copy; both carry the same
 *   Message-ID (derived from the dedupe key), which mail clients fold into one.
 * - SENT and SUPPRESSED are final: the same key again answers DUPLICATE.
 *
 * The message ID is not a column of its own: it is `alertMessageId(dedupeKey)`, the same for
 * every attempt, and the server's answer is not needed to find the message.
 *
 * Sinks. An alert the decision sends goes to every configured sink (EMAIL, WEBHOOK) through the
 * same decision: same levels, one cooldown per (level, type), one alert row. Each sink's delivery
 * has its own row in `alert_deliveries` (PENDING -> SENT | FAILED), inserted PENDING in the
 * deciding transaction. The alert row is SENT when every sink took it and FAILED when any did
 * not; the retry that claims a FAILED alert claims only the sinks whose row is FAILED (again a
 * compare-and-set), so an email that went out is not sent again because the webhook failed, nor
 * the reverse. A FAILED alert one of whose sinks delivered it counts for the cooldown: people
 * were told. The webhook carries the dedupe key as its Idempotency-Key header, for a receiver
 * that can fold the copy a lost 2xx answer would cause.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { and, desc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import { markAlertDelivery, recordAlert, type StoredAlert } from '../db';
import type { Executor } from '../db';
import { mapErrors, transaction } from '../db/repositories/common';
import { alertDeliveries, alerts, type ALERT_SINKS } from '../db/schema';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { logEvent, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import type { AlertLevel, AlertOutcome, AlertRequest } from '../contracts/activities';

export const AlertFailureType = {
  /** The SMTP server or the webhook refused the alert or could not be reached; retried. */
  ALERT_DELIVERY_FAILED: 'ALERT_DELIVERY_FAILED',
} as const;

export const ALERT_LEVELS: readonly AlertLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
/** The reference's AlertManager emails CRITICAL and HIGH only. */
export const DEFAULT_ALERT_EMAIL_LEVELS: readonly AlertLevel[] = Object.freeze(['CRITICAL', 'HIGH'] as AlertLevel[]);

/** Parses a comma-separated list of alert levels ("CRITICAL,HIGH,MEDIUM"); the error names the field and the value. */
export function parseAlertEmailLevels(value: unknown, field = 'ALERT_EMAIL_LEVELS'): readonly AlertLevel[] {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (items === null || !items.every((v) => typeof v === 'string')) throw InvalidInput.of(field, value, `must be a comma-separated list of ${ALERT_LEVELS.join(', ')}`);
  const levels = items.map((v: string) => v.trim().toUpperCase()).filter((v) => v !== '');
  const unknown = levels.filter((v) => !(ALERT_LEVELS as readonly string[]).includes(v));
  if (unknown.length > 0) throw InvalidInput.of(field, value, `has unknown level${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: must list levels among ${ALERT_LEVELS.join(', ')}`);
  if (levels.length === 0) throw InvalidInput.of(field, value, `must list at least one of ${ALERT_LEVELS.join(', ')}`);
  return Object.freeze(ALERT_LEVELS.filter((l) => levels.includes(l)));
}
/** Types that are emailed at any level and never throttled. */
export const REPORT_ALERT_TYPES: ReadonlySet<string> = new Set(['DAILY_REPORT']);

/** Why an alert was recorded but not emailed (kept in `delivery_error` of a SUPPRESSED row). */
export const SuppressionReason = {
  RECORDED_ONLY: 'RECORDED_ONLY',
  NO_MAILER: 'NO_MAILER',
  COOLDOWN: 'COOLDOWN',
} as const;

export function deliveryPolicy(alert: Pick<AlertRequest, 'level' | 'type'>, emailLevels: readonly AlertLevel[] = DEFAULT_ALERT_EMAIL_LEVELS): { email: boolean; cooldown: boolean } {
  if (REPORT_ALERT_TYPES.has(alert.type)) return { email: true, cooldown: false };
  return { email: emailLevels.includes(alert.level), cooldown: true };
}

/** The Message-ID header of an alert's email: the same for every attempt at the same alert. */
export function alertMessageId(dedupeKey: string): string {
  return `<alert.${createHash('sha256').update(dedupeKey, 'utf8').digest('hex').slice(0, 40)}@durable-trader.invalid>`;
}

export function formatAlertEmail(alert: AlertRequest, raisedAt: number): { subject: string; text: string } {
  const title = alert.title.replace(/[\r\n]+/g, ' ').trim();
  const text = [`Level: ${alert.level}`, `Type: ${alert.type}`, `Raised: ${new Date(raisedAt).toISOString()}`, `Alert key: ${alert.dedupeKey}`, '', alert.body, ''].join('\n');
  return { subject: `[Trading Alert - ${alert.level}] ${title}`, text };
}

const within = (v: unknown, max: number): boolean => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

/** Checked before anything is read or written; title and body are cut to the alerts table's limits. */
export function validateAlertRequest(a: AlertRequest): AlertRequest {
  const problems: FieldProblem[] = [];
  if (typeof a !== 'object' || a === null) throw InvalidInput.of('alert', a, 'must be an object');
  if (!ALERT_LEVELS.includes(a.level)) problems.push({ field: 'level', value: a.level, problem: `must be one of ${ALERT_LEVELS.join(', ')}` });
  if (!within(a.type, 64) || !/^[A-Z0-9_]+$/.test(a.type)) problems.push({ field: 'type', value: a.type, problem: 'must be 1-64 characters of A-Z, 0-9 and _' });
  if (!within(a.dedupeKey, 256)) problems.push({ field: 'dedupeKey', value: a.dedupeKey, problem: 'must be 1-256 characters' });
  if (typeof a.title !== 'string' || a.title.trim().length === 0) problems.push({ field: 'title', value: a.title, problem: 'must be a non-empty title' });
  if (typeof a.body !== 'string') problems.push({ field: 'body', value: a.body, problem: 'must be text' });
  if (problems.length > 0) throw new InvalidInput(problems);
  // An over-long title or body (a venue's error text, say) is cut, visibly, rather than losing the alert.
  return { ...a, title: clip(a.title, 300), body: clip(a.body, 10_000) };
}

function clip(text: string, max: number): string {
  const mark = ' [truncated]';
  return text.length <= max ? text : `${text.slice(0, max - mark.length)}${mark}`;
}

async function findAlert(ex: Executor, dedupeKey: string): Promise<StoredAlert | null> {
  const [row] = await mapErrors(ex.select().from(alerts).where(eq(alerts.dedupeKey, dedupeKey)));
  return row ?? null;
}

export type AlertSink = (typeof ALERT_SINKS)[number];

/**
 * The newest alert of this level and type delivered (or being delivered) since `since`: SENT or
 * PENDING as before, or FAILED on one sink while another sink delivered it (the email went out,
 * the webhook is being retried): people were told, so the cooldown runs.
 */
async function recentlyEmailed(ex: Executor, level: AlertLevel, type: string, since: number): Promise<StoredAlert | null> {
  const partlyDelivered = sql`exists (select 1 from ${alertDeliveries} where ${alertDeliveries.dedupeKey} = ${alerts.dedupeKey} and ${alertDeliveries.state} = 'SENT' and ${alertDeliveries.sentAt} >= ${new Date(since).toISOString()})`;
  const [row] = await ex
    .select()
    .from(alerts)
    .where(
      and(
        eq(alerts.level, level),
        eq(alerts.type, type),
        or(
          and(eq(alerts.delivery, 'SENT'), gte(alerts.sentAt, since)),
          and(eq(alerts.delivery, 'PENDING'), gte(alerts.raisedAt, since)),
          and(eq(alerts.delivery, 'FAILED'), partlyDelivered),
        ),
      ),
    )
    .orderBy(desc(alerts.raisedAt))
    .limit(1);
  return row ?? null;
}

/** FAILED -> PENDING, for exactly one retry. */
async function claimFailed(ex: Executor, dedupeKey: string): Promise<boolean> {
  const rows = await mapErrors(
    ex
      .update(alerts)
      .set({ delivery: 'PENDING', deliveryError: null })
      .where(and(eq(alerts.dedupeKey, dedupeKey), eq(alerts.delivery, 'FAILED')))
      .returning({ id: alerts.id }),
  );
  return rows.length === 1;
}

/**
 * FAILED -> PENDING for each configured sink whose delivery failed, for exactly one retry; a
 * sink with no row yet (an alert recorded before per-sink rows existed) is claimed by inserting it.
 * Sinks already SENT are not claimed: they are not sent again.
 */
async function claimFailedSinks(ex: Executor, dedupeKey: string, sinks: readonly AlertSink[], at: number): Promise<AlertSink[]> {
  if (sinks.length === 0) return [];
  const reclaimed = await mapErrors(
    ex
      .update(alertDeliveries)
      .set({ state: 'PENDING', updatedAt: at })
      .where(and(eq(alertDeliveries.dedupeKey, dedupeKey), eq(alertDeliveries.state, 'FAILED'), inArray(alertDeliveries.sink, [...sinks])))
      .returning({ sink: alertDeliveries.sink }),
  );
  const added = await mapErrors(
    ex
      .insert(alertDeliveries)
      .values(sinks.map((sink) => ({ dedupeKey, sink, state: 'PENDING', updatedAt: at })))
      .onConflictDoNothing()
      .returning({ sink: alertDeliveries.sink }),
  );
  return [...reclaimed, ...added].map((r) => r.sink as AlertSink);
}

async function markSink(ex: Executor, dedupeKey: string, sink: AlertSink, result: { state: 'SENT' | 'FAILED'; at: number; error?: string }): Promise<void> {
  await mapErrors(
    ex
      .update(alertDeliveries)
      .set({
        state: result.state,
        sentAt: result.state === 'SENT' ? result.at : null,
        error: result.error ?? null,
        attempts: sql`${alertDeliveries.attempts} + 1`,
        updatedAt: result.at,
      })
      .where(and(eq(alertDeliveries.dedupeKey, dedupeKey), eq(alertDeliveries.sink, sink), eq(alertDeliveries.state, 'PENDING'))),
  );
}

type Decision = { kind: 'SEND' } | { kind: 'SUPPRESS'; outcome: AlertOutcome; note: string } | { kind: 'EXISTS'; row: StoredAlert };

export interface AlertActivities {
  raiseAlert(alert: AlertRequest): Promise<AlertOutcome>;
}

export function createAlertActivities(deps: ActivityDeps): AlertActivities {
  const { db, mailer, config, clock } = deps;
  const webhook = deps.webhook ?? null;
  const sinks: AlertSink[] = [...(mailer !== null ? (['EMAIL'] as const) : []), ...(webhook !== null ? (['WEBHOOK'] as const) : [])];
  let warnedNoMailer = false;
  const warnNoMailer = () => {
    if (warnedNoMailer) return;
    warnedNoMailer = true;
    console.warn(`alerts: neither SMTP nor ALERT_WEBHOOK_URL is configured; ${(config.alertEmailLevels ?? DEFAULT_ALERT_EMAIL_LEVELS).join(' and ')} alerts are recorded but not delivered`);
  };

  async function sendTo(sink: AlertSink, alert: AlertRequest, raisedAt: number): Promise<void> {
    if (sink === 'EMAIL') {
      if (mailer === null) throw new Error('SMTP is no longer configured');
      await mailer.send({ ...formatAlertEmail(alert, raisedAt), messageId: alertMessageId(alert.dedupeKey) });
    } else {
      if (webhook === null) throw new Error('ALERT_WEBHOOK_URL is no longer configured');
      await webhook.send({ level: alert.level, type: alert.type, dedupeKey: alert.dedupeKey, title: alert.title, body: alert.body, raisedAt });
    }
  }

  /** Sends to each claimed sink once; the alert is SENT when all of them took it, FAILED (and retried) otherwise. */
  async function deliver(alert: AlertRequest, raisedAt: number, claimed: readonly AlertSink[]): Promise<AlertOutcome> {
    if (sinks.length === 0) {
      warnNoMailer();
      await markAlertDelivery(db, alert.dedupeKey, { delivery: 'SUPPRESSED', at: clock(), error: `${SuppressionReason.NO_MAILER}: no alert sink is configured (SMTP, ALERT_WEBHOOK_URL)` });
      return { sent: false, reason: 'RECORDED' };
    }
    const results = await Promise.all(
      claimed.map(async (sink) => {
        try {
          await sendTo(sink, alert, raisedAt);
          await markSink(db, alert.dedupeKey, sink, { state: 'SENT', at: clock() });
          return null;
        } catch (e) {
          const message = `${sink}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000);
          await markSink(db, alert.dedupeKey, sink, { state: 'FAILED', at: clock(), error: message });
          return message;
        }
      }),
    );
    const failures = results.filter((m): m is string => m !== null);
    if (failures.length > 0) {
      const message = failures.join('; ');
      await markAlertDelivery(db, alert.dedupeKey, { delivery: 'FAILED', at: clock(), error: message.slice(0, 2000) });
      deps.metrics?.error('alerts', AlertFailureType.ALERT_DELIVERY_FAILED);
      logEvent(deps, 'alert', {}, { alertLevel: alert.level, type: alert.type, dedupeKey: alert.dedupeKey, outcome: 'FAILED', error: message.slice(0, 500) }, `alert ${alert.dedupeKey} not delivered`, 'error');
      throw ApplicationFailure.create({
        type: AlertFailureType.ALERT_DELIVERY_FAILED,
        message: `alert ${alert.dedupeKey} was not delivered: ${message}`,
        nonRetryable: false,
      });
    }
    await markAlertDelivery(db, alert.dedupeKey, { delivery: 'SENT', at: clock() });
    return { sent: true, reason: 'SENT' };
  }

  async function onExisting(row: StoredAlert, alert: AlertRequest): Promise<AlertOutcome> {
    if (row.delivery === 'FAILED' && (await claimFailed(db, row.dedupeKey))) {
      const claimed = await claimFailedSinks(db, row.dedupeKey, sinks, clock());
      return deliver({ ...alert, level: row.level as AlertLevel, type: row.type, title: row.title, body: row.body }, row.raisedAt, claimed);
    }
    return { sent: false, reason: 'DUPLICATE' };
  }

  async function raiseAlert(input: AlertRequest): Promise<AlertOutcome> {
    const alert = validateAlertRequest(input);
    const existing = await findAlert(db, alert.dedupeKey);
    if (existing) return onExisting(existing, alert);
    const raisedAt = clock();
    const policy = deliveryPolicy(alert, config.alertEmailLevels ?? DEFAULT_ALERT_EMAIL_LEVELS);
    const decision = await transaction(db, async (tx): Promise<Decision> => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`alert:${alert.level}:${alert.type}`}))`);
      let suppress: { outcome: AlertOutcome; note: string } | null = null;
      if (!policy.email) {
        suppress = { outcome: { sent: false, reason: 'RECORDED' }, note: `${SuppressionReason.RECORDED_ONLY}: ${alert.level} alerts are recorded, not emailed` };
      } else if (sinks.length === 0) {
        suppress = { outcome: { sent: false, reason: 'RECORDED' }, note: `${SuppressionReason.NO_MAILER}: no alert sink is configured (SMTP, ALERT_WEBHOOK_URL)` };
      } else if (policy.cooldown) {
        const recent = await recentlyEmailed(tx, alert.level, alert.type, raisedAt - config.alertCooldownMs);
        if (recent) {
          const when = new Date(recent.sentAt ?? recent.raisedAt).toISOString();
          suppress = {
            outcome: { sent: false, reason: 'COOLDOWN' },
            note: `${SuppressionReason.COOLDOWN}: ${alert.level} ${alert.type} was emailed at ${when} (alert ${recent.dedupeKey}); cooldown ${config.alertCooldownMs} ms`,
          };
        }
      }
      const { inserted, alert: row } = await recordAlert(tx, { ...alert, raisedAt });
      if (!inserted) return { kind: 'EXISTS', row };
      if (suppress === null) {
        await mapErrors(tx.insert(alertDeliveries).values(sinks.map((sink) => ({ dedupeKey: alert.dedupeKey, sink, state: 'PENDING', updatedAt: raisedAt }))));
        return { kind: 'SEND' };
      }
      await markAlertDelivery(tx, alert.dedupeKey, { delivery: 'SUPPRESSED', at: raisedAt, error: suppress.note });
      return { kind: 'SUPPRESS', ...suppress };
    });
    if (decision.kind === 'EXISTS') return onExisting(decision.row, alert);
    if (decision.kind === 'SUPPRESS') {
      if (decision.note.startsWith(SuppressionReason.NO_MAILER)) warnNoMailer();
      return decision.outcome;
    }
    return deliver(alert, raisedAt, sinks);
  }

  /** One line and one count per alert raised, with what became of it. */
  async function raiseAndReport(input: AlertRequest): Promise<AlertOutcome> {
    const outcome = await raiseAlert(input);
    deps.metrics?.alert(input.level, outcome.reason);
    logEvent(
      deps,
      'alert',
      {},
      { alertLevel: input.level, type: input.type, dedupeKey: input.dedupeKey, title: input.title, outcome: outcome.reason, sent: outcome.sent },
      `${input.level} alert ${input.type}: ${outcome.reason}`,
      input.level === 'CRITICAL' || input.level === 'HIGH' ? 'warn' : 'info',
    );
    return outcome;
  }

  return { raiseAlert: (alert) => runActivity(() => raiseAndReport(alert)) };
}
