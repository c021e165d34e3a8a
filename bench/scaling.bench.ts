/**
 * Scaling with worker processes (issue 16, the capacity model: docs/capacity.md). 1, 2 and 3
 * worker processes (bench/orchestration-worker.ts, production activities) poll ONE task queue of
 * ONE Temporal server, on ONE PostgreSQL database, and run the same load of order workflows; the
 * throughput of 2 and 3 is reported against 1 worker measured in the same run (ratios, no timed
 * assertion). Besides, from the same run, the figures the capacity model needs:
 * - history events per filled order (its whole history), and per session watch cycle (a session
 *   run on the 1-worker phase; its day's count follows from the cycles in a day);
 * - worker CPU and RSS per 100 open (resting) orders, read from /proc while they wait;
 * - PostgreSQL work per order and per fill: pg_stat_database deltas (xact_commit, tup_inserted,
 *   tup_updated) of a database created fresh for the run (no other user writes to it), read after
 *   the workers' connections closed (a backend flushes its counters when it exits);
 * - CPU seconds per order of the worker processes, the Temporal dev server and the database
 *   backends, read from /proc (this machine runs all three): which one the load reaches first.
 *
 * Needs a Temporal server (TEMPORAL_ADDRESS, or TEMPORAL_CLI_PATH for a dev server of its own) and
 * PostgreSQL (TEST_DATABASE_URL or DATABASE_URL; several worker processes cannot share PGlite).
 * Without either every row comes back skipped, saying which to set.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import postgres from 'postgres';
import { openDatabase } from '../db';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import { orderWorkflowId, sessionWorkflowId, tradingDayOf } from '../domain/ids';
import { MICROS, type Money } from '../domain/money';
import type { PaperExchange } from '../exchange/server';
import { buildConfig, type Env } from '../runtime/config';
import { connectTemporal, type StartLocalServer, type TemporalHandle, type WorkerLog } from '../runtime/temporal';
import { cancelOrderSignal, type OrderStatus, type SessionStatus, type SessionWorkflowInput } from '../workflows/api';
import type { BenchResult } from './harness';
import type { FromWorker, ToWorker, WorkerInit } from './orchestration-worker';
import { BENCH_WORKFLOWS_PATH, benchMarket, benchOrderInput, crossingPrice, restingPrice, startBenchExchange, sustainedRate } from './orchestration.bench';

export interface ScalingSizes {
  /** Worker process counts, the first being the baseline. */
  workers: number[];
  /** Filled orders per phase, `concurrency` in flight at a time. */
  orders: number;
  concurrency: number;
  /** Resting orders held open (1-worker phase) while CPU and memory are read. */
  openOrders: number;
  /** How long the open orders are left before their CPU is read: past their first polls (1, 2, 4, 8, 16 s), at the steady poll every 30 s. */
  openSettleMs: number;
  /** How long the open orders are watched for their CPU. */
  openWindowMs: number;
  /** The session run on the 1-worker phase: its watch period, and how long it trades. */
  sessionWatchMs: number;
  sessionMs: number;
}

/** At one fill per order the first poll comes 1 s after the acknowledgement: 80 in flight cannot pass 80 orders/s, above what 2 cores reach. */
export const SIZES: ScalingSizes = { workers: [1, 2, 3], orders: 300, concurrency: 80, openOrders: 200, openSettleMs: 35_000, openWindowMs: 30_000, sessionWatchMs: 2_000, sessionMs: 20_000 };

type RowKey = 'scale2' | 'scale3' | 'historyPerOrder' | 'historyPerWatch' | 'cpuPerOpen' | 'rssPerOpen' | 'pgPerFill' | 'pgPerOrder';
type RowSpec = Pick<BenchResult, 'name' | 'unit' | 'baselineName' | 'lowerIsBetter'>;

export const ROWS: Readonly<Record<RowKey, RowSpec>> = {
  scale2: { name: 'order throughput, 2 worker processes, one server and database', unit: 'orders/s', baselineName: '1 worker process, same run' },
  scale3: { name: 'order throughput, 3 worker processes, one server and database', unit: 'orders/s', baselineName: '1 worker process, same run' },
  historyPerOrder: { name: 'history events per filled order', unit: 'events', baselineName: 'bare lifecycle (same activities and timers), counted' },
  historyPerWatch: { name: 'history events per session watch cycle', unit: 'events', baselineName: 'events of one activity call (scheduled, started, completed + task)' },
  cpuPerOpen: { name: 'worker CPU per 100 open orders (resting, polling)', unit: '% of a core', baselineName: 'same worker idle, same run', lowerIsBetter: true },
  rssPerOpen: { name: 'worker RSS per 100 open orders', unit: 'MB', baselineName: 'same worker idle, same run', lowerIsBetter: true },
  pgPerFill: { name: 'PostgreSQL rows written per fill (inserted + updated)', unit: 'rows', baselineName: 'bare one-row INSERT', lowerIsBetter: true },
  pgPerOrder: { name: 'PostgreSQL transactions per filled order (reads included)', unit: 'commits', baselineName: 'one per activity that touches the records', lowerIsBetter: true },
};

export const SKIP_REASON = 'skipped: needs a Temporal server (TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH) and PostgreSQL (TEST_DATABASE_URL or DATABASE_URL; worker processes cannot share PGlite)';

export function skippedResults(reason: string): BenchResult[] {
  return Object.values(ROWS).map((spec) => ({ ...spec, figure: 0, baselineFigure: 0, notes: reason, skipped: reason }));
}

const ORDER_TTL_MS = 10 * 60_000;
const RESTING_TTL_MS = 30 * 60_000;
const START_TIMEOUT_MS = 180_000;
const BENCH_KEY = { keyId: 'bench', secret: `bench-${randomBytes(16).toString('hex')}` };
const CLOCK_TICKS = 100;
const quietLog: WorkerLog = { info: () => {}, warn: (m) => process.stderr.write(`${m}\n`) };
const progress = (m: string) => process.stderr.write(`  scaling: ${m}\n`);
const round = (n: number, places = 1) => Math.round(n * 10 ** places) / 10 ** places;

const startBenchDevServer: StartLocalServer = (options) =>
  TestWorkflowEnvironment.createLocal({
    ...options,
    server: { ...options.server, port: undefined, ui: false, uiPort: undefined, dbFilename: undefined, log: { format: 'pretty', level: 'error' } },
  });

// ---- /proc ----

/** utime + stime of a process in seconds (Linux /proc/<pid>/stat fields 14 and 15); 0 when gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** This process's children whose command line mentions `word` (the dev server the SDK started). */
function childPids(word: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(word)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** "submitOrder x1, syncFills x2, ..., local x2": what one order's history scheduled. */
function activityCounts(events: readonly { eventType?: unknown; activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null; markerRecordedEventAttributes?: { markerName?: string | null } | null }[]): string {
  const counts = new Map<string, number>();
  for (const e of events) {
    const name = e.eventType === 10 ? e.activityTaskScheduledEventAttributes?.activityType?.name : e.eventType === 25 && e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? 'local activity' : null;
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
}

// ---- a worker process ----

class WorkerProcess {
  private readonly waiting: { type: FromWorker['type']; resolve: (m: FromWorker) => void }[] = [];
  private failure: string | null = null;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.failure = m.message;
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static spawn(): WorkerProcess {
    const entry = join(import.meta.dirname, 'orchestration-worker.ts');
    return new WorkerProcess(fork(entry, ['--bench-worker'], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async request<T extends FromWorker['type']>(message: ToWorker, expect: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    const reply = new Promise<FromWorker>((resolve) => this.waiting.push({ type: expect, resolve }));
    this.child.send(message);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = await Promise.race([reply, new Promise<null>((r) => setTimeout(() => r(null), 100))]);
      if (m !== null) return m as Extract<FromWorker, { type: T }>;
      if (this.failure !== null) throw new Error(`bench worker: ${this.failure}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('bench worker exited');
      if (Date.now() > until) throw new Error(`bench worker: no "${expect}" within ${timeoutMs} ms`);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) await this.request({ type: 'stop' }, 'stopped', 30_000).catch(() => undefined);
    const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    if (!gone) this.child.kill('SIGKILL');
  }
}

// ---- PostgreSQL counters ----

interface PgCounters {
  commits: number;
  inserted: number;
  updated: number;
}

async function pgCounters(admin: postgres.Sql, database: string): Promise<PgCounters> {
  await admin`select pg_stat_clear_snapshot()`;
  const [row] = await admin<{ c: string; i: string; u: string }[]>`select xact_commit::text as c, tup_inserted::text as i, tup_updated::text as u from pg_stat_database where datname = ${database}`;
  return { commits: Number(row?.c ?? 0), inserted: Number(row?.i ?? 0), updated: Number(row?.u ?? 0) };
}

async function backendPids(admin: postgres.Sql, database: string): Promise<number[]> {
  const rows = await admin<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database}`;
  return rows.map((r) => r.pid);
}

// ---- the run ----

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

interface Shared {
  client: Client;
  exchange: PaperExchange;
  marketId: string;
  tickSize: number;
  tag: string;
  bundlePath: string;
  address: string;
  namespace: string;
  databaseUrl: string;
  database: string;
  admin: postgres.Sql;
  dataDir: string;
  serverPids: number[];
  seq: number;
}

interface Phase {
  workers: number;
  sustained: number;
  overall: number;
  orders: number;
  fills: number;
  unfilled: number;
  pg: PgCounters;
  cpu: { workers: number; server: number; database: number };
  eventsPerOrder: number;
  /** The server's state transitions of the sample order (each one a write to its history shard's persistence). */
  transitionsPerOrder: number;
  /** The sample order's activities by type (ActivityTaskScheduled), and its local activities (markers). */
  activitiesPerOrder: string;
  open?: { idleCpuPct: number; openCpuPct: number; idleRssMb: number; openRssMb: number };
  session?: { events: number; watches: number; mode: string };
}

function sessionInput(strategy: string, tradingDay: string, marketId: string, sizes: ScalingSizes): SessionWorkflowInput {
  const loss = (1_000_000 * MICROS) as Money;
  return {
    strategy,
    strategyName: 'ema-mean-reversion',
    strategyParams: {},
    tradingDay,
    marketIds: [marketId],
    endOfDayAt: Date.now() + sizes.sessionMs,
    watchPeriodMs: sizes.sessionWatchMs,
    pollIntervalMs: Math.min(1_000, sizes.sessionWatchMs),
    orderTtlMs: ORDER_TTL_MS,
    maxDailyLoss: loss,
    breakers: { ...CASE_STUDY_BREAKERS, maxDailyLoss: loss },
    searchAttributes: false,
  };
}

async function runPhase(shared: Shared, workerCount: number, sizes: ScalingSizes, first: boolean): Promise<Phase> {
  const schema = `scale${workerCount}_${shared.tag}`;
  // Migrated from here, and that connection closed, before the counters are read: the migration's writes are not the load's.
  await (await openDatabase({ kind: 'postgres', url: shared.databaseUrl, schema, poolSize: 1 })).close();
  const taskQueue = `bench-scaling-${workerCount}-${shared.tag}`;
  const init: WorkerInit = {
    address: shared.address,
    namespace: shared.namespace,
    taskQueue,
    exchangeUrl: shared.exchange.url,
    keyId: BENCH_KEY.keyId,
    secret: BENCH_KEY.secret,
    databaseUrl: shared.databaseUrl,
    schema,
    keepSchema: true,
    dataDir: shared.dataDir,
    bundlePath: shared.bundlePath,
  };
  progress(`${workerCount} worker process(es) on ${taskQueue}`);
  const workers = Array.from({ length: workerCount }, () => WorkerProcess.spawn());
  const open = new Set<WorkflowHandle>();
  try {
    await Promise.all(workers.map((w) => w.request({ type: 'init', init }, 'ready', START_TIMEOUT_MS)));
    const start = async (prefix: string, price: number, ttlMs: number): Promise<WorkflowHandle> => {
      const clientOrderId = `${shared.tag}-${workerCount}${prefix}${++shared.seq}`;
      const handle = await shared.client.workflow.start('orderWorkflow', {
        taskQueue,
        workflowId: orderWorkflowId(clientOrderId),
        args: [benchOrderInput(shared.marketId, clientOrderId, price as never, ttlMs, Date.now())],
      });
      open.add(handle);
      return handle;
    };
    const finish = async (h: WorkflowHandle): Promise<OrderStatus> => {
      const status = (await h.result()) as OrderStatus;
      open.delete(h);
      return status;
    };
    const crossing = () => crossingPrice(shared.exchange, shared.marketId, shared.tickSize);
    // Warm-up: every worker's cache and connections.
    await mapLimited(Array.from({ length: 4 * workerCount }), 4 * workerCount, async () => finish(await start('w', crossing(), ORDER_TTL_MS)));

    const before = await pgCounters(shared.admin, shared.database);
    const dbCpu0 = new Map((await backendPids(shared.admin, shared.database)).map((p) => [p, cpuSeconds(p)]));
    const cpu0 = { workers: workers.reduce((s, w) => s + cpuSeconds(w.pid), 0), server: shared.serverPids.reduce((s, p) => s + cpuSeconds(p), 0) };
    const t0 = performance.now();
    const completedAt: number[] = [];
    const statuses = await mapLimited(Array.from({ length: sizes.orders }), sizes.concurrency, async () => {
      const s = await finish(await start('t', crossing(), ORDER_TTL_MS));
      completedAt.push(performance.now());
      return s;
    });
    const overall = sizes.orders / ((performance.now() - t0) / 1_000);
    // Backends that lived through the phase (each pool keeps its connections); one opened meanwhile counts from 0.
    let database = 0;
    for (const pid of await backendPids(shared.admin, shared.database)) database += cpuSeconds(pid) - (dbCpu0.get(pid) ?? 0);
    const cpu = {
      workers: workers.reduce((s, w) => s + cpuSeconds(w.pid), 0) - cpu0.workers,
      server: shared.serverPids.reduce((s, p) => s + cpuSeconds(p), 0) - cpu0.server,
      database,
    };
    const fills = statuses.reduce((s, x) => s + x.fills.length, 0);
    const sampleHandle = shared.client.workflow.getHandle(orderWorkflowId(statuses[0]!.clientOrderId));
    const sample = await sampleHandle.fetchHistory();
    const transitions = Number((await sampleHandle.describe()).raw.workflowExecutionInfo?.stateTransitionCount ?? 0);
    const phase: Phase = {
      workers: workerCount,
      sustained: sustainedRate(completedAt) ?? overall,
      overall,
      orders: sizes.orders,
      fills,
      unfilled: statuses.filter((s) => s.state !== 'FILLED').length,
      pg: before,
      cpu,
      eventsPerOrder: sample.events?.length ?? 0,
      activitiesPerOrder: activityCounts(sample.events ?? []),
      transitionsPerOrder: transitions,
    };

    if (first) {
      // Open orders: CPU and memory per 100 while they rest and poll.
      const idleRss = (await workers[0]!.request({ type: 'rss' }, 'rss', 10_000)).rss;
      const idleCpu0 = cpuSeconds(workers[0]!.pid);
      await new Promise((r) => setTimeout(r, 5_000));
      const idleCpuPct = ((cpuSeconds(workers[0]!.pid) - idleCpu0) / 5) * 100;
      progress(`${sizes.openOrders} resting orders open`);
      const resting = await mapLimited(Array.from({ length: sizes.openOrders }), 32, () => start('m', restingPrice(shared.tickSize), RESTING_TTL_MS));
      await new Promise((r) => setTimeout(r, sizes.openSettleMs));
      const openCpu0 = cpuSeconds(workers[0]!.pid);
      await new Promise((r) => setTimeout(r, sizes.openWindowMs));
      const openCpuPct = ((cpuSeconds(workers[0]!.pid) - openCpu0) / (sizes.openWindowMs / 1_000)) * 100;
      const openRss = (await workers[0]!.request({ type: 'rss' }, 'rss', 10_000)).rss;
      await mapLimited(resting, 32, (h) => h.signal(cancelOrderSignal, { operator: 'bench', reason: 'scaling bench' }));
      await mapLimited(resting, 32, finish);
      phase.open = { idleCpuPct, openCpuPct, idleRssMb: idleRss / 1e6, openRssMb: openRss / 1e6 };

      // A session on a quiet market (its strategy still warming up: no signal), for the events of a watch cycle.
      progress(`a session for ${sizes.sessionMs / 1_000} s, watch every ${sizes.sessionWatchMs / 1_000} s`);
      const strategy = `sc${shared.tag}`;
      const session = await shared.client.workflow.start('sessionWorkflow', {
        taskQueue,
        workflowId: sessionWorkflowId(strategy, tradingDayOf(Date.now())),
        args: [sessionInput(strategy, tradingDayOf(Date.now()), shared.marketId, sizes)],
      });
      open.add(session);
      const status = (await session.result()) as SessionStatus;
      open.delete(session);
      const events = (await session.fetchHistory()).events ?? [];
      const watches = events.filter((e) => e.eventType === 10 && e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchForSignal').length;
      phase.session = { events: events.length, watches, mode: status.mode };
    }
    return phase;
  } finally {
    await Promise.all([...open].map((h) => h.terminate('scaling bench cleanup').catch(() => undefined)));
    await Promise.all(workers.map((w) => w.stop()));
  }
}

export async function runWith(env: Env, sizes: ScalingSizes = SIZES): Promise<BenchResult[]> {
  const url = env.TEST_DATABASE_URL?.trim() || env.DATABASE_URL?.trim() || '';
  if (!(env.TEMPORAL_ADDRESS?.trim() || env.TEMPORAL_CLI_PATH?.trim()) || !url) return skippedResults(SKIP_REASON);
  const dataDir = mkdtempSync(join(tmpdir(), 'scaling-bench-'));
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const database = `capacity_${tag}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  let temporal: TemporalHandle | null = null;
  let exchange: PaperExchange | null = null;
  try {
    await admin.unsafe(`CREATE DATABASE "${database}"`);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${database}`;
    const config = buildConfig({ TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE, TEMPORAL_CLI_PATH: env.TEMPORAL_CLI_PATH, DATA_DIR: dataDir });
    temporal = await connectTemporal(config, quietLog, startBenchDevServer);
    const serverPids = temporal.local ? childPids('temporal') : [];
    progress(`Temporal at ${temporal.address}${temporal.local ? ` (dev server, pid ${serverPids.join(', ') || '?'})` : ''}; database ${database}`);
    exchange = await startBenchExchange(BENCH_KEY);
    const market = benchMarket(exchange);
    const bundlePath = join(dataDir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: BENCH_WORKFLOWS_PATH, logger: new DefaultLogger('WARN') })).code);
    const shared: Shared = { client: temporal.client, exchange, marketId: market.marketId, tickSize: market.tickSize, tag, bundlePath, address: temporal.address, namespace: temporal.namespace, databaseUrl: dbUrl.toString(), database, admin, dataDir, serverPids, seq: 0 };
    const phases: Phase[] = [];
    for (const [i, n] of sizes.workers.entries()) {
      const phase = await runPhase(shared, n, sizes, i === 0);
      // The workers' connections are closed: their backends flushed their counters on exit.
      await new Promise((r) => setTimeout(r, 1_000));
      const after = await pgCounters(admin, database);
      phase.pg = { commits: after.commits - phase.pg.commits, inserted: after.inserted - phase.pg.inserted, updated: after.updated - phase.pg.updated };
      progress(`${n} worker(s): ${round(phase.sustained)} orders/s sustained, CPU s/order worker ${round(phase.cpu.workers / phase.orders, 3)} server ${round(phase.cpu.server / phase.orders, 3)} database ${round(phase.cpu.database / phase.orders, 3)}`);
      phases.push(phase);
    }
    return results(phases, sizes, temporal.local);
  } finally {
    await exchange?.close();
    await temporal?.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((e: unknown) => quietLog.warn(`cleanup: ${String(e)}`));
    await admin.end({ timeout: 5 });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function results(phases: Phase[], sizes: ScalingSizes, localServer: boolean): BenchResult[] {
  const base = phases[0]!;
  const where = `PostgreSQL (fresh database), ${localServer ? 'local dev server' : 'remote server'}, 2-core machine shared by the server, the database, the workers and this client`;
  const cpuNote = (p: Phase) =>
    `CPU s per order: workers ${round(p.cpu.workers / p.orders, 3)}, Temporal server ${round(p.cpu.server / p.orders, 3)}, PostgreSQL backends ${round(p.cpu.database / p.orders, 3)}`;
  const scaleRow = (key: 'scale2' | 'scale3', n: number): BenchResult | null => {
    const p = phases.find((x) => x.workers === n);
    if (!p) return null;
    return {
      ...ROWS[key],
      figure: p.sustained,
      baselineFigure: base.sustained,
      notes: `${p.orders} orders, ${sizes.concurrency} in flight, middle 80% of completions (first start to last end ${round(p.overall)} vs ${round(base.overall)}/s); ${cpuNote(p)} (1 worker: ${cpuNote(base).slice(17)})${p.unfilled > 0 ? `; ${p.unfilled} not FILLED` : ''}; ${where}`,
    };
  };
  const out: BenchResult[] = [scaleRow('scale2', 2), scaleRow('scale3', 3)].filter((r): r is BenchResult => r !== null);
  const bareOrderEvents = 3 + 2 * 3 + 8 * 6 + 2 + 2 * 3; // start/end, 1 local marker task, 8 activities with their tasks, 1 timer
  out.push({ ...ROWS.historyPerOrder, figure: base.eventsPerOrder, baselineFigure: bareOrderEvents, notes: `one FILLED order's whole history (one fill): ${base.activitiesPerOrder}; ${base.transitionsPerOrder} state transitions (describe: stateTransitionCount); the baseline is a rough count of the same commands' events; ${where}` });
  if (base.session) {
    const perWatch = base.session.events / Math.max(1, base.session.watches);
    out.push({
      ...ROWS.historyPerWatch,
      figure: round(perWatch),
      baselineFigure: 4,
      notes: `a session of ${sizes.sessionMs / 1_000} s, watch every ${sizes.sessionWatchMs / 1_000} s: ${base.session.events} events over ${base.session.watches} watches (start and end included, so an overcount per cycle), ended ${base.session.mode}; at the default 15-minute watch, 96 cycles a day`,
    });
  }
  if (base.open) {
    const per100 = 100 / sizes.openOrders;
    out.push({
      ...ROWS.cpuPerOpen,
      figure: round((base.open.openCpuPct - base.open.idleCpuPct) * per100 + base.open.idleCpuPct, 2),
      baselineFigure: round(base.open.idleCpuPct, 2),
      notes: `${sizes.openOrders} resting orders over ${sizes.openWindowMs / 1_000} s, from ${sizes.openSettleMs / 1_000} s after they opened (polls back off to every 30 s: the steady state): ${round(base.open.openCpuPct, 2)}% of a core in all, ${round(base.open.idleCpuPct, 2)}% idle; the figure is idle + the increase scaled to 100`,
    });
    out.push({
      ...ROWS.rssPerOpen,
      figure: round(base.open.idleRssMb + (base.open.openRssMb - base.open.idleRssMb) * per100),
      baselineFigure: round(base.open.idleRssMb),
      notes: `${sizes.openOrders} open: ${round(base.open.openRssMb)} MB against ${round(base.open.idleRssMb)} MB idle (+${round(((base.open.openRssMb - base.open.idleRssMb) / sizes.openOrders) * 1_000)} kB per open order, the workflow cache)`,
    });
  }
  out.push({
    ...ROWS.pgPerFill,
    figure: round((base.pg.inserted + base.pg.updated) / Math.max(1, base.fills), 2),
    baselineFigure: 1,
    notes: `pg_stat_database of a fresh database over ${base.orders} filled orders (${base.fills} fills): ${base.pg.inserted} rows inserted, ${base.pg.updated} updated (orders, fills, positions and their histories, audit, sync cursors)`,
  });
  out.push({
    ...ROWS.pgPerOrder,
    figure: round(base.pg.commits / base.orders, 2),
    baselineFigure: 8,
    notes: `${base.pg.commits} commits over ${base.orders} filled orders, reads included (the risk check's, the polls'); the baseline counts one per activity of the order`,
  });
  return out;
}

export async function run(): Promise<BenchResult[]> {
  return runWith(process.env);
}
