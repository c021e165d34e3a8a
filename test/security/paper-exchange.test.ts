/**
 * The paper exchange and the secrets around it, as probed from outside:
 * - slow or idle clients are cut off (header and request timeouts) and connections are capped;
 * - a request is authenticated from its headers before its body is read (an unauthenticated
 *   client cannot make the server wait for, or buffer, a body), and the body stays capped;
 * - a secret too short to be secret is refused, naming the variable, and the log scrubber never
 *   replaces strings shorter than that minimum (a one-character secret would shred every line);
 * - credentials inside PAPER_EXCHANGE_URL are refused without being echoed;
 * - the dashboard token and the Kalshi key are on the scrub list.
 */
import { connect, type Socket } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { DEFAULT_SERVER_LIMITS, validateServerLimits } from '../../exchange/config';
import { buildConfig, loadConfig, secretsOf } from '../../runtime/config';
import { CapturedLines, createLogger, MIN_SCRUBBED_SECRET_LENGTH, REDACT_PATHS, scrubSecrets } from '../../runtime/logging';
import { startObservability } from '../../worker/observability';

const SECRET = 'paper-exchange-test-secret-0123';
const ADMIN = 'paper-exchange-test-admin-0123';

let ex: PaperExchange;
let tight: PaperExchange;

beforeAll(async () => {
  ex = await startPaperExchange({ keys: [{ keyId: 'probe', secret: SECRET }], adminToken: ADMIN, dataDir: null, clock: () => Date.UTC(2026, 0, 5, 15) });
  tight = await startPaperExchange({
    keys: [{ keyId: 'probe', secret: SECRET }],
    adminToken: ADMIN,
    dataDir: null,
    clock: () => Date.UTC(2026, 0, 5, 15),
    limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000, maxConnections: 3 },
  });
});

afterAll(async () => {
  await ex?.close();
  await tight?.close();
});

/** A raw connection: what it sends and everything it hears until the server closes it or `ms` pass. */
function raw(url: string, text: string, ms: number): Promise<{ heard: string; closed: boolean; socket: Socket }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port), u.hostname);
    let heard = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ heard, closed, socket });
    };
    const timer = setTimeout(() => finish(false), ms);
    socket.on('data', (d: Buffer) => {
      heard += d.toString('utf8');
      if (/\r\n\r\n/.test(heard) && /^HTTP\/1\.1 (401|403|404|408|413)/.test(heard)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(text);
  });
}

describe('paper exchange: timeouts and connection cap', () => {
  it('uses bounded defaults, and checks configured limits naming each field', () => {
    expect(DEFAULT_SERVER_LIMITS.headersTimeoutMs).toBeGreaterThan(0);
    expect(DEFAULT_SERVER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(DEFAULT_SERVER_LIMITS.requestTimeoutMs);
    expect(DEFAULT_SERVER_LIMITS.requestTimeoutMs).toBeLessThanOrEqual(60_000);
    expect(DEFAULT_SERVER_LIMITS.maxConnections).toBeGreaterThan(0);
    expect(() => validateServerLimits({ headersTimeoutMs: 0, requestTimeoutMs: -1, maxConnections: 0 })).toThrow(/headersTimeoutMs.*requestTimeoutMs.*maxConnections/);
    expect(() => validateServerLimits({ ...DEFAULT_SERVER_LIMITS, headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 })).toThrow(/headersTimeoutMs/);
  });

  it('cuts off a client that never finishes its headers', async () => {
    const started = Date.now();
    const r = await raw(tight.url, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ', 6_000);
    expect(r.closed || /^HTTP\/1\.1 408/.test(r.heard)).toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
    r.socket.destroy();
  });

  it('refuses connections past the cap', async () => {
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = connect(tight.port, '127.0.0.1');
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 50));
    const extra = await raw(tight.url, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 2_000);
    expect(extra.closed).toBe(true);
    expect(extra.heard).not.toMatch(/200 OK/);
    for (const s of held) s.destroy();
  });
});

describe('paper exchange: headers are checked before the body is read', () => {
  for (const [name, path, headers] of [
    ['no signing headers', '/v1/orders', ''],
    ['an unknown key', '/v1/orders', 'X-Paper-Key: nobody\r\nX-Paper-Timestamp: 1\r\nX-Paper-Signature: 00\r\n'],
    ['no admin token', '/admin/faults', ''],
    ['a wrong admin token', '/admin/faults', 'Authorization: Bearer wrong-token-wrong-token\r\n'],
    ['an unknown route', '/nowhere', ''],
  ] as const) {
    it(`answers ${name} without waiting for the announced body`, async () => {
      const r = await raw(ex.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n${headers}\r\n{"x":`, 1_500);
      expect(r.heard).toMatch(/^HTTP\/1\.1 (401|403|404) /);
      expect(r.heard.toLowerCase()).toContain('connection: close');
      r.socket.destroy();
    });
  }

  it('still caps the body of an authenticated request', async () => {
    const r = await raw(ex.url, `POST /admin/faults HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{`, 1_500);
    expect(r.heard).toMatch(/^HTTP\/1\.1 413 /);
    r.socket.destroy();
  });
});

describe('secrets too short to be secret', () => {
  const paperEnv = { PAPER_EXCHANGE_URL: 'http://127.0.0.1:8090', PAPER_EXCHANGE_KEY_ID: 'dev' };

  it('PAPER_EXCHANGE_SECRET of one character is refused, naming the variable, never echoing it', () => {
    let message = '';
    try {
      loadConfig({ ...paperEnv, PAPER_EXCHANGE_SECRET: 'e' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/PAPER_EXCHANGE_SECRET: must be at least 16 characters/);
    expect(message).not.toMatch(/"e"/);
    expect(loadConfig({ ...paperEnv, PAPER_EXCHANGE_SECRET: SECRET }).paperExchange?.keyId).toBe('dev');
  });

  it('the scrubber never replaces strings shorter than the minimum', () => {
    expect(MIN_SCRUBBED_SECRET_LENGTH).toBeGreaterThanOrEqual(8);
    const line = '{"level":"info","msg":"order placed at 0.45 for ema-mr"}';
    expect(scrubSecrets(line, ['e', '0', 'a', '45'])).toBe(line);
    const lines = new CapturedLines();
    const log = createLogger({ destination: lines, secrets: ['e', 'o'] });
    log.info({ event: 'order' }, 'order accepted');
    expect(lines.lines[0]!.msg).toBe('order accepted');
    expect(scrubSecrets(`x ${SECRET} y`, [SECRET])).toBe('x [redacted] y');
  });
});

describe('credentials inside PAPER_EXCHANGE_URL', () => {
  for (const url of ['http://bob:hunter2-url-pass@127.0.0.1:8090', 'ftp://bob:hunter2-url-pass@127.0.0.1:8090', 'http://hunter2-url-pass@127.0.0.1:8090']) {
    it(`${url.split(':')[0]} URL with userinfo is refused without echoing it`, () => {
      let message = '';
      try {
        loadConfig({ PAPER_EXCHANGE_URL: url, PAPER_EXCHANGE_KEY_ID: 'dev', PAPER_EXCHANGE_SECRET: SECRET });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/PAPER_EXCHANGE_URL/);
      expect(message).not.toContain('hunter2-url-pass');
      expect(message).not.toContain('bob');
    });
  }
});

describe('the scrub list', () => {
  it('holds the dashboard token and the Kalshi key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const kalshiKeyId = '3f8c2a55-1c1d-4b1e-9f00-0123456789ab';
    const config = buildConfig({ TRADING_STAGE: 'SHADOW', VENUE: 'kalshi', KALSHI_ENV: 'demo', KALSHI_API_KEY_ID: kalshiKeyId, KALSHI_PRIVATE_KEY_PEM: pem, METRICS_PORT: '0' });
    const dashboardToken = 'dashboard-token-on-the-scrub-list-0123';
    const lines = new CapturedLines();
    const o = await startObservability(config, { destination: lines, processMetrics: false, secrets: [dashboardToken] });
    try {
      o.log.info({ event: 'stage' }, `token ${dashboardToken} key ${kalshiKeyId}`);
      o.log.info({ event: 'stage', dashboardToken, headers: { 'KALSHI-ACCESS-KEY': kalshiKeyId } }, 'fields');
      const text = lines.raw.join('\n');
      expect(text).not.toContain(dashboardToken);
      expect(text).not.toContain(kalshiKeyId);
      expect(secretsOf(config)).toContain(kalshiKeyId);
      expect(REDACT_PATHS).toContain('dashboardToken');
      expect(REDACT_PATHS).toContain('headers["KALSHI-ACCESS-KEY"]');
    } finally {
      await o.close();
    }
  });
});
