/**
 * Bad-input sweep of the operator dashboard's HTTP server (dashboard/server.ts): action
 * bodies with one bad field, malformed, mistyped and oversized bodies, forged Authorization
 * headers, hostile paths and methods, and request lines only a raw socket sends. Each answers
 * 400/401/403/404/405/413 with a JSON error body naming the field; none is a 500; no session is
 * signalled, every table of the records is exactly as before, and the panels still answer.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOrder, openDatabase, recordAlert, startSession, upsertMarket, type Database, type Db } from '../../db';
import type { OperatorRequest } from '../../workflows/api';
import type { Price, Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { MAX_BODY_BYTES, startDashboard, type RunningDashboard } from '../../dashboard/server';
import { SweepCounter, deeplyNestedJson, hostileString, malformedJsonText, pct, recordsDigest, resetRecords, rowCounts, runs, wrongTyped } from './support';

const counter = new SweepCounter('dashboard-http');
const TOKEN = 'sweep-dashboard-token-0123456789';
const NOW = Date.UTC(2026, 0, 5, 15);
const DAY = '2026-01-05';

let database: Database;
let dash: RunningDashboard;
let digestBefore: Awaited<ReturnType<typeof recordsDigest>>;
let countsBefore: Record<string, number>;
const signals: { workflowId: string; request: OperatorRequest }[] = [];

interface Answer {
  status: number;
  text: string;
  body: { error?: string; message?: string; problems?: { field: string; problem: string }[] } & Record<string, unknown>;
}

async function request(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(dash.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    // a non-JSON answer fails expectError
  }
  return { status: res.status, text, body: parsed };
}

const act = (body: string, path = '/api/halt', headers: Record<string, string> = {}) =>
  request('POST', path, body, { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers });

function expectError(a: Answer, statuses: number[]): void {
  expect(statuses, `status ${a.status}: ${a.text.slice(0, 300)}`).toContain(a.status);
  expect(typeof a.body.error, a.text.slice(0, 300)).toBe('string');
  expect(String(a.body.message).length).toBeGreaterThan(0);
}

async function seed(db: Db): Promise<void> {
  await upsertMarket(db, { marketId: 'PX-A', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null });
  await insertOrder(db, { clientOrderId: 'mr-20260105-000001', marketId: 'PX-A', side: 'BUY', quantity: 10 as Quantity, limitPrice: 410_000 as Price, strategy: 'mr', tradingDay: DAY, createdAt: NOW - 60_000 });
  await startSession(db, { sessionId: `session-mr-${DAY}`, strategy: 'mr', tradingDay: DAY, mode: 'PAPER', startedAt: NOW - 3_600_000 });
  await recordAlert(db, { level: 'HIGH', type: 'DAILY_LOSS_HALF', dedupeKey: 'k-1', title: 'Daily loss past half', body: 'x', raisedAt: NOW - 100_000 });
}

/**
 * Wraps one run of a property: afterwards nothing was signalled and no table gained or lost a row
 * (a journal entry is the one write an action makes; the full digest is compared at the end). A
 * run that changed either fails, after the records are put back, so the next run (a shrink
 * candidate too) starts from the seeded records rather than from the failing run's leftovers.
 */
function untouched<A extends unknown[]>(check: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await check(...args);
    } finally {
      const sent = signals.splice(0);
      const counts = await rowCounts(database.db, Object.keys(countsBefore));
      if (sent.length > 0 || JSON.stringify(counts) !== JSON.stringify(countsBefore)) {
        await resetRecords(database.db);
        await seed(database.db);
        digestBefore = await recordsDigest(database.db);
        expect({ sent, counts }).toEqual({ sent: [], counts: countsBefore });
      }
    }
  };
}

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  const db = database.db;
  await seed(db);
  const record = async (workflowId: string, req: OperatorRequest) => void signals.push({ workflowId, request: req });
  dash = await startDashboard({ db, limits: CASE_STUDY_LIMITS, temporal: { signalHalt: record, signalResume: record, signalKillSwitch: record }, token: TOKEN, temporalUiUrl: 'http://127.0.0.1:8233', port: 0, clock: () => NOW, log: () => {} });
  digestBefore = await recordsDigest(db);
  countsBefore = await rowCounts(db);
});

afterAll(async () => {
  expect(signals).toEqual([]);
  expect(await recordsDigest(database.db)).toEqual(digestBefore);
  const state = await fetch(`${dash.url}/api/state`);
  expect(state.status).toBe(200);
  await dash?.close();
  await database?.close();
  counter.report();
});

const GOOD = { operator: 'ann', reason: 'news pending', sessionId: `session-mr-${DAY}`, requestId: 'req-0123456789' };

/** For each body field, values it can never take. */
const badValue: Record<string, fc.Arbitrary<unknown>> = {
  operator: fc.oneof(wrongTyped.filter((v) => typeof v !== 'string'), fc.constantFrom('', '   ', '\t'), fc.integer({ min: 101, max: 5_000 }).map((n) => 'o'.repeat(n))),
  reason: fc.oneof(wrongTyped.filter((v) => typeof v !== 'string'), fc.constantFrom('', ' '), fc.integer({ min: 1_001, max: 7_000 }).map((n) => 'r'.repeat(n))),
  sessionId: fc.oneof(hostileString.filter((s) => !/^session-[A-Za-z0-9][A-Za-z0-9_.-]{0,47}-\d{4}-\d{2}-\d{2}$/.test(s)), wrongTyped.filter((v) => typeof v !== 'string' && JSON.stringify(v) !== 'null')),
  requestId: fc.oneof(hostileString.filter((s) => !/^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/.test(s)), wrongTyped.filter((v) => typeof v !== 'string')),
};

describe('actions', () => {
  it('one bad body field: 400 naming it; nothing signalled or journaled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(badValue)).chain((f) => fc.tuple(fc.constant(f), badValue[f]!)), fc.constantFrom('/api/halt', '/api/resume'), untouched(async ([field, value], path) => {
        counter.tried('POST action: one bad field');
        const body = JSON.stringify({ ...GOOD, [field]: value });
        if (Buffer.byteLength(body) > MAX_BODY_BYTES) return void expectError(await act(body, path), [413]);
        const a = await act(body, path);
        expectError(a, [400]);
        expect(a.body.problems?.map((p) => p.field)).toContain(field);
      })),
      { numRuns: runs(250) },
    );
  });

  it('unknown fields are named; bodies that are not objects are refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileString.filter((k) => !(k in GOOD) && k.length < 500), fc.constant('__proto__')), wrongTyped, untouched(async (key, value) => {
        counter.tried('POST action: unknown field');
        const body = `{${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'},"operator":"ann","reason":"x"}`;
        const a = await act(body);
        if (Buffer.byteLength(body) > MAX_BODY_BYTES) return void expectError(a, [413]);
        expectError(a, [400]);
        expect(a.body.problems?.map((p) => p.field)).toContain(key);
      })),
      { numRuns: runs(100) },
    );
  });

  it('malformed JSON, non-objects, deep nesting and wrong content types are 400', async () => {
    const bodies = fc.oneof(malformedJsonText, fc.constantFrom('[]', '"x"', '1', 'null', deeplyNestedJson(800)));
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', ''), untouched(async (body, type) => {
        counter.tried('POST action: malformed body or content type');
        const a = await act(body, '/api/halt', { 'content-type': type });
        if (Buffer.byteLength(body) > MAX_BODY_BYTES) return void expectError(a, [413]);
        expectError(a, [400]);
      })),
      { numRuns: runs(120) },
    );
  });

  it('an oversized body is 413', async () => {
    for (const size of [MAX_BODY_BYTES + 1, 100_000, 3_000_000]) {
      counter.tried('POST action: oversized body');
      const a = await act(JSON.stringify({ ...GOOD, reason: 'x'.repeat(size) }));
      expectError(a, [413]);
    }
  });

  it('missing, malformed or wrong tokens are 401 or 403 and nothing happens', async () => {
    const header = fc.option(
      fc.oneof(
        hostileString.filter((s) => /^[\x20-\x7e]*$/.test(s) && s.length < 4_000),
        hostileString.filter((s) => /^[\x21-\x7e]+$/.test(s) && s !== TOKEN && s.length < 4_000).map((s) => `Bearer ${s}`),
        fc.constantFrom(`Basic ${TOKEN}`, `Bearer`, `Bearer  `, `bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN} extra`, `Token ${TOKEN}`),
      ),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(header, fc.constantFrom('/api/halt', '/api/resume'), untouched(async (auth, path) => {
        counter.tried('POST action: bad token');
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (auth !== undefined) headers.authorization = auth;
        const a = await request('POST', path, JSON.stringify(GOOD), headers);
        expectError(a, [401, 403]);
        expect(a.text).not.toContain(TOKEN);
      })),
      { numRuns: runs(150) },
    );
  });
});

describe('paths and methods', () => {
  it('hostile paths are 404, hostile methods 405; never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileString, { minLength: 1, maxLength: 3 }), fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'), untouched(async (segments, method) => {
        counter.tried('paths: hostile path or method');
        const path = `/${segments.map(pct).join('/')}`;
        const a = await request(method, path, method === 'GET' || method === 'HEAD' ? undefined : '{}', {});
        if (path.length > 8_000 && a.status === 431) return;
        expect(a.status, `${method} ${path.slice(0, 100)}: ${a.text.slice(0, 200)}`).toBeLessThan(500);
        if (method === 'HEAD') return;
        if (a.status !== 200) expectError(a, [400, 401, 403, 404, 405]);
      })),
      { numRuns: runs(200) },
    );
  });

  it('panels ignore hostile query strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/state', '/api/orders', '/api/fills', '/api/pnl', '/api/alerts'), hostileString, hostileString, untouched(async (panel, k, v) => {
        counter.tried('paths: hostile query string');
        const target = `${panel}?${pct(k)}=${pct(v)}`;
        const a = await request('GET', target, undefined, {});
        // Past Node's header limit the parser itself answers 431.
        expect(target.length > 8_000 ? [200, 431] : [200]).toContain(a.status);
      })),
      { numRuns: runs(100) },
    );
  });

  it('odd request targets and broken framing on a raw socket never crash the server', async () => {
    const { port } = new URL(dash.url);
    const raw = (bytes: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        let data = '';
        socket.setTimeout(3_000, () => socket.destroy());
        socket.on('data', (d) => {
          data += d.toString('latin1');
          if (data.includes('\r\n\r\n')) socket.end();
        });
        socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
        socket.on('error', () => undefined);
        socket.write(bytes, 'latin1');
      });
    for (const target of ['//', '/%ZZ', '*', 'http://[::1/api/state', '/api/halt/../../etc/passwd', '/\\..\\..\\etc\\passwd', '/api/state?%00']) {
      for (const method of ['GET', 'POST', 'FOO']) {
        counter.tried('raw: request line');
        const line = await raw(`${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
        if (line !== '') expect(line, `${method} ${target}`).toMatch(/^HTTP\/1\.1 [24]\d\d /);
      }
    }
    const state = await fetch(`${dash.url}/api/state`);
    expect(state.status).toBe(200);
  });
});
