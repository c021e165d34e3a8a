/**
 * The three-worker drill: three worker processes (multi-worker-child.ts: the production worker
 * from its validated config, WORKER_COUNT=3) on one task queue of one Temporal server and one
 * PostgreSQL database (a database of the run's own, dropped after), trading sessions whose
 * scripted watch buys across several markets (crossing limits that fill in parts), and:
 * 1. mid-submit: each session's first order goes through; every later submission is held in the
 *    drill's relay (it has left the worker, not reached the venue) until the first is, and the
 *    worker that order's submitOrder runs on (describe: pendingActivities[].lastWorkerIdentity,
 *    the SDK's `<pid>@<host>`) is SIGKILLed; the held requests then reach the venue late, or are
 *    lost (the seed says which), and the orders resolve by looking themselves up;
 * 2. mid-session: a few seconds on, a worker found running a session's watch the same way is
 *    SIGKILLed (checked: the activity is still pending on the dead worker after the kill);
 * 3. a halt is signalled to every session; the one surviving worker runs everything to its end:
 *    the sessions to the end of their day, every order workflow to a final state.
 * Then it shows, from the exchange's own state and the records:
 * - no duplicate venue order: at most one venue order per client order ID;
 * - no lost or double-counted fill: every venue fill once in the fills table (by trade ID), each
 *   order's filled quantity and each market's position equal to the venue's fills (drills/audit.ts);
 * - the halt consistent: every session ended halted by the operator's MANUAL trip, the records
 *   hold that trip and the HALT in the journal for every session, and no order was first sent
 *   after its session had the halt.
 * Needs a PostgreSQL server (TEST_DATABASE_URL or DATABASE_URL): three processes cannot share PGlite.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { listOperatorActions, loadActiveTrips, openDatabase, type Database, type Db } from '../../db';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { tradingDayIn } from '../../domain/calendar';
import { makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { MICROS, type Money } from '../../domain/money';
import { seededRandom } from '../../domain/random';
import type { RiskLimits } from '../../domain/risk-limits';
import { signalHalt, querySessionStatus } from '../../runtime/session-control';
import { startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { EAGER_FILLS } from '../../testkit/venue-harness';
import type { OrderStatus, SessionStatus, SessionWorkflowInput } from '../../workflows/api';
import type { sessionWorkflow } from '../../workflows/session-workflow';
import { audit } from '../audit';
import { SERVER_URL } from '../backend';
import { DrillChild } from '../child';
import { sleep } from '../controllers';
import { addCounts, zeroCounts, type DrillResult } from '../types';
import { DRILL_LIMITS, PAPER_KEY_ID, venueAt } from '../world';
import type { MultiWorkerChildSpec } from './multi-worker-child';
import { VenueRelay } from './relay';
import { resultWithin, terminateQuietly, type DrillTemporal, type ServerDrill } from './server';

export const MULTI_WORKER_DRILL_ID = 'multi-worker';
export const WORKERS = 3;

/** Parts every third of a second or so: an order of 4-8 fills in several, so fills land on several workers. */
const PARTIAL_FILLS = { ...EAGER_FILLS, fillProbability: 0.3, partialFillProbability: 1, feeCoefficientPpm: 70_000 };
const STARTING_CASH = 100_000_000 * MICROS;
/** Far beyond what the drill's fees and crossed spreads add up to: the only halt is the operator's. */
const DAILY_LOSS = (1_000_000 * MICROS) as Money;
const LIMITS: RiskLimits = Object.freeze({ ...DRILL_LIMITS, maxDailyLoss: DAILY_LOSS });
const BREAKERS = { ...CASE_STUDY_BREAKERS, maxDailyLoss: DAILY_LOSS, maxOrdersInWindow: 10_000, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 };
const MARKETS_PER_SESSION = 3;
const WORKER_READY_MS = 90_000;
/** Bound on finding a kill's target (a session activity on a live worker, a held submission). */
// Longer than the watch's heartbeat timeout (1 min): when kill 1 took the worker every session's
// watch ran on, those watches stay pending on the dead worker until it expires, and only then run
// (and can be found) on a live one.
const FIND_MS = 75_000;
/** Bound on everything ending after the halt: a killed activity sits out its 30 s timeout, the submission's lookup follows. */
const COMPLETION_MS = 240_000;
const OPERATOR = { operator: 'drill-operator', reason: 'multi-worker drill: halt every session' };
/** Client order IDs held in the relay for the mid-submit kill: every one a session could send. */
const HELD_SEQUENCES = 400;

interface Worker {
  child: DrillChild;
  pid: number;
  killed: boolean;
}

interface Shape {
  sessions: number;
  dayMs: number;
  /** The mid-session kill no sooner than this into the day (the mid-submit kill comes at the first held submission). */
  sessionKillAfterMs: number;
  /** The halt no sooner than this into the day (and after the second kill). */
  haltAfterMs: number;
}

/**
 * `trials` sessions, 15 s of day each (at least 30 s), the halt half-way through the day: the
 * mid-submit order's 30 s submission timeout outlasts the rest of the day anyway.
 */
function shapeFor(trials: number): Shape {
  const dayMs = Math.max(30_000, trials * 15_000);
  return { sessions: trials, dayMs, sessionKillAfterMs: Math.max(4_000, trials * 3_000), haltAfterMs: Math.round(dayMs / 2) };
}

function sessionInput(strategy: string, tradingDay: string, marketIds: string[], endOfDayAt: number): SessionWorkflowInput {
  return {
    strategy,
    // The drill scripts this session's watch (multi-worker-child.ts); the strategy named here never runs.
    strategyName: 'model-edge',
    strategyParams: {},
    tradingDay,
    marketIds,
    endOfDayAt,
    watchPeriodMs: 1_000,
    pollIntervalMs: 200,
    orderTtlMs: 8_000,
    maxDailyLoss: DAILY_LOSS,
    breakers: BREAKERS,
    searchAttributes: false,
  };
}

/** The process ID in a Temporal worker identity (the SDK's default `<pid>@<host>`). */
export function pidOfIdentity(identity: string | null | undefined): number | null {
  const m = /^(\d+)@/.exec(identity ?? '');
  return m ? Number(m[1]) : null;
}

interface RunningActivity {
  activityId: string;
  activityType: string;
  pid: number | null;
  attempt: number;
}

/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED: a worker has the activity. */
const PENDING_ACTIVITY_STARTED = 2;

/** The workflow's activities a worker has started and not finished, with the process they run in. */
async function runningActivities(handle: WorkflowHandle): Promise<RunningActivity[]> {
  const described = await handle.describe().catch(() => null);
  return (described?.raw.pendingActivities ?? [])
    .filter((a) => a.state === PENDING_ACTIVITY_STARTED)
    .map((a) => ({ activityId: a.activityId ?? '', activityType: a.activityType?.name ?? '?', pid: pidOfIdentity(a.lastWorkerIdentity), attempt: a.attempt ?? 0 }));
}

/** A database of the run's own on the PostgreSQL server, dropped (with its connections) by `drop`. */
async function freshDatabase(tag: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `drill_mw_${tag}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } catch (e) {
    await admin.end({ timeout: 5 });
    throw e;
  }
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

/** What the drill knows of each order at the end: its session (strategy key) and final status (null: it never ended). */
type OrderEnds = ReadonlyMap<string, { strategy: string; status: OrderStatus | null }>;

/**
 * The halt, consistent everywhere: each session ended with the operator's MANUAL trip and a halt
 * reason, the records hold that trip as active and one HALT journal entry per session, and no
 * order was first sent after its session had the halt (`haltSeenAt`: when its status first showed it).
 */
async function auditHalt(
  db: Db,
  run: { strategies: readonly string[]; tradingDay: string; finals: ReadonlyMap<string, SessionStatus>; orders: OrderEnds; haltSeenAt: ReadonlyMap<string, number> },
): Promise<{ problems: string[]; manualTrips: number; ordersTold: number; sentAfter: number }> {
  const problems: string[] = [];
  const ours = (t: { kind: string; reason: string }) => t.kind === 'MANUAL' && t.reason.includes(OPERATOR.reason);
  const journal = await listOperatorActions(db, { action: 'HALT', limit: 10_000 });
  let manualTrips = 0;
  let ordersTold = 0;
  let sentAfter = 0;
  for (const strategy of run.strategies) {
    const final = run.finals.get(strategy);
    if (final && !final.trips.some(ours)) problems.push(`session ${strategy} ended without the operator's halt: trips ${JSON.stringify(final.trips.map((t) => t.kind))}`);
    if (final && final.haltReason === null) problems.push(`session ${strategy} ended not halted`);
    if ((await loadActiveTrips(db, strategy)).some(ours)) manualTrips++;
    else problems.push(`the records hold no MANUAL trip for ${strategy}`);
    const workflowId = sessionWorkflowId(strategy, run.tradingDay);
    const halts = journal.filter((j) => j.workflowId === workflowId && j.reason === OPERATOR.reason);
    if (halts.length !== 1) problems.push(`the journal holds ${halts.length} HALT entries for ${workflowId}, expected 1`);
    const seen = run.haltSeenAt.get(strategy) ?? Number.POSITIVE_INFINITY;
    for (const [coid, o] of run.orders) {
      if (o.strategy !== strategy || o.status === null) continue;
      if (o.status.haltRequested !== null) ordersTold++;
      const sentAt = o.status.timings.submittedAt;
      if (sentAt !== null && sentAt > seen) {
        sentAfter++;
        problems.push(`${coid} was first sent ${sentAt - seen} ms after its session had the halt`);
      }
    }
  }
  return { problems, manualTrips, ordersTold, sentAfter };
}

/**
 * Every 15 s until stopped, what the still-running workflows wait for: each pending activity and
 * the worker it was on, dead or alive. `stop` returns the activities found pending on dead workers.
 */
function watchStragglers(options: {
  temporal: DrillTemporal;
  workflowIds: () => Promise<string[]>;
  dead: ReadonlySet<number>;
  log: (line: string) => void;
}): { stop(): Promise<Map<string, string>> } {
  const onDead = new Map<string, string>();
  let stopped = false;
  const watching = (async () => {
    while (!stopped) {
      for (let t = 0; t < 15_000 && !stopped; t += 250) await sleep(250);
      if (stopped) break;
      const open: string[] = [];
      for (const id of await options.workflowIds()) {
        const described = await options.temporal.client.workflow.getHandle(id).describe().catch(() => null);
        if (!described || described.status.name !== 'RUNNING') continue;
        const acts = (described.raw.pendingActivities ?? []).map((a) => {
          const pid = pidOfIdentity(a.lastWorkerIdentity);
          const dead = pid !== null && options.dead.has(pid);
          const what = `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? 0}${pid === null ? '' : ` on pid ${pid}${dead ? ' (SIGKILLed)' : ''}`}`;
          if (dead) onDead.set(`${id} ${a.activityType?.name ?? '?'}`, what);
          return what;
        });
        open.push(`${id}: ${acts.join(', ') || 'no activity pending'}`);
      }
      if (open.length > 0) options.log(`still running: ${open.slice(0, 6).join('; ')}${open.length > 6 ? `; +${open.length - 6}` : ''}`);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await watching;
      return onDead;
    },
  };
}

export const multiWorkerDrill: ServerDrill = {
  id: MULTI_WORKER_DRILL_ID,
  title: `Temporal server: ${WORKERS} worker processes on one task queue and one PostgreSQL; one SIGKILLed mid-session, one mid-submit, a halt`,
  defaultTrials: 4,
  quickTrials: 2,
  async run({ trials, seed, log, temporal }): Promise<DrillResult[]> {
    const started = Date.now();
    const row = (counts: Partial<ReturnType<typeof zeroCounts>>, checksFailed: string[], notes: string[]): DrillResult[] => [
      { id: this.id, title: this.title, counts: addCounts(zeroCounts(), counts), checksFailed, notes, elapsedMs: Date.now() - started },
    ];
    if (!SERVER_URL) return row({}, ['needs a PostgreSQL server: set TEST_DATABASE_URL or DATABASE_URL (three worker processes cannot share PGlite)'], []);
    const shape = shapeFor(trials);
    const rng = seededRandom(seed);
    const checksFailed: string[] = [];
    const notes: string[] = [];
    const handles: WorkflowHandle[] = [];
    const workers: Worker[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'drill-mw-'));
    let database: Awaited<ReturnType<typeof freshDatabase>> | null = null;
    let records: Database | null = null;
    let exchange: TestExchange | null = null;
    let relay: VenueRelay | null = null;
    let stopStragglers: (() => Promise<unknown>) | null = null;
    try {
      database = await freshDatabase(temporal.tag);
      records = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 4 });
      exchange = await startTestExchange({ engine: { fillModel: PARTIAL_FILLS, startingCash: STARTING_CASH } });
      relay = await VenueRelay.start(exchange.exchange.url);
      const venue = venueAt(exchange.exchange.url);
      const markets = (await venue.listMarkets()).filter((m) => m.tickSize === 10_000 && m.resolvesAt !== null);
      const taskQueue = temporal.taskQueue('mw');
      const tradingDay = tradingDayIn(Date.now(), 'UTC');
      const strategies = Array.from({ length: shape.sessions }, (_, i) => `${temporal.strategy('mw')}-${i + 1}`);
      notes.push(`records: PostgreSQL database ${database.name} of its own (dropped after); ${temporal.describe}, task queue ${taskQueue}`);

      // ---- three workers ----
      const spec = (): MultiWorkerChildSpec => ({
        address: temporal.handle.address,
        namespace: temporal.handle.namespace,
        taskQueue,
        bundlePath: temporal.bundlePath,
        dataDir,
        databaseUrl: database!.url,
        venueUrl: relay!.url,
        workerCount: WORKERS,
        limits: LIMITS,
        strategies,
      });
      const up = Date.now();
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          const child = new DrillChild('./temporal/multi-worker-child.ts', { MULTI_WORKER_CHILD: JSON.stringify(spec()) });
          const ready = await child.waitForLine((l) => l.startsWith('READY') || l.startsWith('FAILED'), WORKER_READY_MS);
          if (!ready?.startsWith('READY')) {
            await child.kill();
            throw new Error(`a worker did not start: ${ready ?? 'no answer'} ${child.stderr.slice(-800)}`);
          }
          workers.push({ child, pid: child.pid!, killed: false });
        }),
      );
      const live = () => workers.filter((w) => !w.killed);
      const kill = async (pid: number): Promise<boolean> => {
        const w = live().find((x) => x.pid === pid);
        if (!w) return false;
        w.killed = true;
        await w.child.kill();
        return true;
      };
      log(`  ${WORKERS} workers up in ${((Date.now() - up) / 1000).toFixed(1)} s: pids ${workers.map((w) => w.pid).join(', ')}`);

      // ---- the sessions, each one's first order free, every later submission held in the relay until the first kill ----
      const deliverLate = rng.next() < 0.5;
      for (const strategy of strategies) {
        for (let seq = 2; seq <= HELD_SEQUENCES; seq++) relay.hold(makeClientOrderId(strategy, tradingDay, seq), { call: 'submit', at: 'request', deliverAfterKill: deliverLate });
      }
      const dayStart = Date.now();
      const endOfDayAt = dayStart + shape.dayMs;
      const sessionHandles = new Map<string, WorkflowHandle>();
      for (const [i, strategy] of strategies.entries()) {
        const marketIds = Array.from({ length: MARKETS_PER_SESSION }, (_, k) => markets[(i * MARKETS_PER_SESSION + k) % markets.length]!.marketId);
        const handle = await temporal.client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
          taskQueue,
          workflowId: sessionWorkflowId(strategy, tradingDay),
          args: [sessionInput(strategy, tradingDay, [...new Set(marketIds)], endOfDayAt)],
        });
        handles.push(handle);
        sessionHandles.set(strategy, handle);
      }
      const statusOf = (strategy: string): Promise<SessionStatus | null> => querySessionStatus(temporal.client, sessionWorkflowId(strategy, tradingDay)).catch(() => null);
      const tradingBy = Date.now() + 60_000;
      for (const strategy of strategies) {
        for (;;) {
          const s = await statusOf(strategy);
          if (s && s.mode !== 'PREFLIGHT') {
            if (s.mode !== 'TRADING') checksFailed.push(`session ${strategy} did not start trading: ${s.mode} (${s.haltReason ?? ''})`);
            break;
          }
          if (Date.now() > tradingBy) {
            checksFailed.push(`session ${strategy} never left pre-flight`);
            break;
          }
          await sleep(250);
        }
      }
      log(`  ${strategies.length} sessions trading ${((Date.now() - dayStart) / 1000).toFixed(1)} s after their start`);

      // ---- kill 1: the worker a submission is in flight on (the first held in the relay) ----
      let submitKill: { pid: number; clientOrderId: string; attempt: number } | null = null;
      for (const findBy = Date.now() + FIND_MS; submitKill === null && Date.now() < findBy; ) {
        const [clientOrderId] = [...relay.reached.keys()];
        if (clientOrderId === undefined) {
          await sleep(20);
          continue;
        }
        const submit = (await runningActivities(temporal.client.workflow.getHandle(orderWorkflowId(clientOrderId)))).find((a) => a.activityType === 'submitOrder');
        if (!submit || submit.pid === null) {
          await sleep(20);
          continue;
        }
        if (await kill(submit.pid)) submitKill = { pid: submit.pid, clientOrderId, attempt: submit.attempt };
        else {
          checksFailed.push(`kill 1: ${clientOrderId}'s submitOrder runs on pid ${submit.pid}, not a live worker of the drill`);
          break;
        }
      }
      const heldAtKill = relay.reached.size;
      const late = await relay.afterKill();
      if (submitKill === null) checksFailed.push(`kill 1: no submission was found in flight within ${FIND_MS / 1000} s`);
      else {
        const line = `kill 1 (mid-submit): pid ${submitKill.pid} SIGKILLed ${((Date.now() - dayStart) / 1000).toFixed(1)} s into the day while ${submitKill.clientOrderId}'s submitOrder ran on it, its request held between worker and venue; ${heldAtKill} submissions held at the kill, ${late} reached the venue after it (${deliverLate ? 'delivered late' : 'lost'})`;
        notes.push(line);
        log(`  ${line}`);
      }
      // ---- kill 2: a worker while a session's activity runs on it ----
      await sleep(Math.max(0, dayStart + shape.sessionKillAfterMs - Date.now()));
      let sessionKill: { pid: number; strategy: string; activity: RunningActivity; inFlightAfter: boolean } | null = null;
      // The watch first (it lasts half a second, so the kill lands inside it); any session activity after half the time.
      const findFrom = Date.now();
      for (const findBy = findFrom + FIND_MS; sessionKill === null && Date.now() < findBy; ) {
        const anyActivity = Date.now() > findFrom + FIND_MS / 2;
        for (const strategy of strategies) {
          const handle = sessionHandles.get(strategy)!;
          const activity = (await runningActivities(handle)).find((a) => a.pid !== null && live().some((w) => w.pid === a.pid) && (anyActivity || a.activityType === 'watchForSignal'));
          if (!activity || !(await kill(activity.pid!))) continue;
          // Still pending with the same attempt after the kill: it was in flight on the dead worker.
          const after = await runningActivities(handle);
          sessionKill = { pid: activity.pid!, strategy, activity, inFlightAfter: after.some((a) => a.activityId === activity.activityId && a.attempt === activity.attempt) };
          break;
        }
        if (sessionKill === null) await sleep(50);
      }
      if (sessionKill === null) checksFailed.push(`kill 2: no session activity was found running on a worker within ${FIND_MS / 1000} s`);
      else {
        const line = `kill 2 (mid-session): pid ${sessionKill.pid} SIGKILLed ${((Date.now() - dayStart) / 1000).toFixed(1)} s into the day while session ${sessionKill.strategy}'s ${sessionKill.activity.activityType} (attempt ${sessionKill.activity.attempt}) ran on it${sessionKill.inFlightAfter ? '' : ' (it had just finished)'}`;
        notes.push(line);
        log(`  ${line}`);
        if (!sessionKill.inFlightAfter) checksFailed.push(`kill 2 did not land mid-activity: ${sessionKill.activity.activityType} of ${sessionKill.strategy} had finished`);
      }

      const survivors = live();
      notes.push(`survivor: pid ${survivors.map((w) => w.pid).join(', ')}`);

      // ---- the halt ----
      await sleep(Math.max(1_000, dayStart + shape.haltAfterMs - Date.now()));
      const haltSentAt = Date.now();
      await Promise.all(strategies.map((s) => signalHalt(temporal.client, sessionWorkflowId(s, tradingDay), OPERATOR)));
      const haltSeenAt = new Map<string, number>();
      for (const findBy = Date.now() + 60_000; haltSeenAt.size < strategies.length && Date.now() < findBy; ) {
        for (const strategy of strategies) {
          if (haltSeenAt.has(strategy)) continue;
          const s = await statusOf(strategy);
          if (s?.haltReason) haltSeenAt.set(strategy, Date.now());
        }
        await sleep(100);
      }
      for (const s of strategies) if (!haltSeenAt.has(s)) checksFailed.push(`session ${s} did not report the halt within 60 s`);
      log(`  halt signalled ${((haltSentAt - dayStart) / 1000).toFixed(1)} s into the day; every session reported it within ${((Math.max(haltSentAt, ...haltSeenAt.values()) - haltSentAt) / 1000).toFixed(1)} s`);

      // ---- the survivor runs everything to its end ----
      const completionBy = Date.now() + COMPLETION_MS;
      const stragglers = watchStragglers({
        temporal,
        workflowIds: async () =>
          (
            await Promise.all(
              strategies.map(async (strategy) => {
                const started = (await statusOf(strategy))?.ordersStarted ?? 0;
                return [sessionWorkflowId(strategy, tradingDay), ...Array.from({ length: started }, (_, i) => orderWorkflowId(makeClientOrderId(strategy, tradingDay, i + 1)))];
              }),
            )
          ).flat(),
        dead: new Set(workers.filter((w) => w.killed).map((w) => w.pid)),
        log: (line) => log(`  ${((Date.now() - haltSentAt) / 1000).toFixed(0)} s after the halt, ${line}`),
      });
      stopStragglers = () => stragglers.stop();
      const finals = new Map<string, SessionStatus>();
      for (const strategy of strategies) {
        const end = await resultWithin<SessionStatus>(sessionHandles.get(strategy)!, Math.max(1_000, completionBy - Date.now()));
        if ('result' in end) finals.set(strategy, end.result);
        else checksFailed.push(`session ${strategy} did not end: ${end.problem}`);
      }
      const orders = new Map<string, { strategy: string; status: OrderStatus | null }>();
      const unfinished: string[] = [];
      for (const strategy of strategies) {
        const count = finals.get(strategy)?.ordersStarted ?? 0;
        for (let seq = 1; seq <= count; seq++) {
          const coid = makeClientOrderId(strategy, tradingDay, seq);
          const handle = temporal.client.workflow.getHandle(orderWorkflowId(coid));
          handles.push(handle);
          const end = await resultWithin<OrderStatus>(handle, Math.max(1_000, completionBy - Date.now()));
          orders.set(coid, { strategy, status: 'result' in end ? end.result : null });
          if ('problem' in end) unfinished.push(coid);
        }
      }
      const settledMs = Date.now() - haltSentAt;
      const waits = await stragglers.stop();
      if (waits.size > 0) notes.push(`pending on SIGKILLed workers after the halt, until their start-to-close or heartbeat timeouts: ${[...waits].map(([k, v]) => `${k.split(' ')[0]} ${v}`).join('; ')}`);
      log(`  ${orders.size} orders and ${finals.size} sessions ended ${(settledMs / 1000).toFixed(1)} s after the halt`);
      if (unfinished.length > 0) checksFailed.push(`${unfinished.length} order workflows did not end: ${unfinished.slice(0, 10).join(', ')}`);
      for (const w of live()) {
        w.killed = true;
        await w.child.kill();
      }

      // ---- duplicates, fills, positions: the venue against the records ----
      const result = await audit({ db: records.db, venue: venueAt(exchange.exchange.url), exchange: exchange.exchange, keyId: PAPER_KEY_ID, runsUnfinished: unfinished });
      for (const p of result.problems) notes.push(`finding: ${p}`);
      const atVenue = new Map<string, number>();
      for (const o of exchange.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders ?? []) atVenue.set(o.clientOrderId, (atVenue.get(o.clientOrderId) ?? 0) + 1);
      const twice = [...atVenue].filter(([, n]) => n > 1);
      if (twice.length > 0) checksFailed.push(`client order IDs with more than one venue order: ${twice.map(([c, n]) => `${c} x${n}`).join(', ')}`);
      const strangers = [...atVenue.keys()].filter((c) => !orders.has(c));
      if (strangers.length > 0) checksFailed.push(`venue orders no session started: ${strangers.slice(0, 10).join(', ')}`);
      if (result.venueFills !== result.recordedFills) checksFailed.push(`${result.venueFills} fills at the venue, ${result.recordedFills} rows in the fills table`);
      if (result.venueFills === 0) checksFailed.push('no order filled: the drill judged no fills');
      if (atVenue.size < strategies.length) checksFailed.push(`only ${atVenue.size} venue orders: the sessions hardly traded`);

      // ---- the halt: sessions, records, orders ----
      const halt = await auditHalt(records.db, { strategies, tradingDay, finals, orders, haltSeenAt });
      checksFailed.push(...halt.problems);

      const byState = new Map<string, number>();
      for (const o of orders.values()) if (o.status) byState.set(o.status.state, (byState.get(o.status.state) ?? 0) + 1);
      notes.push(
        `${strategies.length} sessions x ${MARKETS_PER_SESSION} markets over a ${shape.dayMs / 1000} s day: ${orders.size} orders (${[...byState].map(([k, n]) => `${k} x${n}`).join(', ')}), ${result.venueOrders} venue orders, ${result.venueFills} venue fills, ${result.recordedFills} fill rows`,
      );
      notes.push(`kills: ${WORKERS - survivors.length} SIGKILLs mid-run (the survivor is stopped once every workflow ended); duplicates ${result.counts.duplicates}, lost fills ${result.counts.lostFills}, double-counted ${result.counts.doubleCountedFills}, unresolved ${result.counts.unresolved}`);
      const relayed = [...relay.answers.values()].reduce((a, b) => a + b, 0);
      notes.push(
        `venue traffic of the ${WORKERS} workers (each on 1/${WORKERS} of the client budget, WORKER_COUNT=${WORKERS}): ${relayed} answers, busiest second ${Math.max(0, ...relay.answersPerSecond.values())}, ${relay.answers.get(429) ?? 0} refused by the venue's rate limit (429)`,
      );
      notes.push(`halt: ${haltSeenAt.size}/${strategies.length} sessions reported it, ${halt.manualTrips} MANUAL trips in the records, ${halt.ordersTold} orders working at it received it, ${halt.sentAfter} orders first sent after it; everything ended ${(settledMs / 1000).toFixed(1)} s after it`);
      return row({ trials: orders.size, ...result.counts }, checksFailed, notes);
    } finally {
      await stopStragglers?.();
      for (const w of workers) if (!w.killed) await w.child.kill().catch(() => undefined);
      await Promise.all(handles.map((h) => terminateQuietly(h, 'multi-worker drill ended')));
      await relay?.close().catch(() => undefined);
      await exchange?.close().catch(() => undefined);
      await records?.close().catch(() => undefined);
      await database?.drop().catch((e: unknown) => log(`  could not drop the drill's database: ${e instanceof Error ? e.message : String(e)}`));
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
