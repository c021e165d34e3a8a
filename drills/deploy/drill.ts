/**
 * The deploy drill: a workflow change deployed while orders are open (docs/deploying.md).
 *
 * On a Temporal server (DrillTemporal: TEMPORAL_ADDRESS, or a dev server of its own from
 * TEMPORAL_CLI_PATH), with the paper exchange and the records of a DrillWorld:
 * 1. VERSION 1 (the production bundle, workflows/index.ts) runs a worker. A trading session (its
 *    watch scripted to signal resting buys) and orders start: buys that cross the market and fill
 *    in parts over seconds ("filling"), buys resting under the bid until their time-to-live
 *    ("resting"), all waiting on their poll and time-to-live timers between activities.
 * 2. The v1 worker stops (drained, as a deploy stops a process). Orders signalled now wait in the
 *    task queue ("queued"). The open workflows' histories are replayed against VERSION 2
 *    (v2-workflows.ts: one more timer before an order's first step, behind
 *    patched('deploy-drill-v2')): none fails; against the same change WITHOUT patched()
 *    (v2-unpatched-workflows.ts) each fails with a nondeterminism error. That is the pre-deploy
 *    replay check.
 * 3. A VERSION 2 worker starts. Every open workflow finishes on it; new orders ("new") take the v2
 *    path. Checked from the histories and the records: no WorkflowTaskFailed event anywhere, the
 *    runs open at the deploy have no v2 marker, every new order has the marker and its timer, each
 *    category ends in its state, and the audit (drills/audit.ts) finds no duplicate venue order
 *    (one venue order per client order ID at most) and no lost or double-counted fill.
 * 4. The counterfactual, on a task queue of its own and at the same time: resting orders opened on
 *    v1, then the UNPATCHED v2 worker. Each open order's next workflow task fails with a
 *    nondeterminism error (WorkflowTaskFailed in its history; the order is stuck, not lost). The
 *    unpatched worker stops, the patched v2 worker takes over (a roll-forward), the stuck orders
 *    go on and are cancelled, ending CANCELED.
 */
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString, type WorkflowBundle } from '@temporalio/worker';
import { join } from 'node:path';
import type { WatchInput, WatchResult } from '../../contracts/activities';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { tradingDayIn } from '../../domain/calendar';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { MICROS, type Money, type Price, type Quantity } from '../../domain/money';
import type { OrderStatus, SessionStatus, SessionWorkflowInput } from '../../workflows/api';
import { cancelOrderSignal } from '../../workflows/api';
import { EAGER_FILLS } from '../../testkit/venue-harness';
import { bundleWorkflows } from '../../worker/bundle';
import { audit } from '../audit';
import { orderInput, sleep } from '../controllers';
import { resultWithin, terminateQuietly, type DrillTemporal } from '../temporal/server';
import { addCounts, zeroCounts, type DrillResult } from '../types';
import { DRILL_LIMITS, DrillWorld, PAPER_KEY_ID } from '../world';
import { DEPLOY_DRILL_PATCH, V2_SETTLE_MS } from './version';

export const V2_WORKFLOWS_PATH = join(import.meta.dirname, 'v2-workflows.ts');
export const V2_UNPATCHED_WORKFLOWS_PATH = join(import.meta.dirname, 'v2-unpatched-workflows.ts');

export interface DeploySizes {
  /** Crossing buys that fill in parts over seconds, open at the deploy. */
  filling: number;
  /** Buys resting under the bid, cancelled by their time-to-live after the deploy. */
  resting: number;
  /** Trading sessions, each signalling one resting buy on a market of its own. */
  sessions: number;
  /** Orders signalled while no worker runs (between the stop and the start). */
  queued: number;
  /** Crossing buys started on version 2. */
  fresh: number;
  /** Resting orders of the counterfactual (unpatched version 2). */
  unsafe: number;
}

export const QUICK_SIZES: DeploySizes = { filling: 2, resting: 2, sessions: 1, queued: 1, fresh: 2, unsafe: 2 };
export const FULL_SIZES: DeploySizes = { filling: 12, resting: 12, sessions: 3, queued: 4, fresh: 12, unsafe: 4 };

/** One fill part about every other engine step: a 10-contract cross takes seconds, so its fills span the deploy. */
const SLOW_PARTIAL_FILLS = { ...EAGER_FILLS, fillProbability: 0.25, partialFillProbability: 1 };
const STARTING_CASH = 100_000_000 * MICROS;
const DAILY_LOSS = (1_000_000 * MICROS) as Money;
/** Version 1 runs this long before the deploy: every order acknowledged, polled, partly filled. */
const V1_RUN_MS = 5_000;
/** A resting order's time-to-live: it runs out on version 2. */
const RESTING_TTL_MS = 14_000;
const CROSSING_TTL_MS = 60_000;
/** A session's day: it ends on version 2, cancelling the order it holds. */
const SESSION_DAY_MS = 16_000;
const COMPLETION_MS = 120_000;
/** Longest wait, after V1_RUN_MS, for every workflow started on version 1 to complete its first task. */
const PROGRESS_WAIT_MS = 20_000;
const NONDETERMINISM_WAIT_MS = 30_000;
/** Resting buys this many ticks under the bid: the market does not reach them within a drill. */
const RESTING_TICKS = 6;
/** The drill's limits, with room for a resting buy that far under a wide market (the price-deviation rule). */
const DEPLOY_LIMITS = { ...DRILL_LIMITS, maxDailyLoss: DAILY_LOSS, maxPriceDeviation: 300_000 };
const TICK = 10_000;

/** temporal.api.enums.v1.EventType values read here (numbers in fetched histories, names in JSON). */
const EVENT = {
  workflowTaskCompleted: [7, 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED'],
  workflowTaskFailed: [9, 'EVENT_TYPE_WORKFLOW_TASK_FAILED'],
  activityScheduled: [10, 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED'],
  timerStarted: [17, 'EVENT_TYPE_TIMER_STARTED'],
  marker: [25, 'EVENT_TYPE_MARKER_RECORDED'],
} as const;
/** temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND. */
const UNHANDLED_COMMAND: readonly (number | string)[] = [1, 'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND'];
/** The marker the SDK records for patched(); its details hold the patch ID. */
const PATCH_MARKER = 'core_patch';

interface HistoryEvent {
  eventType?: number | string | null;
  markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null;
  timerStartedEventAttributes?: { startToFireTimeout?: { seconds?: unknown; nanos?: number | null } | null } | null;
  workflowTaskFailedEventAttributes?: { cause?: number | string | null; failure?: { message?: string | null } | null } | null;
}

/** A duration's seconds: a number, a decimal string or a protobuf Long. */
function wholeSeconds(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

const isType = (e: HistoryEvent, t: readonly (number | string)[]) => e.eventType !== null && e.eventType !== undefined && t.includes(e.eventType);

/** Whether the event is the patched() marker of `patchId`. */
export function isPatchMarker(e: HistoryEvent, patchId: string): boolean {
  const m = e.markerRecordedEventAttributes;
  if (!isType(e, EVENT.marker) || m?.markerName !== PATCH_MARKER) return false;
  return Object.values(m.details ?? {}).some((p) => (p.payloads ?? []).some((x) => x.data && Buffer.from(x.data).toString('utf8').includes(patchId)));
}

/** What the drill reads from one history. */
export interface HistoryFacts {
  /** Workflow tasks that failed (cause: message), other than the server's UnhandledCommand. */
  taskFailures: string[];
  /**
   * Completions the server refused because new events (a signal, an activity's result) arrived
   * while the task ran (cause UNHANDLED_COMMAND): the worker runs the task again with them; not a
   * fault of the code, and counted apart.
   */
  unhandledCommands: number;
  v2Marker: boolean;
  /** Whether a V2_SETTLE_MS timer starts before the first activity. */
  v2TimerFirst: boolean;
}

export function historyFacts(events: readonly HistoryEvent[]): HistoryFacts {
  const failed = events.filter((e) => isType(e, EVENT.workflowTaskFailed));
  const unhandled = failed.filter((e) => UNHANDLED_COMMAND.includes(e.workflowTaskFailedEventAttributes?.cause ?? ''));
  const taskFailures = failed
    .filter((e) => !unhandled.includes(e))
    .map((e) => `${String(e.workflowTaskFailedEventAttributes?.cause ?? '?')}: ${(e.workflowTaskFailedEventAttributes?.failure?.message ?? '').slice(0, 200)}`);
  const firstActivity = events.findIndex((e) => isType(e, EVENT.activityScheduled));
  const before = firstActivity < 0 ? events : events.slice(0, firstActivity);
  const v2TimerFirst = before.some((e) => {
    const t = e.timerStartedEventAttributes?.startToFireTimeout;
    return isType(e, EVENT.timerStarted) && t !== null && t !== undefined && wholeSeconds(t.seconds) * 1_000 + (t.nanos ?? 0) / 1e6 === V2_SETTLE_MS;
  });
  return { taskFailures, unhandledCommands: unhandled.length, v2Marker: events.some((e) => isPatchMarker(e, DEPLOY_DRILL_PATCH)), v2TimerFirst };
}

/** The three bundles: version 1 (production), version 2, version 2 without patched(). */
export interface DeployBundles {
  v1: WorkflowBundle;
  v2: WorkflowBundle;
  v2Unpatched: WorkflowBundle;
}

export async function buildDeployBundles(): Promise<DeployBundles> {
  const logger = new DefaultLogger('WARN');
  const [v1, v2, v2Unpatched] = await Promise.all([
    bundleWorkflows(),
    bundleWorkflowCode({ workflowsPath: V2_WORKFLOWS_PATH, logger }),
    bundleWorkflowCode({ workflowsPath: V2_UNPATCHED_WORKFLOWS_PATH, logger }),
  ]);
  return { v1, v2, v2Unpatched };
}

/** Replays histories against a bundle; the workflow IDs whose replay failed, with the error's name. */
export async function replayFailures(bundle: WorkflowBundle, histories: { workflowId: string; history: unknown }[]): Promise<{ workflowId: string; error: string }[]> {
  const out: { workflowId: string; error: string }[] = [];
  const results = Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'deploy-drill' }, histories as Parameters<typeof Worker.runReplayHistories>[1]);
  for await (const r of results) if (r.error) out.push({ workflowId: r.workflowId, error: `${r.error.name}: ${r.error.message.slice(0, 160)}` });
  return out;
}

type Activities = ReturnType<DrillWorld['activities']>;

/**
 * The production activities with the sessions' watch scripted (one resting buy per session, then
 * quiet) and their reconciliation pre-flight check passed with a note: the drill's other orders
 * are in flight on the same account, so the records and the venue differ by design.
 */
function drillActivities(world: DrillWorld, sessionStrategies: ReadonlySet<string>): Activities {
  const acts = world.activities();
  const signalled = new Set<string>();
  const watch = async (input: WatchInput): Promise<WatchResult> => {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const marketId = input.marketIds[0];
    if (!signalled.has(workflowId) && marketId !== undefined && !input.reservedMarkets?.[marketId]) {
      signalled.add(workflowId);
      const quote = await world.venue.getMarketSnapshot(marketId);
      const price = Math.max(TICK, (quote.bid ?? 500_000) - RESTING_TICKS * TICK) as Price;
      return {
        strategyState: input.strategyState,
        signal: { marketId, side: 'BUY', price, confidence: 1, intent: 'ENTER', quantity: 2 as Quantity, metadata: { source: 'deploy-drill' } },
        at: Date.now(),
        quoteTimes: { [marketId]: quote.ts },
      };
    }
    await Context.current().sleep(Math.max(0, Math.min(input.untilMs - Date.now(), 1_000)));
    return { strategyState: input.strategyState, signal: null, at: Date.now(), quoteTimes: {} };
  };
  return {
    ...acts,
    watchForSignal: (input) => (sessionStrategies.has(input.strategy) ? watch(input) : acts.watchForSignal(input)),
    preflight: async (input) => {
      const checks = await acts.preflight(input);
      if (!sessionStrategies.has(input.strategy)) return checks;
      return checks.map((c) => (c.name === 'RECONCILIATION_CLEAN' && !c.ok ? { ...c, ok: true, detail: `passed by the deploy drill (its orders are in flight): ${c.detail}`.slice(0, 200) } : c));
    },
  };
}

interface RunningWorker {
  stop(): Promise<void>;
}

async function startWorker(temporal: DrillTemporal, taskQueue: string, bundle: WorkflowBundle, activities: Activities): Promise<RunningWorker> {
  const worker = await Worker.create({
    connection: temporal.handle.nativeConnection,
    namespace: temporal.handle.namespace,
    taskQueue,
    workflowBundle: bundle,
    activities,
    // A stopped version's sticky tasks move to the shared queue within a second.
    stickyQueueScheduleToStartTimeout: '1 second',
    shutdownGraceTime: '5 seconds',
  });
  const running = worker.run();
  return {
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

function sessionInput(strategy: string, tradingDay: string, marketId: string, now: number): SessionWorkflowInput {
  return {
    strategy,
    // The drill scripts this session's watch; the strategy named here never runs.
    strategyName: 'model-edge',
    strategyParams: {},
    tradingDay,
    marketIds: [marketId],
    endOfDayAt: now + SESSION_DAY_MS,
    watchPeriodMs: 500,
    pollIntervalMs: 200,
    orderTtlMs: 60_000,
    maxDailyLoss: DAILY_LOSS,
    breakers: { ...CASE_STUDY_BREAKERS, maxDailyLoss: DAILY_LOSS, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 },
    searchAttributes: false,
  };
}

type Category = 'filling' | 'resting' | 'queued' | 'fresh' | 'session order' | 'unsafe';

interface DrillOrder {
  clientOrderId: string;
  category: Category;
  handle: WorkflowHandle;
  /** The run open when version 1 stopped (null: it had not started, or had ended). */
  runAtDeploy: string | null;
}

export interface DeployReport {
  result: DrillResult;
  /** Open workflows (orders and sessions) at the deploy, and how many of them replayed on each bundle. */
  openAtDeploy: number;
  /** Of those, the orders (every one must fail to replay on the unpatched version 2). */
  openOrdersAtDeploy: number;
  /** The counterfactual's orders among them. */
  unsafeOpenAtDeploy: number;
  replayV2Failures: number;
  replayUnpatchedFailures: number;
  /** Counterfactual orders whose workflow task failed with a nondeterminism error on the unpatched worker. */
  unsafeNondeterministic: number;
  finalStates: Record<string, string>;
}

/**
 * The SDK runtime with its logs and core's below ERROR silenced: the counterfactual's
 * nondeterminism errors are expected, and read from the histories. Before anything else starts
 * one (DrillTemporal.open); a runtime already installed is kept.
 */
export function installQuietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } } });
  } catch {
    // a runtime is already installed in this process
  }
}

export async function runDeployDrill(temporal: DrillTemporal, sizes: DeploySizes, log: (line: string) => void, bundles?: DeployBundles): Promise<DeployReport> {
  const started = Date.now();
  installQuietRuntime();
  const built = bundles ?? (await buildDeployBundles());
  log(`  bundles built in ${((Date.now() - started) / 1000).toFixed(1)} s (v1 production, v2 patched, v2 unpatched)`);
  const world = await DrillWorld.open('deploy', { exchange: { engine: { fillModel: SLOW_PARTIAL_FILLS, startingCash: STARTING_CASH } }, config: { limits: DEPLOY_LIMITS } });
  const queue = temporal.taskQueue('deploy');
  const unsafeQueue = temporal.taskQueue('deploy-unsafe');
  const strategy = temporal.strategy('dp');
  const tradingDay = tradingDayIn(Date.now(), 'UTC');
  const sessionStrategies = Array.from({ length: sizes.sessions }, (_, i) => `${temporal.strategy('ds')}-${i + 1}`);
  const activities = drillActivities(world, new Set(sessionStrategies));
  const notes = [`records: ${world.backend.describe}`, `${temporal.describe}; task queues ${queue} and ${unsafeQueue} (counterfactual); workers in this process`];
  const checksFailed: string[] = [];
  const orders: DrillOrder[] = [];
  const sessions: { strategy: string; handle: WorkflowHandle; runAtDeploy: string | null }[] = [];
  const workers = new Set<RunningWorker>();
  const start = async (q: string, bundle: WorkflowBundle) => {
    const w = await startWorker(temporal, q, bundle, activities);
    workers.add(w);
    return w;
  };
  const stop = async (w: RunningWorker) => {
    workers.delete(w);
    await w.stop();
  };
  let sequence = 0;
  const market = (i: number) => world.markets[i % world.markets.length]!.marketId;
  const startOrder = async (category: Category, q: string, marketId: string, kind: 'crossing' | 'resting'): Promise<void> => {
    const seq = ++sequence;
    const quote = await world.venue.getMarketSnapshot(marketId);
    const limitPrice = kind === 'resting' ? Math.max(TICK, (quote.bid ?? 500_000) - RESTING_TICKS * TICK) : Math.min(990_000, (quote.ask ?? 500_000) + 2 * TICK);
    const input = orderInput({ strategy, tradingDay, sequence: seq, marketId, side: 'BUY', quantity: kind === 'crossing' ? 10 : 3, limitPrice, ttlMs: kind === 'resting' ? RESTING_TTL_MS : CROSSING_TTL_MS, at: Date.now() });
    const clientOrderId = makeClientOrderId(strategy, tradingDay, seq);
    const handle = await temporal.client.workflow.start('orderWorkflow', {
      taskQueue: q,
      workflowId: orderWorkflowId(clientOrderId),
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    orders.push({ clientOrderId, category, handle, runAtDeploy: null });
  };

  try {
    // ---- 1. version 1 ----
    const v1 = await start(queue, built.v1);
    const v1Unsafe = await start(unsafeQueue, built.v1);
    const now = Date.now();
    for (const [i, s] of sessionStrategies.entries()) {
      const handle = await temporal.client.workflow.start('sessionWorkflow', {
        taskQueue: queue,
        workflowId: sessionWorkflowId(s, tradingDay),
        // Sessions trade the markets after the standalone orders', one each (one working order per market).
        args: [sessionInput(s, tradingDay, market(world.markets.length - 1 - i), now)],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      sessions.push({ strategy: s, handle, runAtDeploy: null });
    }
    const standaloneMarkets = Math.max(1, world.markets.length - sizes.sessions);
    for (let i = 0; i < sizes.resting; i++) await startOrder('resting', queue, market(i % standaloneMarkets), 'resting');
    for (let i = 0; i < sizes.unsafe; i++) await startOrder('unsafe', unsafeQueue, market(i % standaloneMarkets), 'resting');
    // The crossing buys last, so that they are still filling when version 1 stops.
    await sleep(V1_RUN_MS - 2_000);
    for (let i = 0; i < sizes.filling; i++) await startOrder('filling', queue, market(i % standaloneMarkets), 'crossing');
    await sleep(2_000);
    // On a loaded machine a workflow's first task can lag: give every one until PROGRESS_WAIT_MS to have commands to replay.
    const progressDeadline = Date.now() + PROGRESS_WAIT_MS;
    for (const h of [...orders.map((o) => o.handle), ...sessions.map((x) => x.handle)]) {
      while (Date.now() < progressDeadline && !((await h.fetchHistory()).events ?? []).some((e) => isType(e, EVENT.workflowTaskCompleted))) await sleep(250);
    }

    // ---- 2. the deploy: version 1 stops ----
    await Promise.all([stop(v1), stop(v1Unsafe)]);
    const deployAt = Date.now();
    log(`  version 1 stopped ${((deployAt - now) / 1000).toFixed(1)} s after the first start`);
    for (let i = 0; i < sizes.queued; i++) await startOrder('queued', queue, market(i % standaloneMarkets), 'crossing');
    // Runs open at the deploy that had completed a workflow task: they have commands in their
    // history, which version 2 must replay. One whose first task had not completed yet (a loaded
    // machine) has nothing to replay: like a queued order, it starts on version 2.
    const open: { workflowId: string; runId: string }[] = [];
    const startsOnV2 = new Set<string>();
    const progressedRun = async (handle: WorkflowHandle): Promise<string | null> => {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') return null;
      const events = (await temporal.client.workflow.getHandle(d.workflowId, d.runId).fetchHistory()).events ?? [];
      if (!events.some((e) => isType(e, EVENT.workflowTaskCompleted))) {
        startsOnV2.add(d.workflowId);
        return null;
      }
      open.push({ workflowId: d.workflowId, runId: d.runId });
      return d.runId;
    };
    for (const o of orders) if (o.category !== 'queued') o.runAtDeploy = await progressedRun(o.handle);
    for (const s of sessions) s.runAtDeploy = await progressedRun(s.handle);
    for (const category of ['filling', 'resting', 'unsafe'] as const) {
      const wanted = orders.filter((o) => o.category === category).length;
      const openHere = orders.filter((o) => o.category === category && o.runAtDeploy !== null).length;
      if (wanted > 0 && openHere === 0) checksFailed.push(`no ${category} order was open (past its first workflow task) when version 1 stopped: the deploy found nothing to carry`);
    }
    if (sessions.length > 0 && sessions.every((s) => s.runAtDeploy === null)) checksFailed.push('no session was open when version 1 stopped');
    if (startsOnV2.size > 0) notes.push(`${startsOnV2.size} workflows open at the deploy had not completed their first workflow task: they start on v2 (${[...startsOnV2].join(', ')})`);

    // The pre-deploy replay check: the open runs' histories against both versions 2.
    const histories = await Promise.all(
      open.map(async ({ workflowId, runId }) => ({ workflowId, history: await temporal.client.workflow.getHandle(workflowId, runId).fetchHistory() })),
    );
    const v2Replay = await replayFailures(built.v2, histories);
    const unpatchedReplay = await replayFailures(built.v2Unpatched, histories);
    const openOrderIds = new Set(orders.filter((o) => o.runAtDeploy !== null).map((o) => orderWorkflowId(o.clientOrderId)));
    const unpatchedOrderFailures = unpatchedReplay.filter((f) => openOrderIds.has(f.workflowId));
    notes.push(
      `at the deploy ${open.length} workflows were open (${openOrderIds.size} orders, ${open.length - openOrderIds.size} sessions); their histories replayed against v2 with ${v2Replay.length} failures, against v2 without patched() with ${unpatchedReplay.length} (${unpatchedReplay[0]?.error ?? 'none'})`,
    );
    for (const f of v2Replay) checksFailed.push(`${f.workflowId} does not replay on version 2: ${f.error}`);
    if (unpatchedOrderFailures.length !== openOrderIds.size) checksFailed.push(`the unpatched version 2 should fail the replay of every open order (${openOrderIds.size}); it failed ${unpatchedOrderFailures.length}: the counterfactual did not show`);
    if (unpatchedReplay.some((f) => !/nondetermin|DeterminismViolation/i.test(f.error))) checksFailed.push(`an unpatched replay failed for another reason than nondeterminism: ${unpatchedReplay.find((f) => !/nondetermin|DeterminismViolation/i.test(f.error))?.error}`);

    // ---- 3. version 2 (and, on the counterfactual's queue, version 2 without patched()) ----
    const v2 = await start(queue, built.v2);
    const unsafeWorker = await start(unsafeQueue, built.v2Unpatched);
    log(`  version 2 started ${((Date.now() - deployAt) / 1000).toFixed(1)} s after version 1 stopped; the counterfactual's queue runs v2 without patched()`);
    for (let i = 0; i < sizes.fresh; i++) await startOrder('fresh', queue, market(i % standaloneMarkets), 'crossing');

    // ---- 4. the counterfactual: each open order's task fails nondeterministically ----
    const unsafe = orders.filter((o) => o.category === 'unsafe' && o.runAtDeploy !== null);
    const nondeterministic = new Set<string>();
    const unsafeDeadline = Date.now() + NONDETERMINISM_WAIT_MS;
    while (nondeterministic.size < unsafe.length && Date.now() < unsafeDeadline) {
      for (const o of unsafe) {
        if (nondeterministic.has(o.clientOrderId)) continue;
        const facts = historyFacts((await temporal.client.workflow.getHandle(o.handle.workflowId, o.runAtDeploy!).fetchHistory()).events ?? []);
        if (facts.taskFailures.some((f) => /nondetermin/i.test(f))) nondeterministic.add(o.clientOrderId);
      }
      if (nondeterministic.size < unsafe.length) await sleep(500);
    }
    notes.push(`counterfactual: ${nondeterministic.size} of ${unsafe.length} open orders on the unpatched v2 worker had a workflow task fail with a nondeterminism error (WorkflowTaskFailed), then went on after the patched v2 worker replaced it`);
    if (unsafe.length === 0 || nondeterministic.size < unsafe.length) checksFailed.push(`counterfactual: ${nondeterministic.size} of ${unsafe.length} open orders failed nondeterministically on the unpatched version 2 within ${NONDETERMINISM_WAIT_MS / 1000} s`);
    log(`  counterfactual: ${nondeterministic.size}/${unsafe.length} nondeterministic ${((Date.now() - deployAt) / 1000).toFixed(1)} s after the deploy`);
    await stop(unsafeWorker);
    const rollForward = await start(unsafeQueue, built.v2);
    for (const o of unsafe) await o.handle.signal(cancelOrderSignal, { operator: 'deploy-drill', reason: 'counterfactual done' });

    // ---- every workflow to its end ----
    const deadline = Date.now() + COMPLETION_MS;
    const finalStates: Record<string, string> = {};
    const unfinished: string[] = [];
    for (const s of sessions) {
      const end = await resultWithin<SessionStatus>(s.handle, Math.max(1_000, deadline - Date.now()));
      if ('problem' in end) checksFailed.push(`session ${s.handle.workflowId} did not end: ${end.problem}`);
      else if (end.result.mode !== 'ENDED') checksFailed.push(`session ${s.handle.workflowId} ended in mode ${end.result.mode} (${end.result.haltReason ?? ''}), expected ENDED`);
      else {
        for (let seq = 1; seq <= end.result.ordersStarted; seq++) {
          const coid = makeClientOrderId(s.strategy, tradingDay, seq);
          orders.push({ clientOrderId: coid, category: 'session order', handle: temporal.client.workflow.getHandle(orderWorkflowId(coid)), runAtDeploy: null });
        }
      }
    }
    log(`  sessions ended ${((Date.now() - deployAt) / 1000).toFixed(1)} s after the deploy`);
    for (const o of orders) {
      const end = await resultWithin<OrderStatus>(o.handle, Math.max(1_000, deadline - Date.now()));
      if ('problem' in end) {
        unfinished.push(o.clientOrderId);
        checksFailed.push(`${o.category} order ${o.clientOrderId}: ${end.problem}`);
        continue;
      }
      finalStates[o.clientOrderId] = end.result.state;
      const expected: readonly string[] = o.category === 'resting' || o.category === 'unsafe' || o.category === 'session order' ? ['CANCELED'] : ['FILLED'];
      if (!expected.includes(end.result.state)) checksFailed.push(`${o.category} order ${o.clientOrderId} ended ${end.result.state} (${end.result.rejectReason ?? 'no reason'}), expected ${expected.join(' or ')}`);
    }
    log(`  every workflow ended ${((Date.now() - deployAt) / 1000).toFixed(1)} s after the deploy`);
    await Promise.all([stop(v2), stop(rollForward)]);

    // ---- the histories ----
    let v1RunsOnOldPath = 0;
    let freshOnV2 = 0; // started on v2: fresh, queued, and open at the deploy before their first task
    let unhandledCommands = 0;
    const taskFailureNotes: string[] = [];
    const everyRun = [
      ...orders.map((o) => ({ id: o.handle.workflowId, category: o.category as string, runAtDeploy: o.runAtDeploy })),
      ...sessions.map((s) => ({ id: s.handle.workflowId, category: 'session', runAtDeploy: s.runAtDeploy })),
    ];
    for (const w of everyRun) {
      // The latest run, and the run that was open at the deploy (a continue-as-new may have followed it).
      const runs = new Set<string | undefined>([undefined, ...(w.runAtDeploy ? [w.runAtDeploy] : [])]);
      for (const runId of runs) {
        const facts = historyFacts((await temporal.client.workflow.getHandle(w.id, runId).fetchHistory()).events ?? []);
        unhandledCommands += facts.unhandledCommands;
        if (w.category !== 'unsafe' && facts.taskFailures.length > 0) taskFailureNotes.push(`${w.id}${runId ? ` (run open at the deploy)` : ''}: ${facts.taskFailures[0]}`);
        if (runId !== undefined && w.category !== 'session') {
          if (facts.v2Marker) checksFailed.push(`${w.id}: the run open at the deploy has the v2 marker; it should have replayed the v1 way`);
          else v1RunsOnOldPath++;
        }
        if (runId === undefined && (w.category === 'fresh' || w.category === 'queued' || (startsOnV2.has(w.id) && w.category !== 'session'))) {
          if (facts.v2Marker && facts.v2TimerFirst) freshOnV2++;
          else checksFailed.push(`${w.id} (${w.category}) did not take the v2 path: marker ${facts.v2Marker}, settle timer before its first activity ${facts.v2TimerFirst}`);
        }
      }
    }
    for (const t of taskFailureNotes) checksFailed.push(`workflow task failed: ${t}`);
    notes.push(`${v1RunsOnOldPath} order runs open at the deploy finished on v2 the v1 way (no marker); ${freshOnV2} orders started on v2 (${sizes.queued} queued during the deploy) took the v2 path (marker and ${V2_SETTLE_MS} ms timer; ${startsOnV2.size} of them open but not started at the deploy); ${taskFailureNotes.length} workflow task failures outside the counterfactual (and ${unhandledCommands} completions the server sent back for new events, UNHANDLED_COMMAND)`);

    // ---- the records against the venue ----
    const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, runsUnfinished: unfinished });
    for (const p of result.problems) notes.push(`finding: ${p}`);
    const atVenue = new Map<string, number>();
    for (const o of world.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders ?? []) atVenue.set(o.clientOrderId, (atVenue.get(o.clientOrderId) ?? 0) + 1);
    const overOnce = orders.filter((o) => (atVenue.get(o.clientOrderId) ?? 0) > 1);
    if (overOnce.length > 0) checksFailed.push(`${overOnce.length} client order IDs have more than one venue order: ${overOnce.map((o) => o.clientOrderId).join(', ')}`);
    const counted = new Map<string, number>();
    for (const o of orders) counted.set(o.category, (counted.get(o.category) ?? 0) + 1);
    notes.push(`orders: ${[...counted].map(([k, n]) => `${k} x${n}`).join(', ')}; ${result.venueOrders} venue orders, ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);

    return {
      result: {
        id: DEPLOY_DRILL_ID,
        title: DEPLOY_DRILL_TITLE,
        counts: addCounts(zeroCounts(), { trials: orders.length + sessions.length, ...result.counts }),
        checksFailed,
        notes,
        elapsedMs: Date.now() - started,
      },
      openAtDeploy: open.length,
      openOrdersAtDeploy: openOrderIds.size,
      unsafeOpenAtDeploy: unsafe.length,
      replayV2Failures: v2Replay.length,
      replayUnpatchedFailures: unpatchedReplay.length,
      unsafeNondeterministic: nondeterministic.size,
      finalStates,
    };
  } finally {
    for (const w of [...workers]) await w.stop().catch(() => undefined);
    await Promise.all([...orders.map((o) => o.handle), ...sessions.map((s) => s.handle)].map((h) => terminateQuietly(h, 'deploy drill ended')));
    await world.close();
  }
}

export const DEPLOY_DRILL_ID = 'deploy';
export const DEPLOY_DRILL_TITLE = 'deploy while orders are open: version 1 → version 2 (patched), and the unpatched counterfactual';
