/**
 * One of the three-worker drill's worker processes (multi-worker.ts): the worker as production
 * builds it from its validated config (runtime/config.ts buildConfig: TEMPORAL_ADDRESS,
 * DATABASE_URL, the paper exchange key, WORKER_COUNT), its activity dependencies from
 * openActivityDeps (the records on the run's PostgreSQL database, the paper venue with this
 * worker's share of the rate budget), the production activities, and runWorker on the drill's
 * task queue. Its Temporal identity is the SDK's default, `<pid>@<host>`, which is how the drill
 * finds the worker an activity runs on (describe: pendingActivities[].lastWorkerIdentity).
 *
 * Two things are the drill's own, around the production activities, never inside them:
 * - the watch of the drill's sessions is scripted: every half second it signals a crossing buy on
 *   one of the session's markets that has no working order (so orders fill, in parts, on several
 *   markets at once) instead of running a strategy on a market model the drill does not have;
 * - their pre-flight is the real one except the reconciliation check, passed with a note: the
 *   sessions share one account, so one session's working orders are a difference in another's.
 *
 * Prints "READY <pid>" once it polls; the drill ends it with SIGKILL.
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../../activities/index';
import type { WatchInput, WatchResult } from '../../contracts/activities';
import { MICROS, type Price, type Quantity } from '../../domain/money';
import type { RiskLimits } from '../../domain/risk-limits';
import { buildConfig, ENV } from '../../runtime/config';
import { connectWorkerConnection } from '../../runtime/temporal';
import { openActivityDeps, withLimits } from '../../worker/activity-deps';
import { runWorker } from '../../worker/worker';
import { PAPER_KEY_ID, PAPER_SECRET } from '../world';

const say = (line: string) => process.stdout.write(`${line}\n`);

export interface MultiWorkerChildSpec {
  address: string;
  namespace: string;
  taskQueue: string;
  /** The workflow bundle, built once by the drill. */
  bundlePath: string;
  dataDir: string;
  /** The run's own PostgreSQL database. */
  databaseUrl: string;
  /** The paper exchange as the workers reach it (the drill's relay). */
  venueUrl: string;
  workerCount: number;
  limits: RiskLimits;
  /** Strategy keys of the drill's sessions: their watch is scripted. */
  strategies: string[];
}

const SIGNAL_EVERY_MS = 500;
const TICK = 10_000;

type Activities = ReturnType<typeof createActivities>;

function scripted(acts: Activities, strategies: ReadonlySet<string>, venue: { getMarketSnapshot(marketId: string): Promise<{ ask: Price | null; ts: number }> }): Activities {
  let signals = 0;
  const watch = async (input: WatchInput): Promise<WatchResult> => {
    const wait = Math.max(0, Math.min(input.untilMs - Date.now(), SIGNAL_EVERY_MS));
    await Context.current().sleep(wait);
    const free = input.marketIds.filter((m) => input.reservedMarkets?.[m] === undefined);
    if (free.length === 0 || Date.now() >= input.untilMs) return { strategyState: input.strategyState, signal: null, at: Date.now(), quoteTimes: {} };
    const marketId = free[signals % free.length]!;
    const quote = await venue.getMarketSnapshot(marketId);
    const price = Math.min(MICROS - TICK, (quote.ask ?? 500_000) + 2 * TICK) as Price;
    const quantity = (4 + (signals++ % 5)) as Quantity;
    return {
      strategyState: input.strategyState,
      signal: { marketId, side: 'BUY', price, confidence: 1, intent: 'ENTER', quantity, metadata: { source: 'multi-worker drill' } },
      at: Date.now(),
      quoteTimes: { [marketId]: quote.ts },
    };
  };
  return {
    ...acts,
    watchForSignal: (input) => (strategies.has(input.strategy) ? watch(input) : acts.watchForSignal(input)),
    preflight: async (input) => {
      const checks = await acts.preflight(input);
      if (!strategies.has(input.strategy)) return checks;
      return checks.map((c) => (c.name === 'RECONCILIATION_CLEAN' && !c.ok ? { ...c, ok: true, detail: `passed by the drill (the sessions share one account): ${c.detail}`.slice(0, 200) } : c));
    },
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.MULTI_WORKER_CHILD ?? 'null') as MultiWorkerChildSpec | null;
  if (!spec) throw new Error('MULTI_WORKER_CHILD is not set');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const base = buildConfig({
    [ENV.temporalAddress]: spec.address,
    [ENV.temporalNamespace]: spec.namespace,
    [ENV.dataDir]: spec.dataDir,
    [ENV.databaseUrl]: spec.databaseUrl,
    [ENV.paperUrl]: spec.venueUrl,
    [ENV.paperKeyId]: PAPER_KEY_ID,
    [ENV.paperSecret]: PAPER_SECRET,
    [ENV.workerCount]: String(spec.workerCount),
    [ENV.metricsPort]: '0',
  });
  const config = { ...base, temporal: { ...base.temporal, taskQueue: spec.taskQueue } };
  const opened = await openActivityDeps(config);
  const deps = withLimits(opened.deps, spec.limits);
  const connection = await connectWorkerConnection(config.temporal);
  try {
    await runWorker({
      config,
      activities: scripted(createActivities(deps), new Set(spec.strategies), deps.venue),
      connection,
      workflowBundle: { codePath: spec.bundlePath },
      shutdownGraceTime: '2 seconds',
      log: { info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`${m}\n`) },
      onRunning: async () => {
        say(`READY ${process.pid}`);
      },
    });
  } finally {
    await connection.close();
    await opened.close();
  }
  say('STOPPED');
  process.exit(0);
}

main().catch((e: unknown) => {
  say(`FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
