/**
 * The warm-up survives the day, on a real Temporal server with the real activities, PostgreSQL
 * records and an in-process paper exchange whose market clock runs ~5000 times faster than the
 * wall (a trading day passes in about 17 s). The case-study strategy (EMA 48 h, 72 h and 100
 * observations before it trades, 1.5 sd, the 3-14 day window) trades over two sessions, one per
 * simulated day. The venue keeps only 40 h of quote history, so neither day alone can warm a
 * market: day one warms from the history and ends at about 64 h, and day two trades only because
 * it carries on from the state day one recorded (without the carry it would start again from
 * the 40 h history and end the day at 64 h, never trading). Gated like server.test.ts.
 */
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import { listOrders, loadStrategyStates, openDatabase, type Database } from '../../db';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { tradingDayIn } from '../../domain/calendar';
import { sessionWorkflowId } from '../../domain/ids';
import type { sessionWorkflow } from '../../workflows';
import type { SessionStatus, SessionWorkflowInput } from '../../workflows/api';
import { makeDeps, startTestExchange, TEST_LIMITS, type TestExchange } from '../../testkit/activities-harness';
import { SERVER_URL, uniqueSchema } from '../db/harness';
import { describeOnServer, temporalServerForFile, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPEED = 5_000;
const HISTORY_MS = 40 * HOUR;

describeOnServer(found, 'the warm-up on a Temporal server', (server: TestServer) => {
  const client = server.client;

  it('a paper session over two simulated days with the case-study parameters trades on day two: the warm-up carried over', async () => {
    if (!SERVER_URL) throw new Error('set TEST_DATABASE_URL: the warm-up scenario writes to PostgreSQL');
    const t0 = Date.now();
    const clock = () => t0 + (Date.now() - t0) * SPEED;
    const schema = uniqueSchema('warmup');
    const db: Database = await openDatabase({ kind: 'postgres', url: SERVER_URL, schema, poolSize: 4 });
    const exchange: TestExchange = await startTestExchange({ clock, autoAdvance: true, engine: { stepMs: 60_000, preRollMs: HISTORY_MS, historyWindowMs: HISTORY_MS } });
    try {
      const markets = (await exchange.venue.listMarkets()).filter((m) => m.resolvesAt !== null && m.resolvesAt - clock() > 5 * DAY);
      const marketIds = markets.map((m) => m.marketId);
      expect(marketIds.length).toBeGreaterThanOrEqual(3);
      // Quote age and the other time limits are read on the sped-up clock: three wall seconds of latency.
      const deps = makeDeps({ db: db.db, venue: exchange.venue, clock, config: { maxQuoteAgeMs: 3 * SPEED * 1_000, limits: { ...TEST_LIMITS, maxQuoteAgeMs: 3 * SPEED * 1_000 } } });
      const taskQueue = server.unique('warmup-tq');
      const strategy = server.unique('warm');
      const worker = await server.startWorker(createActivities(deps), taskQueue);
      const runDay = async (tradingDay: string): Promise<SessionStatus> => {
        const input: SessionWorkflowInput = {
          strategy,
          strategyName: 'ema-mean-reversion',
          strategyParams: {},
          tradingDay,
          marketIds,
          endOfDayAt: clock() + DAY,
          watchPeriodMs: 2 * HOUR,
          pollIntervalMs: 100,
          orderTtlMs: 3_000,
          maxDailyLoss: TEST_LIMITS.maxDailyLoss,
          breakers: CASE_STUDY_BREAKERS,
          searchAttributes: false,
        };
        const h = await client.workflow.start<typeof sessionWorkflow>('sessionWorkflow', { taskQueue, workflowId: sessionWorkflowId(strategy, tradingDay), args: [input] });
        return h.result();
      };
      try {
        const day1 = tradingDayIn(clock(), 'UTC');
        const first = await runDay(day1);
        const day2 = tradingDayIn(clock(), 'UTC');
        expect(day2).not.toBe(day1);
        // Day one: warmed from the 40 h the venue keeps plus its own day, short of the 72 h needed.
        expect(first.ordersStarted).toBe(0);
        for (const id of marketIds) {
          expect(first.warmth?.[id]).toMatchObject({ neededObservations: 100, neededHours: 72, warm: false });
          expect(first.warmth![id]!.hours).toBeGreaterThan(HISTORY_MS / HOUR);
        }
        const recorded = await loadStrategyStates(db.db, { account: deps.config.account, strategy, marketIds });
        expect(recorded.map((r) => r.marketId).sort()).toEqual([...marketIds].sort());
        expect(recorded.every((r) => r.tradingDay === day1 && r.strategyName === 'ema-mean-reversion')).toBe(true);

        const second = await runDay(day2);
        const warmAtEnd = marketIds.filter((id) => second.warmth?.[id]?.warm);
        console.log(
          `warm-up carried: day one ${first.ordersStarted} orders; day two ${second.ordersStarted} orders, warm ${warmAtEnd.length}/${marketIds.length} markets, ` +
            marketIds.map((id) => `${id} ${second.warmth?.[id]?.observations} obs / ${second.warmth?.[id]?.hours} h`).join(', '),
        );
        for (const id of marketIds) expect(second.warmth?.[id]).toMatchObject({ warm: true, carriedFrom: day1 });
        expect(second.ordersStarted).toBeGreaterThan(0);
        const orders = await listOrders(db.db, { strategy, tradingDay: day2 });
        expect(orders.length).toBe(second.ordersStarted);
      } finally {
        await worker.stop();
      }
    } finally {
      await exchange.close();
      await db.close();
      const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end({ timeout: 5 }));
    }
  }, 90_000);
});
