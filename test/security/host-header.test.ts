/**
 * DNS rebinding: a page on another origin whose name resolves to 127.0.0.1 reaches the dashboard
 * and /metrics with its own name in the Host header. Both answer only the configured host names
 * (by default the bind host, localhost, 127.0.0.1 and [::1] on the server's port) and refuse the
 * rest with 421 before reading anything or acting.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperatorActions, openDatabase, startSession, type Database } from '../../db';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';
import { loadDashboardSettings } from '../../dashboard/config';
import { startMetricsServer, TradingMetrics, type MetricsServer } from '../../runtime/metrics';
import { hostAllowed } from '../../runtime/host-check';
import { loadConfig } from '../../runtime/config';

const TOKEN = 'host-header-token-0123456789';
const SESSION = 'session-mr-2026-01-05';

let database: Database;
let dash: RunningDashboard;
let named: RunningDashboard;
let metrics: MetricsServer;
const signals: string[] = [];

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  await startSession(database.db, { sessionId: SESSION, strategy: 'mr', tradingDay: '2026-01-05', mode: 'PAPER', startedAt: Date.UTC(2026, 0, 5, 14) });
  const record = async (workflowId: string) => void signals.push(workflowId);
  const common = { db: database.db, limits: CASE_STUDY_LIMITS, temporal: { signalHalt: record, signalResume: record, signalKillSwitch: record }, token: TOKEN, temporalUiUrl: 'http://127.0.0.1:8233', port: 0, log: () => {} };
  dash = await startDashboard(common);
  named = await startDashboard({ ...common, allowedHosts: ['desk.example.internal'] });
  metrics = await startMetricsServer(new TradingMetrics({ stage: 'PAPER', processMetrics: false }), { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await dash?.close();
  await named?.close();
  await metrics?.close();
  await database?.close();
});

/** node:http, since fetch will not let a caller choose the Host header. */
function get(url: string, host: string | null, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'content-length': String(Buffer.byteLength(body)) };
    if (host !== null) headers.host = host;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers, setHost: host === null ? false : undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const portOf = (url: string) => new URL(url).port;

describe('the dashboard checks the Host header', () => {
  it('answers its own names on its own port', async () => {
    const port = portOf(dash.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await get(dash.url + '/api/positions', host)).status, host).toBe(200);
    }
  });

  it('refuses another name, another port or no Host at all with 421 and reads nothing', async () => {
    const port = portOf(dash.url);
    for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.attacker.example:${port}`, `localhost:${Number(port) + 1}`, `localhost@attacker.example:${port}`, null]) {
      const res = await get(dash.url + '/api/positions', host);
      // No Host at all: Node's HTTP/1.1 parser answers 400 itself (requireHostHeader).
      expect(res.status, String(host)).toBe(host === null ? 400 : 421);
      expect(res.body).not.toMatch(/positions/);
    }
  });

  it('refuses an action under a foreign Host before it is journaled or signalled', async () => {
    const res = await get(dash.url + '/api/halt', `rebind.example:${portOf(dash.url)}`, 'POST', JSON.stringify({ operator: 'ann', reason: 'x', sessionId: SESSION, requestId: 'host-check-0001' }));
    expect(res.status).toBe(421);
    expect(signals).toEqual([]);
    expect(await listOperatorActions(database.db)).toEqual([]);
  });

  it('answers a configured name besides the defaults', async () => {
    const port = portOf(named.url);
    expect((await get(named.url + '/api/positions', `desk.example.internal:${port}`)).status).toBe(200);
    expect((await get(named.url + '/api/positions', 'desk.example.internal')).status).toBe(200);
    expect((await get(named.url + '/api/positions', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await get(named.url + '/api/positions', `other.example.internal:${port}`)).status).toBe(421);
  });

  it('DASHBOARD_ALLOWED_HOSTS is read and checked', () => {
    expect(loadDashboardSettings({ DASHBOARD_ALLOWED_HOSTS: 'desk.example.internal, 10.0.0.5:8080' }).allowedHosts).toEqual(['desk.example.internal', '10.0.0.5:8080']);
    expect(loadDashboardSettings({}).allowedHosts).toEqual([]);
    expect(() => loadDashboardSettings({ DASHBOARD_ALLOWED_HOSTS: 'ok.example,bad host/' })).toThrow(/DASHBOARD_ALLOWED_HOSTS.*bad host/);
  });
});

describe('/metrics checks the Host header', () => {
  it('answers loopback names and refuses others with 421', async () => {
    const port = portOf(metrics.url);
    expect((await get(metrics.url, `127.0.0.1:${port}`)).status).toBe(200);
    expect((await get(metrics.url, `localhost:${port}`)).status).toBe(200);
    const refused = await get(metrics.url, `attacker.example:${port}`);
    expect(refused.status).toBe(421);
    expect(refused.body).not.toMatch(/trading_/);
  });

  it('METRICS_ALLOWED_HOSTS is read and checked', () => {
    expect(loadConfig({ METRICS_ALLOWED_HOSTS: 'prom.example.internal' }).metrics.allowedHosts).toEqual(['prom.example.internal']);
    expect(() => loadConfig({ METRICS_ALLOWED_HOSTS: 'a b' })).toThrow(/METRICS_ALLOWED_HOSTS/);
  });
});

describe('hostAllowed', () => {
  it('matches names without case, IPv6 in brackets, and the port when one is given', () => {
    expect(hostAllowed('[::1]:9464', { bindHost: '127.0.0.1', port: 9464, allowed: [] })).toBe(true);
    expect(hostAllowed('0.0.0.0:9464', { bindHost: '0.0.0.0', port: 9464, allowed: [] })).toBe(false);
    expect(hostAllowed('10.0.0.5:9464', { bindHost: '10.0.0.5', port: 9464, allowed: [] })).toBe(true);
    expect(hostAllowed('desk.example:443', { bindHost: '127.0.0.1', port: 8080, allowed: ['desk.example:443'] })).toBe(true);
    expect(hostAllowed('desk.example:444', { bindHost: '127.0.0.1', port: 8080, allowed: ['desk.example:443'] })).toBe(false);
    expect(hostAllowed(undefined, { bindHost: '127.0.0.1', port: 8080, allowed: [] })).toBe(false);
  });
});
