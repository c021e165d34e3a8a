/**
 * Drill 5, server form: a session workflow (workflows/session-workflow.ts) with a tiny daily-loss
 * breaker on a Temporal server, run by a real worker in a child process.
 * 1. Two scripted order workflows make a losing round trip; the session's breaker trips
 *    (sessionStatusQuery shows the DAILY_LOSS trip) and the worker is SIGKILLed while halted.
 * 2. A new worker child takes over, its activities' clock moved past midnight UTC into the next
 *    trading day (quote-age limits widened, as in the no-server form). The halted session is
 *    still halted, and an operator's resume signal does not lift it.
 * 3. The next day's session starts halted by the carried trip; resume does not lift it either,
 *    and an order workflow given that halt is rejected before the venue.
 * 4. dailyResetWorkflow (workflows/operations-workflows.ts) lifts the trip and signals the
 *    sessions: the next day's session reports no halt.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { ActivityConfig } from '../../activities/deps';
import { loadActiveTrips } from '../../db';
import type { OrderStatus, SessionStatus, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { addDays, startOfDayIn, tradingDayIn } from '../../domain/calendar';
import { orderWorkflowId, sessionWorkflowId } from '../../domain/ids';
import { MICROS, type Money } from '../../domain/money';
import type { dailyResetWorkflow } from '../../workflows/operations-workflows';
import type { orderWorkflow } from '../../workflows/order-workflow';
import type { sessionWorkflow } from '../../workflows/session-workflow';
import { querySessionStatus, signalResume } from '../../runtime/session-control';
import { audit } from '../audit';
import type { DrillChild } from '../child';
import { orderInput, sleep, type ScriptedOrder } from '../controllers';
import { addCounts, zeroCounts, type DrillResult } from '../types';
import { DRILL_LIMITS, DrillWorld, PAPER_KEY_ID } from '../world';
import { resultWithin, terminateQuietly, type DrillTemporal } from './server';
import type { ServerDrill } from './server';

const BREAKER_LOSS = (MICROS / 2) as Money;
const DAY_MS = 86_400_000;
const OPERATOR = { operator: 'drill-operator', reason: 'drill 5 (server form): try to trade again' };

function dayConfig(quoteAgeMs: number): Partial<ActivityConfig> {
  return {
    limits: { ...DRILL_LIMITS, maxQuoteAgeMs: quoteAgeMs },
    breakers: { ...CASE_STUDY_BREAKERS, maxDailyLoss: BREAKER_LOSS, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 },
    maxQuoteAgeMs: quoteAgeMs,
  };
}

function sessionInput(strategy: string, tradingDay: string, marketId: string, now: number, config: Partial<ActivityConfig>): SessionWorkflowInput {
  return {
    strategy,
    // Without a model probability this strategy never signals: only the drill's orders trade.
    strategyName: 'model-edge',
    strategyParams: {},
    tradingDay,
    marketIds: [marketId],
    endOfDayAt: now + 10 * 60_000,
    watchPeriodMs: 500,
    pollIntervalMs: 200,
    orderTtlMs: 5_000,
    maxDailyLoss: DRILL_LIMITS.maxDailyLoss,
    breakers: config.breakers!,
    searchAttributes: false,
  };
}

/** Polls the session's status query until `test` holds; the last status seen, or null if it never held. */
async function statusUntil(temporal: DrillTemporal, workflowId: string, test: (s: SessionStatus) => boolean, timeoutMs: number): Promise<{ ok: boolean; last: SessionStatus | null }> {
  const deadline = Date.now() + timeoutMs;
  let last: SessionStatus | null = null;
  for (;;) {
    try {
      last = await querySessionStatus(temporal.client, workflowId);
      if (test(last)) return { ok: true, last };
    } catch {
      // the query waits for a worker; a restarted one may not poll yet
    }
    if (Date.now() > deadline) return { ok: false, last };
    await sleep(250);
  }
}

const hasDailyLoss = (s: SessionStatus) => s.trips.some((t) => t.kind === 'DAILY_LOSS') && s.haltReason !== null;

export const serverDailyLossDrill: ServerDrill = {
  id: '5-server-daily-loss-crash-reset',
  title: 'Temporal server: daily loss trips a session workflow, the worker is SIGKILLed while halted, dailyResetWorkflow lifts it',
  defaultTrials: 2,
  quickTrials: 1,
  async run({ trials, log, temporal }): Promise<DrillResult[]> {
    const started = Date.now();
    const notes = [
      `${temporal.describe}; worker children run worker/worker.ts runWorker on createActivities, each trial on fresh records, a fresh exchange and its own task queue`,
      `breaker daily loss ${BREAKER_LOSS / MICROS} USD; the next trading day is simulated by moving the restarted worker's activity clock past midnight UTC`,
    ];
    const checksFailed: string[] = [];
    const totals = addCounts(zeroCounts(), { trials });
    for (let i = 0; i < trials; i++) {
      const trial = i + 1;
      const fail = (what: string) => checksFailed.push(`trial ${trial}: ${what}`);
      const world = await DrillWorld.open('tloss');
      if (i === 0) notes.unshift(`records: ${world.backend.describe}`);
      const taskQueue = temporal.taskQueue('loss');
      const strategy = `${temporal.strategy('tloss')}-${trial}`;
      const market = world.markets[0]!;
      const day = tradingDayIn(Date.now(), 'UTC');
      const newDay = addDays(day, 1);
      const handles: WorkflowHandle[] = [];
      let worker: DrillChild | null = null;
      let sequence = 900;
      const venueOrders = () => world.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders.length ?? 0;
      const order = async (o: Omit<ScriptedOrder, 'strategy' | 'sequence' | 'marketId' | 'ttlMs'>): Promise<OrderStatus | string> => {
        const input = orderInput({ ...o, strategy, sequence: ++sequence, marketId: market.marketId, ttlMs: 5_000 });
        const handle = await temporal.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(input.order.clientOrderId), args: [input] });
        handles.push(handle);
        const end = await resultWithin<OrderStatus>(handle, 90_000);
        return 'result' in end ? end.result : end.problem;
      };
      const stateOf = (r: OrderStatus | string) => (typeof r === 'string' ? r : r.state);
      try {
        // 1. Lose, halt, crash.
        worker = await temporal.startWorker(world, taskQueue, { config: dayConfig(90_000) });
        const today = sessionWorkflowId(strategy, day);
        handles.push(await temporal.client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: today, args: [sessionInput(strategy, day, market.marketId, Date.now(), dayConfig(90_000))] }));
        const trading = await statusUntil(temporal, today, (s) => s.mode !== 'PREFLIGHT', 60_000);
        if (!trading.ok) fail(`the session never left pre-flight (${JSON.stringify(trading.last?.preflight ?? null)})`);
        const buy = await order({ tradingDay: day, side: 'BUY', quantity: 20, limitPrice: await world.crossingBuy(market.marketId), at: Date.now() });
        const bought = typeof buy === 'string' ? 0 : buy.filledQuantity;
        const sell = bought > 0 ? await order({ tradingDay: day, side: 'SELL', quantity: bought, limitPrice: await world.crossingSell(market.marketId), at: Date.now() }) : 'no sell';
        log(`  trial ${trial}: round trip ${stateOf(buy)} ${bought} / ${stateOf(sell)}`);
        const halted = await statusUntil(temporal, today, hasDailyLoss, 60_000);
        if (!halted.ok) {
          fail(`the session never halted on DAILY_LOSS (round trip ${stateOf(buy)} / ${stateOf(sell)}, mode ${halted.last?.mode ?? 'unknown'})`);
          continue;
        }
        // Let the session's flush write the trip to the records before the kill.
        await sleep(1_000);
        await temporal.killWorker(world, worker);
        worker = null;
        if (!(await loadActiveTrips(world.db, strategy)).some((t) => t.kind === 'DAILY_LOSS')) fail('the DAILY_LOSS trip was not in the records when the worker died');

        // 2. A new worker, on the next trading day's clock: the halted session stays halted through a resume.
        const offset = startOfDayIn(newDay, 'UTC') + 60_000 - Date.now();
        worker = await temporal.startWorker(world, taskQueue, { config: dayConfig(3 * DAY_MS), clockOffsetMs: offset });
        const afterRestart = await statusUntil(temporal, today, hasDailyLoss, 30_000);
        if (!afterRestart.ok) fail(`after the restart the session is not halted on DAILY_LOSS (${afterRestart.last?.haltReason ?? 'no status'})`);
        await signalResume(temporal.client, today, OPERATOR);
        await sleep(1_500);
        const afterResume = await statusUntil(temporal, today, hasDailyLoss, 10_000);
        if (!afterResume.ok) fail("an operator's resume lifted the DAILY_LOSS halt");

        // 3. The next day's session starts halted by the carried trip.
        const tomorrow = sessionWorkflowId(strategy, newDay);
        handles.push(await temporal.client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: tomorrow, args: [sessionInput(strategy, newDay, market.marketId, Date.now() + offset, dayConfig(3 * DAY_MS))] }));
        const carried = await statusUntil(temporal, tomorrow, (s) => s.mode !== 'PREFLIGHT', 60_000);
        if (!carried.ok || !carried.last || !hasDailyLoss(carried.last)) fail(`the next day's session is not halted by the carried trip (${carried.last?.mode ?? 'no status'}, ${carried.last?.haltReason ?? 'no halt'})`);
        await signalResume(temporal.client, tomorrow, OPERATOR);
        await sleep(1_500);
        const stillHalted = await querySessionStatus(temporal.client, tomorrow).catch(() => null);
        if (!stillHalted || !hasDailyLoss(stillHalted)) fail("on the next day an operator's resume lifted the DAILY_LOSS halt");
        const before = venueOrders();
        const refused = await order({ tradingDay: newDay, side: 'BUY', quantity: 1, limitPrice: await world.crossingBuy(market.marketId), at: Date.now() + offset, halted: stillHalted?.haltReason ?? 'DAILY_LOSS' });
        if (stateOf(refused) !== 'REJECTED' || venueOrders() !== before) fail(`an order while halted ended ${stateOf(refused)} (venue orders ${before} -> ${venueOrders()})`);

        // 4. The daily reset lifts it.
        const resetHandle = await temporal.client.workflow.start<typeof dailyResetWorkflow>('dailyResetWorkflow', { taskQueue, workflowId: `drill-daily-reset-${strategy}-${newDay}`, args: [{ tradingDay: newDay }] });
        handles.push(resetHandle);
        const resetEnd = await resultWithin<{ tradingDay: string; liftedTrips: number; sessionsSignalled: number }>(resetHandle, 90_000);
        if (!('result' in resetEnd)) fail(`the daily reset did not finish: ${resetEnd.problem}`);
        else if (resetEnd.result.liftedTrips < 1) fail(`the daily reset lifted ${resetEnd.result.liftedTrips} trips`);
        const lifted = await statusUntil(temporal, tomorrow, (s) => s.haltReason === null, 20_000);
        if (!lifted.ok) fail(`after the daily reset the next day's session is still halted: ${lifted.last?.haltReason ?? 'no status'}`);
        log(`  trial ${trial}: halted through the kill and two resumes; reset ${'result' in resetEnd ? `lifted ${resetEnd.result.liftedTrips}, signalled ${resetEnd.result.sessionsSignalled}` : resetEnd.problem}; next day ${lifted.ok ? 'trading' : 'still halted'}`);

        await temporal.killWorker(world, worker);
        worker = null;
        if ((await loadActiveTrips(world.db, strategy)).some((t) => t.kind === 'DAILY_LOSS')) fail('the records still hold the DAILY_LOSS trip after the reset');
        const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID });
        Object.assign(totals, addCounts(totals, result.counts));
        notes.push(`trial ${trial}: ${result.venueOrders} venue orders; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);
        for (const p of result.problems) notes.push(`finding: ${p}`);
      } finally {
        if (worker) await temporal.killWorker(world, worker).catch(() => undefined);
        await Promise.all(handles.map((h) => terminateQuietly(h, 'drill 5 (server form) ended')));
        await world.close();
      }
    }
    return [{ id: this.id, title: this.title, counts: totals, checksFailed, notes, elapsedMs: Date.now() - started }];
  },
};
