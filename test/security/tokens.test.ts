/**
 * The guarded actions refuse callers without the right token: the dashboard's halt and resume
 * (missing or malformed header 401, wrong token 403, none configured 403, right token 202) and
 * every admin endpoint of the paper exchange (missing 401 ADMIN_TOKEN_MISSING, wrong 403
 * ADMIN_TOKEN_INVALID). A refused call changes nothing: no signal, no journal row, no fault,
 * balance, position or market change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperatorActions, openDatabase, startSession, type Database } from '../../db';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';

const DASHBOARD_TOKEN = 'tokens-test-dashboard-0123456789';
const ADMIN_TOKEN = 'tokens-test-admin-0123456789';
const DAY = '2026-01-05';
const SESSION = `session-mr-${DAY}`;

let database: Database;
let dash: RunningDashboard;
let readOnly: RunningDashboard;
let ex: PaperExchange;
const signalled: string[] = [];

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  await startSession(database.db, { sessionId: SESSION, strategy: 'mr', tradingDay: DAY, mode: 'PAPER', startedAt: Date.UTC(2026, 0, 5, 14) });
  const record = async (workflowId: string) => void signalled.push(workflowId);
  const common = { db: database.db, limits: CASE_STUDY_LIMITS, temporal: { signalHalt: record, signalResume: record, signalKillSwitch: record }, temporalUiUrl: 'http://127.0.0.1:8233', port: 0, log: () => {} };
  dash = await startDashboard({ ...common, token: DASHBOARD_TOKEN });
  readOnly = await startDashboard({ ...common, token: null });
  ex = await startPaperExchange({ keys: [{ keyId: 'tok', secret: 'tokens-test-secret-0123456789' }], adminToken: ADMIN_TOKEN, dataDir: null, clock: () => Date.UTC(2026, 0, 5, 15) });
});

afterAll(async () => {
  await dash?.close();
  await readOnly?.close();
  await ex?.close();
  await database?.close();
});

const action = (d: RunningDashboard, path: string, authorization: string | undefined) =>
  fetch(d.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ operator: 'ann', reason: 'token check', sessionId: SESSION }),
  });

describe('dashboard actions', () => {
  for (const path of ['/api/halt', '/api/resume']) {
    it(`${path}: missing or malformed Authorization is 401, a wrong token 403, and nothing is signalled or journaled`, async () => {
      const cases: [string | undefined, number][] = [
        [undefined, 401],
        ['', 401],
        [DASHBOARD_TOKEN, 401],
        [`Basic ${DASHBOARD_TOKEN}`, 401],
        ['Bearer', 401],
        [`Bearer ${DASHBOARD_TOKEN}x`, 403],
        [`Bearer ${DASHBOARD_TOKEN.slice(0, -1)}`, 403],
        [`Bearer ${DASHBOARD_TOKEN.toUpperCase()}`, 403],
        [`Bearer ${ADMIN_TOKEN}`, 403],
      ];
      for (const [auth, status] of cases) {
        const res = await action(dash, path, auth);
        expect(res.status, `${path} with ${JSON.stringify(auth)}`).toBe(status);
        const body = (await res.json()) as { error: string; message: string };
        expect(body.error).toMatch(status === 401 ? /Unauthorized/ : /Forbidden/);
        expect(body.message).not.toContain(DASHBOARD_TOKEN);
      }
      expect(signalled).toEqual([]);
      expect(await listOperatorActions(database.db, { limit: 10 })).toEqual([]);
    });
  }

  it('without a configured token the actions are off (403) whatever is sent', async () => {
    for (const auth of [undefined, `Bearer ${DASHBOARD_TOKEN}`, 'Bearer anything-at-all-here']) {
      const res = await action(readOnly, '/api/halt', auth);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('ActionsDisabled');
    }
    expect(signalled).toEqual([]);
  });

  it('the right token is accepted (202), signals the session and journals once', async () => {
    const res = await action(dash, '/api/halt', `Bearer ${DASHBOARD_TOKEN}`);
    expect(res.status).toBe(202);
    expect(signalled).toEqual([SESSION]);
    expect(await listOperatorActions(database.db, { limit: 10 })).toHaveLength(1);
  });
});

describe('paper exchange admin endpoints', () => {
  const routes: [string, string, unknown][] = [
    ['GET', '/admin/faults', undefined],
    ['PUT', '/admin/faults', { errorRate: 1 }],
    ['POST', '/admin/faults/reset', undefined],
    ['POST', '/admin/positions/adjust', { keyId: 'tok', marketId: 'M', delta: 5 }],
    ['POST', '/admin/balance/adjust', { keyId: 'tok', delta: '1000.00' }],
    ['POST', '/admin/markets/M/resolve', { outcome: 'YES' }],
  ];

  it('every admin endpoint: missing token 401, wrong token 403; nothing changes', async () => {
    const market = ex.engine.listMarkets()[0]!.marketId;
    const before = JSON.stringify({ state: ex.engine.toState(), faults: ex.admin.setFaults({}) });
    for (const [method, path, body] of routes) {
      const url = ex.url + path.replace('/M/', `/${market}/`);
      const payload = body === undefined ? undefined : JSON.stringify(body).replace('"M"', JSON.stringify(market));
      const cases: [string | undefined, number, string][] = [
        [undefined, 401, 'ADMIN_TOKEN_MISSING'],
        ['', 401, 'ADMIN_TOKEN_MISSING'],
        [ADMIN_TOKEN, 401, 'ADMIN_TOKEN_MISSING'],
        [`Basic ${ADMIN_TOKEN}`, 401, 'ADMIN_TOKEN_MISSING'],
        [`Bearer ${ADMIN_TOKEN}x`, 403, 'ADMIN_TOKEN_INVALID'],
        [`Bearer ${ADMIN_TOKEN.slice(1)}`, 403, 'ADMIN_TOKEN_INVALID'],
        [`Bearer ${DASHBOARD_TOKEN}`, 403, 'ADMIN_TOKEN_INVALID'],
      ];
      for (const [auth, status, code] of cases) {
        const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) }, body: payload });
        expect(res.status, `${method} ${path} with ${JSON.stringify(auth)}`).toBe(status);
        const text = await res.text();
        expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe(code);
        expect(text).not.toContain(ADMIN_TOKEN);
      }
    }
    expect(JSON.stringify({ state: ex.engine.toState(), faults: ex.admin.setFaults({}) })).toBe(before);
  });

  it('the right token is accepted', async () => {
    const res = await fetch(`${ex.url}/admin/faults`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
  });
});
