/**
 * The operator CLI run in-process through `run(argv, io)`: argument checks and exit codes, read
 * commands over PGlite records seeded through the repositories (tables and --json), acting
 * commands journaling before they act and failing cleanly without a Temporal server; and one
 * spawn of bin/durable-trader.mjs to prove the bin works.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertOrder,
  listOperatorActions,
  markPositions,
  openDatabase,
  recordAlert,
  recordExecution,
  recordFills,
  recordOrderEvent,
  type Db,
} from '../../db';
import { PROJECT_ROOT } from '../../runtime/config';
import { run, type CliIo } from '../../cli/main';
import { serveRecords } from '../../runtime/records-socket';
import type { Money, Price, Quantity } from '../../domain/money';

const DAY = '2026-01-15';
const PREV = '2026-01-14';
const T0 = Date.UTC(2026, 0, 15, 14, 0, 0);
const NOW = Date.UTC(2026, 0, 15, 18, 0, 0);
const A = 'ema-mr-20260115-000001';
const B = 'ema-mr-20260115-000002';
const C = 'ema-mr-20260114-000001';
const D = 'ema-mr-20260115-000003';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let root: string;
let closedPort: number;

function env(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATA_DIR: dataDir, TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}`, OPERATOR: 'tester', ...extra };
}

async function cli(argv: string[], environment: Record<string, string>, progressStream: NodeJS.WritableStream | null = null): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: environment,
    progressStream,
    now: () => NOW,
    connectTimeoutMs: 1_000,
    osUser: () => 'os-user',
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function seed(db: Db): Promise<void> {
  const signal = { price: 420_000 as Price, confidence: 0.8, at: T0, metadata: {} };
  await insertOrder(db, { clientOrderId: C, marketId: 'FED-RATE-CUT', side: 'BUY', quantity: 5 as Quantity, limitPrice: 400_000 as Price, strategy: 'ema-mr', tradingDay: PREV, createdAt: T0 - 86_400_000 });
  await insertOrder(db, { clientOrderId: A, marketId: 'FED-RATE-CUT', side: 'BUY', quantity: 10 as Quantity, limitPrice: 430_000 as Price, strategy: 'ema-mr', tradingDay: DAY, createdAt: T0, signal });
  await insertOrder(db, { clientOrderId: B, marketId: 'PRES-2028', side: 'SELL', quantity: 5 as Quantity, limitPrice: 610_000 as Price, strategy: 'ema-mr', tradingDay: DAY, createdAt: T0 + 60_000 });
  await insertOrder(db, { clientOrderId: D, marketId: 'FED-RATE-CUT', side: 'SELL', quantity: 3 as Quantity, limitPrice: 455_000 as Price, strategy: 'ema-mr', tradingDay: DAY, createdAt: T0 + 120_000 });
  await recordOrderEvent(db, { clientOrderId: A, seq: 1, eventType: 'OrderSubmitRequested', state: 'PENDING_SUBMIT', at: T0 + 500 });
  await recordOrderEvent(db, { clientOrderId: A, seq: 2, eventType: 'OrderAccepted', state: 'SUBMITTED', at: T0 + 700, venueOrderId: 'V-1' });
  const fill = (tradeId: string, clientOrderId: string, side: 'BUY' | 'SELL', quantity: number, price: number, fee: number, ts: number) => ({
    tradeId,
    clientOrderId,
    marketId: 'FED-RATE-CUT',
    side,
    quantity: quantity as Quantity,
    price: price as Price,
    fee: fee as Money,
    ts,
  });
  await recordFills(db, [fill('T-0', C, 'BUY', 5, 400_000, 20_000, T0 - 86_400_000 + 1_000)]);
  await recordFills(db, [fill('T-1', A, 'BUY', 6, 420_000, 70_000, T0 + 1_000), fill('T-2', A, 'BUY', 4, 430_000, 50_000, T0 + 2_000)]);
  await recordOrderEvent(db, { clientOrderId: A, seq: 3, eventType: 'OrderFilled', state: 'FILLED', at: T0 + 2_000 });
  await recordFills(db, [fill('T-3', D, 'SELL', 3, 455_000, 10_000, T0 + 130_000)]);
  await markPositions(db, 'paper', { 'FED-RATE-CUT': 450_000 as Price }, T0 + 200_000);
  await recordAlert(db, { level: 'CRITICAL', type: 'RECONCILIATION_MISMATCH', dedupeKey: 'RECONCILIATION_MISMATCH:r1', title: 'Reconciliation mismatch', body: 'records hold 12, venue 0', raisedAt: T0 + 300_000 });
  await recordAlert(db, { level: 'LOW', type: 'DAILY_REPORT', dedupeKey: 'DAILY_REPORT:2026-01-14', title: 'Daily report', body: '...', raisedAt: T0 + 310_000 });
  await recordExecution(db, {
    clientOrderId: A,
    marketId: 'FED-RATE-CUT',
    side: 'BUY',
    intendedPrice: 420_000 as Price,
    orderQuantity: 10 as Quantity,
    fills: [
      { quantity: 6 as Quantity, price: 420_000 as Price, fee: 70_000 as Money, ts: T0 + 1_000 },
      { quantity: 4 as Quantity, price: 430_000 as Price, fee: 50_000 as Money, ts: T0 + 2_000 },
    ],
    signalAt: T0,
    submittedAt: T0 + 500,
    firstFillAt: T0 + 1_000,
    completedAt: T0 + 2_000,
    finalState: 'FILLED',
  });
}

let seeded: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'durable-trader-cli-'));
  closedPort = await freePort();
  seeded = join(root, 'seeded');
  const database = await openDatabase({ kind: 'pglite', dataDir: join(seeded, 'pglite') });
  try {
    await seed(database.db);
  } finally {
    await database.close();
  }
}, 60_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('usage and exit codes', () => {
  it('--help lists every command and the exit codes, exit 0', async () => {
    const r = await cli(['--help'], env(join(root, 'unused')));
    expect(r.code).toBe(0);
    for (const cmd of ['session', 'halt', 'resume', 'kill', 'status', 'orders', 'positions', 'pnl', 'execution', 'alerts', 'reconcile', 'backtest', 'preflight', 'audit']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
    expect(r.stdout).toMatch(/3 {2}refused by policy/);
    const sub = await cli(['kill', '--help'], env(join(root, 'unused')));
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/--flatten/);
    expect(sub.stdout).toMatch(/Exit codes:/);
  });

  it('an unknown command or option, or a missing required option, exits 2 and says which', async () => {
    const unknown = await cli(['nonsense'], env(join(root, 'unused')));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'nonsense'/);
    const option = await cli(['orders', '--colour'], env(join(root, 'unused')));
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--colour'/);
    const noReason = await cli(['halt'], env(join(root, 'unused')));
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const cancelValue = await cli(['halt', '--reason', 'x', '--cancel-orders=yes'], env(join(root, 'unused')));
    expect(cancelValue.code).toBe(2);
    expect(cancelValue.stderr).toMatch(/--cancel-orders/);
    const noDecision = await cli(['reconcile', 'decide', '--run', 'r1', '--reason', 'x'], env(join(root, 'unused')));
    expect(noDecision.code).toBe(2);
    expect(noDecision.stderr).toMatch(/--decision/);
  });

  it('names every bad argument with its value at once, exit 2, before touching the records', async () => {
    const dir = join(root, 'never-opened');
    const r = await cli(['orders', '--state', 'FOO', '--day', '2026-13-01', '--limit', '0', '--market', 'bad market'], env(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--state: must be one or more of');
    expect(r.stderr).toContain('(got "FOO")');
    expect(r.stderr).toContain('--day: is not a calendar date (got "2026-13-01")');
    expect(r.stderr).toContain('--limit: must be a whole number from 1 to 100000 (got "0")');
    expect(r.stderr).toContain('(got "bad market")');
    expect(existsSync(join(dir, 'pglite'))).toBe(false);

    const more = await cli(['reconcile', 'decide', '--run', 'r1', '--decision', 'MAYBE', '--reason', '  '], env(dir));
    expect(more.code).toBe(2);
    expect(more.stderr).toContain('--decision: must be one of ADOPT_VENUE, STAY_HALTED (got "MAYBE")');
    expect(more.stderr).toContain('--reason: is required and must be non-empty text');
    const pnl = await cli(['pnl', '--by', 'week', '--days', 'x'], env(dir));
    expect(pnl.code).toBe(2);
    expect(pnl.stderr).toContain('--by: must be one of DAY, MARKET (got "week")');
    expect(pnl.stderr).toContain('--days: must be a whole number');
  });

  it('a bad configuration exits 2 naming the variable and its value', async () => {
    const r = await cli(['orders'], env(join(root, 'unused'), { SMTP_PORT: 'abc', RECONCILIATION_POLICY: 'GUESS' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SMTP_PORT: must be a whole number.*\(got "abc"\)/);
    expect(r.stderr).toMatch(/RECONCILIATION_POLICY: must be one of .*\(got "GUESS"\)/);
  });

  it('pre-flight without a venue configured exits 2 naming PAPER_EXCHANGE_URL', async () => {
    const r = await cli(['preflight'], env(join(root, 'unused')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PAPER_EXCHANGE_URL/);
  });

  it('session start without markets exits 2 naming SESSION_MARKETS, and journals nothing', async () => {
    const dir = join(root, 'no-markets');
    const r = await cli(['session', 'start'], env(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SESSION_MARKETS must name at least one market/);
    expect(existsSync(join(dir, 'pglite'))).toBe(false);
  });

  it('backtest delegates: a missing data path exits 2 naming it', async () => {
    const r = await cli(['backtest', '--data', join(root, 'nowhere')], env(join(root, 'unused')));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--data:');
    expect(r.stderr).toContain('does not exist');
  });

  it('backtest replays the sample with a progress bar on a terminal, and none in its --json output', async () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    let drawn = '';
    terminal.on('data', (chunk: Buffer) => void (drawn += chunk.toString('utf8')));
    const r = await cli(['backtest', '--json', '--seed', '1'], env(join(root, 'unused')), terminal);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stats: { totalTrades: number }; result: { snapshots: number } };
    expect(out.stats.totalTrades).toBeGreaterThan(0);
    expect(drawn).toContain('Replaying quotes');
    expect(drawn).toContain(`${out.result.snapshots}/${out.result.snapshots}`);
    expect(r.stdout).not.toContain('Replaying quotes');
  });

  it('the bin runs the CLI through tsx: --help exits 0', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'durable-trader.mjs'), '--help'], { encoding: 'utf8', cwd: tmpdir(), timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: durable-trader/);
    expect(r.stdout).toMatch(/Exit codes:/);
  });
});

describe('read commands over the records', () => {
  it('orders: a table for people, JSON with money as decimal strings, filters by state, market and day', async () => {
    const table = await cli(['orders'], env(seeded));
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^created\s+client order ID\s+market/);
    // Newest first: D, B, A, C.
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/)[1])).toEqual([D, B, A, C]);
    expect(lines.find((l) => l.includes(A))).toMatch(/BUY\s+10\s+0\.43\s+FILLED\s+10\s+0\.424\s+0\.12\s+ema-mr$/);

    const json = await cli(['orders', '--json', '--market', 'FED-RATE-CUT', '--day', DAY], env(seeded));
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.clientOrderId)).toEqual([D, A]);
    expect(rows[1]).toMatchObject({ state: 'FILLED', venueOrderId: 'V-1', limitPrice: '0.430000', fillNotional: '4.240000', averageFillPrice: '0.424000', fees: '0.120000', filledQuantity: 10 });
    expect((rows[1]!.signal as Record<string, unknown>).price).toBe('0.420000');

    const open = await cli(['orders', '--open', '--json'], env(seeded));
    expect((JSON.parse(open.stdout) as { clientOrderId: string }[]).map((r) => r.clientOrderId)).toEqual([C, B, D]);
    const filled = await cli(['orders', '--state', 'filled', '--json'], env(seeded));
    expect((JSON.parse(filled.stdout) as { clientOrderId: string }[]).map((r) => r.clientOrderId)).toEqual([A]);
  });

  it('positions and P&L by day and by market, exact to the micro', async () => {
    const pos = await cli(['positions', '--json'], env(seeded));
    expect(pos.code).toBe(0);
    // 5 @ 0.40 + 6 @ 0.42 + 4 @ 0.43 = 6.24 for 15; 3 sold @ 0.455 take 1.248 of cost: realized 0.117.
    expect(JSON.parse(pos.stdout)).toEqual([
      expect.objectContaining({ marketId: 'FED-RATE-CUT', quantity: 12, costBasis: '4.992000', averageEntryPrice: '0.416000', mark: '0.450000', realizedPnl: '0.117000', unrealizedPnl: '0.408000', fees: '0.150000', totalPnl: '0.375000' }),
    ]);
    const posTable = await cli(['positions'], env(seeded));
    expect(posTable.stdout).toMatch(/FED-RATE-CUT\s+12\s+0\.416\s+0\.45\s+\S+ \S+\s+0\.117\s+0\.408\s+0\.15\s+0\.375/);

    const byDay = await cli(['pnl', '--days', '2', '--json'], env(seeded));
    expect(byDay.code).toBe(0);
    const days = JSON.parse(byDay.stdout) as { from: string; to: string; days: Record<string, unknown>[]; total: Record<string, unknown> };
    expect([days.from, days.to]).toEqual([PREV, DAY]);
    expect(days.days).toEqual([
      expect.objectContaining({ tradingDay: DAY, realizedPnl: '0.117000', fees: '0.130000', fills: 3 }),
      expect.objectContaining({ tradingDay: PREV, realizedPnl: '0.000000', fees: '0.020000', fills: 1 }),
    ]);
    expect(days.total).toMatchObject({ realizedPnl: '0.117000', fees: '0.150000' });
    const oneDay = await cli(['pnl', '--days', '1'], env(seeded));
    expect(oneDay.stdout).toContain(`${DAY} .. ${DAY}`);
    expect(oneDay.stdout).not.toContain(PREV);

    const byMarket = await cli(['pnl', '--by', 'market', '--days', '2', '--json'], env(seeded));
    const markets = JSON.parse(byMarket.stdout) as { markets: Record<string, unknown>[] };
    expect(markets.markets).toEqual([
      { marketId: 'FED-RATE-CUT', realizedPnl: '0.117000', fees: '0.150000', fills: 4, contractsTraded: 18, quantity: 12, unrealizedPnl: '0.408000', netPnl: '0.375000' },
    ]);
    const marketTable = await cli(['pnl', '--by', 'market', '--days', '1'], env(seeded));
    expect(marketTable.stdout).toMatch(/FED-RATE-CUT\s+0\.117\s+0\.13\s+0\.408\s+0\.395\s+3\s+12/);
  });

  it('alerts filtered by level, execution quality of the day', async () => {
    const critical = await cli(['alerts', '--level', 'critical', '--json'], env(seeded));
    expect(critical.code).toBe(0);
    expect((JSON.parse(critical.stdout) as { type: string }[]).map((a) => a.type)).toEqual(['RECONCILIATION_MISMATCH']);
    const all = await cli(['alerts'], env(seeded));
    expect(all.stdout.trim().split('\n').slice(2).map((l) => l.split(/\s{2,}/)[1])).toEqual(['LOW', 'CRITICAL']);

    const exec = await cli(['execution', '--day', DAY, '--json'], env(seeded));
    expect(exec.code).toBe(0);
    const report = JSON.parse(exec.stdout) as { overall: Record<string, unknown> & { slippage: Record<string, unknown> }; byMarket: Record<string, unknown> };
    expect(report.overall).toMatchObject({ orders: 1, fillRate: 1, filledQuantity: 10, fillNotional: '4.240000', fees: '0.120000' });
    expect(report.overall.slippage).toMatchObject({ cost: '0.040000', costWithFees: '0.160000' });
    expect(Object.keys(report.byMarket)).toEqual(['FED-RATE-CUT']);
    const text = await cli(['execution', '--day', DAY], env(seeded));
    expect(text.stdout).toMatch(/Fill rate:\s+100\.0% any fill/);
    const otherDay = await cli(['execution', '--day', PREV, '--json'], env(seeded));
    expect((JSON.parse(otherDay.stdout) as { overall: { orders: number } }).overall.orders).toBe(0);
  });

  it('status from the records alone, with no Temporal asked', async () => {
    const r = await cli(['status', '--records-only', '--day', DAY, '--json'], env(seeded));
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { workflowId: string; records: { openOrders: number; pnl: Record<string, unknown> }; live: unknown };
    expect(s.workflowId).toBe(`session-ema-mr-${DAY}`);
    expect(s.records.openOrders).toBe(3);
    expect(s.records.pnl).toMatchObject({ realizedPnl: '0.117000', fees: '0.130000' });
    expect(s.live).toEqual({ unavailable: 'not asked (--records-only)' });
  });

  it('audit: the trail as a table, as JSON, and as a file; an unknown order exits 1', async () => {
    const table = await cli(['audit', A], env(seeded));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`Audit trail of ${A} \\(BUY 10 FED-RATE-CUT, now FILLED\\)`));
    for (const kind of ['ORDER_CREATED|ORDER', 'FILL']) expect(table.stdout).toMatch(new RegExp(kind));

    const out = join(root, 'trail.json');
    const file = await cli(['audit', A, '--out', out], env(seeded));
    expect(file.code).toBe(0);
    expect(file.stdout).toContain(`to ${out}`);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { clientOrderId: string; order: Record<string, unknown>; entryCount: number; entries: { kind: string; payload: Record<string, unknown> }[] };
    expect(doc.clientOrderId).toBe(A);
    expect(doc.order).toMatchObject({ state: 'FILLED', fees: '0.120000' });
    expect(doc.entries).toHaveLength(doc.entryCount);
    expect(doc.entries.filter((e) => e.kind === 'FILL').map((e) => e.payload.tradeId)).toEqual(['T-1', 'T-2']);
    expect(existsSync(`${out}.partial`)).toBe(false);

    const stdoutJson = await cli(['audit', A, '--json'], env(seeded));
    expect((JSON.parse(stdoutJson.stdout) as { entries: unknown[] }).entries).toEqual(doc.entries);

    const again = await cli(['audit', A, '--out', out], env(seeded));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--out: already exists (add --force to replace it)');
    const missing = await cli(['audit', 'ema-mr-20990101-000009'], env(seeded));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no order ema-mr-20990101-000009 in the records');
  });

  it('refuses PGlite records a process holds without serving them (no live worker named in the discovery file), exit 1, saying what to do', async () => {
    const dir = join(root, 'held');
    mkdirSync(join(dir, 'pglite'), { recursive: true });
    writeFileSync(join(dir, 'pglite', 'postmaster.pid'), '-42\n');
    const r = await cli(['orders'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/open in another process that does not serve them/);
    expect(r.stderr).toMatch(/pglite\.socket\.json/);
    expect(r.stderr).toMatch(/DATABASE_URL/);
  });
});

describe('acting commands without a Temporal server', () => {
  it('halt and kill journal who and why first, then fail with exit 1 naming TEMPORAL_ADDRESS', async () => {
    // The seeded records: already migrated, so no second PGlite set-up.
    const dir = seeded;
    const halt = await cli(['halt', '--reason', 'news event', '--operator', 'alice', '--cancel-orders'], env(dir));
    expect(halt.code).toBe(1);
    expect(halt.stderr).toContain(`TEMPORAL_ADDRESS=127.0.0.1:${closedPort}`);
    expect(halt.stderr).toContain('TEMPORAL_CLI_PATH');
    const kill = await cli(['kill', '--reason', 'runaway orders', '--flatten', '--day', DAY], env(dir));
    expect(kill.code).toBe(1);

    const database = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'pglite') });
    try {
      const actions = await listOperatorActions(database.db);
      expect(actions.map((a) => [a.action, a.operator, a.reason, a.sequence])).toEqual([
        ['KILL_SWITCH', 'tester', 'runaway orders', 0],
        ['HALT', 'alice', 'news event', 0],
      ]);
      expect(actions[0]!.workflowId).toMatch(/^cli:[0-9a-f-]{36}$/);
      // --day names one session; without it the halt is for the whole desk. The failure is added to the row.
      expect(actions[0]!.details).toEqual({ command: 'kill', scope: `session-ema-mr-${DAY}`, flatten: true, outcome: expect.stringMatching(/^FAILED: No Temporal server/) });
      expect(actions[1]!.details).toMatchObject({ command: 'halt', scope: 'desk', cancelOrders: true, outcome: expect.stringMatching(/^FAILED: /) });
    } finally {
      await database.close();
    }
    const journal = await cli(['journal', '--action', 'HALT', '--json'], env(dir));
    expect(journal.code).toBe(0);
    expect((JSON.parse(journal.stdout) as { reason: string }[]).map((a) => a.reason)).toEqual(['news event']);
  });

  it('halt and resume still go out when a process holds the PGlite records without serving them (with a warning): the session journals them', async () => {
    const dir = join(root, 'held-by-worker');
    mkdirSync(join(dir, 'pglite'), { recursive: true });
    writeFileSync(join(dir, 'pglite', 'postmaster.pid'), '-42\n');
    const halt = await cli(['halt', '--reason', 'halt while the worker runs'], env(dir));
    expect(halt.stderr).toMatch(/warning: the journal entry could not be written .*sending the HALT anyway/);
    expect(halt.code).toBe(1);
    expect(halt.stderr).toContain('TEMPORAL_ADDRESS');
    const resume = await cli(['resume'], env(dir));
    expect(resume.stderr).toMatch(/warning: the journal entry could not be written .*sending the RESUME anyway/);
    expect(resume.code).toBe(1);
    expect(resume.stderr).toContain('TEMPORAL_ADDRESS');
  });

  it('status still answers from the records when the server is unreachable', async () => {
    const r = await cli(['status', '--day', DAY], env(seeded));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Open orders:\s+3/);
    expect(r.stdout).toMatch(/Live:\s+unavailable: No Temporal server/);
  });
});

describe('the records a running worker serves', () => {
  it('reads them through the worker\'s server while its PGlite is open, and opens them directly once that worker is gone', async () => {
    const pgliteDir = join(seeded, 'pglite');
    const served = await serveRecords({ pgliteDir, port: null });
    try {
      expect(existsSync(join(pgliteDir, 'postmaster.pid'))).toBe(true);
      const r = await cli(['orders', '--json'], env(seeded));
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { clientOrderId: string }[]).map((o) => o.clientOrderId)).toContain(A);
    } finally {
      await served.close();
    }
    // A worker that crashed: its discovery file names a dead process, and its postmaster.pid is older.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(pgliteDir, 'postmaster.pid'), '-42\n');
    utimesSync(join(pgliteDir, 'postmaster.pid'), new Date(NOW - 60_000), new Date(NOW - 60_000));
    const file = `${pgliteDir}.socket.json`;
    writeFileSync(file, JSON.stringify({ version: 1, host: '127.0.0.1', port: 1, pid: Number(dead), password: 'c'.repeat(64), pgliteDir, startedAt: new Date().toISOString() }), { mode: 0o600 });
    try {
      const r = await cli(['orders', '--json'], env(seeded));
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { clientOrderId: string }[]).map((o) => o.clientOrderId)).toContain(A);
    } finally {
      rmSync(file, { force: true });
    }
  }, 120_000);
});
