/**
 * `status` shows the desk from the records: two strategies' sessions of the day (one halted, with
 * who and why), the open orders, the day's P&L against the risk limits and the last
 * reconciliation; a session of another day is not the desk's unless Temporal lists it running.
 * With --records-only it does not ask Temporal; with an unreachable server it says so and still
 * shows the records; with neither it fails, naming both. The real-server half (running sessions, schedules) is status-server.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  finishReconciliationRun,
  insertOrder,
  openDatabase,
  recordBreakerChange,
  recordDiscrepancies,
  recordFills,
  recordOrderEvent,
  startReconciliationRun,
  startSession,
  updateSession,
} from '../../db';
import { run, type CliIo } from '../../cli/main';
import { DESK_LIMITS } from '../../cli/commands/status';
import type { Money, Price, Quantity } from '../../domain/money';

const DAY = '2026-03-10';
const PREV = '2026-03-09';
const NOW = Date.UTC(2026, 2, 10, 15, 0, 0);
const T0 = NOW - 3_600_000;

let root: string;
let closedPort: number;

const env = (extra: Record<string, string> = {}) => ({ DATA_DIR: join(root, 'data'), TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}`, TRADING_TIME_ZONE: 'UTC', OPERATOR: 'tester', ...extra });

async function cli(argv: string[], environment = env()) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: environment, progressStream: null, now: () => NOW, connectTimeoutMs: 1_000, osUser: () => 'os-user' };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'durable-trader-status-'));
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closedPort = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));

  const database = await openDatabase({ kind: 'pglite', dataDir: join(root, 'data', 'pglite') });
  const db = database.db;
  try {
    await startSession(db, { sessionId: `session-alpha-${DAY}`, strategy: 'alpha', tradingDay: DAY, mode: 'PAPER', startedAt: T0 });
    await startSession(db, { sessionId: `session-beta-${DAY}`, strategy: 'beta', tradingDay: DAY, mode: 'PAPER', startedAt: T0 + 1_000 });
    await updateSession(db, `session-beta-${DAY}`, { status: 'HALTED', at: T0 + 60_000 });
    await startSession(db, { sessionId: `session-gamma-${PREV}`, strategy: 'gamma', tradingDay: PREV, mode: 'PAPER', startedAt: T0 - 86_400_000 });
    await recordBreakerChange(db, {
      strategy: 'beta',
      tradingDay: DAY,
      change: 'TRIPPED',
      trips: [{ kind: 'MANUAL', reason: 'venue acting up', observed: null, limit: null, since: T0 + 60_000, operator: 'ann' }],
      at: T0 + 60_000,
      changeKey: 'beta-run:1',
    });
    // alpha: one order resting; beta: one filled (a position and the day's P&L).
    await insertOrder(db, { clientOrderId: 'alpha-20260310-000001', marketId: 'PX-A', side: 'BUY', quantity: 5 as Quantity, limitPrice: 400_000 as Price, strategy: 'alpha', tradingDay: DAY, createdAt: T0 + 10_000 });
    await recordOrderEvent(db, { clientOrderId: 'alpha-20260310-000001', seq: 1, eventType: 'OrderAccepted', state: 'SUBMITTED', at: T0 + 11_000, venueOrderId: 'v-1' });
    await insertOrder(db, { clientOrderId: 'beta-20260310-000001', marketId: 'PX-B', side: 'BUY', quantity: 10 as Quantity, limitPrice: 500_000 as Price, strategy: 'beta', tradingDay: DAY, createdAt: T0 + 20_000 });
    await recordFills(db, [{ tradeId: 'T-1', clientOrderId: 'beta-20260310-000001', marketId: 'PX-B', side: 'BUY', quantity: 10 as Quantity, price: 500_000 as Price, fee: 20_000 as Money, ts: T0 + 21_000 }]);
    await recordOrderEvent(db, { clientOrderId: 'beta-20260310-000001', seq: 1, eventType: 'OrderFilled', state: 'FILLED', at: T0 + 21_000, venueOrderId: 'v-2' });
    await startReconciliationRun(db, { runId: 'recon-1', policy: 'HALT_AND_ALERT', startedAt: T0 + 120_000 });
    await recordDiscrepancies(db, 'recon-1', [{ key: 'POSITION:PX-B', kind: 'POSITION_QUANTITY_MISMATCH', marketId: 'PX-B', local: 10, venue: 9 }], T0 + 121_000);
    await finishReconciliationRun(db, 'recon-1', { status: 'DISCREPANCIES', finishedAt: T0 + 122_000 });
  } finally {
    await database.close();
  }
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface DeskJson {
  view: string;
  tradingDay: string;
  temporal: Record<string, unknown>;
  sessions: { workflowId: string; running: boolean | null; recorded: { status: string } | null; activeTrips: { kind: string; reason: string; operator: string | null }[]; openOrders: number; live: unknown }[];
  openOrders: { clientOrderId: string; state: string; limitPrice: string }[];
  pnl: { realizedPnl: string; fees: string; fills: number } | null;
  limits: { name: string; used: string | null; limit: string }[];
  reconciliation: { runId: string; status: string; discrepancies: number } | null;
  schedules: unknown;
}

describe('status: the desk from the records', () => {
  it('--records-only --json: every session of the day with its breakers, the open orders, P&L against the limits, the last reconciliation', async () => {
    const r = await cli(['status', '--records-only', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const desk = JSON.parse(r.stdout) as DeskJson;
    expect(desk).toMatchObject({ view: 'desk', tradingDay: DAY, temporal: { unavailable: 'not asked (--records-only)' }, schedules: { unavailable: 'not asked (--records-only)' } });
    // gamma's session is of another day and no server lists it running: not on today's desk.
    expect(desk.sessions.map((s) => [s.workflowId, s.running, s.recorded?.status, s.openOrders])).toEqual([
      [`session-alpha-${DAY}`, null, 'RUNNING', 1],
      [`session-beta-${DAY}`, null, 'HALTED', 0],
    ]);
    expect(desk.sessions[0]!.activeTrips).toEqual([]);
    expect(desk.sessions[1]!.activeTrips).toMatchObject([{ kind: 'MANUAL', reason: 'venue acting up', operator: 'ann' }]);
    expect(desk.openOrders).toMatchObject([{ clientOrderId: 'alpha-20260310-000001', state: 'SUBMITTED', limitPrice: '0.400000' }]);
    expect(desk.pnl).toMatchObject({ realizedPnl: '0.000000', fees: '0.020000', fills: 1 });
    expect(desk.limits.map((l) => l.name)).toEqual(DESK_LIMITS);
    const by = Object.fromEntries(desk.limits.map((l) => [l.name, l]));
    // The case study's limits (the config's default): 200.00 daily loss, 100 contracts.
    expect(by.maxDailyLoss).toMatchObject({ limit: '200.00' });
    expect(by.maxPositionSize).toMatchObject({ used: '10', limit: '100' });
    expect(by.maxOpenPositions).toMatchObject({ used: '1', limit: '5' });
    expect(desk.reconciliation).toMatchObject({ runId: 'recon-1', status: 'DISCREPANCIES', discrepancies: 1 });
  });

  it('when Temporal does not answer it says so and shows the records', async () => {
    const r = await cli(['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Desk on ${DAY} (UTC)`);
    expect(r.stdout).toMatch(new RegExp(`Temporal: unavailable \\(.*127\\.0\\.0\\.1:${closedPort}.*\\); what follows is the records alone`));
    expect(r.stdout).toMatch(new RegExp(`session-alpha-${DAY}\\s+\\?\\s+RUNNING \\(PAPER\\)\\s+-\\s+none in force\\s+1\\s+-`));
    expect(r.stdout).toMatch(new RegExp(`session-beta-${DAY}\\s+\\?\\s+HALTED \\(PAPER\\)\\s+-\\s+1 tripped\\s+0\\s+MANUAL since .*: venue acting up \\(by ann\\)`));
    expect(r.stdout).toMatch(/alpha-20260310-000001\s+alpha\s+PX-A\s+BUY\s+5\s+0\s+0\.40\s+SUBMITTED/);
    expect(r.stdout).toMatch(/Daily loss\s+\S+\s+200\.00/);
    expect(r.stdout).toMatch(/Last reconciliation: DISCREPANCIES \(recon-1\), started .*; 1 discrepancy/);
    expect(r.stdout).toContain('Schedules: unavailable (Temporal did not answer)');
  });

  it('neither the records (PGlite held by another process) nor Temporal answering: exit 1 naming both', async () => {
    const held = join(root, 'held');
    mkdirSync(join(held, 'pglite'), { recursive: true });
    writeFileSync(join(held, 'pglite', 'postmaster.pid'), '-42\n');
    const r = await cli(['status'], env({ DATA_DIR: held }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/neither the records \(.*open in another process.*\) nor Temporal \(.*127\.0\.0\.1:\d+.*\) answered/);
    expect(r.stdout).toBe('');
  });

  it('--strategy or --day narrows it to one session (the detail view); a bad one changes nothing and exits 2', async () => {
    const one = await cli(['status', '--strategy', 'beta', '--records-only', '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ workflowId: `session-beta-${DAY}`, records: { activeTrips: [{ kind: 'MANUAL', reason: 'venue acting up' }] } });
    const bad = await cli(['status', '--strategy', 'no spaces allowed']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--strategy');
    expect(bad.stdout).toBe('');
  });
});
