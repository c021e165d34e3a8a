/**
 * Drill 5: a daily loss trips the limit, the worker crashes while halted, the daily reset comes.
 * 1. A session in a child process (drills/session-child.ts) loses more than the breaker's daily
 *    loss on a scripted round trip, halts, and is killed with SIGKILL while halted.
 * 2. The session restarts (same strategy and day, testkit/paper-session.ts): it is halted
 *    on DAILY_LOSS, an operator's resume does not lift it, and an order is refused before the venue.
 * 3. The next trading day begins (the activities' clock moved past midnight UTC; quotes may be a
 *    day old to them, so the quote-age limits are widened): a fresh session for the new day,
 *    whose own P&L is zero, is still halted by the carried trip, resume still does not lift it.
 * 4. The daily reset (resetDailyCounters, then the dailyReset signal to the active sessions, as
 *    dailyResetWorkflow does) lifts it: the session trades again and an order reaches the venue.
 * The new-day session runs the TradingSession controller with an idle market watch (no
 * strategy signals): the drill scripts its orders.
 */
import type { ActivityConfig } from '../activities/deps';
import { createActivities } from '../activities/index';
import type { OrderActivities, WatchInput } from '../contracts/activities';
import { loadActiveTrips } from '../db';
import { startPaperSession } from '../testkit/paper-session';
import { CapturingMailer, makeDeps } from '../testkit/activities-harness';
import type { SessionWorkflowInput } from '../workflows/api';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import { addDays, startOfDayIn, tradingDayIn } from '../domain/calendar';
import { sessionWorkflowId } from '../domain/ids';
import { MICROS, type Money } from '../domain/money';
import { TradingSession } from '../workflows/session';
import { audit } from './audit';
import { DrillChild } from './child';
import { cappedWaitFor, orderInput, orderRules, OPERATIONS_RETRY_RULE, runLifecycle, sleep, withRetryPolicies } from './controllers';
import type { SessionChildSpec } from './session-child';
import { addCounts, zeroCounts, type Drill, type DrillResult } from './types';
import { DRILL_LIMITS, DrillWorld, PAPER_KEY_ID } from './world';

const BREAKER_LOSS = (MICROS / 2) as Money;
const DAY_MS = 86_400_000;
const OPERATOR = { operator: 'drill-operator', reason: 'drill 5: try to trade again' };

function dayConfig(quoteAgeMs: number): Partial<ActivityConfig> {
  return {
    // The risk limit stays wide so the losing round trip can close; the breaker is what halts.
    limits: { ...DRILL_LIMITS, maxQuoteAgeMs: quoteAgeMs },
    breakers: { ...CASE_STUDY_BREAKERS, maxDailyLoss: BREAKER_LOSS, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 },
    maxQuoteAgeMs: quoteAgeMs,
  };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  void what;
  return true;
}

export const dailyLossDrill: Drill = {
  id: '5-daily-loss-crash-reset',
  title: 'Daily loss trips the limit, the worker crashes while halted, the daily reset lifts it',
  defaultTrials: 3,
  quickTrials: 1,
  async run({ trials, log }): Promise<DrillResult> {
    const started = Date.now();
    let world = await DrillWorld.open('loss');
    const notes = [
      `records: ${world.backend.describe}`,
      'each trial on fresh records and a fresh exchange: the daily loss is the account\'s, and one trial\'s loss must not halt the next before it trades',
      'no Temporal server: the halted session is a child process killed with SIGKILL; the restart and the new-day session load their halts from the records (loadCarryover)',
      `breaker daily loss ${BREAKER_LOSS / MICROS} USD; the new trading day is simulated by moving the activities' clock past midnight UTC`,
    ];
    const checksFailed: string[] = [];
    const market = world.markets[0]!;
    const day = tradingDayIn(Date.now(), 'UTC');
    let venueOrdersBefore = 0;
    let sequence = 0;
    /** One scripted order through the lifecycle on `acts`, with the halt the session would pass it. */
    const tryOrder = async (acts: OrderActivities, tradingDay: string, side: 'BUY' | 'SELL', halted: string | null, clock: () => number) => {
      const price = side === 'BUY' ? await world.crossingBuy(market.marketId) : await world.crossingSell(market.marketId);
      const orderActs = withRetryPolicies(acts, orderRules, { deadline: Date.now() + 60_000 });
      const run = runLifecycle(orderActs, orderInput({ strategy: 'loss-script', tradingDay, sequence: ++sequence, marketId: market.marketId, side, quantity: 1, limitPrice: price, ttlMs: 5_000, at: clock(), halted }));
      const outcome = await run.outcome;
      return 'status' in outcome ? outcome.status.state : `run failed: ${String(outcome.error)}`;
    };
    const venueOrders = () => world.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders.length ?? 0;
    try {
      const totals = addCounts(zeroCounts(), { trials });
      for (let i = 0; i < trials; i++) {
        const trial = i + 1;
        if (i > 0) {
          await world.close();
          world = await DrillWorld.open('loss');
        }
        const fail = (what: string) => checksFailed.push(`trial ${trial}: ${what}`);
        const strategy = `loss-${trial}`;

        // 1. Lose, halt, crash.
        await world.backend.release();
        const spec: SessionChildSpec = {
          db: world.backend.config,
          venueUrl: world.exchange.url,
          strategy,
          marketId: market.marketId,
          quantity: 20,
          buyPrice: await world.crossingBuy(market.marketId),
          sellPrice: await world.crossingSell(market.marketId),
          config: dayConfig(90_000),
        };
        const child = new DrillChild('./session-child.ts', { DRILL_SESSION_CHILD: JSON.stringify(spec) });
        const halted = await child.waitForLine((l) => l.startsWith('HALTED') || l.startsWith('FAILED'), 60_000);
        await child.kill();
        await world.backend.reacquire();
        log(`  trial ${trial}: ${child.lines.filter((l) => l.startsWith('POINT') || l.startsWith('HALTED') || l.startsWith('FAILED')).join('; ')}`);
        if (!halted?.startsWith('HALTED')) {
          fail(`the first session never halted: ${halted ?? child.stderr.slice(-300)}`);
          continue;
        }
        const recorded = await loadActiveTrips(world.db, strategy);
        if (!recorded.some((t) => t.kind === 'DAILY_LOSS')) fail('the DAILY_LOSS trip was not in the records when the worker died');

        // 2. Restart the same session: halted, resume does not lift it, orders refused.
        const restarted = startPaperSession({ db: world.db, venue: world.venue, marketIds: [market.marketId], strategy, strategyName: 'model-edge', maxWaitMs: 100, activityAttempts: 40, config: dayConfig(90_000) });
        await restarted.until('restart leaves pre-flight', () => restarted.session.status().mode !== 'PREFLIGHT', 20_000);
        if (!restarted.session.status().trips.some((t) => t.kind === 'DAILY_LOSS')) fail('the restarted session is not halted on DAILY_LOSS');
        restarted.resume(OPERATOR);
        await sleep(300);
        if (!restarted.session.status().trips.some((t) => t.kind === 'DAILY_LOSS')) fail("an operator's resume lifted the DAILY_LOSS halt");
        // paper-session numbers scripted orders from 1 in each process, so a restarted one would reuse IDs: script this one here.
        venueOrdersBefore = venueOrders();
        const refused = await tryOrder(createActivities(restarted.deps), day, 'BUY', restarted.session.status().haltReason, Date.now);
        if (refused !== 'REJECTED') fail(`an order in the halted restarted session ended ${refused}, not REJECTED`);
        if (venueOrders() !== venueOrdersBefore) fail('an order reached the venue while halted');
        await restarted.end();

        // 3. The next trading day: a fresh session is still halted until the reset.
        const newDay = addDays(day, 1);
        let offset = startOfDayIn(newDay, 'UTC') + 60_000 - Date.now();
        const clock = () => Date.now() + offset;
        const deps = makeDeps({ db: world.db, venue: world.venue, mailer: new CapturingMailer(), config: dayConfig(3 * DAY_MS), clock });
        const raw = createActivities(deps);
        const acts = withRetryPolicies(raw, () => OPERATIONS_RETRY_RULE, { deadline: Date.now() + 5 * 60_000 });
        const input: SessionWorkflowInput = {
          strategy,
          strategyName: 'model-edge',
          strategyParams: {},
          tradingDay: newDay,
          marketIds: [market.marketId],
          endOfDayAt: clock() + 10 * 60_000,
          watchPeriodMs: 200,
          pollIntervalMs: 100,
          orderTtlMs: 5_000,
          maxDailyLoss: deps.config.limits.maxDailyLoss,
          breakers: deps.config.breakers,
          searchAttributes: false,
        };
        const session = new TradingSession(input, {
          acts,
          waitFor: cappedWaitFor(100),
          watch: async (w: WatchInput) => {
            await sleep(100);
            return { strategyState: w.strategyState, signal: null, at: clock(), quoteTimes: {} };
          },
          startOrder: async () => 'STARTED',
          continueAsNewSuggested: () => false,
          continueAsNew: () => Promise.reject(new Error('no continue-as-new in a drill')),
        });
        const running = session.run();
        await until('new day leaves pre-flight', () => session.status().mode !== 'PREFLIGHT', 20_000);
        if (!session.status().trips.some((t) => t.kind === 'DAILY_LOSS')) fail('the new-day session is not halted by the carried DAILY_LOSS trip');
        session.onResume(OPERATOR);
        await sleep(300);
        if (!session.status().trips.some((t) => t.kind === 'DAILY_LOSS')) fail("on the new day an operator's resume lifted the DAILY_LOSS halt");
        venueOrdersBefore = venueOrders();
        const before = await tryOrder(raw, newDay, 'BUY', session.status().haltReason, clock);
        if (before !== 'REJECTED' || venueOrders() !== venueOrdersBefore) fail(`before the reset an order ended ${before} (venue orders ${venueOrdersBefore} -> ${venueOrders()})`);

        // 4. The daily reset lifts it.
        const reset = await acts.resetDailyCounters({ tradingDay: newDay });
        if (reset.liftedTrips < 1) fail(`the reset lifted ${reset.liftedTrips} trips`);
        const active = await acts.listActiveSessions();
        const sessionId = sessionWorkflowId(strategy, newDay);
        if (!active.includes(sessionId)) fail(`the new-day session ${sessionId} is not among the active sessions`);
        else session.onDailyReset({ tradingDay: newDay });
        const lifted = await until('the reset lifts the halt', () => session.status().haltReason === null, 10_000);
        if (!lifted) fail(`after the reset the session is still halted: ${session.status().haltReason}`);
        if ((await loadActiveTrips(world.db, strategy)).some((t) => t.kind === 'DAILY_LOSS')) fail('the records still hold the DAILY_LOSS trip after the reset');
        venueOrdersBefore = venueOrders();
        const afterBuy = await tryOrder(raw, newDay, 'BUY', session.status().haltReason, clock);
        const afterSell = await tryOrder(raw, newDay, 'SELL', session.status().haltReason, clock);
        if (afterBuy !== 'FILLED' || venueOrders() !== venueOrdersBefore + 2) fail(`after the reset orders ended ${afterBuy}/${afterSell} (venue orders ${venueOrdersBefore} -> ${venueOrders()})`);
        log(`  trial ${trial}: restart halted, new day ${newDay} halted until the reset (lifted ${reset.liftedTrips}); orders before ${before}, after ${afterBuy}/${afterSell}`);

        offset += 11 * 60_000;
        const ended = await Promise.race([running.then(() => true), sleep(20_000).then(() => false)]);
        if (!ended) fail('the new-day session did not end');
        const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID });
        Object.assign(totals, addCounts(totals, result.counts));
        notes.push(`trial ${trial}: ${result.venueOrders} venue orders; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);
        for (const p of result.problems) notes.push(`finding: ${p}`);
      }
      return { id: this.id, title: this.title, counts: totals, checksFailed, notes, elapsedMs: Date.now() - started };
    } finally {
      await world.close();
    }
  },
};
