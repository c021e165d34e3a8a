/**
 * Every server binds to the loopback interface unless configured otherwise. Each is started with
 * its defaults (the dashboard and the paper exchange in-process; the metrics server with the
 * host the worker config defaults to) and the kernel's own table of listening sockets
 * (/proc/net/tcp and tcp6) is read for its port: the only local address allowed is 127.0.0.1.
 * The defaults of every entry point (exchange CLI, dashboard settings, worker config, Temporal
 * dev server) say 127.0.0.1 too. No traffic leaves the loopback interface.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db';
import { parseCliArgs } from '../../exchange/cli';
import { startPaperExchange } from '../../exchange/server';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { buildConfig, PROJECT_ROOT } from '../../runtime/config';
import { DASHBOARD_DEFAULTS, loadDashboardSettings } from '../../dashboard/config';
import { startDashboard } from '../../dashboard/server';
import { startMetricsServer, TradingMetrics } from '../../runtime/metrics';

const LISTEN = '0A';

/** Local addresses (as text) of the sockets listening on `port`, from /proc/net/tcp and tcp6. */
function listeningAddresses(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, portHex] = (cols[1] ?? '').split(':');
      if (cols[3] !== LISTEN || portHex === undefined || parseInt(portHex, 16) !== port) continue;
      out.push(decode(addr!));
    }
  }
  return out;
}

/** /proc/net addresses are little-endian words: 0100007F is 127.0.0.1; 32 hex digits are IPv6. */
function decode(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const full = words.join('').match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''));
  return full.join(':');
}

const portOf = (url: string): number => Number(new URL(url).port);
const linux = existsSync('/proc/net/tcp');

describe('listening addresses', () => {
  it.runIf(linux)('the dashboard, started with its defaults, listens on 127.0.0.1 only', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: null });
    const dash = await startDashboard({ db: database.db, limits: CASE_STUDY_LIMITS, temporal: null, token: null, temporalUiUrl: 'http://127.0.0.1:8233', port: 0, log: () => {} });
    try {
      expect(new URL(dash.url).hostname).toBe('127.0.0.1');
      expect(listeningAddresses(portOf(dash.url))).toEqual(['127.0.0.1']);
    } finally {
      await dash.close();
      await database.close();
    }
  });

  it.runIf(linux)('the paper exchange, started with its defaults, listens on 127.0.0.1 only', async () => {
    const ex = await startPaperExchange({ dataDir: null });
    try {
      expect(listeningAddresses(ex.port)).toEqual(['127.0.0.1']);
    } finally {
      await ex.close();
    }
  });

  it.runIf(linux)('the metrics server on the configured default host listens on 127.0.0.1 only', async () => {
    const server = await startMetricsServer(new TradingMetrics(), { host: buildConfig({}).metrics.host, port: 0 });
    try {
      expect(listeningAddresses(portOf(server.url))).toEqual(['127.0.0.1']);
    } finally {
      await server.close();
    }
  });

  it.runIf(linux)('an operator can open one on purpose (0.0.0.0), and the check sees it', async () => {
    const ex = await startPaperExchange({ dataDir: null, host: '0.0.0.0' });
    try {
      expect(listeningAddresses(ex.port)).toEqual(['0.0.0.0']);
    } finally {
      await ex.close();
    }
  });
});

describe('entry-point defaults', () => {
  it('the exchange CLI, the dashboard settings, the metrics config and the Temporal dev server default to 127.0.0.1', () => {
    expect(parseCliArgs([]).host).toBe('127.0.0.1');
    expect(DASHBOARD_DEFAULTS.host).toBe('127.0.0.1');
    expect(loadDashboardSettings({}).host).toBe('127.0.0.1');
    expect(buildConfig({}).metrics.host).toBe('127.0.0.1');
    // The local Temporal dev server the worker starts: its bind address is written in the options.
    expect(readFileSync(`${PROJECT_ROOT}/runtime/temporal.ts`, 'utf8')).toMatch(/ip: '127\.0\.0\.1'/);
  });
});
