/**
 * Drill 1, server form: order workflows (workflows/order-workflow.ts) on a Temporal server, run by
 * a real worker in a child process (worker-child.ts), SIGKILLed at every point of an order's life.
 * A trial is one order whose worker was SIGKILLed during its life. Trials run in waves; each wave
 * has its own worker child and ends in one SIGKILL that lands on all of its orders, each held at
 * its point until then:
 * - before-submit: the submit activity runs, nothing has been sent (held in the worker);
 * - during-submit: the submission has left the worker and not reached the venue (held in the
 *   relay, relay.ts); after the kill it reaches the venue late, or is lost (half each);
 * - after-accept: the venue accepted the order, its answer is held in the relay and lost;
 * - between-fills: part of the order's fills are recorded, more are coming (held in the worker
 *   after its poll recorded them; the exchange fills in small parts);
 * - during-cancel: a resting order's time-to-live ran out and its cancel is under way (held in the
 *   relay: the request, delivered late or lost, or the venue's answer);
 * - continue-as-new: the order workflow does not continue-as-new, the session does. Sessions whose
 *   watch is scripted to signal resting buys hand over to a new run (the drill's dev server
 *   suggests it after 60 events), and are held in the new run's first activity: a trial is each
 *   order the session started that is still working when the kill lands.
 * A new worker child starts after a random 0-300 ms down time, with the next wave's holds; the
 * server hands the killed worker's tasks to it (workflow tasks after the sticky queue's timeout,
 * activities after their 30 s start-to-close timeout), so earlier waves recover while later ones
 * are killed, and may be killed again. After the last wave a worker without holds runs every
 * workflow to its end (each wait bounded), and the audit compares the venue with the records, for
 * every order and for each point's orders.
 */
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { OrderStatus, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { tradingDayIn } from '../../domain/calendar';
import { clientOrderIdFromWorkflowId, makeClientOrderId, orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { MICROS, type Money, type Price } from '../../domain/money';
import type { RiskLimits } from '../../domain/risk-limits';
import { seededRandom } from '../../domain/random';
import type { orderWorkflow } from '../../workflows/order-workflow';
import type { sessionWorkflow } from '../../workflows/session-workflow';
import { EAGER_FILLS } from '../../testkit/venue-harness';
import { audit } from '../audit';
import type { DrillChild } from '../child';
import { orderInput, sleep } from '../controllers';
import { addCounts, zeroCounts, type DrillCounts, type DrillResult } from '../types';
import { DRILL_LIMITS, DrillWorld, PAPER_KEY_ID } from '../world';
import { VenueRelay, type RelayHold } from './relay';
import { resultWithin, terminateQuietly, type DrillTemporal } from './server';
import type { ServerDrill } from './server';

export const SERVER_KILL_POINTS = ['before-submit', 'during-submit', 'after-accept', 'between-fills', 'during-cancel', 'continue-as-new'] as const;
export type ServerKillPoint = (typeof SERVER_KILL_POINTS)[number];
const ORDER_POINTS = SERVER_KILL_POINTS.filter((p) => p !== 'continue-as-new');

/** Slow partial fills (about one a second, each part of what is left): an order of 10-20 takes seconds to fill, so "between fills" lasts. */
const SLOW_PARTIAL_FILLS = { ...EAGER_FILLS, fillProbability: 0.1, partialFillProbability: 1, feeCoefficientPpm: 70_000 };
const STARTING_CASH = 100_000_000 * MICROS;
/**
 * A day's loss far beyond what a thousand trials of fees and crossed spreads add up to: orders are
 * judged on the kill, not refused by the daily-loss rule (or a session halted by its breaker) late in a run.
 */
const CRASH_DAILY_LOSS = (1_000_000 * MICROS) as Money;
const CRASH_LIMITS: RiskLimits = Object.freeze({ ...DRILL_LIMITS, maxDailyLoss: CRASH_DAILY_LOSS });
/** Trials per wave: the holds of one wave (about 5 of every 6 are activities or venue calls in flight) stay under the worker's 100 activity slots. */
const TRIALS_PER_WAVE = 60;
/** Resting orders signalled per session run. */
const SESSION_SIGNALS_PER_RUN = 2;
/** Longest wait for a wave's holds before the kill: under the venue client's wait and the activities' 30 s timeout. */
const WAVE_HOLD_MS = 20_000;
const WORKER_VENUE_TIMEOUT_MS = 25_000;
/** Longest wait for all workflows after the last kill: killed activities wait out their 30 s timeout, maybe more than once. */
const COMPLETION_MS = 300_000;
/** A session's trading day: long enough to reach its continue-as-new and outlive the wait its killed activity has to sit out. */
const SESSION_DAY_MS = 40_000;
const CROSSING_TTL_MS = 8_000;
const CANCEL_TTL_MS = 2_000;
const SESSION_ORDER_TTL_MS = 20_000;

interface Trial {
  clientOrderId: string;
  point: ServerKillPoint;
  wave: number;
  reached: boolean;
  /** What happened to a call the relay held (delivered late, lost, answer lost). */
  detail: string;
}

interface PlannedOrder {
  clientOrderId: string;
  sequence: number;
  quantity: number;
  point: Exclude<ServerKillPoint, 'continue-as-new'>;
  marketId: string;
  relay: RelayHold | null;
}

interface PlannedSession {
  strategy: string;
  workflowId: string;
  marketId: string;
}

function sessionInput(strategy: string, tradingDay: string, marketId: string, now: number): SessionWorkflowInput {
  return {
    strategy,
    // The drill scripts this session's watch (worker-child.ts); the strategy named here never runs.
    strategyName: 'model-edge',
    strategyParams: {},
    tradingDay,
    marketIds: [marketId],
    endOfDayAt: now + SESSION_DAY_MS,
    watchPeriodMs: 300,
    pollIntervalMs: 100,
    orderTtlMs: SESSION_ORDER_TTL_MS,
    maxDailyLoss: CRASH_DAILY_LOSS,
    breakers: { ...CASE_STUDY_BREAKERS, maxDailyLoss: CRASH_DAILY_LOSS, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 },
    searchAttributes: false,
  };
}

/** The orders a session started before `at` and still working then (its client order IDs run 1, 2, ...). */
async function sessionOrdersWorkingAt(temporal: DrillTemporal, session: PlannedSession, tradingDay: string, at: number): Promise<string[]> {
  const working: string[] = [];
  for (let seq = 1; seq <= 1_000; seq++) {
    const coid = makeClientOrderId(session.strategy, tradingDay, seq);
    const described = await temporal.client.workflow
      .getHandle(orderWorkflowId(coid))
      .describe()
      .catch(() => null);
    if (described === null) break;
    if (described.startTime.getTime() < at && (described.closeTime === undefined || described.closeTime.getTime() > at)) working.push(coid);
  }
  return working;
}

/** Whether the order's workflow had already closed at `at`. */
async function endedBefore(temporal: DrillTemporal, clientOrderId: string, at: number): Promise<boolean> {
  const described = await temporal.client.workflow
    .getHandle(orderWorkflowId(clientOrderId))
    .describe()
    .catch(() => null);
  return described?.closeTime !== undefined && described.closeTime.getTime() <= at;
}

function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function rowFor(id: string, title: string, trials: number, counts: Partial<DrillCounts>, notes: string[], elapsedMs: number): DrillResult {
  return { id, title, counts: addCounts(zeroCounts(), { ...counts, trials }), checksFailed: [], notes, elapsedMs };
}

export const serverCrashDrill: ServerDrill = {
  id: '1-server-sigkill',
  title: 'Temporal server: the worker process SIGKILLed at every point of an order life, then restarted',
  defaultTrials: 60,
  quickTrials: 12,
  async run({ trials, seed, log, temporal }): Promise<DrillResult[]> {
    const started = Date.now();
    const rng = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
    const world = await DrillWorld.open('tcrash', { exchange: { engine: { fillModel: SLOW_PARTIAL_FILLS, startingCash: STARTING_CASH } } });
    const relay = await VenueRelay.start(world.exchange.url);
    const taskQueue = temporal.taskQueue('crash');
    const strategy = temporal.strategy('tk');
    const notes = [
      `records: ${world.backend.describe}`,
      `${temporal.describe}, task queue ${taskQueue}; worker children run worker/worker.ts runWorker on createActivities, their venue calls through the drill's relay`,
    ];
    if (!temporal.quickContinueAsNew) notes.push('the server was not started by the drill: sessions continue-as-new at its own threshold, likely not within a wave, so continue-as-new holds may not be reached');
    const checksFailed: string[] = [];
    const trialList: Trial[] = [];
    const sessions: PlannedSession[] = [];
    const orderHandles: WorkflowHandle[] = [];
    const sessionHandles: WorkflowHandle[] = [];
    const tradingDay = tradingDayIn(Date.now(), 'UTC');
    let sequence = 0;
    let worker: DrillChild | null = null;
    let lateDeliveries = 0;
    const endedBeforeKill: string[] = [];
    const killTimes = new Map<string, number>();
    try {
      for (let wave = 1; trialList.length < trials; wave++) {
        const size = Math.min(TRIALS_PER_WAVE, trials - trialList.length);
        // One trial in six at the continue-as-new point: SESSION_SIGNALS_PER_RUN orders per session.
        const sessionCount = size >= SERVER_KILL_POINTS.length ? Math.max(1, Math.round(size / SERVER_KILL_POINTS.length / SESSION_SIGNALS_PER_RUN)) : 0;
        const orderCount = size - sessionCount * SESSION_SIGNALS_PER_RUN;
        const points = shuffle(Array.from({ length: orderCount }, (_, i) => ORDER_POINTS[i % ORDER_POINTS.length]!), () => rng.next());
        const orders: PlannedOrder[] = points.map((point, i) => {
          const clientOrderId = makeClientOrderId(strategy, tradingDay, ++sequence);
          const relayHold: RelayHold | null =
            point === 'during-submit'
              ? { call: 'submit', at: 'request', deliverAfterKill: rng.next() < 0.5 }
              : point === 'after-accept'
                ? { call: 'submit', at: 'response', deliverAfterKill: false }
                : point === 'during-cancel'
                  ? { call: 'cancel', at: rng.next() < 0.5 ? 'request' : 'response', deliverAfterKill: rng.next() < 0.5 }
                  : null;
          const quantity = point === 'between-fills' ? 10 + Math.floor(rng.next() * 11) : 3 + Math.floor(rng.next() * 13);
          return { clientOrderId, sequence, quantity, point, marketId: world.markets[(sequence + i) % world.markets.length]!.marketId, relay: relayHold };
        });
        const waveSessions: PlannedSession[] = Array.from({ length: sessionCount }, (_, i) => {
          const key = `${temporal.strategy('ts')}-${wave}-${i + 1}`;
          return { strategy: key, workflowId: sessionWorkflowId(key, tradingDay), marketId: pick(world.markets).marketId };
        });
        sessions.push(...waveSessions);
        for (const o of orders) if (o.relay) relay.hold(o.clientOrderId, o.relay);

        const waveStarted = Date.now();
        worker = await temporal.startWorker(world, taskQueue, {
          config: { limits: CRASH_LIMITS },
          venueUrl: relay.url,
          venueTimeoutMs: WORKER_VENUE_TIMEOUT_MS,
          holds: {
            beforeSubmit: orders.filter((o) => o.point === 'before-submit').map((o) => o.clientOrderId),
            betweenFills: orders.filter((o) => o.point === 'between-fills').map((o) => o.clientOrderId),
            continueAsNew: waveSessions.map((s) => s.workflowId),
          },
          scripted: { strategies: sessions.map((s) => s.strategy), signalling: waveSessions.map((s) => s.strategy), signalsPerRun: SESSION_SIGNALS_PER_RUN },
        });

        const now = Date.now();
        const workerUpMs = now - waveStarted;
        for (const s of waveSessions) {
          sessionHandles.push(
            await temporal.client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', {
              taskQueue,
              workflowId: s.workflowId,
              args: [sessionInput(s.strategy, tradingDay, s.marketId, now)],
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            }),
          );
        }
        await Promise.all(
          orders.map(async (o) => {
            const resting = o.point === 'during-cancel';
            const quote = await world.venue.getMarketSnapshot(o.marketId);
            const limitPrice = (resting ? Math.max(10_000, (quote.bid ?? 500_000) - 30_000) : Math.min(990_000, (quote.ask ?? 500_000) + 20_000)) as Price;
            const input = orderInput({
              strategy,
              tradingDay,
              sequence: o.sequence,
              marketId: o.marketId,
              side: 'BUY',
              quantity: o.quantity,
              limitPrice,
              ttlMs: resting ? CANCEL_TTL_MS : CROSSING_TTL_MS,
              at: Date.now(),
            });
            orderHandles.push(
              await temporal.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
                taskQueue,
                workflowId: orderWorkflowId(o.clientOrderId),
                args: [input],
                workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              }),
            );
          }),
        );

        // Hold until every planned point is reached, or the wave's deadline.
        const child = worker;
        const heldInWorker = () => new Set(child.lines.filter((l) => l.startsWith('HELD ')).map((l) => l.split(' ')[2]!));
        const reachedAll = () => {
          const held = heldInWorker();
          return orders.every((o) => (o.relay ? relay.reached.has(o.clientOrderId) : held.has(o.clientOrderId))) && waveSessions.every((s) => held.has(s.workflowId));
        };
        const deadline = Date.now() + WAVE_HOLD_MS;
        while (!reachedAll() && Date.now() < deadline && child.running) await sleep(20);
        const held = heldInWorker();

        const killedAt = Date.now();
        await temporal.killWorker(world, child);
        worker = null;
        lateDeliveries += await relay.afterKill();

        for (const o of orders) {
          killTimes.set(o.clientOrderId, killedAt);
          const reached = o.relay ? relay.reached.has(o.clientOrderId) : held.has(o.clientOrderId);
          if (!reached && (await endedBefore(temporal, o.clientOrderId, killedAt))) {
            // Not a trial: the kill found no life to interrupt. A later wave makes up the number.
            endedBeforeKill.push(o.clientOrderId);
            continue;
          }
          const detail =
            o.relay === null ? '' : o.relay.at === 'response' ? 'answer lost' : o.relay.deliverAfterKill ? 'request reached the venue after the kill' : 'request lost';
          trialList.push({ clientOrderId: o.clientOrderId, point: o.point, wave, reached, detail });
        }
        let sessionTrials = 0;
        for (const s of waveSessions) {
          const reached = held.has(s.workflowId);
          for (const coid of await sessionOrdersWorkingAt(temporal, s, tradingDay, killedAt)) {
            trialList.push({ clientOrderId: coid, point: 'continue-as-new', wave, reached, detail: s.workflowId });
            sessionTrials++;
          }
        }
        relay.reached.clear();
        const mine = trialList.filter((t) => t.wave === wave);
        const reachedCount = mine.filter((t) => t.reached).length;
        const short = SERVER_KILL_POINTS.map((p) => [p, mine.filter((t) => t.point === p && !t.reached).length] as const).filter(([, n]) => n > 0);
        if (short.length > 0) log(`  wave ${wave}: not held at the kill: ${short.map(([p, n]) => `${p} x${n}`).join(', ')}`);
        log(`  wave ${wave}: ${orders.length} orders and ${waveSessions.length} sessions (${sessionTrials} session orders working) killed; ${reachedCount} of ${orders.length + sessionTrials} at their point; ${trialList.length}/${trials} trials (worker up in ${(workerUpMs / 1000).toFixed(1)} s, killed ${((killedAt - now) / 1000).toFixed(1)} s after the first start)`);
        await sleep(Math.floor(rng.next() * 300));
      }

      worker = await temporal.startWorker(world, taskQueue, {
        config: { limits: CRASH_LIMITS },
        venueUrl: relay.url,
        venueTimeoutMs: WORKER_VENUE_TIMEOUT_MS,
        scripted: { strategies: sessions.map((s) => s.strategy), signalling: [], signalsPerRun: 0 },
      });
      const completionDeadline = Date.now() + COMPLETION_MS;
      const unfinished: string[] = [];
      const states = new Map<string, number>();
      const finalStates = new Map<string, string>();
      for (const handle of orderHandles) {
        const end = await resultWithin<OrderStatus>(handle, Math.max(1_000, completionDeadline - Date.now()));
        const label = 'result' in end ? end.result.state : 'unfinished';
        if ('result' in end) {
          const r = end.result;
          const killedAt = killTimes.get(r.clientOrderId) ?? 0;
          const rel = (at: number | null) => (at === null ? 'never' : `${((at - killedAt) / 1000).toFixed(1)} s`);
          const acked = `risk checked ${rel(r.timings.riskCheckedAt)}, acknowledged ${rel(r.timings.acknowledgedAt)}, ended ${rel(r.timings.completedAt)} from the kill`;
          finalStates.set(r.clientOrderId, `${r.state}${r.rejectReason ? ` (${r.rejectReason.slice(0, 120)})` : ''}, ${r.filledQuantity}/${r.quantity} filled, ${r.polls} polls, ${acked}`);
        }
        states.set(label, (states.get(label) ?? 0) + 1);
        if ('problem' in end) {
          unfinished.push(clientOrderIdFromWorkflowId(handle.workflowId));
          log(`  ${handle.workflowId}: ${end.problem}`);
        }
      }
      for (const handle of sessionHandles) {
        const end = await resultWithin(handle, Math.max(1_000, completionDeadline - Date.now()));
        if ('problem' in end) checksFailed.push(`session ${handle.workflowId} did not end: ${end.problem}`);
      }
      // The sessions' orders, trials or not, each to its end as well.
      const sessionOrders = new Set(trialList.filter((t) => t.point === 'continue-as-new').map((t) => t.clientOrderId));
      for (const s of sessions) for (const coid of await sessionOrdersWorkingAt(temporal, s, tradingDay, Date.now())) sessionOrders.add(coid);
      for (const coid of sessionOrders) {
        const end = await resultWithin<OrderStatus>(temporal.client.workflow.getHandle(orderWorkflowId(coid)), Math.max(1_000, completionDeadline - Date.now()));
        const label = 'result' in end ? end.result.state : 'unfinished';
        states.set(label, (states.get(label) ?? 0) + 1);
        if ('problem' in end) unfinished.push(coid);
      }
      log(`  every workflow ended ${((Date.now() - completionDeadline + COMPLETION_MS) / 1000).toFixed(1)} s after the last kill`);
      await temporal.killWorker(world, worker);
      worker = null;

      const groups = new Map(trialList.map((t) => [t.clientOrderId, t.point]));
      const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, runsUnfinished: unfinished, groups });
      for (const p of result.problems) notes.push(`finding: ${p}`);
      if (unfinished.length > 0) checksFailed.push(`${unfinished.length} order workflows did not complete within ${COMPLETION_MS / 1000} s: ${unfinished.slice(0, 20).join(', ')}`);
      const drillOrders = trialList.filter((t) => t.point !== 'continue-as-new').map((t) => t.clientOrderId);
      const atVenue = new Map<string, number>();
      for (const o of world.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders ?? []) atVenue.set(o.clientOrderId, (atVenue.get(o.clientOrderId) ?? 0) + 1);
      const notOnce = drillOrders.filter((c) => atVenue.get(c) !== 1);
      if (notOnce.length > 0) notes.push(`finding: ${notOnce.length} drill orders do not have exactly one venue order: ${notOnce.slice(0, 20).map((c) => `${c} x${atVenue.get(c) ?? 0}`).join(', ')}`);
      const waves = Math.max(0, ...trialList.map((t) => t.wave));
      notes.push(`${trialList.length} trials in ${waves} waves (one SIGKILL each); ${lateDeliveries} held requests reached the venue after their kill`);
      if (endedBeforeKill.length > 0) notes.push(`${endedBeforeKill.length} orders ended before their wave's kill and are not trials: ${endedBeforeKill.slice(0, 10).map((c) => `${c} (${finalStates.get(c) ?? '?'})`).join(', ')}`);
      notes.push(`workflow outcomes: ${[...states].map(([k, n]) => `${k} x${n}`).join('; ')}`);
      notes.push(`${result.venueOrders} venue orders; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);

      const elapsedMs = Date.now() - started;
      const rows: DrillResult[] = [{ id: this.id, title: this.title, counts: addCounts(zeroCounts(), { trials: trialList.length, ...result.counts }), checksFailed, notes, elapsedMs }];
      for (const point of SERVER_KILL_POINTS) {
        const mine = trialList.filter((t) => t.point === point);
        const reached = mine.filter((t) => t.reached).length;
        const details = new Map<string, number>();
        for (const t of mine) if (t.point !== 'continue-as-new' && t.detail) details.set(t.detail, (details.get(t.detail) ?? 0) + 1);
        const pointNotes = [`${reached} of ${mine.length} held at the point when the kill landed (the rest were killed wherever they were)`];
        const missed = mine.filter((t) => !t.reached).map((t) => `${t.clientOrderId} (${finalStates.get(t.clientOrderId) ?? '?'})`);
        if (missed.length > 0) pointNotes.push(`not held: ${missed.slice(0, 10).join(', ')}${missed.length > 10 ? ', ...' : ''}`);
        if (details.size > 0) pointNotes.push([...details].map(([k, n]) => `${k} x${n}`).join('; '));
        rows.push(rowFor(`  ${point}`, `${this.title}: ${point}`, mine.length, result.byGroup.get(point) ?? {}, pointNotes, elapsedMs));
      }
      return rows;
    } finally {
      if (worker) await temporal.killWorker(world, worker).catch(() => undefined);
      await Promise.all([...orderHandles, ...sessionHandles].map((h) => terminateQuietly(h, 'drill 1 (server form) ended')));
      await relay.close();
      await world.close();
    }
  },
};
