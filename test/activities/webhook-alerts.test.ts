/**
 * The alert webhook against a real HTTP server on 127.0.0.1 and the records (PGlite always,
 * PostgreSQL with TEST_DATABASE_URL), beside a real SMTP server: the JSON and Slack bodies, one
 * POST per alert under the cooldown, and per-sink retries (a failing webhook is retried without
 * re-sending the email, and the reverse). Then the settings: timeouts, redirects, the token kept
 * out of errors, credentials in the URL refused without being echoed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertFailureType, createAlertActivities } from '../../activities/alerts';
import type { ActivityConfig, ActivityDeps, AlertWebhook, Mailer } from '../../activities/deps';
import { Secret } from '../../activities/venue/credentials';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import { createWebhookSink, validateWebhookSettings, WebhookDeliveryError, type WebhookFormat } from '../../activities/webhook';
import type { AlertRequest } from '../../contracts/activities';
import { listAlerts, type Db } from '../../db';
import { alertDeliveries } from '../../db/schema';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { InvalidInput } from '../../domain/errors';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { buildConfig, describeConfig, ENV, secretsOf } from '../../runtime/config';
import { forEachBackend } from '../db/harness';
import { captureMailer, deadPort, startSmtpCapture, type SmtpCapture } from './smtp-capture';

const T0 = Date.UTC(2026, 0, 5, 14, 0, 0);
const MINUTE = 60_000;
const TOKEN = 'whk-Bearer-T0ken-do-not-leak';

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

interface Posted {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1: records every request and answers as told. */
interface Receiver {
  url: string;
  posts: Posted[];
  /** Status to answer (default 200); `delayMs` holds the answer back; `location` for a redirect. */
  answer: { status: number; delayMs?: number; body?: string | ((p: Posted) => string); location?: string };
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const posts: Posted[] = [];
  const receiver = { posts, answer: { status: 200 } } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p: Posted = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      posts.push(p);
      const a = receiver.answer;
      const reply = () => {
        if (res.destroyed) return;
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (a.location) headers.location = a.location;
        res.writeHead(a.status, headers);
        res.end(typeof a.body === 'function' ? a.body(p) : (a.body ?? 'ok'));
      };
      if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

forEachBackend('alert webhook', (ctx) => {
  let smtp: SmtpCapture;
  let hook: Receiver;
  let now = T0;
  const clock = () => now;
  const sink = (format: WebhookFormat = 'json', url = hook.url): AlertWebhook => createWebhookSink({ url, format, token: new Secret(TOKEN), timeoutMs: 2_000 });
  const deps = (mailer: Mailer | null, webhook: AlertWebhook | null, db: Db = ctx.db): ActivityDeps => ({ db, venue: noVenue, mailer, webhook, config, clock });
  const deliveries = async () =>
    (await ctx.db.select().from(alertDeliveries).orderBy(asc(alertDeliveries.dedupeKey), asc(alertDeliveries.sink))).map((d) => ({
      key: d.dedupeKey,
      sink: d.sink,
      state: d.state,
      attempts: d.attempts,
    }));

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    hook = await startReceiver();
  });
  afterAll(async () => {
    await smtp.close();
    await hook.close();
  });
  afterEach(() => {
    smtp.messages.length = 0;
    hook.posts.length = 0;
    hook.answer = { status: 200 };
    now = T0;
  });

  it('posts the generic JSON body with the bearer token and the alert key, beside the email; both sinks recorded SENT', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port), sink('json')));
    const a = alert();
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: true, reason: 'SENT' });
    expect(hook.posts).toHaveLength(1);
    const post = hook.posts[0]!;
    expect(post.method).toBe('POST');
    expect(post.path).toBe('/hooks/alerts');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post.headers['idempotency-key']).toBe(a.dedupeKey);
    expect(JSON.parse(post.body)).toEqual({
      source: 'durable-trader',
      level: 'CRITICAL',
      type: 'TRADING_HALTED',
      dedupeKey: a.dedupeKey,
      title: a.title,
      body: a.body,
      raisedAt: new Date(T0).toISOString(),
    });
    expect(smtp.messages).toHaveLength(1);
    const [row] = await listAlerts(ctx.db);
    expect(row).toMatchObject({ delivery: 'SENT', sentAt: T0, deliveryError: null });
    expect(await deliveries()).toEqual([
      { key: a.dedupeKey, sink: 'EMAIL', state: 'SENT', attempts: 1 },
      { key: a.dedupeKey, sink: 'WEBHOOK', state: 'SENT', attempts: 1 },
    ]);
  });

  it('posts a Slack-compatible body: one "text" field, mrkdwn characters escaped', async () => {
    const acts = createAlertActivities(deps(null, sink('slack')));
    const a = alert({ title: 'Halted <market> & more', body: 'loss > limit' });
    await expect(acts.raiseAlert(a)).resolves.toEqual({ sent: true, reason: 'SENT' });
    expect(hook.posts).toHaveLength(1);
    const body = JSON.parse(hook.posts[0]!.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toBe(
      [`*[Trading Alert - CRITICAL] Halted &lt;market&gt; &amp; more*`, `Type: TRADING_HALTED · Raised: ${new Date(T0).toISOString()} · Key: ${a.dedupeKey}`, '', 'loss &gt; limit'].join('\n'),
    );
    expect(await deliveries()).toEqual([{ key: a.dedupeKey, sink: 'WEBHOOK', state: 'SENT', attempts: 1 }]);
  });

  it('posts exactly once per alert under the cooldown: repeats of the key and of the kind post nothing', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port), sink()));
    await expect(acts.raiseAlert(alert({ dedupeKey: 'H:1' }))).resolves.toEqual({ sent: true, reason: 'SENT' });
    await expect(acts.raiseAlert(alert({ dedupeKey: 'H:1' }))).resolves.toEqual({ sent: false, reason: 'DUPLICATE' });
    now = T0 + 2 * MINUTE;
    await expect(acts.raiseAlert(alert({ dedupeKey: 'H:2' }))).resolves.toEqual({ sent: false, reason: 'COOLDOWN' });
    now = T0 + 4 * MINUTE;
    await expect(acts.raiseAlert(alert({ dedupeKey: 'H:3' }))).resolves.toEqual({ sent: false, reason: 'COOLDOWN' });
    await expect(acts.raiseAlert(alert({ level: 'MEDIUM', dedupeKey: 'M:1' }))).resolves.toEqual({ sent: false, reason: 'RECORDED' });
    expect(hook.posts).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    now = T0 + 6 * MINUTE;
    await expect(acts.raiseAlert(alert({ dedupeKey: 'H:4' }))).resolves.toEqual({ sent: true, reason: 'SENT' });
    expect(hook.posts.map((p) => (JSON.parse(p.body) as { dedupeKey: string }).dedupeKey)).toEqual(['H:1', 'H:4']);
    expect(smtp.messages).toHaveLength(2);
    // Suppressed alerts have no delivery rows: nothing was claimed for them.
    expect((await deliveries()).map((d) => d.key)).toEqual(['H:1', 'H:1', 'H:4', 'H:4']);
  });

  it('a failing webhook (HTTP 500) fails retryably; the retry posts again without re-sending the email', async () => {
    const acts = createAlertActivities(deps(captureMailer(smtp.port), sink()));
    const a = alert({ dedupeKey: 'H:hook-down' });
    hook.answer = { status: 500, body: 'receiver broken' };
    const err = await failure(env.run(acts.raiseAlert, a));
    expect(err.type).toBe(AlertFailureType.ALERT_DELIVERY_FAILED);
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toContain('WEBHOOK: webhook http://127.0.0.1');
    expect(err.message).toContain('answered 500: receiver broken');
    expect(smtp.messages).toHaveLength(1);
    let [row] = await listAlerts(ctx.db);
    expect(row).toMatchObject({ delivery: 'FAILED', sentAt: null });
    expect(row!.deliveryError).toMatch(/^WEBHOOK: .*answered 500/);
    expect(await deliveries()).toEqual([
      { key: a.dedupeKey, sink: 'EMAIL', state: 'SENT', attempts: 1 },
      { key: a.dedupeKey, sink: 'WEBHOOK', state: 'FAILED', attempts: 1 },
    ]);

    // People were told by email: another alert of the kind is held back meanwhile.
    now = T0 + MINUTE;
    await expect(acts.raiseAlert(alert({ dedupeKey: 'H:during-retry' }))).resolves.toEqual({ sent: false, reason: 'COOLDOWN' });

    hook.answer = { status: 204 };
    now = T0 + 2 * MINUTE;
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: true, reason: 'SENT' });
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: false, reason: 'DUPLICATE' });
    expect(smtp.messages).toHaveLength(1);
    expect(hook.posts.map((p) => (JSON.parse(p.body) as { dedupeKey: string }).dedupeKey)).toEqual([a.dedupeKey, a.dedupeKey]);
    [row] = (await listAlerts(ctx.db)).filter((r) => r.dedupeKey === a.dedupeKey);
    expect(row).toMatchObject({ delivery: 'SENT', sentAt: T0 + 2 * MINUTE, deliveryError: null });
    expect((await deliveries()).filter((d) => d.key === a.dedupeKey)).toEqual([
      { key: a.dedupeKey, sink: 'EMAIL', state: 'SENT', attempts: 1 },
      { key: a.dedupeKey, sink: 'WEBHOOK', state: 'SENT', attempts: 2 },
    ]);
  });

  it('a failing email is retried without posting the webhook again', async () => {
    let target: Mailer = captureMailer(await deadPort());
    const mailer: Mailer = { send: (m) => target.send(m), verify: () => target.verify() };
    const acts = createAlertActivities(deps(mailer, sink()));
    const a = alert({ dedupeKey: 'H:smtp-down' });
    const err = await failure(env.run(acts.raiseAlert, a));
    expect(err.message).toContain('EMAIL: SMTP delivery failed');
    expect(hook.posts).toHaveLength(1);
    target = captureMailer(smtp.port);
    now = T0 + 30_000;
    await expect(env.run(acts.raiseAlert, a)).resolves.toEqual({ sent: true, reason: 'SENT' });
    expect(hook.posts).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(await deliveries()).toEqual([
      { key: a.dedupeKey, sink: 'EMAIL', state: 'SENT', attempts: 2 },
      { key: a.dedupeKey, sink: 'WEBHOOK', state: 'SENT', attempts: 1 },
    ]);
  });

  it('a webhook that does not answer in time is a failed delivery, not a hung activity', async () => {
    const slow = createWebhookSink({ url: hook.url, format: 'json', token: null, timeoutMs: 300 });
    const acts = createAlertActivities(deps(null, slow));
    hook.answer = { status: 200, delayMs: 2_000 };
    const started = Date.now();
    const err = await failure(acts.raiseAlert(alert({ dedupeKey: 'H:slow' })));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err.message).toContain('no answer within 300 ms');
    expect((await deliveries())[0]).toMatchObject({ sink: 'WEBHOOK', state: 'FAILED' });
  });
});

describe('webhook sink', () => {
  let hook: Receiver;
  beforeAll(async () => {
    hook = await startReceiver();
  });
  afterAll(async () => {
    await hook.close();
  });
  const a = { level: 'HIGH', type: 'QUOTE_STALE', dedupeKey: 'k', title: 't', body: 'b', raisedAt: T0 };

  it('keeps the token out of the error when the receiver echoes it, and does not follow redirects', async () => {
    const s = createWebhookSink({ url: hook.url, format: 'json', token: new Secret(TOKEN), timeoutMs: 2_000 });
    hook.answer = { status: 401, body: (p) => `bad credentials: ${String(p.headers.authorization)}` };
    const err = await s.send(a).then(
      () => null,
      (e: unknown) => e as WebhookDeliveryError,
    );
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect(err!.status).toBe(401);
    expect(err!.message).toContain('answered 401: bad credentials: Bearer [redacted]');
    expect(err!.message).not.toContain(TOKEN);

    hook.answer = { status: 503, body: 'x'.repeat(1_000_000) };
    const big = await s.send(a).then(
      () => null,
      (e: unknown) => e as WebhookDeliveryError,
    );
    expect(big!.message).toMatch(/answered 503: x+$/);
    expect(big!.message.length).toBeLessThan(400);

    hook.posts.length = 0;
    hook.answer = { status: 302, location: `${hook.url}/elsewhere` };
    await expect(s.send(a)).rejects.toThrow(/answered 302/);
    expect(hook.posts.map((p) => p.path)).toEqual(['/hooks/alerts']);
  });

  it('an unreachable receiver is a failed delivery naming the origin only', async () => {
    const s = createWebhookSink({ url: `http://127.0.0.1:${await deadPort()}/services/T000/B000/capability-secret`, format: 'slack', token: null });
    const err = await s.send(a).then(
      () => null,
      (e: unknown) => e as WebhookDeliveryError,
    );
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect(err!.status).toBeNull();
    expect(err!.message).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/… not reached: /);
    expect(err!.message).not.toContain('capability-secret');
  });

  it('refuses bad settings naming every field, never echoing credentials or the token', () => {
    let err: unknown;
    try {
      validateWebhookSettings({ url: 'https://bob:s3cr3t-pw@hooks.example.com/x', format: 'xml' as WebhookFormat, token: new Secret('short'), timeoutMs: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInput);
    const problems = (err as InvalidInput).problems;
    expect(problems.map((p) => p.field)).toEqual(['webhook.url', 'webhook.format', 'webhook.token', 'webhook.timeoutMs']);
    const shown = JSON.stringify(problems) + (err as Error).message;
    expect(shown).not.toContain('s3cr3t-pw');
    expect(shown).not.toContain('bob');
    expect(shown).not.toContain('short');
    expect(() => validateWebhookSettings({ url: 'ftp://hooks.example.com/x', format: 'json', token: null })).toThrow(/http:\/\/ or https:\/\//);
  });
});

describe('webhook config', () => {
  it('reads ALERT_WEBHOOK_URL, _FORMAT (default json) and _TOKEN; the token and a long URL path go to the scrubber, not the description', () => {
    const url = 'https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXX';
    const c = buildConfig({ [ENV.alertWebhookUrl]: url, [ENV.alertWebhookFormat]: 'slack', [ENV.alertWebhookToken]: TOKEN });
    expect(c.alertWebhook).toMatchObject({ url, format: 'slack' });
    expect(c.alertWebhook!.token!.reveal()).toBe(TOKEN);
    expect(secretsOf(c)).toEqual(expect.arrayContaining([TOKEN, url, '/services/T0001/B0002/XXXXXXXXXXXXXXXX']));
    const described = JSON.stringify(describeConfig(c));
    expect(described).not.toContain(TOKEN);
    expect(described).not.toContain('XXXXXXXXXXXXXXXX');
    expect(buildConfig({ [ENV.alertWebhookUrl]: 'http://127.0.0.1:9000/' }).alertWebhook).toMatchObject({ format: 'json', token: null });
    expect(buildConfig({}).alertWebhook).toBeNull();
  });

  it('refuses credentials in the URL without echoing them, a bad format, a short token and a token without a URL, all at once', () => {
    let err: unknown;
    try {
      buildConfig({ [ENV.alertWebhookUrl]: 'https://alice:Pa55-in-url@hooks.example.com/h', [ENV.alertWebhookFormat]: 'teams', [ENV.alertWebhookToken]: 'abc' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInput);
    const problems = (err as InvalidInput).problems;
    expect(problems.map((p) => p.field)).toEqual([ENV.alertWebhookUrl, ENV.alertWebhookFormat, ENV.alertWebhookToken]);
    const shown = JSON.stringify(problems) + (err as Error).message;
    expect(shown).not.toContain('Pa55-in-url');
    expect(shown).not.toContain('alice');
    expect(shown).not.toContain('"abc"');
    expect(() => buildConfig({ [ENV.alertWebhookToken]: TOKEN })).toThrow(new RegExp(`${ENV.alertWebhookUrl}.*is required when ${ENV.alertWebhookToken} is set`));
    expect(() => buildConfig({}, { alertWebhook: { url: 'http://127.0.0.1:1/', token: TOKEN } }, 'cfg.json')).toThrow(/cfg\.json alertWebhook\.token/);
  });
});
