/**
 * Every CLI command beside `npm start` on the embedded default: the job (node --import tsx
 * worker/main.ts, no DATABASE_URL) serves its PGlite records on loopback and names the server in
 * <DATA_DIR>/pglite.socket.json; the CLI, in other processes (this test's own, and once the bin
 * in a process of its own), finds it there. Once the worker has recorded its first order, every
 * read command runs beside it (all at once) and must exit 0 showing that order, and a dashboard
 * started on its own shows it too; `halt` journals its one row through the worker's server,
 * the session halts and answers, and the answer is added to that row. Then the job is killed outright
 * (a crash): its discovery file is left behind, stale, and the CLI opens PGlite itself.
 *
 * Needs TEMPORAL_CLI_PATH (npm start's local dev server). Wall time: the first order goes out
 * 15-40 s after the start on a shared two-core machine; the commands take 10-20 s more.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { run } from '../../cli/main';
import { readDiscovery } from '../../runtime/records-socket';
import { describeWhere } from '../support/requirements';

const ROOT = join(import.meta.dirname, '..', '..');
/** The first order goes out 15-25 s after the start on a quiet machine (test/start/npm-start.test.ts). */
const ORDER_DEADLINE_MS = 150_000;

function temporalCli(): { path: string | null; missing: string | null } {
  const path = process.env.TEMPORAL_CLI_PATH?.trim();
  if (!path) return { path: null, missing: 'TEMPORAL_CLI_PATH is not set (npm start needs a Temporal CLI for its local dev server; the test never downloads one)' };
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { path: null, missing: `TEMPORAL_CLI_PATH=${path} is not an executable file` };
  }
  return { path, missing: null };
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The operator CLI in this test's process (cli/main.ts run with its own io): a process apart from
 * the worker's, as a person's terminal is, without a node start-up per command.
 */
async function operatorCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, progressStream: null, now: () => Date.now() });
  return { args, code, stdout, stderr };
}

/** The operator CLI as a person runs it (bin/durable-trader.mjs), in a process of its own. */
function durableTrader(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(ROOT, 'bin', 'durable-trader.mjs'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('error', reject);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr });
    });
  });
}

const cli = temporalCli();
const dirs: string[] = [];
let child: ChildProcess | null = null;
const others: ChildProcess[] = [];
afterAll(() => {
  for (const p of others) if (p.exitCode === null) p.kill('SIGKILL');
  if (child?.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group has already gone.
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeWhere(cli.missing, 'the CLI beside npm start on the embedded records', () => {
  it(
    'runs every read command and a halt beside the running worker, and after the worker crashed',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'records-shared-'));
      dirs.push(dataDir);
      const [exchangePort, dashboardPort, metricsPort, temporalPort, temporalUiPort, ownDashboardPort] = await freePorts(6);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATA_DIR: dataDir,
        PAPER_EXCHANGE_PORT: String(exchangePort),
        DASHBOARD_PORT: String(dashboardPort),
        METRICS_PORT: String(metricsPort),
        TEMPORAL_LOCAL_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(temporalUiPort),
        TEMPORAL_CLI_PATH: cli.path!,
      };
      const startedAt = Date.now();
      const proc = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      child = proc;
      const output: string[] = [];
      const keep = (chunk: Buffer) => {
        output.push(chunk.toString('utf8'));
        if (output.length > 400) output.splice(0, output.length - 400);
      };
      proc.stdout!.on('data', keep);
      proc.stderr!.on('data', keep);
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      const tail = () => output.join('').split('\n').slice(-40).join('\n');
      const cliEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, TEMPORAL_LOCAL_PORT: String(temporalPort), OPERATOR: 'records-test' };

      // The worker's first order, read by the CLI through the worker's records server.
      let orderId: string | null = null;
      while (orderId === null) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`npm start exited early:\n${tail()}`);
        if (Date.now() - startedAt > ORDER_DEADLINE_MS) throw new Error(`no order in the records within ${ORDER_DEADLINE_MS / 1000} s:\n${tail()}`);
        await sleep(2_000);
        if (readDiscovery(join(dataDir, 'pglite')).status !== 'live') continue;
        const r = await operatorCli(['orders', '--json'], cliEnv);
        expect(r.code, `orders beside the worker: ${r.stderr}`).toBe(0);
        const rows = JSON.parse(r.stdout) as { clientOrderId: string }[];
        orderId = rows[0]?.clientOrderId ?? null;
      }
      console.log(`records shared: first order ${orderId} read by the CLI ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the start`);
      expect(output.join('')).toMatch(/Records: PGlite at .* served on 127\.0\.0\.1:\d+/);
      const secret = readFileSync(join(dataDir, 'exchange', 'dev-key.secret'), 'utf8').trim();
      const venueEnv = { ...cliEnv, PAPER_EXCHANGE_URL: `http://127.0.0.1:${exchangePort}`, PAPER_EXCHANGE_KEY_ID: 'dev', PAPER_EXCHANGE_SECRET: secret };

      // The order's own trail first: its market and trading day name what the other reports must show.
      // Once as a person runs it (bin/durable-trader.mjs, a process of its own), then in-process.
      const trail = await durableTrader(['audit', orderId, '--json'], cliEnv);
      expect(trail.code, trail.stderr).toBe(0);
      const order = (JSON.parse(trail.stdout) as { order: { marketId: string; tradingDay: string } }).order;
      expect(order.marketId).toBeTruthy();

      // Every read command, all at once, beside the worker that keeps writing.
      const reads: [string[], NodeJS.ProcessEnv, (r: Run) => void][] = [
        [['orders', '--market', order.marketId], cliEnv, (r) => expect(r.stdout).toContain(orderId)],
        [['audit', orderId], cliEnv, (r) => expect(r.stdout).toContain(orderId)],
        [['positions', '--all', '--json'], cliEnv, (r) => expect(Array.isArray(JSON.parse(r.stdout))).toBe(true)],
        [['pnl', '--json'], cliEnv, (r) => expect(JSON.parse(r.stdout)).toBeTypeOf('object')],
        [['execution', '--day', order.tradingDay, '--json'], cliEnv, (r) => expect(JSON.parse(r.stdout)).toMatchObject({ tradingDay: order.tradingDay, overall: expect.any(Object) })],
        [['alerts', '--json'], cliEnv, (r) => expect(Array.isArray(JSON.parse(r.stdout))).toBe(true)],
        [['journal', '--json'], cliEnv, (r) => expect(Array.isArray(JSON.parse(r.stdout))).toBe(true)],
        [['status', '--records-only'], cliEnv, (r) => expect(r.stdout).toMatch(/session/i)],
        [['status'], cliEnv, (r) => expect(r.stdout).toMatch(/session/i)],
        [['preflight', '--json'], venueEnv, (r) => expect((JSON.parse(r.stdout) as { checks: unknown[] }).checks.length).toBeGreaterThan(0)],
      ];
      // A dashboard started on its own (npm run dashboard) beside the worker, on the same records.
      const dashboard = spawn(process.execPath, ['--import', 'tsx', 'dashboard/main.ts'], { cwd: ROOT, env: { ...cliEnv, DASHBOARD_PORT: String(ownDashboardPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
      others.push(dashboard);
      let dashboardOut = '';
      dashboard.stdout!.on('data', (d: Buffer) => (dashboardOut += d.toString()));
      dashboard.stderr!.on('data', (d: Buffer) => (dashboardOut += d.toString()));
      const dashboardOrders = (async () => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          if (dashboard.exitCode !== null) throw new Error(`the dashboard exited ${dashboard.exitCode}:\n${dashboardOut}`);
          if (Date.now() > deadline) throw new Error(`the dashboard did not answer within 60 s:\n${dashboardOut}`);
          try {
            const res = await fetch(`http://127.0.0.1:${ownDashboardPort}/api/orders`, { signal: AbortSignal.timeout(5_000) });
            if (res.status === 200) return (await res.json()) as { recent?: { clientOrderId: string }[] };
          } catch {
            // Not listening yet.
          }
          await sleep(500);
        }
      })();
      const readsAt = Date.now();
      const results = await Promise.all(reads.map(([args, e]) => operatorCli(args, e)));
      results.forEach((r, i) => {
        expect(r.code, `${r.args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`).toBe(0);
        reads[i]![2](r);
      });
      try {
        const body = await dashboardOrders;
        expect((body.recent ?? []).map((o) => o.clientOrderId), dashboardOut).toContain(orderId);
        expect(dashboardOut).toMatch(/records from the worker's records \(PGlite served by process \d+/);
      } finally {
        dashboard.kill('SIGTERM');
      }
      const haltAt = Date.now();

      // A write: halt journals its row through the worker's server first, sends the update with the
      // row's key and adds the answer to the row; the session links its halt to the key and writes
      // no second row (one row per action).
      const halt = await operatorCli(['halt', '--reason', 'records shared test'], cliEnv);
      expect(halt.code, `halt: ${halt.stdout}\n${halt.stderr}`).toBe(0);
      expect(halt.stdout).toMatch(/APPLIED/);
      expect(halt.stdout).toMatch(/Journal: recorded as cli:/);
      const j = await operatorCli(['journal', '--action', 'HALT', '--json'], cliEnv);
      expect(j.code, j.stderr).toBe(0);
      const journaled = JSON.parse(j.stdout) as { workflowId: string; action: string; reason: string; details: Record<string, unknown> }[];
      const rows = journaled.filter((a) => a.reason === 'records shared test');
      expect(rows, JSON.stringify(journaled)).toHaveLength(1);
      expect(rows[0]!.workflowId.startsWith('cli:')).toBe(true);
      expect(String(rows[0]!.details.outcome)).toMatch(/^APPLIED/);
      expect(journaled.filter((a) => a.workflowId.startsWith('session-'))).toEqual([]);

      const crashAt = Date.now();
      console.log(`records shared: ${reads.length} read commands ${((haltAt - readsAt) / 1000).toFixed(1)} s, halt and its journal rows ${((crashAt - haltAt) / 1000).toFixed(1)} s`);
      // A crash: the discovery file stays, naming a dead process; the CLI opens PGlite itself.
      process.kill(-proc.pid!, 'SIGKILL');
      await exited;
      child = null;
      expect(existsSync(join(dataDir, 'pglite.socket.json'))).toBe(true);
      expect(readDiscovery(join(dataDir, 'pglite')).status).toBe('stale');
      const after = await durableTrader(['orders'], cliEnv);
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toContain(orderId);
      console.log(`records shared: whole test ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    },
    ORDER_DEADLINE_MS + 120_000,
  );
});
