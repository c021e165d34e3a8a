/**
 * The Temporal Worker of the trading system: the worker process (`npm run worker`), and serving
 * it beside the day's session, its schedules and the dashboard (the second half of `npm start`).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundle, type WorkflowBundlePath } from '@temporalio/worker';
import { InvalidInput } from '../domain/errors';
import { createActivities } from '../activities/index';
import { ENV, loadConfig, type Env, type WorkerConfig } from '../runtime/config';
import { ensureSchedules } from './schedules';
import { prebuiltWorkflowBundle, WORKFLOWS_PATH } from './bundle';
import { openActivityDeps, withLimits } from './activity-deps';
import { openRecords, RecordsUnavailable, serveRecords, type RecordsServer } from '../runtime/records-socket';
import { signalHalt, signalKillSwitch, signalResume, startSession } from '../runtime/session-control';
import { startShadowSession } from '../runtime/shadow-control';
import { installDriverCrashGuard } from '../runtime/process-guards';
import { loadDashboardSettings, temporalUiUrlFor, type DashboardSettings } from '../dashboard/config';
import { venueQuotes } from '../dashboard/api';
import { startDashboard, type RunningDashboard } from '../dashboard/server';
import { instrumentActivities } from '../runtime/metrics';
import { configAtStep, guardStart, liveStartChecks, preflightWith, StageRefused } from './stages';
import { startObservability } from './observability';
import { tradingDayIn } from '../domain/calendar';
import { TemporalUnavailable, connectTemporal, consoleLog, registerSearchAttributes, type StartLocalServer, type TemporalHandle, type WorkerLog } from '../runtime/temporal';

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

// ---- the worker process (npm run worker) ----

/**
 * `npm run worker` (and the second half of `npm start`): logs and metrics, the records and the
 * venue, the stage's go/no-go guard, the dashboard on the same records, then Temporal, the
 * schedules, the worker and today's session. On the embedded default (no DATABASE_URL) the worker
 * serves its PGlite records on loopback (runtime/records-socket.ts) and goes through that server
 * itself, so the CLI and a separate dashboard share them while it runs.
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
  if (config.stage !== 'LIVE' && config.paperExchange === null) {
    console.error(`Configuration: ${ENV.paperUrl}, ${ENV.paperKeyId} and ${ENV.paperSecret} must be set: ${config.stage} trades on the paper exchange (npm run exchange starts one)`);
    return 2;
  }
  const observability = await startObservability(config, { secrets: [dashboardSettings.token] });
  const releaseGuard = installDriverCrashGuard(
    (message) => observability.log.error({ event: 'process' }, message),
    () => observability.metrics.error('database', 'CLOSED_SOCKET_WRITE'),
  );
  let served: RecordsServer | null = null;
  let opened: Awaited<ReturnType<typeof openActivityDeps>> | null = null;
  let dashboard: RunningDashboard | null = null;
  try {
    if (config.database.url === null) {
      served = await serveRecords({ pgliteDir: join(config.dataDir, 'pglite'), port: config.recordsSocketPort });
      log.info(`Records: PGlite at ${join(config.dataDir, 'pglite')}, served on 127.0.0.1:${served.port} to this worker, the CLI and the dashboard (discovery file ${served.file}, mode 0600)`);
      opened = await openActivityDeps(config, observability, { database: await openRecords({ kind: 'served', url: served.url, pid: process.pid, port: served.port, file: served.file }, { poolSize: 4 }) });
    } else {
      opened = await openActivityDeps(config, observability);
    }
    // Nothing trades before the go/no-go: no worker polls and no session starts until it passes.
    // A LIVE session then runs under the risk limits of its capital ramp step.
    const started = await guardStart(config, preflightWith(opened.deps, config), console.log, config.stage === 'LIVE' ? liveStartChecks(opened.deps, config) : undefined);
    const runConfig = configAtStep(config, started.ramp);
    const deps = started.ramp === null ? opened.deps : withLimits(opened.deps, runConfig.riskLimits);
    // Halt and resume from the page reach the sessions once the Temporal client exists.
    let client: Client | null = null;
    dashboard = await startDashboard({
      db: opened.deps.db,
      limits: runConfig.riskLimits,
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
      allowedHosts: dashboardSettings.allowedHosts,
    });
    log.info(`Dashboard at ${dashboard.url}${dashboardSettings.token ? '' : ' (read-only: set DASHBOARD_TOKEN to allow halt and resume)'}`);
    await serveWorker({
      config: runConfig,
      log,
      makeActivities: async ({ temporal }) => {
        client = temporal.client;
        return { activities: instrumentActivities(createActivities(deps), observability.metrics, observability.log), close: async () => undefined };
      },
      onReady: async ({ temporal, searchAttributes }) => {
        if (config.session.markets.length === 0) {
          log.info(`No session started: ${ENV.sessionMarkets} is empty`);
          return;
        }
        const day = tradingDayIn(Date.now(), config.timeZone);
        if (config.stage === 'SHADOW') {
          // SHADOW trades nothing: the shadow session replaces the trading session (docs/design.md, "SHADOW").
          const shadow = await startShadowSession(temporal.client, config, day);
          log.info(`Shadow session ${shadow.workflowId} ${shadow.status === 'STARTED' ? 'started' : 'already exists'}`);
          return;
        }
        const session = await startSession(temporal.client, runConfig, day, searchAttributes);
        log.info(
          session.status === 'STARTED'
            ? `Session ${session.workflowId} started${session.restartedAfter ? ` again (the day's previous run ended ${session.restartedAfter})` : ''}`
            : `Session ${session.workflowId} already exists (${session.existing})`,
        );
      },
    });
    return 0;
  } catch (e) {
    if (e instanceof StageRefused) {
      console.error(e.message);
      return 3;
    }
    if (e instanceof TemporalUnavailable || e instanceof InvalidInput || e instanceof RecordsUnavailable) {
      console.error(e.message);
      return e instanceof InvalidInput ? 2 : 1;
    }
    throw e;
  } finally {
    await dashboard?.close();
    await opened?.close();
    await served?.close();
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
