/**
 * Bad-input sweep of the paper exchange's HTTP front (exchange/server.ts): signed order
 * placements with one field made bad, malformed and oversized bodies, hostile paths and query
 * parameters, forged signing headers, hostile admin bodies, and request lines that only a raw
 * socket can send. Each answers with the right 4xx status and an error body naming the field;
 * none is a 500; the server still answers afterwards and the accounts (orders, fills, positions,
 * cash, faults) are exactly as before.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders, type ApiKey } from '../../exchange/auth';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { SweepCounter, deeplyNestedJson, hostileString, malformedJsonText, pct, runs, wrongTyped } from './support';

const counter = new SweepCounter('exchange-http');
const KEY: ApiKey = { keyId: 'sweep', secret: 'sweep-secret-0123456789abcdef' };
const ADMIN = 'sweep-admin-token-0123456789';
const NOW = Date.UTC(2026, 0, 5, 15);

let ex: PaperExchange;
let market: string;
let stateBefore: string;

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; field?: string; value?: string } } & Record<string, unknown>;
  text: string;
}

async function send(method: string, pathWithQuery: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(ex.url + pathWithQuery, { method, headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    // checked by the caller: every answer must be JSON
  }
  return { status: res.status, body: parsed, text };
}

/** Signs what fetch actually sends: it resolves dot segments ("/v1/orders/." goes out as "/v1/orders/"). */
const signed = (method: string, pathWithQuery: string, body = ''): Promise<Answer> => {
  const sent = new URL(ex.url + pathWithQuery);
  const target = sent.pathname + sent.search;
  return send(method, target, method === 'GET' || method === 'HEAD' ? undefined : body, signedHeaders(KEY, method, target, body, Date.now()));
};

const admin = (method: string, path: string, body?: string): Promise<Answer> => send(method, path, body, { authorization: `Bearer ${ADMIN}` });

/** A 4xx with the wire error body; never a 5xx. */
function expectError(a: Answer, statuses: number[]): void {
  expect(statuses, `status ${a.status}: ${a.text.slice(0, 300)}`).toContain(a.status);
  expect(a.body.error?.code, a.text.slice(0, 300)).toMatch(/^[A-Z_]+$/);
  expect(a.body.error?.message.length).toBeGreaterThan(0);
}

/** Everything the accounts hold, as text; the market clock is fixed, so it changes only on a mutation. */
const accountState = (): string => JSON.stringify({ state: ex.engine.toState(), faults: ex.admin.setFaults({}) });

/**
 * Wraps one run of a property: the accounts are as they were before it. Compared per run rather
 * than with the state before the sweep, so a run that changed them fails on its own and the
 * shrink candidates after it are judged on their own effect, not on the failing run's leftovers.
 */
function unchanged<A extends unknown[]>(check: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    const before = accountState();
    try {
      await check(...args);
    } finally {
      expect(accountState(), 'the accounts changed').toBe(before);
    }
  };
}

beforeAll(async () => {
  ex = await startPaperExchange({
    keys: [KEY],
    adminToken: ADMIN,
    clock: () => NOW,
    dataDir: null,
    rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
  });
  market = ex.engine.listMarkets().find((m) => m.tickSize === 10_000)!.marketId;
  // One real order, so that there is something to damage.
  const placed = await signed('POST', '/v1/orders', JSON.stringify({ clientOrderId: 'sweep-000001', marketId: market, side: 'BUY', quantity: 5, limitPrice: '0.01' }));
  expect(placed.status).toBe(201);
  stateBefore = accountState();
});

afterAll(async () => {
  expect(accountState()).toBe(stateBefore);
  const health = await fetch(`${ex.url}/health`);
  expect(health.status).toBe(200);
  await ex?.close();
  counter.report();
});

const GOOD = (): Record<string, unknown> => ({ clientOrderId: 'sweep-000002', marketId: market, side: 'BUY', quantity: 5, limitPrice: '0.01' });

const notDecimal = (s: string): boolean => !/^\s*[+-]?\d*\.?\d*\s*$/.test(s);

/** For each order field, values that can never be valid for it. */
const badValue: Record<string, fc.Arbitrary<unknown>> = {
  clientOrderId: fc.oneof(hostileString.filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(s)), wrongTyped.filter((v) => typeof v !== 'string')),
  marketId: fc.oneof(hostileString.filter((s) => s !== market && !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(s)), wrongTyped.filter((v) => typeof v !== 'string')),
  side: fc.oneof(hostileString.filter((s) => !['BUY', 'SELL', 'buy', 'sell'].includes(s.trim())), wrongTyped.filter((v) => typeof v !== 'string')),
  quantity: fc.oneof(wrongTyped.filter((v) => !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 1_000_000)), fc.constantFrom(0, -1, 1_000_001, 1.5, 2 ** 53)),
  limitPrice: fc.oneof(
    hostileString.filter(notDecimal),
    // JSON turns NaN and the infinities into null, which is a market order: not a bad value.
    wrongTyped.filter((v) => typeof v !== 'string' && JSON.stringify(v) !== 'null'),
    fc.constantFrom('0', '1', '1.00', '-0.5', '0.015', '0.0000001', '99999999999999999'),
  ),
};

describe('signed order placement', () => {
  it('one bad field: 400 naming that field (or the unknown market), nothing created', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(badValue)).chain((f) => fc.tuple(fc.constant(f), badValue[f]!)), unchanged(async ([field, value]) => {
        counter.tried('POST /v1/orders: one bad field');
        const a = await signed('POST', '/v1/orders', JSON.stringify({ ...GOOD(), [field]: value }));
        expectError(a, [400]);
        const named = a.body.error?.field;
        expect(named === field || (field === 'marketId' && a.body.error?.code === 'UNKNOWN_MARKET'), a.text.slice(0, 300)).toBe(true);
      })),
      { numRuns: runs(300) },
    );
  });

  it('missing fields and unknown extra fields are named', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(Object.keys(GOOD())), hostileString.filter((k) => !(k in GOOD())), wrongTyped, fc.boolean(), unchanged(async (keep, extra, extraValue, withExtra) => {
        counter.tried('POST /v1/orders: missing or extra fields');
        const body: Record<string, unknown> = Object.fromEntries(Object.entries(GOOD()).filter(([k]) => keep.includes(k)));
        if (withExtra || keep.length === Object.keys(GOOD()).length) body[extra] = extraValue;
        const a = await signed('POST', '/v1/orders', JSON.stringify(body));
        expectError(a, [400]);
        expect(a.body.error?.field).toBeDefined();
      })),
      { numRuns: runs(150) },
    );
  });

  it('malformed JSON, non-objects and deep nesting: 400 MALFORMED_JSON or INVALID_INPUT', async () => {
    const bodies = fc.oneof(malformedJsonText, fc.constantFrom('[]', '"x"', '1', 'null', deeplyNestedJson(2_000), `{"clientOrderId":${deeplyNestedJson(500)}}`));
    await fc.assert(
      fc.asyncProperty(bodies, unchanged(async (body) => {
        counter.tried('POST /v1/orders: malformed body');
        const a = await signed('POST', '/v1/orders', body);
        expectError(a, [400]);
        expect(['MALFORMED_JSON', 'INVALID_INPUT']).toContain(a.body.error?.code);
      })),
      { numRuns: runs(150) },
    );
  });

  it('an oversized body is 413 whether signed or not', async () => {
    for (const size of [65_537, 200_000, 2_000_000]) {
      for (const sign of [true, false]) {
        counter.tried('POST /v1/orders: oversized body');
        const body = JSON.stringify({ ...GOOD(), pad: 'x'.repeat(size) });
        const a = sign ? await signed('POST', '/v1/orders', body) : await send('POST', '/v1/orders', body, {});
        expectError(a, [413]);
        expect(a.body.error?.code).toBe('BODY_TOO_LARGE');
      }
    }
  });
});

describe('paths, methods and query parameters', () => {
  it('hostile order and market IDs in the path are 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(hostileString, fc.constantFrom('GET', 'DELETE'), fc.constantFrom('/v1/orders/', '/v1/orders/by-client-id/', '/v1/markets/'), unchanged(async (id, method, prefix) => {
        counter.tried('paths: hostile IDs');
        const path = prefix === '/v1/markets/' ? `${prefix}${pct(id)}/snapshot` : `${prefix}${pct(id)}`;
        const a = await signed(prefix === '/v1/markets/' ? 'GET' : method, path);
        // Node's HTTP parser itself answers 431 to a request line past its header size limit.
        if (path.length > 8_000 && a.status === 431) return;
        expectError(a, [400, 404]);
      })),
      { numRuns: runs(200) },
    );
  });

  it('hostile query parameters are refused naming the parameter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['/v1/fills', 'cursor'], ['/v1/fills', 'limit'], ['/v1/settlements', 'cursor'], ['/v1/orders', 'status'], ['/v1/markets/M/snapshot', 'depth'], ['/v1/balance', 'x']),
        hostileString.filter((s) => s !== 'open' && !/^\d+$/.test(s)),
        unchanged(async ([path, param], value) => {
          counter.tried('query: hostile parameter');
          const target = `${path.replace('/M/', `/${market}/`)}?${param}=${pct(value)}${path === '/v1/orders' && param !== 'status' ? '&status=open' : ''}`;
          const a = await signed('GET', target);
          if (target.length > 8_000 && a.status === 431) return;
          expectError(a, [400]);
          expect(a.body.error?.field).toBe(param);
        }),
      ),
      { numRuns: runs(150) },
    );
  });

  it('unknown routes and methods are 404 or 405', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.array(hostileString, { minLength: 1, maxLength: 4 }), unchanged(async (method, segments) => {
        counter.tried('routes: unknown path or method');
        const path = `/v1/${segments.map(pct).join('/')}`;
        const a = await signed(method, path, method === 'GET' ? '' : '{}');
        if (path.length > 8_000 && a.status === 431) return;
        expectError(a, [400, 404, 405]);
      })),
      { numRuns: runs(150) },
    );
  });
});

describe('authentication', () => {
  it('forged, stale, missing or hostile signing headers are 401', async () => {
    const header = fc.option(fc.oneof(hostileString.filter((s) => /^[\x20-\x7e]*$/.test(s) && s.length < 2_000), fc.constant(KEY.keyId), fc.constant(String(Date.now())), fc.constant('0'.repeat(64))), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(header, header, header, unchanged(async (key, ts, sig) => {
        counter.tried('auth: forged signing headers');
        const headers: Record<string, string> = {};
        if (key !== undefined) headers['x-paper-key'] = key;
        if (ts !== undefined) headers['x-paper-timestamp'] = ts;
        if (sig !== undefined) headers['x-paper-signature'] = sig;
        const a = await send('GET', '/v1/balance', undefined, headers);
        expectError(a, [401]);
        expect(a.body.error?.code).toMatch(/^AUTH_/);
        expect(a.text).not.toContain(KEY.secret);
      })),
      { numRuns: runs(150) },
    );
  });

  it('a body changed after signing is 401 AUTH_BAD_SIGNATURE', async () => {
    counter.tried('auth: tampered body', 5);
    for (let i = 0; i < 5; i++) {
      const body = JSON.stringify(GOOD());
      const headers = signedHeaders(KEY, 'POST', '/v1/orders', body, Date.now());
      const a = await send('POST', '/v1/orders', body.replace('"quantity":5', `"quantity":${500 + i}`), headers);
      expectError(a, [401]);
      expect(a.body.error?.code).toBe('AUTH_BAD_SIGNATURE');
    }
  });
});

describe('admin endpoints', () => {
  it('hostile bodies are refused naming the field; balances, positions and faults are untouched', async () => {
    const probability = ['errorRate', 'rateLimitStormRate', 'latencySpikeProbability', 'hangProbability', 'dropAfterAcceptProbability', 'missingFieldProbability'];
    const cases = fc.oneof(
      fc.tuple(fc.constant(['PUT', '/admin/faults']), fc.constantFrom(...probability), wrongTyped.filter((v) => !(typeof v === 'number' && v >= 0 && v <= 1))).map(([r, f, v]) => ({ route: r, field: f, body: { [f]: v } })),
      wrongTyped.filter((v) => !(typeof v === 'number' && Number.isSafeInteger(v))).map((v) => ({ route: ['POST', '/admin/positions/adjust'], field: 'delta', body: { keyId: KEY.keyId, marketId: market, delta: v } })),
      fc.oneof(hostileString.filter(notDecimal), wrongTyped.filter((v) => typeof v !== 'string')).map((v) => ({ route: ['POST', '/admin/balance/adjust'], field: 'delta', body: { keyId: KEY.keyId, delta: v } })),
      fc.oneof(hostileString, wrongTyped).filter((v) => v !== KEY.keyId).map((v) => ({ route: ['POST', '/admin/balance/adjust'], field: 'keyId', body: { keyId: v, delta: '1.00' } })),
      fc.oneof(hostileString, wrongTyped).filter((v) => v !== 'YES' && v !== 'NO').map((v) => ({ route: ['POST', `/admin/markets/MKT/resolve`], field: 'outcome', body: { outcome: v } })),
    );
    await fc.assert(
      fc.asyncProperty(cases, unchanged(async ({ route, field, body }) => {
        counter.tried('admin: hostile body');
        const a = await admin(route[0]!, route[1]!.replace('MKT', market), JSON.stringify(body));
        expectError(a, [400]);
        expect(a.body.error?.field ?? a.body.error?.message).toContain(field);
      })),
      { numRuns: runs(200) },
    );
  });

  it('malformed and oversized admin bodies are 400 and 413', async () => {
    await fc.assert(
      // An empty body is read as {} by design (API.md): only non-empty malformed text here.
      fc.asyncProperty(malformedJsonText.filter((t) => t !== ''), fc.constantFrom('/admin/faults', '/admin/balance/adjust'), unchanged(async (body, path) => {
        counter.tried('admin: malformed body');
        const a = await admin(path === '/admin/faults' ? 'PUT' : 'POST', path, body);
        expectError(a, [400]);
      })),
      { numRuns: runs(60) },
    );
    counter.tried('admin: oversized body');
    expectError(await admin('PUT', '/admin/faults', JSON.stringify({ errorRate: 0, pad: 'x'.repeat(100_000) })), [413]);
  });
});

describe('raw request lines', () => {
  /** Sends bytes on a fresh socket; resolves with the status line (or '' when the server closed it). */
  function raw(bytes: string): Promise<string> {
    const { port } = new URL(ex.url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      const done = () => resolve(data.split('\r\n')[0] ?? '');
      socket.setTimeout(3_000, () => socket.destroy());
      socket.on('data', (d) => {
        data += d.toString('latin1');
        if (data.includes('\r\n\r\n')) socket.end();
      });
      socket.on('close', done);
      socket.on('error', () => undefined);
      socket.write(bytes, 'latin1');
    });
  }

  it('odd targets, bad percent-encoding, bad methods and broken framing never crash the server', async () => {
    const targets = [
      '/v1/orders/%ZZ',
      '/v1/orders/by-client-id/%E0%A4%A',
      '/admin/markets/%ZZ/resolve',
      '//',
      '/\\..\\..\\etc\\passwd',
      '/../../etc/passwd',
      '*',
      'http://[::1/v1/balance',
      'http://exchange.invalid:99999/health',
      '/health?%00',
      `/v1/${'a/'.repeat(5_000)}`,
      '/%',
    ];
    for (const target of targets) {
      for (const method of ['GET', 'DELETE', 'FOO', 'POST']) {
        counter.tried('raw: request line');
        const line = await raw(`${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        if (line !== '') expect(line, `${method} ${target}`).toMatch(/^HTTP\/1\.1 [24]\d\d /);
      }
    }
    for (const junk of ['\u0000\u0001\u0002\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'POST /v1/orders HTTP/1.1\r\nContent-Length: -5\r\n\r\n', 'POST /v1/orders HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n']) {
      counter.tried('raw: broken framing');
      const line = await raw(junk);
      if (line !== '') expect(line).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    const health = await fetch(`${ex.url}/health`);
    expect(health.status).toBe(200);
  });
});
