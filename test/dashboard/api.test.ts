/**
 * The dashboard's JSON endpoints and actions over records written by the repositories (PGlite),
 * with a fixed clock and a scripted quote source, so every figure can be checked to the micro.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertOrder,
  listOperatorActions,
  openDatabase,
  recordAlert,
  recordBreakerChange,
  recordFill,
  recordOrderEvent,
  startSession,
  upsertMarket,
  type Database,
} from '../../db';
import type { KillSwitchRequest, OperatorRequest } from '../../workflows/api';
import type { Money, Price, Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS, PORTFOLIO_PERCENT_FIELDS, RISK_LIMIT_FIELDS } from '../../domain/risk-limits';
import type { Quote } from '../../dashboard/api';
import { DASHBOARD_DEFAULTS, loadDashboardSettings, temporalUiUrlFor } from '../../dashboard/config';
import { MAX_BODY_BYTES, parseActionBody, startDashboard, tokenMatches, type RunningDashboard } from '../../dashboard/server';

const NOW = Date.UTC(2026, 0, 5, 15, 0, 0);
const DAY = '2026-01-05';
const TOKEN = 'api-test-token-0123456789abcdef';
const UI = 'http://temporal.local:8233';
const SESSION = `session-mr-${DAY}`;

const quotes: Record<string, Quote> = {
  'PX-A': { marketId: 'PX-A', ts: NOW - 2_000, bid: 440_000 as Price, ask: 460_000 as Price, last: 450_000 as Price },
  'PX-B': { marketId: 'PX-B', ts: NOW - 200_000, bid: 300_000 as Price, ask: 340_000 as Price, last: 320_000 as Price },
};

let database: Database;
const signals: { kind: string; workflowId: string; request: OperatorRequest }[] = [];
let failSignal = false;
const temporal = {
  signalHalt: async (workflowId: string, request: OperatorRequest) => {
    if (failSignal) throw new Error('workflow not found');
    signals.push({ kind: 'halt', workflowId, request });
  },
  signalResume: async (workflowId: string, request: OperatorRequest) => {
    signals.push({ kind: 'resume', workflowId, request });
  },
  signalKillSwitch: async (workflowId: string, request: KillSwitchRequest) => {
    signals.push({ kind: 'kill', workflowId, request });
  },
};
const dashboards: RunningDashboard[] = [];

async function dashboard(overrides: Partial<Parameters<typeof startDashboard>[0]> = {}): Promise<RunningDashboard> {
  const d = await startDashboard({
    db: database.db,
    limits: CASE_STUDY_LIMITS,
    temporal,
    token: TOKEN,
    temporalUiUrl: UI,
    namespace: 'trading prod',
    port: 0,
    clock: () => NOW,
    quotes: async (ids) => ids.flatMap((id) => (quotes[id] ? [quotes[id]!] : [])),
    log: () => {},
    ...overrides,
  });
  dashboards.push(d);
  return d;
}

async function getJson(d: RunningDashboard, path: string) {
  const res = await fetch(d.url + path);
  expect(res.status).toBe(200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await answerOf(res)) as any;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const answerOf = async (res: Response): Promise<any> => res.json();

function post(d: RunningDashboard, path: string, body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }) {
  return fetch(d.url + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  const db = database.db;
  await upsertMarket(db, { marketId: 'PX-A', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null });
  await upsertMarket(db, { marketId: 'PX-B', category: 'economics', tickSize: 10_000, resolvesAt: null, outcome: null });
  await upsertMarket(db, { marketId: 'PX-C', category: 'economics', tickSize: 10_000, resolvesAt: null, outcome: null });
  const order = (clientOrderId: string, marketId: string, side: 'BUY' | 'SELL', quantity: number, limit: number, signal: number, createdAt: number) =>
    insertOrder(db, {
      clientOrderId,
      marketId,
      side,
      quantity: quantity as Quantity,
      limitPrice: limit as Price,
      strategy: 'mr',
      tradingDay: DAY,
      sessionId: SESSION,
      createdAt,
      signal: { price: signal as Price, confidence: 0.8, at: createdAt, metadata: {} },
    });
  // Bought 10 at 0.40 (the signal wanted 0.38), then sold 4 at 0.50 (wanted 0.51).
  await order('mr-20260105-000001', 'PX-A', 'BUY', 10, 410_000, 380_000, NOW - 600_000);
  const filled = (clientOrderId: string, at: number) => recordOrderEvent(db, { clientOrderId, seq: 1, eventType: 'OrderSnapshot', state: 'FILLED', at, venueOrderId: `v-${clientOrderId}` });
  await recordFill(db, { tradeId: 't-1', clientOrderId: 'mr-20260105-000001', marketId: 'PX-A', side: 'BUY', quantity: 10 as Quantity, price: 400_000 as Price, fee: 16_800 as Money, ts: NOW - 590_000 });
  await filled('mr-20260105-000001', NOW - 590_000);
  await order('mr-20260105-000002', 'PX-A', 'SELL', 4, 490_000, 510_000, NOW - 300_000);
  await recordFill(db, { tradeId: 't-2', clientOrderId: 'mr-20260105-000002', marketId: 'PX-A', side: 'SELL', quantity: 4 as Quantity, price: 500_000 as Price, fee: 7_000 as Money, ts: NOW - 290_000 });
  await filled('mr-20260105-000002', NOW - 290_000);
  // An order resting at the venue, created 30 s ago.
  await order('mr-20260105-000003', 'PX-B', 'BUY', 20, 310_000, 310_000, NOW - 30_000);
  await recordOrderEvent(db, { clientOrderId: 'mr-20260105-000003', seq: 1, eventType: 'OrderSnapshot', state: 'SUBMITTED', at: NOW - 29_000, venueOrderId: 'v-3' });
  await startSession(db, { sessionId: SESSION, strategy: 'mr', tradingDay: DAY, mode: 'PAPER', startedAt: NOW - 3_600_000 });
  await recordAlert(db, { level: 'HIGH', type: 'DAILY_LOSS_HALF', dedupeKey: 'k-1', title: 'Daily loss past half its limit', body: 'x', raisedAt: NOW - 100_000 });
});

afterAll(async () => {
  await Promise.all(dashboards.map((d) => d.close()));
  await database?.close();
});

describe('panels', () => {
  it('positions: entry, live mark (mid) and P&L as exact decimals', async () => {
    const d = await dashboard();
    const p = await getJson(d, '/api/positions');
    expect(p.positions).toEqual([
      expect.objectContaining({ marketId: 'PX-A', quantity: 6, side: 'LONG', averageEntryPrice: '0.40', mark: '0.45', markedAt: NOW - 2_000, costBasis: '2.40', unrealizedPnl: '0.30', realizedPnl: '0.40', fees: '0.0238', totalPnl: '0.6762' }),
    ]);
    expect(p.totals).toEqual({ openPositions: 1, unrealizedPnl: '0.30', realizedPnl: '0.40', fees: '0.0238', totalPnl: '0.6762' });
  });

  it('without a quote source the stored mark is used, and none means no unrealized P&L', async () => {
    const d = await dashboard({ quotes: null });
    const p = await getJson(d, '/api/positions');
    expect(p.positions[0]).toMatchObject({ mark: null, unrealizedPnl: '0.00', totalPnl: '0.3762' });
  });

  it('P&L curve: marked to the last traded price after each fill, then to the current marks', async () => {
    const d = await dashboard();
    const pnl = await getJson(d, '/api/pnl');
    // After the buy: 10 x 0.40 - 4.00 - fee 0.0168. After the sell: realized 0.40, 6 x 0.50 - 2.40, fees 0.0238.
    expect(pnl.points).toEqual([
      { t: NOW - 590_000, pnl: '-0.0168' },
      { t: NOW - 290_000, pnl: '0.9762' },
      { t: NOW, pnl: '0.6762' },
    ]);
    expect(pnl.current).toBe('0.6762');
    expect(pnl.days).toEqual([expect.objectContaining({ tradingDay: DAY, realizedPnl: '0.40', fees: '0.0238', fillCount: 2 })]);
  });

  it('orders: open ones with their state and a link to the Temporal Web UI', async () => {
    const d = await dashboard();
    const o = await getJson(d, '/api/orders');
    expect(o.open).toEqual([
      expect.objectContaining({
        clientOrderId: 'mr-20260105-000003',
        state: 'SUBMITTED',
        limitPrice: '0.31',
        quantity: 20,
        filledQuantity: 0,
        ageMs: 30_000,
        workflowUrl: `${UI}/namespaces/trading%20prod/workflows/order-mr-20260105-000003`,
      }),
    ]);
    expect(o.recent.map((r: { clientOrderId: string }) => r.clientOrderId)).toEqual(['mr-20260105-000003', 'mr-20260105-000002', 'mr-20260105-000001']);
  });

  it('fills: newest first, slippage per contract against the signal price, worse is positive', async () => {
    const d = await dashboard();
    const f = await getJson(d, '/api/fills');
    expect(f.fills.map((x: { tradeId: string }) => x.tradeId)).toEqual(['t-2', 't-1']);
    expect(f.fills[0]).toMatchObject({ side: 'SELL', price: '0.50', intendedPrice: '0.51', slippage: '0.01', slippageBps: 196.1, fee: '0.007' });
    expect(f.fills[1]).toMatchObject({ side: 'BUY', price: '0.40', intendedPrice: '0.38', slippage: '0.02', slippageBps: 526.3 });
  });

  it('risk: every limit with what is used of it', async () => {
    const d = await dashboard();
    const r = await getJson(d, '/api/risk');
    const by = Object.fromEntries(r.limits.map((l: { name: string }) => [l.name, l]));
    expect(Object.keys(by).sort()).toEqual([...RISK_LIMIT_FIELDS, ...PORTFOLIO_PERCENT_FIELDS].sort());
    // No cash source: the percent-of-equity limits are shown, unmeasured.
    expect(by.maxPositionPercent).toMatchObject({ limit: '10% of equity', used: '2.70', utilization: null });
    expect(by.maxTotalExposurePercent).toMatchObject({ limit: '25% of equity', used: '2.70', utilization: null });
    expect(by.maxTotalExposurePercent.detail).toContain('equity unknown');
    expect(by.maxPositionSize).toMatchObject({ limit: '100', used: '6', utilization: 0.06 });
    expect(by.maxPortfolioExposure).toMatchObject({ limit: '2000.00', used: '2.70' });
    expect(by.maxPortfolioExposure.utilization).toBeCloseTo(2.7 / 2000, 12);
    expect(by.maxCategoryExposure).toMatchObject({ used: '2.70', detail: 'largest: politics' });
    expect(by.maxDailyLoss).toMatchObject({ limit: '200.00', used: '0.00', utilization: 0 });
    expect(by.maxOpenPositions).toMatchObject({ used: '1', limit: '5', utilization: 0.2 });
    expect(by.maxOrderSize).toMatchObject({ used: '20', limit: '50' });
    expect(by.fatFingerNotional).toMatchObject({ used: '6.20', limit: '25.00' });
    expect(by.maxOrdersPerMinute).toMatchObject({ used: '1', limit: '10' });
    // Only PX-A is held and quoted for marks; the spread and quote age come from the quotes read.
    expect(by.maxSpread).toMatchObject({ used: '0.02', limit: '0.02', utilization: 1 });
    expect(by.maxQuoteAgeMs).toMatchObject({ used: '2000', limit: '90000' });
    expect(by.maxPriceDeviation).toMatchObject({ used: null, utilization: null });
  });

  it('risk: the percent-of-equity limits measured against cash + positions at their marks', async () => {
    // Equity: cash 100 + cost 2.40 of the 6 held + their unrealized 0.30 at the 0.45 mid = 102.70.
    const d = await dashboard({ cash: async () => (100 * 1_000_000) as Money, limits: { ...CASE_STUDY_LIMITS, maxPositionPercent: 2.5 } });
    const by = Object.fromEntries((await getJson(d, '/api/risk')).limits.map((l: { name: string }) => [l.name, l]));
    expect(by.maxPositionPercent).toMatchObject({ label: 'Position (2.5% of equity)', limit: '2.5675', used: '2.70' });
    expect(by.maxPositionPercent.utilization).toBeCloseTo(2.7 / 2.5675, 12);
    expect(by.maxTotalExposurePercent).toMatchObject({ label: 'Portfolio exposure (25% of equity)', limit: '25.675', used: '2.70' });
    expect(by.maxTotalExposurePercent.detail).toContain('equity 102.70');
    // A cash source that fails leaves them unmeasured rather than failing the panel.
    const failing = await dashboard({ cash: async () => Promise.reject(new Error('venue down')) });
    expect((await getJson(failing, '/api/risk')).limits.find((l: { name: string }) => l.name === 'maxPositionPercent')).toMatchObject({ utilization: null, limit: '10% of equity' });
  });

  it('freshness: quote age per market against the quote-age limit', async () => {
    const d = await dashboard();
    const f = await getJson(d, '/api/freshness');
    const by = Object.fromEntries(f.markets.map((m: { marketId: string }) => [m.marketId, m]));
    expect(by['PX-A']).toMatchObject({ ageMs: 2_000, status: 'FRESH', bid: '0.44', ask: '0.46' });
    expect(by['PX-B']).toMatchObject({ ageMs: 200_000, status: 'STALE' });
    expect(by['PX-C']).toMatchObject({ ageMs: null, status: 'NO QUOTE' });
  });

  it('halts and alerts: trips with their reasons, sessions with their Web UI links, recent alerts', async () => {
    const d = await dashboard();
    expect((await getJson(d, '/api/halts')).halted).toBe(false);
    await recordBreakerChange(database.db, {
      strategy: 'mr',
      tradingDay: DAY,
      change: 'TRIPPED',
      trips: [{ kind: 'DRAWDOWN', reason: 'equity 11% below its peak', observed: 0.11, limit: 0.1, since: NOW - 50_000, operator: null }],
      at: NOW - 50_000,
    });
    const h = await getJson(d, '/api/halts');
    expect(h.halted).toBe(true);
    expect(h.trips).toEqual([{ strategy: 'mr', kind: 'DRAWDOWN', reason: 'equity 11% below its peak', since: NOW - 50_000, operator: null, observed: 0.11, limit: 0.1 }]);
    expect(h.sessions[0]).toMatchObject({ sessionId: SESSION, status: 'RUNNING', halted: true, workflowUrl: `${UI}/namespaces/trading%20prod/workflows/${SESSION}` });
    const a = await getJson(d, '/api/alerts');
    expect(a.alerts[0]).toMatchObject({ level: 'HIGH', type: 'DAILY_LOSS_HALF', delivery: 'PENDING' });
    const state = await getJson(d, '/api/state');
    expect(Object.keys(state).sort()).toEqual(['alerts', 'at', 'fills', 'freshness', 'halts', 'orders', 'pnl', 'positions', 'risk', 'tradingDay']);
  });

  it('serves the page with a strict content policy, its script and style; unknown paths are 404', async () => {
    const d = await dashboard();
    const page = await fetch(d.url + '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/dashboard.js" defer></script>');
    expect((await fetch(d.url + '/dashboard.js')).headers.get('content-type')).toContain('javascript');
    expect((await fetch(d.url + '/dashboard.css')).status).toBe(200);
    expect((await fetch(d.url + '/nope')).status).toBe(404);
    expect((await fetch(d.url + '/api/halt')).status).toBe(405);
    expect((await post(d, '/api/positions', {})).status).toBe(405);
    expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('actions', () => {
  const body = { operator: 'ann', reason: 'venue acting up' };

  it('a missing token is 401, a wrong one 403, and nothing is signalled or journaled', async () => {
    const d = await dashboard();
    const before = signals.length;
    const missing = await post(d, '/api/halt', body, { 'Content-Type': 'application/json' });
    expect(missing.status).toBe(401);
    expect((await answerOf(missing)).error).toBe('Unauthorized');
    expect((await post(d, '/api/halt', body, { Authorization: 'Basic abc', 'Content-Type': 'application/json' })).status).toBe(401);
    const wrong = await post(d, '/api/halt', body, { Authorization: `Bearer ${TOKEN}x`, 'Content-Type': 'application/json' });
    expect(wrong.status).toBe(403);
    expect(signals.length).toBe(before);
    expect(await listOperatorActions(database.db)).toEqual([]);
  });

  it('without a configured token actions are off (403 whatever is sent)', async () => {
    const d = await dashboard({ token: null });
    const res = await post(d, '/api/halt', body);
    expect(res.status).toBe(403);
    expect((await answerOf(res)).error).toBe('ActionsDisabled');
    expect((await getJson(d, '/api/config')).actionsEnabled).toBe(false);
  });

  it('refuses non-JSON (400) and oversized bodies (413)', async () => {
    const d = await dashboard();
    expect((await post(d, '/api/halt', 'operator=ann', { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' })).status).toBe(400);
    const broken = await post(d, '/api/halt', '{"operator": ', { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' });
    expect(broken.status).toBe(400);
    expect((await answerOf(broken)).error).toBe('NotJson');
    const huge = await post(d, '/api/halt', { ...body, reason: 'x'.repeat(MAX_BODY_BYTES) });
    expect(huge.status).toBe(413);
  });

  it('names every bad field at once, unknown ones included', async () => {
    const d = await dashboard();
    const res = await post(d, '/api/halt', { operator: ' ', reason: 'r'.repeat(1_001), sessionId: 'order-x', requestId: 'no', flatten: true });
    expect(res.status).toBe(400);
    const answer = await answerOf(res);
    expect(answer.problems.map((p: { field: string }) => p.field).sort()).toEqual(['flatten', 'operator', 'reason', 'requestId', 'sessionId']);
    expect(() => parseActionBody([])).toThrow(/body: must be a JSON object/);
  });

  it('without a Temporal client an action is 503 and nothing is journaled', async () => {
    const d = await dashboard({ temporal: null });
    const res = await post(d, '/api/halt', body);
    expect(res.status).toBe(503);
    expect((await answerOf(res)).message).toMatch(/no Temporal client.*TEMPORAL_ADDRESS/);
    expect(await listOperatorActions(database.db)).toEqual([]);
  });

  it('with the token: signals every running session and journals the action once per request', async () => {
    const d = await dashboard();
    const requestId = '5b2f6a8e-1c1d-4b1e-9f00-000000000001';
    const res = await post(d, '/api/halt', { ...body, requestId });
    expect(res.status).toBe(202);
    expect(await answerOf(res)).toEqual({ action: 'HALT', signalled: [SESSION], failed: [], journal: { workflowId: `dashboard-${requestId}`, sequence: 0 } });
    expect(signals.at(-1)).toEqual({ kind: 'halt', workflowId: SESSION, request: { operator: 'ann', reason: 'venue acting up' } });
    // A retried request (same requestId) answers the first outcome, signals nothing again, and is journaled once.
    const before = signals.length;
    const replay = await post(d, '/api/halt', { ...body, requestId });
    expect(replay.status).toBe(200);
    expect(await answerOf(replay)).toMatchObject({ replayed: true, signalled: [SESSION] });
    expect(signals).toHaveLength(before);
    const journal = await listOperatorActions(database.db);
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ action: 'HALT', operator: 'ann', reason: 'venue acting up', workflowId: `dashboard-${requestId}`, details: { via: 'dashboard', signalled: SESSION, failed: null } });

    const resumed = await post(d, '/api/resume', { operator: 'bob', reason: 'checked the venue', sessionId: SESSION });
    expect(resumed.status).toBe(202);
    expect(signals.at(-1)).toMatchObject({ kind: 'resume', workflowId: SESSION });
    expect((await listOperatorActions(database.db, { action: 'RESUME' }))[0]).toMatchObject({ operator: 'bob' });
  });

  it('the kill switch: signals the session with flatten, journals it, and refuses flatten that is not a boolean or on a halt', async () => {
    const d = await dashboard();
    const res = await post(d, '/api/kill', { operator: 'cat', reason: 'runaway strategy', sessionId: SESSION, flatten: true, requestId: 'kill-request-0001' });
    expect(res.status).toBe(202);
    expect(signals.at(-1)).toEqual({ kind: 'kill', workflowId: SESSION, request: { operator: 'cat', reason: 'runaway strategy', flatten: true } });
    expect((await listOperatorActions(database.db, { action: 'KILL_SWITCH' }))[0]).toMatchObject({ operator: 'cat', details: { via: 'dashboard', flatten: true } });
    const bad = await post(d, '/api/kill', { operator: 'cat', reason: 'x', flatten: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await answerOf(bad))).toMatch(/flatten/);
    const onHalt = await post(d, '/api/halt', { operator: 'cat', reason: 'x', flatten: true });
    expect(onHalt.status).toBe(400);
    expect(JSON.stringify(await answerOf(onHalt))).toMatch(/flatten.*is not a known field/);
  });

  it('a halt with cancelOrders: the signal and the desk control both carry it, the journal says so, and a non-boolean is refused naming it', async () => {
    const d = await dashboard();
    const res = await post(d, '/api/halt', { operator: 'dan', reason: 'venue quoting nonsense', sessionId: SESSION, cancelOrders: true, requestId: 'halt-cancel-0001' });
    expect(res.status).toBe(202);
    expect(signals.at(-1)).toEqual({ kind: 'halt', workflowId: SESSION, request: { operator: 'dan', reason: 'venue quoting nonsense', cancelOrders: true } });
    const rows = await listOperatorActions(database.db, { action: 'HALT' });
    expect(rows.find((r) => r.workflowId === 'dashboard-halt-cancel-0001')).toMatchObject({ details: { via: 'dashboard', cancelOrders: true } });
    const plain = await post(d, '/api/halt', { operator: 'dan', reason: 'plain halt', sessionId: SESSION });
    expect(plain.status).toBe(202);
    expect(signals.at(-1)).toEqual({ kind: 'halt', workflowId: SESSION, request: { operator: 'dan', reason: 'plain halt' } });
    const bad = await post(d, '/api/halt', { operator: 'dan', reason: 'x', cancelOrders: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await answerOf(bad))).toMatch(/cancelOrders.*must be true or false/);
    const onResume = await post(d, '/api/resume', { operator: 'dan', reason: 'x', cancelOrders: true });
    expect(onResume.status).toBe(400);
    expect(JSON.stringify(await answerOf(onResume))).toMatch(/cancelOrders.*is not a known field/);

    // With the desk control the flag travels in the request to every target.
    const asked: unknown[] = [];
    const totals = { sessionsReached: 1, sessionsHalted: 1, sessionsResumed: 0, ordersReached: 0, ordersTold: 0, ordersNotSent: 0, ordersCancelled: 0, ordersKeptWorking: 0, refused: 0, unreachable: 0, ended: 0 };
    const withControl = await dashboard({
      temporal: {
        ...temporal,
        control: async (action, request) => {
          asked.push({ action, request });
          return { action, outcome: 'APPLIED', scope: 'desk', journalKey: request.journalKey ?? null, summary: 'APPLIED: 1 session reached, 1 newly halted', targets: [], totals };
        },
      },
    });
    const desk = await post(withControl, '/api/halt', { operator: 'dan', reason: 'whole desk, orders too', cancelOrders: true, requestId: 'halt-cancel-0002' });
    expect(desk.status).toBe(200);
    expect(asked).toEqual([{ action: 'HALT', request: { operator: 'dan', reason: 'whole desk, orders too', journalKey: 'dashboard-halt-cancel-0002', cancelOrders: true } }]);
  });

  it('a signal that fails is 502, and the attempt is journaled with the failure', async () => {
    const d = await dashboard();
    failSignal = true;
    try {
      const res = await post(d, '/api/halt', { ...body, reason: 'second try' });
      expect(res.status).toBe(502);
      expect((await answerOf(res)).failed).toEqual([{ workflowId: SESSION, ok: false, error: 'workflow not found' }]);
    } finally {
      failSignal = false;
    }
    const [latest] = await listOperatorActions(database.db, { action: 'HALT' });
    expect(latest).toMatchObject({ reason: 'second try', details: { signalled: null, failed: `${SESSION}: workflow not found` } });
  });

  it('compares tokens by content, not by prefix or length', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokenMatches(TOKEN, `${TOKEN}0`)).toBe(false);
    expect(tokenMatches(TOKEN, '')).toBe(false);
  });
});

describe('settings', () => {
  it('defaults to loopback, port 8080, read-only, the local Web UI', () => {
    expect(loadDashboardSettings({})).toEqual({ host: '127.0.0.1', port: 8080, token: null, temporalUiUrl: DASHBOARD_DEFAULTS.temporalUiUrl, allowedHosts: [] });
    expect(loadDashboardSettings({ DASHBOARD_PORT: '0', DASHBOARD_TOKEN: TOKEN, TEMPORAL_UI_URL: 'https://tmprl.example/ui/' })).toMatchObject({ port: 0, token: TOKEN, temporalUiUrl: 'https://tmprl.example/ui' });
  });

  it('links orders to the worker\'s own dev server UI port unless TEMPORAL_UI_URL names one', () => {
    const settings = loadDashboardSettings({});
    expect(temporalUiUrlFor({}, settings, 8300)).toBe('http://127.0.0.1:8300');
    expect(temporalUiUrlFor({}, settings, null)).toBe(DASHBOARD_DEFAULTS.temporalUiUrl);
    const named = { TEMPORAL_UI_URL: 'https://tmprl.example/ui' };
    expect(temporalUiUrlFor(named, loadDashboardSettings(named), 8300)).toBe('https://tmprl.example/ui');
  });

  it('reports every bad variable at once and never echoes the token', () => {
    let error: unknown;
    try {
      loadDashboardSettings({ DASHBOARD_HOST: 'not a host', DASHBOARD_PORT: '70000', DASHBOARD_TOKEN: 'short secret', TEMPORAL_UI_URL: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    const message = (error as Error).message;
    for (const v of ['DASHBOARD_HOST', 'DASHBOARD_PORT', 'DASHBOARD_TOKEN', 'TEMPORAL_UI_URL']) expect(message).toContain(v);
    expect(message).not.toContain('short secret');
  });
});
