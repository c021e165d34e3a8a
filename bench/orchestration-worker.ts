/**
 * The worker process of bench/orchestration.bench.ts, forked by it so that the memory figure is
 * the worker's own RSS (not the bench's client, exchange and bookkeeping). It runs the production
 * activities (createActivities) on PGlite or a PostgreSQL schema of its own, against the paper
 * exchange the bench started, plus the no-op activity of the bare baselines, and polls a task
 * queue of its own. Driven over the IPC channel: init → ready, rss → rss, stop → stopped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import postgres from 'postgres';
import { createActivities, type ActivityDeps } from '../activities/index';
import { Secret } from '../activities/venue/credentials';
import { createPaperVenue } from '../activities/venue/paper-venue';
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import { openDatabase, type Database, type Db } from '../db';
import { buildConfig } from '../runtime/config';
import { ALERT_COOLDOWN_MS, CASH_TOLERANCE_MICROS } from '../worker/activity-deps';
import { createWorker } from '../worker/worker';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import { MICROS, type Money } from '../domain/money';
import { CASE_STUDY_LIMITS, type RiskLimits } from '../domain/risk-limits';
import type { BareActivities } from './workflows/bare';

/**
 * The case study's limits opened up so that only orchestration is measured: hundreds of fills
 * in one market, resting buys at one cent (far from the market, so they never fill) and the
 * paper exchange's two-tick spreads must all pass. Every other rule still runs on every order.
 */
export const BENCH_LIMITS: RiskLimits = Object.freeze({
  ...CASE_STUDY_LIMITS,
  maxPositionSize: 1_000_000,
  maxPositionValue: (1_000_000 * MICROS) as Money,
  maxDailyLoss: (1_000_000 * MICROS) as Money,
  maxPortfolioExposure: (1_000_000 * MICROS) as Money,
  maxCategoryExposure: (1_000_000 * MICROS) as Money,
  maxPriceDeviation: MICROS,
  maxVolumeFraction: 1,
  maxSpread: MICROS,
  maxOpenPositions: 1_000,
  maxOrdersPerMinute: 1_000_000,
});

export interface WorkerInit {
  address: string;
  namespace: string;
  taskQueue: string;
  exchangeUrl: string;
  keyId: string;
  secret: string;
  /** PostgreSQL URL; null: PGlite under dataDir. */
  databaseUrl: string | null;
  /** Schema created for this run on PostgreSQL and dropped at stop (unless keepSchema). */
  schema: string;
  /** Leave the schema at stop: several workers share it, and the bench reads the records after (bench/scaling.bench.ts). */
  keepSchema?: boolean;
  dataDir: string;
  /**
   * The bench bundle (BENCH_WORKFLOWS_PATH), built by the bench process from bench/workflows/index.ts: bundling in the worker
   * would leave webpack's memory in the RSS being measured.
   */
  bundlePath: string;
}

export type ToWorker = { type: 'init'; init: WorkerInit } | { type: 'rss' } | { type: 'stop' };
export type FromWorker =
  /** RSS before the records were opened, and what opening them (PGlite runs in this process) added. */
  | { type: 'ready'; rssBeforeRecords: number; recordsRss: number }
  | { type: 'rss'; rss: number; heapUsed: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

export const benchActivities: BareActivities = { benchStamp: async () => Date.now() };

/** What the production activities receive in the bench: as in openActivityDeps, with BENCH_LIMITS and no mail. */
export function benchActivityDeps(db: Db, venue: ResilientVenue): ActivityDeps {
  return {
    db,
    venue,
    mailer: null,
    config: {
      account: 'paper',
      venueName: 'paper',
      limits: BENCH_LIMITS,
      breakers: CASE_STUDY_BREAKERS,
      timeZone: 'UTC',
      alertCooldownMs: ALERT_COOLDOWN_MS,
      maxQuoteAgeMs: BENCH_LIMITS.maxQuoteAgeMs,
      reconciliation: { policy: 'HALT_AND_ALERT', cashTolerance: CASH_TOLERANCE_MICROS },
    },
    clock: () => Date.now(),
  };
}

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function openRecords(init: WorkerInit): Promise<Database> {
  if (init.databaseUrl === null) return openDatabase({ kind: 'pglite', dataDir: join(init.dataDir, 'pglite') });
  return openDatabase({ kind: 'postgres', url: init.databaseUrl, schema: init.schema });
}

async function dropSchema(init: WorkerInit): Promise<void> {
  if (init.databaseUrl === null) return;
  const sql = postgres(init.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${init.schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function start(init: WorkerInit): Promise<{ worker: Worker; running: Promise<void>; close(): Promise<void> }> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(init.schema)) throw new Error(`schema must be lower-case letters, digits and "_", got ${init.schema}`);
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // a runtime is already installed in this process
  }
  const workflowBundle = { code: readFileSync(init.bundlePath, 'utf8') };
  const base = buildConfig({ TEMPORAL_ADDRESS: init.address, TEMPORAL_NAMESPACE: init.namespace, DATA_DIR: init.dataDir });
  const config = { ...base, temporal: { ...base.temporal, taskQueue: init.taskQueue } };
  const rssBeforeRecords = process.memoryUsage().rss;
  const database = await openRecords(init);
  const recordsRss = process.memoryUsage().rss - rssBeforeRecords;
  const connection = await NativeConnection.connect({ address: init.address });
  const deps = benchActivityDeps(database.db, createPaperVenue({ baseUrl: init.exchangeUrl, keyId: init.keyId, secret: new Secret(init.secret) }));
  const worker = await createWorker({
    config,
    activities: { ...createActivities(deps), ...benchActivities },
    connection,
    workflowBundle,
    shutdownGraceTime: '5 seconds',
  });
  const running = worker.run();
  void send({ type: 'ready', rssBeforeRecords, recordsRss });
  return {
    worker,
    running,
    close: async () => {
      await Promise.allSettled([database.close(), connection.close()]);
      if (!init.keepSchema) await dropSchema(init);
    },
  };
}

async function main(): Promise<void> {
  let started: Awaited<ReturnType<typeof start>> | null = null;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (started) {
      if (started.worker.getState() === 'RUNNING') started.worker.shutdown();
      await started.running.catch(() => undefined);
      await started.close();
    }
    await send({ type: 'stopped' });
    if (process.connected) process.disconnect();
  };
  process.on('message', (raw: ToWorker) => {
    if (raw.type === 'init') {
      start(raw.init).then(
        (s) => {
          started = s;
          s.running.catch((e: unknown) => void send({ type: 'error', message: `worker stopped: ${e instanceof Error ? e.message : String(e)}` }));
        },
        (e: unknown) => void send({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
      );
    } else if (raw.type === 'rss') {
      const m = process.memoryUsage();
      void send({ type: 'rss', rss: m.rss, heapUsed: m.heapUsed });
    } else if (raw.type === 'stop') {
      void stop();
    }
  });
  // The bench died or hung up: never outlive it.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
}

if (process.send !== undefined && process.argv.includes('--bench-worker')) void main();
