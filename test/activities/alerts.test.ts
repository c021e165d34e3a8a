/**
 * Alerts against the records (PGlite always, PostgreSQL with TEST_DATABASE_URL) and a real SMTP
 * server on 127.0.0.1: what is emailed, what is only recorded, dedupe, cooldown, SMTP failures
 * and retries, and that the SMTP password never reaches a record or an error.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AlertFailureType, alertMessageId, createAlertActivities } from '../../activities/alerts';
import type { ActivityConfig, ActivityDeps, Mailer } from '../../activities/deps';
import { createSmtpMailer, validateSmtpSettings } from '../../activities/mailer';
import type { AlertRequest } from '../../contracts/activities';
import { Secret } from '../../activities/venue/credentials';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import { listAlerts, recordAlert, type Db } from '../../db';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { InvalidInput } from '../../domain/errors';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { forEachBackend } from '../db/harness';
import { captureMailer, deadPort, SMTP_PASSWORD, startSmtpCapture, type SmtpCapture } from './smtp-capture';

const T0 = Date.UTC(2026, 0, 5, 14, 0, 0);
const MINUTE = 60_000;

const config: ActivityConfig = {
  account: 'paper',
  venueName: 'paper',
  limits: CASE_STUDY_LIMITS,
  breakers: CASE_STUDY_BREAKERS,
  timeZone: 'America/New_York',
  alertCooldownMs: 5 * MINUTE,
  maxQuoteAgeMs: 30_000,
  reconciliation: { policy: 'HALT_AND_ALERT', cashTolerance: 10_000 },
};

const noVenue = new Proxy({}, { get: () => () => Promise.reject(new Error('alerts must not call the venue')) }) as ResilientVenue;

function alert(overrides: Partial<AlertRequest> = {}): AlertRequest {
  return {
    level: 'CRITICAL',
    type: 'TRADING_HALTED',
    dedupeKey: 'TRADING_HALTED:session-ema-2026-01-05:1',
    title: 'Trading halted: daily loss limit',
    body: 'Daily loss 512.40 reached the limit 500.00.\nOpen orders were canceled.',
    ...overrides,
  };
}

/** A mailer whose target can be switched: the SMTP server "goes down" and "comes back". */
function switchableMailer(initial: Mailer): Mailer & { target: Mailer } {
  const m = {
    target: initial,
    send: (msg: Parameters<Mailer['send']>[0]) => m.target.send(msg),
    verify: () => m.target.verify(),
  };
  return m;
}

const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

forEachBackend('alerts', (ctx) => {
  let smtp: SmtpCapture;
  let now = T0;
  const clock = () => now;
  const deps = (mailer: Mailer | null, db: Db = ctx.db): ActivityDeps => ({ db, venue: noVenue, mailer, config, clock });

  beforeAll(async () => {
    smtp = await startSmtpCapture();
  });
  afterAll(async () => {
    await smtp.close();
  });
  afterEach(() => {
    smtp.messages.length = 0;
    smtp.rejectAuth(false);
    now = T0;
  });

  it('emails a CRITICAL alert with the level in the subject and the details in the body, and records it as SENT', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    const a = alert();
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: true, reason: 'SENT' });
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.subject).toBe('[Trading Alert - CRITICAL] Trading halted: daily loss limit');
    expect(mail.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(mail.from).toBe('trader@example.com');
    expect(mail.messageId).toBe(alertMessageId(a.dedupeKey));
    expect(mail.text).toContain('Level: CRITICAL');
    expect(mail.text).toContain('Type: TRADING_HALTED');
    expect(mail.text).toContain(`Raised: ${new Date(T0).toISOString()}`);
    expect(mail.text).toContain('Daily loss 512.40 reached the limit 500.00.\nOpen orders were canceled.');
    expect(smtp.passwords).toContain(SMTP_PASSWORD);
    const [row] = await listAlerts(ctx.db);
    expect(row).toMatchObject({ dedupeKey: a.dedupeKey, level: 'CRITICAL', delivery: 'SENT', sentAt: T0, deliveryError: null, raisedAt: T0 });
  });

  it('records MEDIUM and LOW alerts without emailing them', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    await expect(acts.raiseAlert(alert({ level: 'MEDIUM', type: 'ORDER_REJECTED', dedupeKey: 'ORDER_REJECTED:o-1' }))).resolves.toEqual({ sent: false, reason: 'RECORDED' });
    await expect(acts.raiseAlert(alert({ level: 'LOW', type: 'PARTIAL_FILL', dedupeKey: 'PARTIAL_FILL:o-1' }))).resolves.toEqual({ sent: false, reason: 'RECORDED' });
    expect(smtp.messages).toHaveLength(0);
    const rows = await listAlerts(ctx.db);
    expect(rows.map((r) => [r.level, r.delivery])).toEqual(
      expect.arrayContaining([
        ['MEDIUM', 'SUPPRESSED'],
        ['LOW', 'SUPPRESSED'],
      ]),
    );
    expect(rows.every((r) => r.deliveryError?.startsWith('RECORDED_ONLY'))).toBe(true);
  });

  it('sends one email for the same dedupe key raised twice (a retried activity)', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    await expect(acts.raiseAlert(alert())).resolves.toEqual({ sent: true, reason: 'SENT' });
    now += 10 * MINUTE; // past the cooldown: only the key stops it
    await expect(acts.raiseAlert(alert())).resolves.toEqual({ sent: false, reason: 'DUPLICATE' });
    // A second worker (its own factory) sees the same record.
    await expect(createAlertActivities(deps(captureMailer(smtp.port))).raiseAlert(alert())).resolves.toEqual({ sent: false, reason: 'DUPLICATE' });
    expect(smtp.messages).toHaveLength(1);
    expect(await listAlerts(ctx.db)).toHaveLength(1);
  });

  it('does not resend an alert left PENDING (sent, then the worker died before recording it)', async () => {
    const a = alert({ dedupeKey: 'TRADING_HALTED:crashed' });
    await recordAlert(ctx.db, { ...a, raisedAt: T0 - 1_000 });
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    await expect(acts.raiseAlert(a)).resolves.toEqual({ sent: false, reason: 'DUPLICATE' });
    expect(smtp.messages).toHaveLength(0);
    const [row] = await listAlerts(ctx.db);
    expect(row!.delivery).toBe('PENDING');
  });

  it('suppresses a second alert of the same level and type inside the cooldown and lets one through after it', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    const first = alert({ level: 'HIGH', type: 'SLIPPAGE_UNUSUAL', dedupeKey: 'SLIPPAGE:o-1', title: 'Unusual slippage on o-1' });
    await expect(acts.raiseAlert(first)).resolves.toEqual({ sent: true, reason: 'SENT' });

    now = T0 + 4 * MINUTE;
    await expect(acts.raiseAlert({ ...first, dedupeKey: 'SLIPPAGE:o-2', title: 'Unusual slippage on o-2' })).resolves.toEqual({ sent: false, reason: 'COOLDOWN' });
    // Another type, or another level of the same type, has a cooldown of its own.
    await expect(acts.raiseAlert({ ...first, type: 'FILL_RATE_LOW', dedupeKey: 'FILL_RATE:1', title: 'Fill rate 31%' })).resolves.toEqual({ sent: true, reason: 'SENT' });
    await expect(acts.raiseAlert({ ...first, level: 'CRITICAL', dedupeKey: 'SLIPPAGE:o-3', title: 'Slippage critical' })).resolves.toEqual({ sent: true, reason: 'SENT' });

    now = T0 + 5 * MINUTE + 1;
    await expect(acts.raiseAlert({ ...first, dedupeKey: 'SLIPPAGE:o-4', title: 'Unusual slippage on o-4' })).resolves.toEqual({ sent: true, reason: 'SENT' });

    expect(smtp.messages.map((m) => m.subject)).toEqual([
      '[Trading Alert - HIGH] Unusual slippage on o-1',
      '[Trading Alert - HIGH] Fill rate 31%',
      '[Trading Alert - CRITICAL] Slippage critical',
      '[Trading Alert - HIGH] Unusual slippage on o-4',
    ]);
    const suppressed = (await listAlerts(ctx.db, { delivery: 'SUPPRESSED' }))[0]!;
    expect(suppressed.dedupeKey).toBe('SLIPPAGE:o-2');
    expect(suppressed.deliveryError).toMatch(/^COOLDOWN: HIGH SLIPPAGE_UNUSUAL was emailed at .* \(alert SLIPPAGE:o-1\)/);
  });

  it('emails daily reports at LOW and never throttles them', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    const report = (day: string) => alert({ level: 'LOW', type: 'DAILY_REPORT', dedupeKey: `DAILY_REPORT:paper:${day}`, title: `Daily report ${day}` });
    await expect(acts.raiseAlert(report('2026-01-02'))).resolves.toEqual({ sent: true, reason: 'SENT' });
    await expect(acts.raiseAlert(report('2026-01-03'))).resolves.toEqual({ sent: true, reason: 'SENT' });
    expect(smtp.messages.map((m) => m.subject)).toEqual(['[Trading Alert - LOW] Daily report 2026-01-02', '[Trading Alert - LOW] Daily report 2026-01-03']);
  });

  it('records an SMTP failure and fails retryably; the retry sends exactly once when the server is back', async () => {
    const mailer = switchableMailer(captureMailer(await deadPort()));
    const acts = createAlertActivities(deps(mailer));
    const a = alert({ dedupeKey: 'TRADING_HALTED:smtp-down' });
    const err = await env.run(acts.raiseAlert, a).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(AlertFailureType.ALERT_DELIVERY_FAILED);
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    let [row] = await listAlerts(ctx.db);
    expect(row).toMatchObject({ delivery: 'FAILED', sentAt: null });
    expect(row!.deliveryError).toMatch(/SMTP delivery failed/);

    mailer.target = captureMailer(smtp.port);
    now = T0 + 30_000;
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: true, reason: 'SENT' });
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: false, reason: 'DUPLICATE' });
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.messageId).toBe(alertMessageId(a.dedupeKey));
    [row] = await listAlerts(ctx.db);
    expect(row).toMatchObject({ delivery: 'SENT', sentAt: T0 + 30_000, deliveryError: null });
  });

  it('keeps the SMTP password out of records and error messages when the login is refused', async () => {
    smtp.rejectAuth(true);
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    const err = await acts.raiseAlert(alert({ dedupeKey: 'TRADING_HALTED:auth' })).then(
      () => null,
      (e: unknown) => e as ApplicationFailure,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(smtp.passwords).toContain(SMTP_PASSWORD); // the server was given it
    const b64 = Buffer.from(SMTP_PASSWORD).toString('base64');
    const seen = [err!.message, String(err!.stack), JSON.stringify(err), JSON.stringify(await listAlerts(ctx.db))].join('\n');
    expect(seen).toMatch(/535|Authentication failed/);
    expect(seen).not.toContain(SMTP_PASSWORD);
    expect(seen).not.toContain(b64);
  });

  it('records alerts without a mailer and warns once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const acts = createAlertActivities(deps(null));
      await expect(acts.raiseAlert(alert({ dedupeKey: 'a-1' }))).resolves.toEqual({ sent: false, reason: 'RECORDED' });
      await expect(acts.raiseAlert(alert({ dedupeKey: 'a-2', type: 'CONNECTION_LOST' }))).resolves.toEqual({ sent: false, reason: 'RECORDED' });
      expect(warn).toHaveBeenCalledTimes(1);
      const rows = await listAlerts(ctx.db);
      expect(rows).toHaveLength(2);
      expect(rows.every((r) => r.delivery === 'SUPPRESSED' && r.deliveryError?.startsWith('NO_MAILER'))).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });

  it('cuts an over-long title and body visibly instead of losing the alert', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    await expect(acts.raiseAlert(alert({ dedupeKey: 'long', title: 'T'.repeat(400), body: 'B'.repeat(20_000) }))).resolves.toEqual({ sent: true, reason: 'SENT' });
    const [row] = await listAlerts(ctx.db);
    expect(row!.title).toHaveLength(300);
    expect(row!.body).toHaveLength(10_000);
    expect(row!.body.endsWith('[truncated]')).toBe(true);
    expect(smtp.messages[0]!.text).toContain('[truncated]');
  });

  it('refuses a malformed alert naming every bad field, before recording anything', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port)));
    const err = await acts.raiseAlert({ level: 'URGENT' as never, type: '', dedupeKey: 'k', title: '', body: 'x' }).then(
      () => null,
      (e: unknown) => e as ApplicationFailure,
    );
    expect(err?.type).toBe('InvalidInput');
    expect(err?.nonRetryable).toBe(true);
    expect(err?.message).toMatch(/level: .*URGENT/);
    expect(err?.message).toMatch(/type: /);
    expect(err?.message).toMatch(/title: /);
    expect(await listAlerts(ctx.db)).toHaveLength(0);
  });
});

describe('SMTP settings', () => {
  it('names every bad field at once and never echoes the password', () => {
    const settings = {
      host: '',
      port: 70_000,
      secure: 'yes' as unknown as boolean,
      auth: { user: '', pass: new Secret('') },
      from: 'not-an-address',
      to: ['ops@example.com', 'nobody'],
      timeouts: { connectMs: 5 },
    };
    let caught: unknown = null;
    try {
      validateSmtpSettings(settings);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidInput);
    const fields = (caught as InvalidInput).problems.map((p) => p.field);
    expect(fields).toEqual(['smtp.host', 'smtp.port', 'smtp.secure', 'smtp.auth.user', 'smtp.auth.pass', 'smtp.from', 'smtp.to[1]', 'smtp.timeouts.connectMs']);
    expect((caught as InvalidInput).type).toBe('InvalidConfig');
  });

  it('does not put the password in a validation message when another field is bad', () => {
    expect(() => createSmtpMailer({ host: 'smtp.example.com', port: 0, secure: false, auth: { user: 'u', pass: new Secret(SMTP_PASSWORD) }, from: 'a@example.com', to: ['b@example.com'] })).toThrow(
      /smtp\.port/,
    );
    try {
      createSmtpMailer({ host: 'smtp.example.com', port: 0, secure: false, auth: { user: 'u', pass: new Secret(SMTP_PASSWORD) }, from: 'a@example.com', to: ['b@example.com'] });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(SMTP_PASSWORD);
    }
  });

  it('verify() reaches a live server and reports a dead one', async () => {
    const smtp = await startSmtpCapture();
    try {
      await expect(captureMailer(smtp.port).verify()).resolves.toBeUndefined();
    } finally {
      await smtp.close();
    }
    await expect(captureMailer(await deadPort()).verify()).rejects.toThrow(/SMTP delivery failed/);
  });
});
