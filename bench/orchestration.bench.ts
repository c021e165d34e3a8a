/**
 * Order lifecycle orchestration on a Temporal server (issue 5). Runs only when a server is
 * reachable: TEMPORAL_ADDRESS names one, or TEMPORAL_CLI_PATH names a Temporal CLI binary from
 * which a local dev server is started (runtime/temporal.ts connectTemporal). Nothing is ever
 * downloaded; without either variable every row comes back skipped, saying which to set.
 *
 * The local dev server (TEMPORAL_CLI_PATH) is the bench's own: ports the SDK picks on 127.0.0.1,
 * no Web UI, history in memory (the figures are the orchestration's, not a disk's under a shared
 * machine's load).
 *
 * Set-up: the paper exchange in-process (fills certain and immediate, no faults, no rate limit),
 * a worker in a child process (bench/orchestration-worker.ts: production activities on PGlite, or
 * on a PostgreSQL schema of its own when TEST_DATABASE_URL/DATABASE_URL is set) polling a task
 * queue of its own, and this process as the client. Every figure has its floor measured on the
 * same server in the same run:
 * 1. throughput: N orders that cross the market, `throughputConcurrency` in flight at a time (a new
 *    one starts as one ends), completions per second over the middle 80% of them (sustained,
 *    without the ramp and the tail); floor: N bare workflows at the same concurrency with the same
 *    activities, local activities and timers as a completed order's history (no-op bodies).
 * 2. latency from the signal (workflow start) to the venue's acknowledgement of the order (the
 *    submit activity's clock, from the order's timings), p50 and p99, orders started at a steady
 *    rate; floor: start to activity done of a bare workflow with one activity call.
 * 3. the worker's RSS with 1,000 order workflows open (buys at one cent, which never fill, with a
 *    30-minute time-to-live), beside the same worker's RSS idle just before; then all are cancelled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { startPaperExchange, type PaperExchange } from '../exchange/server';
import { buildConfig, type Env } from '../runtime/config';
import { connectTemporal, type StartLocalServer, type TemporalHandle, type WorkerLog } from '../runtime/temporal';
import { cancelOrderSignal, type OrderWorkflowInput } from '../workflows/api';
import { CASE_STUDY_FILL_MODEL } from '../domain/fill-model';
import { orderWorkflowId, tradingDayOf } from '../domain/ids';
import { MICROS, type Price, type Quantity } from '../domain/money';
import type { orderWorkflow } from '../workflows/order-workflow';
import type { FromWorker, ToWorker, WorkerInit } from './orchestration-worker';
import type { LifecycleShape, bareLifecycleWorkflow, bareOneActivityWorkflow } from './workflows/bare';
import type { BenchResult } from './harness';

/** The bench worker's bundle entry: the production workflows plus the bare baselines. */
export const BENCH_WORKFLOWS_PATH = join(import.meta.dirname, 'workflows', 'index.ts');

export const SKIP_REASON = 'skipped: no Temporal server (set TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH)';

type RowKey = 'throughput' | 'latencyP50' | 'latencyP99' | 'memory';
type RowSpec = Pick<BenchResult, 'name' | 'unit' | 'baselineName' | 'target' | 'ratioTarget' | 'lowerIsBetter'>;

/** The four rows and the issue's targets for them. */
export const ROWS: Readonly<Record<RowKey, RowSpec>> = {
  throughput: { name: 'order lifecycle throughput (paper exchange, fills)', unit: 'orders/s', baselineName: 'bare workflow, same activities and timers', target: 50, ratioTarget: 0.5 },
  latencyP50: { name: 'signal → venue acknowledgement, p50', unit: 'ms', baselineName: 'bare one-activity workflow p50', lowerIsBetter: true },
  latencyP99: { name: 'signal → venue acknowledgement, p99', unit: 'ms', baselineName: 'bare one-activity workflow p99', lowerIsBetter: true },
  memory: { name: 'worker RSS with 1,000 open order workflows', unit: 'MB', baselineName: 'same worker idle, same run', target: 300, lowerIsBetter: true },
};

export interface OrchestrationSizes {
  /** Orders (and bare workflows) run for the throughput figure. */
  throughputOrders: number;
  /** Of those, how many are in flight at a time. */
  throughputConcurrency: number;
  /** Orders (and bare one-activity workflows) behind each latency figure. */
  latencySamples: number;
  /** Starts per second while sampling latency: a steady, light load. */
  latencyRatePerSecond: number;
  /** Open order workflows held while the worker's memory is read. */
  openOrders: number;
}

/** Latency is sampled at a light, steady rate, well under the throughput found here, so that it measures the path and not a queue. */
export const SIZES: OrchestrationSizes = { throughputOrders: 500, throughputConcurrency: 50, latencySamples: 100, latencyRatePerSecond: 5, openOrders: 1_000 };

/** Start RPCs (and signals) in flight at once. */
const START_CONCURRENCY = 64;
const ORDER_TTL_MS = 10 * 60_000;
const RESTING_TTL_MS = 30 * 60_000;
const WORKER_START_TIMEOUT_MS = 180_000;
const PHASE_TIMEOUT_MS = 180_000;
const BENCH_KEY = { keyId: 'bench', secret: `bench-${randomBytes(16).toString('hex')}` };

const quietLog: WorkerLog = { info: () => {}, warn: (m) => process.stderr.write(`${m}\n`) };
const progress = (m: string) => process.stderr.write(`  orchestration: ${m}\n`);

/** The bench's own dev server: ports the SDK picks, no Web UI, history in memory, quiet below errors. */
const startBenchDevServer: StartLocalServer = (options) =>
  TestWorkflowEnvironment.createLocal({
    ...options,
    server: { ...options.server, port: undefined, ui: false, uiPort: undefined, dbFilename: undefined, log: { format: 'pretty', level: 'error' } },
  });

export type BenchGate = { run: true; env: Env } | { run: false; reason: string };

/** Whether a server is configured. Never a download: without either variable the bench is skipped. */
export function benchGate(env: Env): BenchGate {
  const address = env.TEMPORAL_ADDRESS?.trim();
  const cli = env.TEMPORAL_CLI_PATH?.trim();
  if (!address && !cli) return { run: false, reason: SKIP_REASON };
  return { run: true, env };
}

export function skippedResults(reason: string): BenchResult[] {
  return Object.values(ROWS).map((spec) => ({ ...spec, figure: 0, baselineFigure: 0, notes: reason, skipped: reason }));
}

/** Nearest-rank percentile of an ascending list; NaN when it is empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The parts of a history event read here (structurally the SDK's IHistoryEvent; Long seconds allowed). */
export interface HistoryEventLike {
  eventType?: number | string | null;
  timerStartedEventAttributes?: { timerId?: string | null; startToFireTimeout?: { seconds?: number | string | { toNumber(): number } | null; nanos?: number | null } | null } | null;
  timerFiredEventAttributes?: { timerId?: string | null } | null;
  markerRecordedEventAttributes?: { markerName?: string | null } | null;
}

/** The marker name under which the SDK records a local activity's result. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** Event types by number (temporal.api.enums.v1.EventType) and by the names JSON histories use. */
const EVENT = {
  activityScheduled: [10, 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', 'ActivityTaskScheduled'],
  timerStarted: [17, 'EVENT_TYPE_TIMER_STARTED', 'TimerStarted'],
  timerFired: [18, 'EVENT_TYPE_TIMER_FIRED', 'TimerFired'],
  marker: [25, 'EVENT_TYPE_MARKER_RECORDED', 'MarkerRecorded'],
} as const;

const isType = (e: HistoryEventLike, type: readonly (number | string)[]) => e.eventType !== null && e.eventType !== undefined && type.includes(e.eventType);

function seconds(v: number | string | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'object' ? v.toNumber() : Number(v);
}

/**
 * The Temporal work of one completed order: activities scheduled through the server, local
 * activities (their markers; patch markers are not counted), timers that fired (awaited) and timers that did not (the time-to-live).
 */
export function lifecycleShape(events: readonly HistoryEventLike[], idleTimerMs: number): LifecycleShape {
  const started = events.filter((e) => isType(e, EVENT.timerStarted));
  const firedIds = new Set(events.filter((e) => isType(e, EVENT.timerFired)).map((e) => e.timerFiredEventAttributes?.timerId));
  const awaited = started.filter((e) => firedIds.has(e.timerStartedEventAttributes?.timerId));
  const timeout = awaited[0]?.timerStartedEventAttributes?.startToFireTimeout;
  return {
    activities: events.filter((e) => isType(e, EVENT.activityScheduled)).length,
    localActivities: events.filter((e) => isType(e, EVENT.marker) && e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER).length,
    awaitedTimers: awaited.length,
    idleTimers: started.length - awaited.length,
    timerMs: timeout ? Math.round(seconds(timeout.seconds) * 1_000 + (timeout.nanos ?? 0) / 1e6) : 0,
    idleTimerMs,
  };
}

// ---- plumbing ----

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** The forked worker process and its request/reply channel. */
class WorkerChild {
  private readonly waiting: { type: FromWorker['type']; resolve: (m: FromWorker) => void }[] = [];
  private failure: string | null = null;
  private exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => {
      if (m.type === 'error') {
        this.failure = m.message;
        return;
      }
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static spawn(): WorkerChild {
    const entry = join(import.meta.dirname, 'orchestration-worker.ts');
    const tsx = import.meta.resolve('tsx');
    return new WorkerChild(fork(entry, ['--bench-worker'], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  /** Sends a message and waits for the reply of type `expect`; fails on a worker error, exit or timeout. */
  async request<T extends FromWorker['type']>(message: ToWorker, expect: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    const waiter = { type: expect as FromWorker['type'], resolve: (_: FromWorker) => {} };
    const reply = new Promise<FromWorker>((resolve) => (waiter.resolve = resolve));
    this.waiting.push(waiter);
    let check: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      check = setInterval(() => {
        if (this.failure !== null || this.child.exitCode !== null || this.child.signalCode !== null) {
          reject(new Error(`bench worker: ${this.failure ?? `exited (${this.child.exitCode ?? this.child.signalCode})`}`));
        }
      }, 50);
    });
    try {
      this.child.send(message);
      return (await withTimeout(Promise.race([reply, failed]), timeoutMs, `bench worker reply "${expect}"`)) as Extract<FromWorker, { type: T }>;
    } finally {
      clearInterval(check);
      const i = this.waiting.indexOf(waiter);
      if (i >= 0) this.waiting.splice(i, 1);
    }
  }

  async rss(): Promise<number> {
    return (await this.request({ type: 'rss' }, 'rss', 10_000)).rss;
  }

  /** Drains the worker and waits for the process to end; kills it if it does not within 20 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) {
      await this.request({ type: 'stop' }, 'stopped', 15_000).catch(() => undefined);
    }
    const gone = await withTimeout(this.exited, 5_000, 'bench worker exit').then(
      () => true,
      () => false,
    );
    if (!gone && this.child.pid !== undefined) this.child.kill('SIGKILL');
  }
}

// ---- the exchange ----

/** The paper exchange of the bench: fills certain and immediate at the limit, no fees, no faults, no rate limit. */
export function startBenchExchange(key: { keyId: string; secret: string }): Promise<PaperExchange> {
  return startPaperExchange({
    keys: [key],
    dataDir: null,
    rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000, orderWeight: 1, readWeight: 1 },
    engine: {
      stepMs: 100,
      startingCash: 1_000_000 * MICROS,
      fillModel: { ...CASE_STUDY_FILL_MODEL, fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, latencyMeanMs: 0 },
    },
  });
}

/** An open cent-grid market that resolves in the future: the one every bench order trades. */
export function benchMarket(exchange: PaperExchange): { marketId: string; tickSize: number } {
  const markets = exchange.engine.listMarkets();
  const market = markets.find((m) => m.tickSize === 10_000 && m.resolvesAt !== null && m.status === 'OPEN') ?? markets.find((m) => m.status === 'OPEN');
  if (!market) throw new Error('the paper exchange lists no open market');
  return { marketId: market.marketId, tickSize: market.tickSize };
}

/** A buy limit two ticks through the ask: fills at the next engine step. */
export function crossingPrice(exchange: PaperExchange, marketId: string, tickSize: number): Price {
  const s = exchange.engine.snapshot(marketId, 1);
  return Math.min(MICROS - tickSize, (s.ask ?? 500_000) + 2 * tickSize) as Price;
}

/** A buy limit of one tick: far below any market the exchange makes, so it rests unfilled. */
export const restingPrice = (tickSize: number): Price => tickSize as Price;

// ---- the run ----

interface Run {
  client: Client;
  taskQueue: string;
  tag: string;
  exchange: PaperExchange;
  marketId: string;
  tickSize: number;
  worker: WorkerChild;
  /** What opening the records added to the worker's RSS (PGlite runs inside the worker). */
  recordsRss: number;
  /** The worker's RSS when it started polling, before any workflow ran. */
  startRss: number;
  /** Workflow IDs started and not yet seen closed: terminated at the end if still open. */
  open: Set<string>;
  seq: number;
}

function crossingBuy(run: Run): Price {
  return crossingPrice(run.exchange, run.marketId, run.tickSize);
}

/** The order workflow's input for a one-contract buy; the signal is the moment of the start. */
export function benchOrderInput(marketId: string, clientOrderId: string, limitPrice: Price, ttlMs: number, signalAt: number): OrderWorkflowInput {
  return {
    order: { clientOrderId, marketId, side: 'BUY', quantity: 1 as Quantity, limitPrice },
    context: { strategy: 'bench', sessionWorkflowId: null, tradingDay: tradingDayOf(signalAt), signal: { price: limitPrice, confidence: 1, at: signalAt, metadata: {} } },
    ttlMs,
    halted: null,
    ordersInLastMinute: 0,
    searchAttributes: false,
  };
}

async function startOrder(run: Run, phase: string, limitPrice: Price, ttlMs: number): Promise<{ handle: WorkflowHandle<typeof orderWorkflow>; signalAt: number }> {
  const clientOrderId = `${run.tag}-${phase}${++run.seq}`;
  const workflowId = orderWorkflowId(clientOrderId);
  const signalAt = Date.now();
  const handle = await run.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
    taskQueue: run.taskQueue,
    workflowId,
    args: [benchOrderInput(run.marketId, clientOrderId, limitPrice, ttlMs, signalAt)],
  });
  run.open.add(workflowId);
  return { handle, signalAt };
}

function bareId(run: Run, type: string): string {
  const workflowId = `bench-${run.tag}-${type}-${++run.seq}`;
  run.open.add(workflowId);
  return workflowId;
}

function startBareLifecycle(run: Run, shape: LifecycleShape): Promise<WorkflowHandle<typeof bareLifecycleWorkflow>> {
  return run.client.workflow.start<typeof bareLifecycleWorkflow>('bareLifecycleWorkflow', { taskQueue: run.taskQueue, workflowId: bareId(run, 'lifecycle'), args: [shape] });
}

async function startBareOne(run: Run): Promise<{ handle: WorkflowHandle<typeof bareOneActivityWorkflow>; startAt: number }> {
  const workflowId = bareId(run, 'one');
  const startAt = Date.now();
  const handle = await run.client.workflow.start<typeof bareOneActivityWorkflow>('bareOneActivityWorkflow', { taskQueue: run.taskQueue, workflowId });
  return { handle, startAt };
}

async function resultOf<W extends Workflow>(run: Run, handle: WorkflowHandle<W>): Promise<WorkflowResultType<W>> {
  const r = await handle.result();
  run.open.delete(handle.workflowId);
  return r;
}

/**
 * Completions per second while the system is saturated: over the middle 80% of completions, so
 * the ramp-up (nothing can end before its first timer fires) and the tail are left out.
 * Null when fewer than 10 completions, or all in the same millisecond.
 */
export function sustainedRate(completedAt: readonly number[]): number | null {
  if (completedAt.length < 10) return null;
  const t = [...completedAt].sort((x, y) => x - y);
  const lo = Math.floor(t.length * 0.1);
  const hi = Math.ceil(t.length * 0.9) - 1;
  const span = t[hi]! - t[lo]!;
  return span > 0 ? (hi - lo) / (span / 1_000) : null;
}

interface Throughput<R> {
  /** Sustained completions per second (sustainedRate), or the overall rate when that is undefined. */
  sustained: number;
  /** All of them, first start to last completion. */
  overall: number;
  results: R[];
}

/** `count` workflows, `concurrency` in flight at a time (each start waits for an end), each awaited to its end. */
async function throughput<R>(count: number, concurrency: number, startAndFinish: () => Promise<R>): Promise<Throughput<R>> {
  const t0 = performance.now();
  const completedAt: number[] = [];
  const results = await mapLimited(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async () => {
      const r = await startAndFinish();
      completedAt.push(performance.now());
      return r;
    },
  );
  const overall = count / ((performance.now() - t0) / 1_000);
  return { sustained: sustainedRate(completedAt) ?? overall, overall, results };
}


/** Starts one item every 1/rate seconds without waiting for earlier ones; returns their outcomes. */
async function paced<R>(count: number, ratePerSecond: number, fn: (i: number) => Promise<R>): Promise<R[]> {
  const t0 = performance.now();
  const pending: Promise<R>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1_000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(fn(i));
  }
  return Promise.all(pending);
}

async function sampleRss(worker: WorkerChild, samples: number, everyMs: number): Promise<number> {
  let max = 0;
  for (let i = 0; i < samples; i++) {
    max = Math.max(max, await worker.rss());
    if (i < samples - 1) await new Promise((r) => setTimeout(r, everyMs));
  }
  return max;
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function terminateOpen(run: Run): Promise<number> {
  const ids = [...run.open];
  let terminated = 0;
  await mapLimited(ids, START_CONCURRENCY, async (id) => {
    try {
      await run.client.workflow.getHandle(id).terminate('orchestration bench cleanup');
      terminated++;
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError) && !/already completed|not found/i.test(String(e))) throw e;
    }
    run.open.delete(id);
  });
  return terminated;
}

const mb = (bytes: number) => bytes / 1e6;
const round = (n: number) => Math.round(n * 10) / 10;

async function measure(run: Run, sizes: OrchestrationSizes): Promise<BenchResult[]> {
  // ---- warm-up, and the shape of one order ----
  const warm = await startOrder(run, 'w', crossingBuy(run), ORDER_TTL_MS);
  const warmStatus = await withTimeout(resultOf(run, warm.handle), 60_000, 'warm-up order');
  if (warmStatus.state !== 'FILLED') throw new Error(`warm-up order ended ${warmStatus.state} (${warmStatus.rejectReason ?? 'no reason'}), expected FILLED`);
  const history = await warm.handle.fetchHistory();
  const shape = lifecycleShape(history.events ?? [], ORDER_TTL_MS);
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      await resultOf(run, await startBareLifecycle(run, shape));
      await resultOf(run, (await startBareOne(run)).handle);
    }),
  );

  // ---- 1. throughput ----
  const n = sizes.throughputOrders;
  const c = sizes.throughputConcurrency;
  progress(`throughput: ${n} bare workflows, ${c} at a time`);
  const bare = await withTimeout(
    throughput(n, c, async () => resultOf(run, await startBareLifecycle(run, shape))),
    PHASE_TIMEOUT_MS,
    'bare throughput',
  );
  progress(`throughput: ${n} orders, ${c} at a time (bare: ${round(bare.sustained)}/s)`);
  const orders = await withTimeout(
    throughput(n, c, async () => resultOf(run, (await startOrder(run, 't', crossingBuy(run), ORDER_TTL_MS)).handle)),
    PHASE_TIMEOUT_MS,
    'order throughput',
  );
  progress(`throughput: orders ${round(orders.sustained)}/s`);
  const unfilled = orders.results.filter((s) => s.state !== 'FILLED').length;

  // ---- 2. latency, signal → acknowledgement ----
  const { latencySamples, latencyRatePerSecond } = sizes;
  progress(`latency: ${latencySamples} orders, then ${latencySamples} bare one-activity workflows, ${latencyRatePerSecond}/s`);
  const orderLatency = await withTimeout(
    paced(latencySamples, latencyRatePerSecond, async () => {
      const { handle, signalAt } = await startOrder(run, 'l', crossingBuy(run), ORDER_TTL_MS);
      const status = await resultOf(run, handle);
      return status.timings.acknowledgedAt === null ? NaN : status.timings.acknowledgedAt - signalAt;
    }),
    PHASE_TIMEOUT_MS,
    'order latency',
  );
  const bareLatency = await withTimeout(
    paced(latencySamples, latencyRatePerSecond, async () => {
      const { handle, startAt } = await startBareOne(run);
      return (await resultOf(run, handle)) - startAt;
    }),
    PHASE_TIMEOUT_MS,
    'bare latency',
  );
  const acked = orderLatency.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const bareSorted = [...bareLatency].sort((a, b) => a - b);

  // ---- 3. memory with open orders ----
  progress(`memory: ${sizes.openOrders} resting orders`);
  const idleRss = await sampleRss(run.worker, 5, 200);
  const openBefore = run.exchange.engine.openOrders(BENCH_KEY.keyId).length;
  const resting = await withTimeout(
    mapLimited(
      Array.from({ length: sizes.openOrders }, (_, i) => i),
      START_CONCURRENCY,
      async () => (await startOrder(run, 'm', restingPrice(run.tickSize), RESTING_TTL_MS)).handle,
    ),
    PHASE_TIMEOUT_MS,
    'starting the open orders',
  );
  await waitUntil('every open order resting at the exchange', () => run.exchange.engine.openOrders(BENCH_KEY.keyId).length - openBefore >= sizes.openOrders, PHASE_TIMEOUT_MS);
  // Each workflow records the acknowledgement and enters its wait for the first poll; let that settle.
  await new Promise((r) => setTimeout(r, 3_000));
  const openRss = await sampleRss(run.worker, 10, 200);
  await withTimeout(
    mapLimited(resting, START_CONCURRENCY, (h) => h.signal(cancelOrderSignal, { operator: 'bench', reason: 'orchestration bench cleanup' })),
    PHASE_TIMEOUT_MS,
    'cancelling the open orders',
  );
  const cancelled = await withTimeout(
    mapLimited(resting, START_CONCURRENCY, async (h) => (await resultOf(run, h)).state),
    PHASE_TIMEOUT_MS,
    'open orders ending after cancel',
  );
  const notCancelled = cancelled.filter((s) => s !== 'CANCELED').length;

  const shapeNote = `${shape.activities} activities + ${shape.localActivities} local + ${shape.awaitedTimers} timer of ${shape.timerMs} ms (+${shape.idleTimers} idle) per order`;
  return [
    {
      ...ROWS.throughput,
      figure: orders.sustained,
      baselineFigure: bare.sustained,
      notes:
        `${n} orders, ${c} in flight at a time, middle 80% of completions (first start to last end: ${round(orders.overall)} vs ${round(bare.overall)}/s); ${shapeNote}; ` +
        `every order waits ${shape.timerMs} ms before its first poll, so ${c} in flight cannot pass ${round((c * 1_000) / Math.max(1, shape.timerMs))}/s${unfilled > 0 ? `; ${unfilled} did not end FILLED` : ''}`,
    },
    {
      ...ROWS.latencyP50,
      figure: percentile(acked, 50),
      baselineFigure: percentile(bareSorted, 50),
      notes: `${acked.length} orders at ${latencyRatePerSecond}/s; the risk check runs as a local activity`,
    },
    {
      ...ROWS.latencyP99,
      figure: percentile(acked, 99),
      baselineFigure: percentile(bareSorted, 99),
      notes: `${latencySamples - acked.length} never acknowledged`,
    },
    {
      ...ROWS.memory,
      figure: round(mb(openRss)),
      baselineFigure: round(mb(idleRss)),
      notes:
        `worker process only (forked), max of 10 samples; +${round(mb(openRss - idleRss))} MB over idle, ` +
        `${Math.round((openRss - idleRss) / sizes.openOrders / 1e3)} kB per open order (each cached workflow has its own instance of every module in the bundle; the SDK's default cache budgets 1.7 MB each); ` +
        `${round(mb(run.startRss))} MB when it started polling, idle measured after the throughput and latency phases; opening the records added ${round(mb(run.recordsRss))} MB; ` +
        `${notCancelled} of ${sizes.openOrders} did not end CANCELED`,
    },
  ];
}

/**
 * The bench with an explicit environment (tests pass one without a server). Throws when a server
 * is named but cannot be reached or started: the caller asked for it.
 */
export async function runWith(env: Env, sizes: OrchestrationSizes = SIZES): Promise<BenchResult[]> {
  const gate = benchGate(env);
  if (!gate.run) return skippedResults(gate.reason);

  const dataDir = mkdtempSync(join(tmpdir(), 'orchestration-bench-'));
  const config = buildConfig({
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
    TEMPORAL_CLI_PATH: env.TEMPORAL_CLI_PATH,
    DATA_DIR: dataDir,
  });
  // Belt and braces: connectTemporal downloads the CLI when given neither; the gate rules that out.
  if (config.temporal.address === null && config.temporal.cliPath === null) return skippedResults(SKIP_REASON);

  let temporalHandle: TemporalHandle | null = null;
  let exchange: PaperExchange | null = null;
  let worker: WorkerChild | null = null;
  let run: Run | null = null;
  try {
    temporalHandle = await withTimeout(connectTemporal(config, quietLog, startBenchDevServer), 90_000, 'reaching the Temporal server');
    progress(`Temporal at ${temporalHandle.address}${temporalHandle.local ? ' (dev server, history in memory)' : ''}`);
    exchange = await startBenchExchange(BENCH_KEY);
    const market = benchMarket(exchange);
    const tag = `ob${Date.now().toString(36)}`;
    const bundlePath = join(dataDir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: BENCH_WORKFLOWS_PATH, logger: new DefaultLogger('WARN') })).code);
    const databaseUrl = env.TEST_DATABASE_URL?.trim() || env.DATABASE_URL?.trim() || null;
    const init: WorkerInit = {
      address: temporalHandle.address,
      namespace: temporalHandle.namespace,
      taskQueue: `bench-orchestration-${tag}`,
      exchangeUrl: exchange.url,
      keyId: BENCH_KEY.keyId,
      secret: BENCH_KEY.secret,
      databaseUrl,
      schema: `bench_${tag}`,
      dataDir,
      bundlePath,
    };
    worker = WorkerChild.spawn();
    const ready = await worker.request({ type: 'init', init }, 'ready', WORKER_START_TIMEOUT_MS);
    run = { client: temporalHandle.client, taskQueue: init.taskQueue, tag, exchange, marketId: market.marketId, tickSize: market.tickSize, worker, recordsRss: ready.recordsRss, startRss: ready.rssBeforeRecords + ready.recordsRss, open: new Set(), seq: 0 };
    const results = await measure(run, sizes);
    const backend = databaseUrl === null ? 'PGlite' : 'PostgreSQL';
    const server = temporalHandle.local ? 'local dev server' : `server ${temporalHandle.address}`;
    return results.map((r) => ({ ...r, notes: `${r.notes ?? ''}; ${backend}, ${server}` }));
  } finally {
    if (run !== null) await withTimeout(terminateOpen(run), 60_000, 'terminating open workflows').catch((e: unknown) => quietLog.warn(`cleanup: ${String(e)}`));
    await worker?.stop();
    await exchange?.close();
    await temporalHandle?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  return runWith(process.env);
}
