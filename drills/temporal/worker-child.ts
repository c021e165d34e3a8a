/**
 * The server form's worker process: a real Temporal Worker (worker/worker.ts runWorker) with the
 * production activities (createActivities) on the drill's records and the paper exchange (through
 * the drill's relay), on a task queue of its own. Prints "READY" once it polls; the drill kills it
 * with SIGKILL.
 *
 * Three things are the drill's own, all around the production activities, never inside them:
 * - holds: an activity of a named order or session waits, from a given point, for the kill
 *   ("HELD <point> <id>" on stdout), so one kill lands on many orders at known points;
 * - the watch of the drill's sessions is scripted: it signals a few resting buys per session run
 *   instead of running a strategy on a market model the drill does not have;
 * - their pre-flight is the real one except the reconciliation check, passed with a note: other
 *   waves' orders are in flight on the same account, so the records and the venue differ by design
 *   (and a long enough list of differences fails the session workflow: see drill 1's notes).
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../../activities/index';
import type { WatchInput, WatchResult } from '../../contracts/activities';
import { openDatabase } from '../../db/client';
import { CapturingMailer, makeDeps } from '../../testkit/activities-harness';
import { buildConfig } from '../../runtime/config';
import { connectWorkerConnection } from '../../runtime/temporal';
import { runWorker } from '../../worker/worker';
import type { Price, Quantity } from '../../domain/money';
import { DRILL_LIMITS, venueAt } from '../world';
import type { ScriptedSessions, WorkerChildSpec, WorkerHolds } from './types';

const say = (line: string) => process.stdout.write(`${line}\n`);
const never = () => new Promise<never>(() => {});

/** Resting buys a few ticks under the bid: they work until cancelled (time-to-live, end of day). */
const RESTING_TICKS_UNDER_BID = 3;

type Activities = ReturnType<typeof createActivities>;

function withDrillHolds(acts: Activities, holds: WorkerHolds, venue: ReturnType<typeof venueAt>, scripted: ScriptedSessions, clock: () => number): Activities {
  const beforeSubmit = new Set(holds.beforeSubmit);
  const betweenFills = new Set(holds.betweenFills);
  const atContinueAsNew = new Set(holds.continueAsNew);
  const held = new Set<string>();
  const lastRun = new Map<string, string>();
  const signalsByRun = new Map<string, number>();
  const hold = async (point: string, id: string): Promise<never> => {
    held.add(id);
    say(`HELD ${point} ${id}`);
    return never();
  };

  const scriptedWatch = async (input: WatchInput): Promise<WatchResult> => {
    const runId = Context.current().info.workflowExecution?.runId ?? '';
    const sent = signalsByRun.get(runId) ?? 0;
    if (scripted.signalling.includes(input.strategy) && sent < scripted.signalsPerRun && input.marketIds.length > 0) {
      signalsByRun.set(runId, sent + 1);
      const marketId = input.marketIds[sent % input.marketIds.length]!;
      const quote = await venue.getMarketSnapshot(marketId);
      const tick = 10_000;
      const price = Math.max(tick, (quote.bid ?? 500_000) - RESTING_TICKS_UNDER_BID * tick) as Price;
      return {
        strategyState: input.strategyState,
        signal: { marketId, side: 'BUY', price, confidence: 1, intent: 'ENTER', quantity: (1 + (sent % 3)) as Quantity, metadata: { source: 'drill' } },
        at: clock(),
        quoteTimes: { [marketId]: quote.ts },
      };
    }
    await Context.current().sleep(Math.max(0, Math.min(input.untilMs - clock(), 1_000)));
    return { strategyState: input.strategyState, signal: null, at: clock(), quoteTimes: {} };
  };

  const scriptedActs: Activities = {
    ...acts,
    watchForSignal: (input) => (scripted.strategies.includes(input.strategy) ? scriptedWatch(input) : acts.watchForSignal(input)),
    preflight: async (input) => {
      const checks = await acts.preflight(input);
      if (!scripted.strategies.includes(input.strategy)) return checks;
      return checks.map((c) => (c.name === 'RECONCILIATION_CLEAN' && !c.ok ? { ...c, ok: true, detail: `passed by the drill (other waves' orders are in flight): ${c.detail}`.slice(0, 200) } : c));
    },
  };
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(scriptedActs) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      const execution = Context.current().info.workflowExecution;
      const workflowId = execution?.workflowId ?? '';
      const runId = execution?.runId ?? '';
      if (atContinueAsNew.has(workflowId)) {
        const previous = lastRun.get(workflowId);
        lastRun.set(workflowId, runId);
        if (previous !== undefined && previous !== runId && !held.has(workflowId)) return hold('continue-as-new', workflowId);
      }
      return fn(...args);
    };
  }
  const out = wrapped as unknown as Activities;
  return {
    ...out,
    submitOrder: async (order) => {
      if (beforeSubmit.has(order.clientOrderId) && !held.has(order.clientOrderId)) return hold('before-submit', order.clientOrderId);
      return out.submitOrder(order);
    },
    pollOrder: async (clientOrderId, options) => {
      const progress = await out.pollOrder(clientOrderId, options);
      if (betweenFills.has(clientOrderId) && !held.has(clientOrderId) && progress.status === 'PARTIALLY_FILLED') return hold('between-fills', clientOrderId);
      return progress;
    },
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.DRILL_WORKER_CHILD ?? 'null') as WorkerChildSpec | null;
  if (!spec) throw new Error('DRILL_WORKER_CHILD is not set');
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime is already installed in this process
  }
  const base = buildConfig({ ...spec.connectionEnv, TEMPORAL_ADDRESS: spec.address, TEMPORAL_NAMESPACE: spec.namespace, DATA_DIR: spec.dataDir });
  const config = { ...base, temporal: { ...base.temporal, taskQueue: spec.taskQueue } };
  const database = await openDatabase(spec.db, { migrate: false });
  const clock = () => Date.now() + spec.clockOffsetMs;
  const venue = venueAt(spec.venueUrl, { timeoutMs: spec.venueTimeoutMs });
  const deps = makeDeps({ db: database.db, venue, mailer: new CapturingMailer(), config: { limits: DRILL_LIMITS, ...spec.config }, clock });
  const connection = await connectWorkerConnection(config.temporal);
  await runWorker({
    config,
    activities: withDrillHolds(createActivities(deps), spec.holds, venue, spec.scripted, clock),
    connection,
    workflowBundle: { codePath: spec.bundlePath },
    shutdownGraceTime: '2 seconds',
    log: { info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`${m}\n`) },
    onRunning: async () => {
      say('READY');
    },
  });
  say('STOPPED');
}

main().catch((e: unknown) => {
  say(`FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
