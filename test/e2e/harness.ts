/**
 * The world of one end-to-end file, every part real and on 127.0.0.1:
 * - the Temporal dev server of the file (test/support/temporal-server.ts, with its Web UI and the
 *   order search attributes registered at start);
 * - a PostgreSQL database of the file's own, created fresh and dropped at the end. A database
 *   rather than a schema: the CLI, the dashboard and the worker take the records only as
 *   DATABASE_URL, and their migration step keeps its journal in the shared "drizzle" schema, so a
 *   search_path in the URL would re-run the migrations into a schema that already has the tables;
 * - the paper exchange as its own process (exchange-child.ts) with the file's markets;
 * - a real SMTP server in this process that keeps every message (test/activities/smtp-capture.ts);
 * - worker processes (worker-child.ts: the production worker on the production activities),
 *   started and SIGKILLed at will; the operator CLI and the dashboard as processes of their own.
 *
 *   const world = await openE2eWorld(server, { markets: [movingMarket('E2E-A')] });
 *   const worker = await world.startWorker();   // READY once it polls; worker.kill() is a crash
 *   const r = await world.cli(['halt', '--strategy', s, '--reason', 'why', '--operator', 'me']);
 *   ...; await world.close();
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import postgres from 'postgres';
import { breakersAsConfig, riskLimitsAsConfig } from '../../activities/preflight';
import { createPaperVenue } from '../../activities/venue/paper-venue';
import { Secret } from '../../activities/venue/credentials';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import { openDatabase, type Database, type Db } from '../../db';
import { signedHeaders } from '../../exchange/auth';
import type { FaultConfig, MarketSpec } from '../../exchange/config';
import { SA_STRATEGY, TASK_QUEUE, type OrderWorkflowInput, type SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS, type BreakerConfig } from '../../domain/breakers';
import { tradingDayIn } from '../../domain/calendar';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import type { Side } from '../../domain/market';
import { MICROS, type Money, type Price, type Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS, type RiskLimits } from '../../domain/risk-limits';
import type { orderWorkflow, sessionWorkflow } from '../../workflows';
import { validateSessionWorkflowInput } from '../../workflows/validation';
import { loadConfig, type WorkerConfig } from '../../runtime/config';
import { registerSearchAttributes } from '../../runtime/temporal';
import { sessionInput, startSession } from '../../runtime/session-control';
import { uniqueSchema } from '../db/harness';
import { SMTP_PASSWORD, SMTP_USER, startSmtpCapture, type SmtpCapture } from '../activities/smtp-capture';
import { EAGER_FILLS } from '../../testkit/venue-harness';
import type { TestServer } from '../support/temporal-server';
import { runScript, ScriptProcess, type ChildEnv, type CommandResult } from './processes';

/** The PostgreSQL server the suite creates its database on. */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || '';

const HERE = import.meta.dirname;
const PROCESS_START_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * The case study's limits with room for a file's worth of scenarios in one account: spreads up to
 * 15 cents (the kill-switch markets quote ten ticks wide so passive orders keep working), more
 * positions and orders, and the volume rule off (the synthetic volume is not the point here).
 */
export const E2E_LIMITS: RiskLimits = Object.freeze({
  ...CASE_STUDY_LIMITS,
  maxOrderSize: 5,
  maxPositionSize: 1_000,
  maxPositionValue: (10_000 * MICROS) as Money,
  maxPortfolioExposure: (100_000 * MICROS) as Money,
  maxCategoryExposure: (100_000 * MICROS) as Money,
  maxOpenPositions: 50,
  maxOrdersPerMinute: 1_000,
  maxVolumeFraction: 1,
  maxSpread: 150_000,
});

/** Breakers that stay quiet unless a scenario trips one on purpose: injected venue faults are not the session's business here. */
export const E2E_BREAKERS: BreakerConfig = Object.freeze({
  ...CASE_STUDY_BREAKERS,
  maxDrawdownFraction: 0.5,
  maxOrdersInWindow: 10_000,
  maxErrorsInWindow: 1_000_000,
  maxErrorRate: 1,
});

/**
 * ma-crossover set to signal on the first tick the mid moves: a fast EMA of seconds against a slow
 * one of an hour, no band, two observations, full confidence (so every order is maxOrderSize),
 * priced at the touch (on these one-tick spreads what 'inside' gave before it came to mean the
 * case study's one tick behind the touch).
 */
export const E2E_STRATEGY = {
  strategyName: 'ma-crossover',
  strategyParams: { fastSpanHours: 0.0005, slowSpanHours: 1, bandMicros: 0, confidenceScaleMicros: 1, minHistoryHours: 0, minObservations: 2, pricing: 'touch' },
} as const;

function baseMarket(marketId: string, category: string): MarketSpec {
  return {
    marketId,
    title: `End-to-end market ${marketId}`,
    category,
    tickSize: 10_000,
    resolvesAt: Date.now() + 30 * DAY_MS,
    initialPrice: 500_000,
    averageDailyVolume: 100_000_000,
    meanReversionPerDay: 24,
    volatilityPerSqrtDay: 0.05,
    fairDriftPerSqrtDay: 0,
    jumpsPerDay: 0,
    jumpStd: 0,
    spreadTicks: 2,
    depthBaseQuantity: 200,
  };
}

/** A market whose quote does not move in a test's time: resting orders rest, crossing orders fill at once. */
export function calmMarket(marketId: string): MarketSpec {
  return baseMarket(marketId, 'economics');
}

/**
 * A market whose mid moves about a tick a second (logit volatility 12 per root day near 0.50), so
 * the strategy signals within seconds. With the default two-tick spread a passive order fills
 * within seconds too; ten ticks wide, it keeps working for a minute or more.
 */
export function movingMarket(marketId: string, spreadTicks = 2): MarketSpec {
  return { ...baseMarket(marketId, 'politics'), volatilityPerSqrtDay: 12, meanReversionPerDay: 2, spreadTicks };
}

export interface E2eOptions {
  markets: MarketSpec[];
  seed?: number;
}

export interface SessionSpec {
  strategy: string;
  marketIds: string[];
  orderTtlMs: number;
  /** Fields of the session input set otherwise than the config sets them (a lower loss limit, a shorter history). */
  overrides?: Partial<Pick<SessionWorkflowInput, 'maxDailyLoss' | 'breakers' | 'continueAsNewAtEvents'>>;
}

export interface DirectOrderSpec {
  strategy: string;
  seq: number;
  marketId: string;
  side: Side;
  quantity: number;
  limitPrice: number;
  ttlMs: number;
}

export class E2eWorld {
  private readonly workers = new Set<ScriptProcess>();
  private readonly dashboards = new Set<ScriptProcess>();
  private smtpStopped = false;

  private constructor(
    readonly server: TestServer,
    private readonly dir: string,
    private readonly admin: postgres.Sql,
    private readonly databaseName: string,
    readonly databaseUrl: string,
    private readonly database: Database,
    readonly exchange: ScriptProcess,
    readonly exchangeUrl: string,
    private readonly keyId: string,
    private readonly secret: string,
    private readonly adminToken: string,
    private smtpCapture: SmtpCapture,
    private readonly configPath: string,
    private readonly bundlePath: string,
    /** The suite's own client of the exchange: reads, fences, checks. */
    readonly venue: ResilientVenue,
  ) {}

  /** Builds everything but the workers; the bundle must exist (call inside beforeAll of describeOnServer). */
  static async open(server: TestServer, options: E2eOptions): Promise<E2eWorld> {
    if (!POSTGRES_URL) throw new Error('set TEST_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server: the worker, the CLI and the dashboard are processes of their own');
    // The dev server registers them as it starts; a server named by TEMPORAL_ADDRESS may need them added, as the worker's main job does.
    const quiet = { info: () => undefined, warn: (m: string) => console.warn(m) };
    if (!(await registerSearchAttributes(server.env.connection, server.namespace, quiet))) throw new Error(`the order search attributes cannot be registered on ${server.how}`);
    const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
    const cleanups: (() => Promise<unknown>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
    try {
      const databaseName = uniqueSchema('e2e');
      const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      cleanups.push(() => admin.end({ timeout: 5 }));
      await admin.unsafe(`CREATE DATABASE "${databaseName}"`);
      cleanups.push(() => admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${databaseName}`;
      const databaseUrl = url.toString();
      const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 4 });
      cleanups.push(() => database.close());

      const smtp = await startSmtpCapture();
      cleanups.push(() => smtp.close());

      const keyId = 'e2e';
      const secret = randomBytes(24).toString('hex');
      const adminToken = randomBytes(24).toString('hex');
      const exchange = new ScriptProcess('exchange', join(HERE, 'exchange-child.ts'), {
        ...process.env,
        PAPER_EXCHANGE_SECRET: secret,
        PAPER_EXCHANGE_ADMIN_TOKEN: adminToken,
        E2E_EXCHANGE: JSON.stringify({
          seed: options.seed ?? 7,
          dataDir: join(dir, 'exchange'),
          keyId,
          // No pre-rolled history: these markets are built to move fast from their opening price
          // within a scenario (a moving market run for days would sit at a price bound).
          engine: { stepMs: 100, fillModel: { ...EAGER_FILLS, feeCoefficientPpm: 70_000 }, markets: options.markets, preRollMs: 0 },
        }),
      });
      cleanups.push(() => exchange.stop());
      const listening = await exchange.waitForLine((l) => l.startsWith('LISTENING '), PROCESS_START_MS);
      if (listening === null) throw new Error(`the exchange did not start: ${exchange.describe()}`);
      const exchangeUrl = listening.slice('LISTENING '.length).trim();

      const configPath = join(dir, 'durable-trader.json');
      writeFileSync(
        configPath,
        JSON.stringify({ riskLimits: riskLimitsAsConfig(E2E_LIMITS), breakers: breakersAsConfig(E2E_BREAKERS), session: { ...E2E_STRATEGY } }, null, 2),
      );
      const bundlePath = join(dir, 'workflows-bundle.js');
      writeFileSync(bundlePath, server.bundle().code);
      const venue = createPaperVenue({ baseUrl: exchangeUrl, keyId, secret: new Secret(secret) }, { timeoutMs: 5_000 });
      return new E2eWorld(server, dir, admin, databaseName, databaseUrl, database, exchange, exchangeUrl, keyId, secret, adminToken, smtp, configPath, bundlePath, venue);
    } catch (e) {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      throw e;
    }
  }

  get db(): Db {
    return this.database.db;
  }

  /** The SMTP server the system's processes mail to (SMTP_PORT); its messages include those received before a restart. */
  get smtp(): SmtpCapture {
    return this.smtpCapture;
  }

  /** An SMTP outage: the server stops listening, so every delivery is refused until `startSmtpAgain`. */
  async stopSmtp(): Promise<void> {
    if (this.smtpStopped) return;
    this.smtpStopped = true;
    await this.smtpCapture.close();
  }

  /** The SMTP server back on the same port (the one every process was given), keeping what it received before. */
  async startSmtpAgain(): Promise<void> {
    if (!this.smtpStopped) return;
    const next = await startSmtpCapture({ port: this.smtpCapture.port });
    next.messages.push(...this.smtpCapture.messages);
    this.smtpCapture = next;
    this.smtpStopped = false;
  }

  /** Today in the configured zone (UTC): the trading day of sessions and client order IDs. */
  get tradingDay(): string {
    return tradingDayIn(Date.now(), 'UTC');
  }

  /** The environment every process of the system gets, as an operator would set it. */
  env(extra: ChildEnv = {}): ChildEnv {
    const env: ChildEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: this.server.address,
      TEMPORAL_NAMESPACE: this.server.namespace,
      DATABASE_URL: this.databaseUrl,
      DATA_DIR: join(this.dir, 'data'),
      PAPER_EXCHANGE_URL: this.exchangeUrl,
      PAPER_EXCHANGE_KEY_ID: this.keyId,
      PAPER_EXCHANGE_SECRET: this.secret,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(this.smtp.port),
      SMTP_SECURE: 'false',
      SMTP_USER: SMTP_USER,
      SMTP_PASS: SMTP_PASSWORD,
      ALERT_EMAIL_FROM: 'trader@example.com',
      ALERT_EMAIL_TO: 'ops@example.com',
      TRADING_TIME_ZONE: 'UTC',
      DURABLE_TRADER_CONFIG: this.configPath,
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      ...extra,
    };
    for (const name of ['TEMPORAL_CLI_PATH', 'TEST_DATABASE_URL', 'DASHBOARD_TOKEN', 'DASHBOARD_PORT', 'SESSION_STRATEGY', 'SESSION_MARKETS']) {
      if (!(name in extra)) delete env[name];
    }
    return env;
  }

  /** A worker process on the production task queue; resolves once it polls. */
  async startWorker(): Promise<ScriptProcess> {
    const worker = new ScriptProcess('worker', join(HERE, 'worker-child.ts'), this.env({ E2E_WORKFLOW_BUNDLE: this.bundlePath }));
    this.workers.add(worker);
    const ready = await worker.waitForLine((l) => l === 'READY' || l.startsWith('FAILED'), PROCESS_START_MS);
    if (ready !== 'READY') {
      await worker.kill();
      throw new Error(`the worker did not start: ${worker.describe()}`);
    }
    return worker;
  }

  /** `durable-trader <args>` (cli/main.ts) as an operator runs it, against this world. */
  cli(args: readonly string[]): Promise<CommandResult> {
    return runScript(join(HERE, '..', '..', 'cli', 'main.ts'), args, this.env(), 60_000);
  }

  /** The dashboard (dashboard/main.ts) with actions on; resolves with its URL once it listens. */
  async startDashboard(token: string): Promise<{ url: string; process: ScriptProcess }> {
    const dashboard = new ScriptProcess('dashboard', join(HERE, '..', '..', 'dashboard', 'main.ts'), this.env({ DASHBOARD_TOKEN: token, DASHBOARD_PORT: '0' }));
    this.dashboards.add(dashboard);
    const line = await dashboard.waitForLine((l) => l.startsWith('Dashboard: http') || l.startsWith('Dashboard: the records could not'), PROCESS_START_MS);
    const m = line === null ? null : /^Dashboard: (http:\/\/\S+)/.exec(line);
    if (!m) {
      await dashboard.kill();
      throw new Error(`the dashboard did not start: ${dashboard.describe()}`);
    }
    return { url: m[1]!, process: dashboard };
  }

  /**
   * The config a worker of this world builds for `spec`'s session (1 s polls, a minute's watch),
   * as the operator's environment gives it: what the session and the schedules are made from.
   */
  config(spec: Omit<SessionSpec, 'overrides'>, extra: ChildEnv = {}): WorkerConfig {
    return loadConfig(
      this.env({
        SESSION_STRATEGY: spec.strategy,
        SESSION_MARKETS: spec.marketIds.join(','),
        SESSION_ORDER_TTL_MS: String(spec.orderTtlMs),
        SESSION_POLL_INTERVAL_MS: '1000',
        SESSION_WATCH_PERIOD_MS: '60000',
        ...extra,
      }),
    );
  }

  /**
   * Today's session of `strategy`, started as the worker's main job starts it (worker/worker.ts
   * startSession, reject-duplicate, search attributes on) from the config the environment gives.
   * With `overrides`, the same input and start options with those fields replaced.
   */
  async startSession(spec: SessionSpec): Promise<WorkflowHandle<typeof sessionWorkflow>> {
    const config = this.config(spec);
    if (spec.overrides !== undefined) {
      const input = validateSessionWorkflowInput({ ...sessionInput(config, this.tradingDay, true), ...spec.overrides });
      const workflowId = sessionWorkflowId(input.strategy, input.tradingDay);
      await this.server.client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes: [{ key: SA_STRATEGY, value: input.strategy }],
      });
      return this.server.client.workflow.getHandle<typeof sessionWorkflow>(workflowId);
    }
    const started = await startSession(this.server.client, config, this.tradingDay, true);
    if (started.status !== 'STARTED') throw new Error(`session ${started.workflowId} already exists`);
    return this.server.client.workflow.getHandle<typeof sessionWorkflow>(started.workflowId);
  }

  orderInput(spec: DirectOrderSpec): OrderWorkflowInput {
    const clientOrderId = makeClientOrderId(spec.strategy, this.tradingDay, spec.seq);
    return {
      order: { clientOrderId, marketId: spec.marketId, side: spec.side, quantity: spec.quantity as Quantity, limitPrice: spec.limitPrice as Price },
      context: { strategy: spec.strategy, sessionWorkflowId: null, tradingDay: this.tradingDay, signal: { price: spec.limitPrice as Price, confidence: 1, at: Date.now(), metadata: {} } },
      ttlMs: spec.ttlMs,
      halted: null,
      ordersInLastMinute: 0,
      searchAttributes: true,
    };
  }

  /** An order workflow started straight from a client (no session), on the production task queue. */
  startOrder(spec: DirectOrderSpec): Promise<WorkflowHandle<typeof orderWorkflow>> {
    const input = this.orderInput(spec);
    return this.server.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue: TASK_QUEUE, workflowId: orderWorkflowId(input.order.clientOrderId), args: [input] });
  }

  /** Workflow IDs matching a visibility query (all pages). */
  async list(query: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const w of this.server.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids;
  }

  /** Resolves once no workflow matching `query` runs (visibility), or throws after `timeoutMs`. */
  async untilNoneRunning(query: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let running: string[] = [];
    while (Date.now() < until) {
      running = await this.list(`${query} AND ExecutionStatus="Running"`);
      if (running.length === 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`still running after ${timeoutMs} ms: ${running.join(', ')}`);
  }

  /** Terminates every workflow matching `query` that still runs (end-of-test cleanup). */
  async terminateRunning(query: string, reason: string): Promise<void> {
    for (const id of await this.list(`${query} AND ExecutionStatus="Running"`)) {
      await this.server.client.workflow.getHandle(id).terminate(reason).catch(() => undefined);
    }
  }

  /**
   * Holds an exclusive lock on one table of the records until `release()`: whatever needs the
   * table waits there, in whichever process it runs (a way to stop an order at a known step).
   */
  async lockTable(table: string): Promise<{ release(): Promise<void> }> {
    const sql = postgres(this.databaseUrl, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const held = sql.begin(async (tx) => {
      await tx.unsafe(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
      locked();
      await released;
    });
    await Promise.race([isLocked, held]);
    return {
      release: async () => {
        release();
        await held.catch(() => undefined);
        await sql.end({ timeout: 5 });
      },
    };
  }

  // ---- the exchange's admin API (faults, resolution) and signed reads the venue client does not offer ----

  private async adminCall(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.exchangeUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`exchange admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  setFaults(patch: Partial<FaultConfig>): Promise<unknown> {
    return this.adminCall('PUT', '/admin/faults', patch);
  }

  resetFaults(): Promise<unknown> {
    return this.adminCall('POST', '/admin/faults/reset');
  }

  /** Moves the account's position at the venue without a trade (the exchange's admin endpoint): a difference the records cannot know of. */
  adjustVenuePosition(marketId: string, delta: number): Promise<unknown> {
    return this.adminCall('POST', '/admin/positions/adjust', { keyId: this.keyId, marketId, delta });
  }

  resolveMarket(marketId: string, outcome: 'YES' | 'NO'): Promise<unknown> {
    return this.adminCall('POST', `/admin/markets/${encodeURIComponent(marketId)}/resolve`, { outcome });
  }

  /** GET /v1/settlements: the venue's own statement of resolution payouts. */
  async settlements(): Promise<{ marketId: string; outcome: string; quantity: number; payout: string }[]> {
    const path = '/v1/settlements';
    const res = await fetch(`${this.exchangeUrl}${path}`, { headers: signedHeaders({ keyId: this.keyId, secret: this.secret }, 'GET', path, '', Date.now()) });
    const json = (await res.json()) as { settlements: { marketId: string; outcome: string; quantity: number; payout: string }[] };
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json.settlements;
  }

  /** Submissions the exchange accepted and then dropped the connection on (its access log says "dropped"). */
  droppedSubmissions(): number {
    return this.exchange.lines.filter((l) => /^POST \/v1\/orders dropped /.test(l)).length;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    this.workers.clear();
  }

  async close(): Promise<void> {
    const steps: (() => Promise<unknown>)[] = [
      () => Promise.all([...this.dashboards].map((d) => d.stop())),
      () => this.stopWorkers(),
      () => this.exchange.stop(),
      () => this.stopSmtp(),
      () => this.database.close(),
      () => this.admin.unsafe(`DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`),
      () => this.admin.end({ timeout: 5 }),
      async () => rmSync(this.dir, { recursive: true, force: true }),
    ];
    const failures: unknown[] = [];
    for (const step of steps) await step().catch((e: unknown) => failures.push(e));
    if (failures.length > 0) throw new AggregateError(failures, 'closing the end-to-end world');
  }
}
