/**
 * The Temporal Worker of the trading system, and the thin typed client helpers operators and the
 * main job use: start the day's session, halt, resume, kill switch, read its status.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, Worker, type NativeConnection, type WorkflowBundle, type WorkflowBundlePath } from '@temporalio/worker';
import {
  SA_STRATEGY,
  haltSignal,
  killSwitchSignal,
  resumeSignal,
  sessionStatusQuery,
  type KillSwitchRequest,
  type OperatorRequest,
  type SessionStatus,
  type SessionWorkflowInput,
} from '../workflows/api';
import { InvalidInput } from '../workflows/domain/errors';
import { sessionWorkflowId, validateTradingDay } from '../workflows/domain/ids';
import type { sessionWorkflow } from '../workflows/session-workflow';
import { validateOperatorRequest, validateSessionWorkflowInput } from '../workflows/validation';
import { createActivities, type ActivityDeps } from '../activities/index';
import { createSmtpMailer, smtpSettingsFrom } from '../activities/mailer';
import { createPaperVenue } from '../activities/venue/paper-venue';
import { openDatabase } from '../db';
import { ENV, PROJECT_ROOT, loadConfig, type Env, type WorkerConfig } from './config';
import { ensureSchedules } from './schedules';
import { installDriverCrashGuard } from './process-guards';
import { loadDashboardSettings, temporalUiUrlFor, type DashboardSettings } from './dashboard/config';
import { venueQuotes } from './dashboard/api';
import { startDashboard, type RunningDashboard } from './dashboard/server';
import { instrumentActivities } from './metrics';
import { guardStart, observe, preflightWith, StageRefused, startObservability, type Observability } from './stages';
import { endOfTradingDay, startOfDayIn, tradingDayIn } from '../workflows/domain/calendar';
import { TemporalUnavailable, connectTemporal, consoleLog, registerSearchAttributes, type StartLocalServer, type TemporalHandle, type WorkerLog } from './temporal';

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');
/** Where `npm run build:workflows` writes the production workflow bundle (git-ignored), its source map beside it. */
export const WORKFLOW_BUNDLE_PATH = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

/** Bundles workflows/index.ts once (e.g. at build time, or shared by several test workers); webpack's report only at WARN and above. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
}

/** The bundle's inline source map, found the way the SDK finds it (worker.js extractSourceMap). */
function inlineSourceMap(code: string): string {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = at < 0 ? -1 : code.indexOf('base64,', at);
  if (base64 < 0) throw new Error('the workflow bundle has no inline source map');
  return Buffer.from(code.slice(base64 + 'base64,'.length).trim(), 'base64').toString('utf8');
}

/**
 * `npm run build:workflows`: the bundle at `codePath` and its source map at `<codePath>.map`. The
 * map also stays inline in the bundle, where the SDK reads it; the file is for people and tools,
 * and lists the sources the bundle was built from (`prebuiltWorkflowBundle` checks their times).
 */
export async function writeWorkflowBundle(codePath: string = WORKFLOW_BUNDLE_PATH): Promise<{ codePath: string; sourceMapPath: string; sources: number }> {
  const { code } = await bundleWorkflows();
  const sourceMap = inlineSourceMap(code);
  const sourceMapPath = `${codePath}.map`;
  mkdirSync(dirname(codePath), { recursive: true });
  // The map first: a bundle is only ever seen beside the map of its own sources.
  writeFileSync(sourceMapPath, sourceMap);
  writeFileSync(codePath, code);
  return { codePath, sourceMapPath, sources: (JSON.parse(sourceMap) as { sources?: unknown[] }).sources?.length ?? 0 };
}

/**
 * The prebuilt bundle when it can be used: it and its source map exist, and it is newer than
 * every source file it was built from (the workflows and the SDK code they import, as listed in
 * the map). Otherwise why not, for the log line that says the worker bundles at start instead.
 */
export function prebuiltWorkflowBundle(codePath: string = WORKFLOW_BUNDLE_PATH): WorkflowBundlePath | { stale: string } {
  let builtAt: number;
  let sources: string[];
  try {
    builtAt = statSync(codePath).mtimeMs;
    const map = JSON.parse(readFileSync(`${codePath}.map`, 'utf8')) as { sources?: unknown };
    // Files on disk only: webpack's runtime and the entry point the SDK generates in memory have no file.
    const onDisk = (x: unknown): x is string => typeof x === 'string' && isAbsolute(x) && !x.endsWith('-autogenerated-entrypoint.cjs');
    sources = Array.isArray(map.sources) ? map.sources.filter(onDisk) : [];
  } catch {
    return { stale: `no prebuilt bundle at ${codePath} (with its .map)` };
  }
  if (sources.length === 0) return { stale: `${codePath}.map lists no source files` };
  for (const source of sources) {
    let changedAt: number;
    try {
      changedAt = statSync(source).mtimeMs;
    } catch {
      return { stale: `${source}, a source of the prebuilt bundle, is gone` };
    }
    if (changedAt > builtAt) return { stale: `${source} changed after the prebuilt bundle was built` };
  }
  return { codePath };
}

export interface RunWorkerOptions {
  config: WorkerConfig;
  /** The object from createActivities(deps): OrderActivities & SessionActivities & OperationsActivities. */
  activities: object;
  connection: NativeConnection;
  log?: WorkerLog;
  /**
   * A pre-built bundle (its code, or the path of a file). Without it the worker loads
   * dist/workflow-bundle.js when that is newer than its sources (npm run build:workflows), else
   * bundles workflows/index.ts at start; it logs which.
   */
  workflowBundle?: WorkflowBundle | WorkflowBundlePath;
  /** Where to look for the prebuilt bundle; default WORKFLOW_BUNDLE_PATH. */
  prebuiltBundlePath?: string;
  /** Stops the worker gracefully when aborted (tests, the main job). */
  signal?: AbortSignal;
  /** Process signals that stop the worker gracefully; default SIGINT and SIGTERM. */
  shutdownSignals?: NodeJS.Signals[];
  /** How long running activities get to finish after shutdown starts. */
  shutdownGraceTime?: string;
  /** Called once the worker polls (e.g. to start the day's session); if it fails, the worker stops and the error is thrown. */
  onRunning?(): Promise<void>;
}

/** The workflows a worker runs: the bundle given, the prebuilt one if fresh, else bundled at start. */
function workflowSource(options: RunWorkerOptions, log: WorkerLog): { workflowBundle: WorkflowBundle | WorkflowBundlePath } | { workflowsPath: string } {
  if (options.workflowBundle) return { workflowBundle: options.workflowBundle };
  const prebuilt = prebuiltWorkflowBundle(options.prebuiltBundlePath);
  if ('codePath' in prebuilt) {
    log.info(`Worker: workflows from the prebuilt bundle ${prebuilt.codePath}`);
    return { workflowBundle: prebuilt };
  }
  log.info(`Worker: bundling the workflows at start (${prebuilt.stale}; npm run build:workflows prebuilds them)`);
  return { workflowsPath: WORKFLOWS_PATH };
}

export async function createWorker(options: RunWorkerOptions): Promise<Worker> {
  const { config } = options;
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowSource(options, options.log ?? consoleLog),
    activities: options.activities,
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
  });
}

/**
 * Runs the worker until SIGINT/SIGTERM or the abort signal, then drains it: no new tasks are
 * polled, running activities get the grace time, workflow state is already durable on the server.
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const log = options.log ?? consoleLog;
  const worker = await createWorker(options);
  const stop = (why: string) => {
    if (worker.getState() !== 'RUNNING') return;
    log.info(`Worker: ${why}; shutting down gracefully`);
    worker.shutdown();
  };
  const onSignal = (s: NodeJS.Signals) => stop(`received ${s}`);
  const signals = options.shutdownSignals ?? ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, onSignal);
  const onAbort = () => stop('stop requested');
  options.signal?.addEventListener('abort', onAbort);
  try {
    log.info(`Worker: polling task queue ${options.config.temporal.taskQueue} in namespace ${options.config.temporal.namespace}`);
    const running = worker.run();
    if (options.signal?.aborted) onAbort();
    let startupError: unknown = null;
    if (options.onRunning) {
      try {
        await options.onRunning();
      } catch (e) {
        startupError = e ?? new Error('start-up failed');
        stop(`start-up failed (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    await running;
    if (startupError !== null) throw startupError;
    log.info('Worker: stopped');
  } finally {
    for (const s of signals) process.off(s, onSignal);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export interface ServeContext {
  temporal: TemporalHandle;
  /** Whether the custom search attributes are registered; pass it into workflow inputs. */
  searchAttributes: boolean;
}

export interface ServeOptions {
  config: WorkerConfig;
  log?: WorkerLog;
  /** Builds the activities once Temporal is reachable; `close` releases what they hold (database, HTTP). */
  makeActivities(context: ServeContext): Promise<{ activities: object; close(): Promise<void> }>;
  /** Called once the worker polls: start the day's session here. */
  onReady?(context: ServeContext): Promise<void>;
  signal?: AbortSignal;
  workflowBundle?: WorkflowBundle | WorkflowBundlePath;
  startLocal?: StartLocalServer;
}

/**
 * The whole worker process: reach Temporal (or start the dev server), register the search
 * attributes and the schedules, build the activities, poll until SIGINT/SIGTERM, then release
 * everything in reverse order.
 */
export async function serveWorker(options: ServeOptions): Promise<void> {
  const { config } = options;
  const log = options.log ?? consoleLog;
  const temporal = await connectTemporal(config, log, options.startLocal);
  try {
    const searchAttributes = await registerSearchAttributes(temporal.connection, config.temporal.namespace, log);
    await ensureSchedules(temporal.client, config, log, { searchAttributes });
    const context: ServeContext = { temporal, searchAttributes };
    const made = await options.makeActivities(context);
    try {
      await runWorker({
        config,
        activities: made.activities,
        connection: temporal.nativeConnection,
        log,
        workflowBundle: options.workflowBundle,
        signal: options.signal,
        onRunning: options.onReady ? () => options.onReady!(context) : undefined,
      });
    } finally {
      await made.close();
    }
  } finally {
    await temporal.close();
  }
}

export { endOfTradingDay, startOfDayIn, tradingDayIn };

// ---- client helpers ----

export function sessionInput(config: WorkerConfig, tradingDay: string, searchAttributes: boolean): SessionWorkflowInput {
  const { session } = config;
  return {
    strategy: session.strategy,
    strategyName: session.strategyName,
    strategyParams: session.strategyParams,
    tradingDay: validateTradingDay(tradingDay),
    marketIds: session.markets,
    endOfDayAt: endOfTradingDay(tradingDay, config.timeZone),
    watchPeriodMs: session.watchPeriodMs,
    pollIntervalMs: session.pollIntervalMs,
    orderTtlMs: session.orderTtlMs,
    maxDailyLoss: config.riskLimits.maxDailyLoss,
    breakers: config.breakers,
    searchAttributes,
  };
}

/**
 * `restartedAfter`: how the day's previous session ended when this start replaces it (null: none
 * before). `existing`: why nothing was started: the day's session is RUNNING or has COMPLETED.
 */
export type StartSessionResult =
  | { status: 'STARTED'; workflowId: string; runId: string; restartedAfter: WorkflowExecutionStatusName | null }
  | { status: 'ALREADY_EXISTS'; workflowId: string; existing: WorkflowExecutionStatusName };

/** Status of the newest run under a workflow ID, or null when there is none. */
async function lastRunStatus(client: Client, workflowId: string): Promise<WorkflowExecutionStatusName | null> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return null;
    throw e;
  }
}

/**
 * Starts the session of a trading day (`session-<strategy>-<day>`): one running or completed
 * session per strategy and day, ever, but a session that failed, was terminated, cancelled or timed
 * out may be started again (allow-duplicate-failed-only); the new run reloads the day's halts from
 * the records. A day that has already ended in the configured zone is refused.
 */
export async function startSession(client: Client, config: WorkerConfig, tradingDay: string, searchAttributes: boolean, now: number = Date.now()): Promise<StartSessionResult> {
  const input = sessionInput(config, tradingDay, searchAttributes);
  if (input.marketIds.length === 0) throw InvalidInput.of('SESSION_MARKETS', '', 'must name at least one market to trade');
  if (input.endOfDayAt <= now) throw InvalidInput.of('tradingDay', tradingDay, `has already ended in ${config.timeZone}`);
  validateSessionWorkflowInput(input);
  const workflowId = sessionWorkflowId(input.strategy, input.tradingDay);
  const before = await lastRunStatus(client, workflowId);
  try {
    const handle = await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      ...(searchAttributes ? { typedSearchAttributes: [{ key: SA_STRATEGY, value: input.strategy }] } : {}),
    });
    return { status: 'STARTED', workflowId, runId: handle.firstExecutionRunId, restartedAfter: before };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { status: 'ALREADY_EXISTS', workflowId, existing: (await lastRunStatus(client, workflowId)) ?? before ?? 'RUNNING' };
  }
}

export async function signalHalt(client: Client, workflowId: string, request: OperatorRequest): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(haltSignal, validateOperatorRequest(request, 'halt'));
}

export async function signalResume(client: Client, workflowId: string, request: OperatorRequest): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(resumeSignal, validateOperatorRequest(request, 'resume'));
}

export async function signalKillSwitch(client: Client, workflowId: string, request: KillSwitchRequest): Promise<void> {
  const valid = validateOperatorRequest(request, 'killSwitch');
  if (request.flatten !== undefined && typeof request.flatten !== 'boolean') throw InvalidInput.of('killSwitch.flatten', request.flatten, 'must be true or false');
  await client.workflow.getHandle(workflowId).signal(killSwitchSignal, { ...valid, flatten: request.flatten ?? false });
}

export async function querySessionStatus(client: Client, workflowId: string): Promise<SessionStatus> {
  return client.workflow.getHandle(workflowId).query(sessionStatusQuery);
}

// ---- the worker process (npm run worker) ----

/** Alert cooldown per level and type (reference: 5 minutes). */
export const ALERT_COOLDOWN_MS = 5 * 60_000;
/** Cash differences up to one cent are rounding, not a mismatch. */
export const CASH_TOLERANCE_MICROS = 10_000;

/** Opens what the activities need: the records (PostgreSQL, or PGlite under dataDir), the paper venue, SMTP. */
export async function openActivityDeps(config: WorkerConfig, observability?: Pick<Observability, 'log' | 'metrics'>): Promise<{ deps: ActivityDeps; close(): Promise<void> }> {
  const paper = config.paperExchange;
  if (paper === null) {
    throw InvalidInput.of(ENV.paperUrl, null, `is required to trade: set ${ENV.paperUrl}, ${ENV.paperKeyId} and ${ENV.paperSecret} (npm run exchange starts a paper exchange)`);
  }
  const database = await openDatabase(config.database.url !== null ? { kind: 'postgres', url: config.database.url } : { kind: 'pglite', dataDir: join(config.dataDir, 'pglite') });
  const venueLogger = observability ? observability.metrics.venueLogger(observability.log) : undefined;
  const deps: ActivityDeps = {
    db: database.db,
    venue: createPaperVenue({ baseUrl: paper.url, keyId: paper.keyId, secret: paper.secret }, venueLogger ? { logger: venueLogger } : {}),
    mailer: config.smtp === null ? null : createSmtpMailer(smtpSettingsFrom(config.smtp)),
    config: {
      account: 'paper',
      venueName: 'paper',
      limits: config.riskLimits,
      breakers: config.breakers,
      timeZone: config.timeZone,
      alertCooldownMs: ALERT_COOLDOWN_MS,
      maxQuoteAgeMs: config.riskLimits.maxQuoteAgeMs,
      reconciliation: { policy: config.reconciliation.policy, cashTolerance: CASH_TOLERANCE_MICROS },
    },
    clock: () => Date.now(),
  };
  return { deps: observability ? observe(deps, observability) : deps, close: () => database.close() };
}

/**
 * `npm run worker` (and the second half of `npm start`): logs and metrics, the records and the
 * venue, the stage's go/no-go guard, the dashboard on the same records (PGlite admits one
 * process), then Temporal, the schedules, the worker and today's session.
 * Exit codes: 0 stopped, 1 could not run (no Temporal server), 2 bad configuration, 3 refused by the stage guard.
 */
export async function main(env: Env, log: WorkerLog = consoleLog): Promise<number> {
  let config: WorkerConfig;
  let dashboardSettings: DashboardSettings;
  try {
    config = loadConfig(env);
    dashboardSettings = loadDashboardSettings(env);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    console.error(`Configuration: ${e.message}`);
    return 2;
  }
  if (config.paperExchange === null) {
    console.error(`Configuration: ${ENV.paperUrl}, ${ENV.paperKeyId} and ${ENV.paperSecret} must be set: the worker trades on the paper exchange (npm run exchange starts one)`);
    return 2;
  }
  const observability = await startObservability(config);
  const releaseGuard = installDriverCrashGuard(
    (message) => observability.log.error({ event: 'process' }, message),
    () => observability.metrics.error('database', 'CLOSED_SOCKET_WRITE'),
  );
  const opened = await openActivityDeps(config, observability);
  let dashboard: RunningDashboard | null = null;
  try {
    await guardStart(config, preflightWith(opened.deps, config));
    // Halt and resume from the page reach the sessions once the Temporal client exists.
    let client: Client | null = null;
    dashboard = await startDashboard({
      db: opened.deps.db,
      limits: config.riskLimits,
      temporal: {
        signalHalt: (id, req) => (client ? signalHalt(client, id, req) : Promise.reject(new Error('Temporal is not connected yet'))),
        signalResume: (id, req) => (client ? signalResume(client, id, req) : Promise.reject(new Error('Temporal is not connected yet'))),
        signalKillSwitch: (id, req) => (client ? signalKillSwitch(client, id, req) : Promise.reject(new Error('Temporal is not connected yet'))),
      },
      token: dashboardSettings.token,
      temporalUiUrl: temporalUiUrlFor(env, dashboardSettings, config.temporal.address === null ? config.temporal.uiPort : null),
      namespace: config.temporal.namespace,
      timeZone: config.timeZone,
      quotes: venueQuotes(opened.deps.venue),
      host: dashboardSettings.host,
      port: dashboardSettings.port,
    });
    log.info(`Dashboard at ${dashboard.url}${dashboardSettings.token ? '' : ' (read-only: set DASHBOARD_TOKEN to allow halt and resume)'}`);
    await serveWorker({
      config,
      log,
      makeActivities: async ({ temporal }) => {
        client = temporal.client;
        return { activities: instrumentActivities(createActivities(opened.deps), observability.metrics, observability.log), close: async () => undefined };
      },
      onReady: async ({ temporal, searchAttributes }) => {
        if (config.session.markets.length === 0) {
          log.info(`No session started: ${ENV.sessionMarkets} is empty`);
          return;
        }
        const day = tradingDayIn(Date.now(), config.timeZone);
        const started = await startSession(temporal.client, config, day, searchAttributes);
        log.info(
          started.status === 'STARTED'
            ? `Session ${started.workflowId} started${started.restartedAfter ? ` again (the day's previous run ended ${started.restartedAfter})` : ''}`
            : `Session ${started.workflowId} already exists (${started.existing})`,
        );
      },
    });
    return 0;
  } catch (e) {
    if (e instanceof StageRefused) {
      console.error(e.message);
      return 3;
    }
    if (e instanceof TemporalUnavailable || e instanceof InvalidInput) {
      console.error(e.message);
      return e instanceof InvalidInput ? 2 : 1;
    }
    throw e;
  } finally {
    await dashboard?.close();
    await opened.close();
    await observability.close();
    releaseGuard();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
