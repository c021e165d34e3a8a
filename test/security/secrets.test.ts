/**
 * Secrets never leave: the real components run with known fake secrets (the paper exchange's key
 * secret and admin token, the dashboard token, the SMTP password, a Kalshi private key PEM, the
 * password in DATABASE_URL), go through successes and failures (trades, refused signatures,
 * wrong tokens, a rejected SMTP login, a broken PEM, an unreachable database, bad config), and
 * then every place text ends up is searched: the structured logs (runtime/logging.ts, as the
 * worker builds it), the venue client's and the exchange's own log hooks (unscrubbed), error
 * messages, HTTP answers, CLI output, the /metrics exposition, and every row of every table.
 */
import { createServer as createNetServer } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import type { ActivityDeps } from '../../activities/deps';
import type { OrderContext, OrderIntent } from '../../contracts/activities';
import { Secret } from '../../activities/venue/credentials';
import type { VenueLogEntry } from '../../activities/venue/http';
import { createKalshiVenue } from '../../activities/venue/kalshi/kalshi-venue';
import { MemoryOrderIdMap } from '../../testkit/order-id-map';
import { loadKalshiCredentials } from '../../activities/venue/kalshi/signing';
import { createPaperVenue } from '../../activities/venue/paper-venue';
import { openDatabase, type Database } from '../../db';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { run, type CliIo } from '../../cli/main';
import { buildConfig, describeConfig, secretsOf } from '../../runtime/config';
import { startDashboard } from '../../dashboard/server';
import { CapturedLines, createLogger } from '../../runtime/logging';
import { instrumentActivities, TradingMetrics } from '../../runtime/metrics';
import type { Price, Quantity } from '../../domain/money';
import { applyOrderEvent, createOrder } from '../../domain/order';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { captureMailer, startSmtpCapture, type SmtpCapture } from '../activities/smtp-capture';
import { inActivity, makeDeps } from '../../testkit/activities-harness';
import { EAGER_FILLS } from '../../testkit/venue-harness';
import { startKalshiDouble } from '../../testkit/kalshi-double';
import { dumpRecords } from '../sweeps/support';

const PAPER_SECRET = 'paper-secret-Q7vX2mL9pR4tY8wZ';
const ADMIN_TOKEN = 'admin-token-H3kJ6nB1cV5xM0qW';
const DASHBOARD_TOKEN = 'dashboard-token-T9fG2hK7jL4sD1aP';
const SMTP_PASS = 'smtp-pass-U6yI3oP8aS2dF5gH';
const DB_PASSWORD = 'db-pass-Z1xC4vB7nM0qW3eR';
const KALSHI_KEY_ID = '0b9e6a3c-55aa-4b1e-9d2f-8c7d6e5f4a3b';
const DAY = new Date().toISOString().slice(0, 10);
const COMPACT = DAY.replaceAll('-', '');

const kalshiKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KALSHI_PEM = kalshiKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** The PEM's base64 body lines: any one of them in the open is a leak. */
const PEM_LINES = KALSHI_PEM.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));

const SECRETS: Record<string, string> = { PAPER_SECRET, ADMIN_TOKEN, DASHBOARD_TOKEN, SMTP_PASS, DB_PASSWORD, ...Object.fromEntries(PEM_LINES.map((l, i) => [`KALSHI_PEM line ${i + 1}`, l])) };

/** Every sink: its name and the text it collected. */
const sinks = new Map<string, string[]>();
const sink = (name: string): string[] => {
  let list = sinks.get(name);
  if (list === undefined) sinks.set(name, (list = []));
  return list;
};
const collectError = (where: string, e: unknown) => sink(`errors: ${where}`).push(e instanceof Error ? `${e.name}: ${e.message} ${JSON.stringify(e)} ${String((e as { cause?: unknown }).cause ?? '')}` : String(e));

let exchange: PaperExchange;
let database: Database;
let smtp: SmtpCapture;
let metrics: TradingMetrics;
let lines: CapturedLines;
let closedPort: number;

beforeAll(async () => {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));

  exchange = await startPaperExchange({
    keys: [{ keyId: 'sec', secret: PAPER_SECRET }],
    adminToken: ADMIN_TOKEN,
    dataDir: null,
    engine: { stepMs: 100, fillModel: { ...EAGER_FILLS, feeCoefficientPpm: 70_000 } },
    log: (l) => void sink('exchange access log').push(l),
  });
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  smtp = await startSmtpCapture();

  // The worker's own wiring: the config from the environment, the logger scrubbing secretsOf(config).
  const config = buildConfig({
    PAPER_EXCHANGE_URL: exchange.url,
    PAPER_EXCHANGE_KEY_ID: 'sec',
    PAPER_EXCHANGE_SECRET: PAPER_SECRET,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_USER: 'alerts@example.com',
    SMTP_PASS,
    ALERT_EMAIL_FROM: 'trader@example.com',
    ALERT_EMAIL_TO: 'ops@example.com',
    DATABASE_URL: `postgres://trader:${DB_PASSWORD}@127.0.0.1:${closedPort}/trader`,
  });
  sink('describeConfig').push(JSON.stringify(describeConfig(config)));
  lines = new CapturedLines();
  const log = createLogger({ level: 'debug', destination: lines, secrets: secretsOf(config) });
  metrics = new TradingMetrics({ stage: 'PAPER' });
  const venueLog = metrics.venueLogger(log);
  const venue = createPaperVenue(
    { baseUrl: exchange.url, keyId: 'sec', secret: config.paperExchange!.secret },
    { timeoutMs: 2_000, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 200 }, logger: (e: VenueLogEntry) => (sink('venue client log (raw)').push(JSON.stringify(e)), venueLog(e)) },
  );
  const deps: ActivityDeps = { ...makeDeps({ db: database.db, venue, mailer: captureMailer(smtp.port, SMTP_PASS) }), log, metrics };
  const acts = instrumentActivities(createActivities(deps), metrics, log);

  // A trade end to end: risk, records, submit, fills.
  const markets = await venue.listMarkets();
  const market = markets.find((m) => m.tickSize === 10_000 && m.resolvesAt !== null)!;
  const snap = await venue.getMarketSnapshot(market.marketId);
  const id = `mr-${COMPACT}-000001`;
  const ctx: OrderContext = { strategy: 'mr', sessionWorkflowId: `session-mr-${DAY}`, tradingDay: DAY, signal: { price: 430_000 as Price, confidence: 0.8, at: Date.now(), metadata: {} } };
  const intent: OrderIntent = { clientOrderId: id, marketId: market.marketId, side: 'BUY', quantity: 5 as Quantity, limitPrice: Math.min(990_000, (snap.ask ?? 500_000) + 20_000) as Price };
  const info = { workflowExecution: { workflowId: `order-${id}`, runId: 'r' }, activityType: 'x' };
  const decision = await inActivity(() => acts.assessOrder({ order: intent, context: ctx, halted: null, ordersInLastMinute: 0 }), info);
  expect(decision.approved).toBe(true);
  let o = createOrder({ clientOrderId: id, marketId: intent.marketId, side: 'BUY', quantity: 5, limitPrice: intent.limitPrice, ts: Date.now() });
  await inActivity(() => acts.recordOrder(o, ctx), info);
  o = applyOrderEvent(o, { type: 'OrderSubmitRequested', ts: Date.now() });
  await inActivity(() => acts.recordOrder(o, ctx), info);
  const submitted = await inActivity(() => acts.submitOrder(intent), info);
  expect(submitted.outcome).toBe('ACCEPTED');
  for (let i = 0; i < 50; i++) {
    const p = await inActivity(() => acts.pollOrder(id), info);
    if (p.fills.length > 0) break;
    await new Promise((r) => setTimeout(r, 30));
  }
  await inActivity(() => acts.recordOperatorAction({ action: 'HALT', operator: 'ann', reason: 'drill', workflowId: `session-mr-${DAY}`, sequence: 1, details: {} }), info);
  // An alert mailed with the SMTP password, then one whose login the server refuses.
  await inActivity(() => acts.raiseAlert({ level: 'CRITICAL', type: 'TRADING_HALTED', dedupeKey: 'sec-1', title: 'Trading halted', body: 'drill' }), info);
  smtp.rejectAuth(true);
  try {
    await inActivity(() => acts.raiseAlert({ level: 'CRITICAL', type: 'TRADING_HALTED', dedupeKey: 'sec-2', title: 'Trading halted again', body: 'drill' }), info);
  } catch (e) {
    collectError('alert with a refused SMTP login', e);
  }
  // A failing activity (unknown market): the activity-failure log line and metric.
  try {
    await inActivity(() => acts.assessOrder({ order: { ...intent, clientOrderId: `mr-${COMPACT}-000002`, marketId: 'NO-SUCH-MKT' }, context: ctx, halted: null, ordersInLastMinute: 0 }), info);
  } catch (e) {
    collectError('assessOrder on an unknown market', e);
  }

  // Refused credentials: a client whose key id the exchange does not know signs with the real secret.
  const stranger = createPaperVenue({ baseUrl: exchange.url, keyId: 'nobody', secret: new Secret(PAPER_SECRET) }, { timeoutMs: 1_000, retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 }, logger: (e) => void sink('venue client log (raw)').push(JSON.stringify(e)) });
  try {
    await stranger.getBalance();
  } catch (e) {
    collectError('paper venue with an unknown key', e);
  }
  // Admin endpoint with a wrong token, and with the right one.
  for (const auth of [`Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN}`, '']) {
    const res = await fetch(`${exchange.url}/admin/faults`, { headers: auth ? { authorization: auth } : {} });
    sink('exchange HTTP answers').push(await res.text());
  }

  // Kalshi: a double that knows another public key refuses the signature; a broken PEM is refused.
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const double = await startKalshiDouble({ keyId: KALSHI_KEY_ID, publicKey: other.publicKey });
  try {
    const kalshi = createKalshiVenue(loadKalshiCredentials({ KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: KALSHI_PEM, KALSHI_BASE_URL: double.url }), new MemoryOrderIdMap(), {
      timeoutMs: 1_000,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
      logger: (e) => void sink('venue client log (raw)').push(JSON.stringify(e)),
    });
    try {
      await kalshi.getBalance();
    } catch (e) {
      collectError('kalshi with a key the venue does not know', e);
    }
  } finally {
    await double.close();
  }
  const broken = KALSHI_PEM.replace(PEM_LINES[3]!, `${PEM_LINES[3]!.slice(0, 20)}!!!${PEM_LINES[3]!.slice(23)}`);
  for (const pem of [broken, KALSHI_PEM.replace('-----BEGIN PRIVATE KEY-----', '-----BEGIN NONSENSE-----')]) {
    try {
      loadKalshiCredentials({ KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: pem, KALSHI_BASE_URL: 'https://demo-api.kalshi.co/trade-api/v2' });
    } catch (e) {
      collectError('a broken Kalshi PEM', e);
    }
  }

  // Bad configuration beside the secrets: the error lists the bad fields, never the secrets.
  try {
    buildConfig({ PAPER_EXCHANGE_URL: 'not a url', PAPER_EXCHANGE_SECRET: PAPER_SECRET, SMTP_HOST: 'h', SMTP_USER: 'u', SMTP_PASS, DATABASE_URL: `mysql://trader:${DB_PASSWORD}@db/x`, METRICS_PORT: 'x' });
  } catch (e) {
    collectError('bad configuration', e);
  }

  // The CLI against a database that does not answer, with the password in DATABASE_URL.
  let out = '';
  const io: CliIo = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
    env: { DATABASE_URL: `postgres://trader:${DB_PASSWORD}@127.0.0.1:${closedPort}/trader`, PAPER_EXCHANGE_SECRET: PAPER_SECRET, SMTP_PASS, OPERATOR: 'ann', DEBUG: '1' },
    progressStream: null,
    now: () => Date.now(),
    connectTimeoutMs: 500,
  };
  const code = await run(['orders'], io);
  expect(code).toBe(1);
  sink('CLI output').push(out);

  // The dashboard with its token: refused and accepted actions, and its log.
  const dash = await startDashboard({
    db: database.db,
    limits: CASE_STUDY_LIMITS,
    temporal: { signalHalt: async () => undefined, signalResume: async () => undefined, signalKillSwitch: async () => undefined },
    token: DASHBOARD_TOKEN,
    temporalUiUrl: 'http://127.0.0.1:8233',
    port: 0,
    log: (m) => void sink('dashboard log').push(m),
  });
  try {
    for (const auth of [`Bearer ${DASHBOARD_TOKEN}x`, 'Bearer wrong-token-value', `Bearer ${DASHBOARD_TOKEN}`]) {
      const res = await fetch(`${dash.url}/api/halt`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ operator: 'ann', reason: 'drill', sessionId: `session-mr-${DAY}` }) });
      sink('dashboard HTTP answers').push(await res.text());
    }
    for (const panel of ['/api/config', '/api/state', '/api/alerts', '/']) sink('dashboard HTTP answers').push(await (await fetch(dash.url + panel)).text());
  } finally {
    await dash.close();
  }

  sink('structured log (pino)').push(...lines.raw);
  sink('/metrics exposition').push(await metrics.exposition());
  sink('records (every table)').push(await dumpRecords(database.db));
  sink('mail sent').push(...smtp.messages.map((m) => m.raw));
}, 120_000);

afterAll(async () => {
  await exchange?.close();
  await smtp?.close();
  await database?.close();
});

describe('secrets', () => {
  it('were really exercised: the trade filled, mail went out with the password, failures were captured', () => {
    expect(smtp.passwords).toContain(SMTP_PASS);
    expect(sink('structured log (pino)').some((l) => l.includes('"event":"fill"'))).toBe(true);
    expect(sink('records (every table)').join('\n')).toMatch(/fills: /);
    expect([...sinks.keys()].filter((k) => k.startsWith('errors: ')).length).toBeGreaterThanOrEqual(5);
    expect(sink('exchange HTTP answers').join('\n')).toMatch(/ADMIN_TOKEN_INVALID/);
    expect(sink('dashboard HTTP answers').join('\n')).toMatch(/Forbidden/);
  });

  for (const [name, secret] of Object.entries(SECRETS)) {
    it(`${name} appears in no log, error, answer, metric, mail or record`, () => {
      for (const [where, texts] of sinks) {
        for (const text of texts) expect(text.includes(secret), `${name} found in ${where}: …${text.slice(Math.max(0, text.indexOf(secret) - 80), text.indexOf(secret) + 80)}…`).toBe(false);
      }
    });
  }
});
