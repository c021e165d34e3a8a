/**
 * SHADOW on a real Temporal server with the real activities, real PostgreSQL records and an
 * in-process paper exchange standing in as the real venue's market data. The exchange's market
 * clock runs an hour per wall second, so a shadow "day" passes in seconds. Every venue call that
 * could place or cancel an order is counted: SHADOW makes none. Gated like server.test.ts.
 */
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import type { ShadowWatchInput } from '../../contracts/activities';
import { listShadowComparisons, listShadowQuotes, openDatabase, type Database, type ShadowPaperOrder } from '../../db';
import type { VenueMarketSnapshot } from '../../contracts/venue';
import { workPaperOrder } from '../../domain/shadow';
import { CASE_STUDY_FILL_MODEL } from '../../domain/fill-model';
import { shadowWorkflowId } from '../../domain/ids';
import type { Price, Quantity } from '../../domain/money';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { shadowSessionWorkflow } from '../../workflows';
import type { ShadowSessionInput } from '../../workflows/shadow-api';
import { makeDeps, startTestExchange, TEST_LIMITS, type TestExchange } from '../../testkit/activities-harness';
import { SERVER_URL, uniqueSchema } from '../db/harness';
import { describeOnServer, temporalServerForFile, type TestServer } from '../support/temporal-server';
import { shadowRunStatsFromRecords } from '../../worker/stages';

const found = await temporalServerForFile();
const HOUR = 3_600_000;
const SPEED = 600;
const ORDER_TTL_MS = HOUR / 2;
/** Five market hours (30 wall seconds): enough decisions that some paper orders fill. */
const HOURS_OF_DAY = 5;
/** The risk limit on quote age, scaled to the sped-up clock: three wall seconds of latency. */
const deps = (db: Database, venue: ResilientVenue, clock: () => number) => makeDeps({ db: db.db, venue, clock, config: { limits: { ...TEST_LIMITS, maxQuoteAgeMs: 3 * SPEED * 1_000 } } });

/** Counts every order-touching venue call; quotes and history pass through. */
function countingVenue(venue: ResilientVenue): { venue: ResilientVenue; orderCalls: string[] } {
  const orderCalls: string[] = [];
  const touching = new Set(['placeOrder', 'cancelOrder', 'getOrderByClientId', 'getOrderByVenueId']);
  const wrapped = new Proxy(venue, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === 'string' && touching.has(prop)) orderCalls.push(prop);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { venue: wrapped, orderCalls };
}

describeOnServer(found, 'SHADOW on a Temporal server', (server: TestServer) => {
  const client = server.client;

  async function world(): Promise<{ db: Database; schema: string; exchange: TestExchange; clock: () => number; close(): Promise<void> }> {
    if (!SERVER_URL) throw new Error('set TEST_DATABASE_URL: the shadow suite writes to PostgreSQL');
    const t0 = Date.now();
    const clock = () => t0 + (Date.now() - t0) * SPEED;
    const schema = uniqueSchema('shadow');
    const db = await openDatabase({ kind: 'postgres', url: SERVER_URL, schema, poolSize: 4 });
    const exchange = await startTestExchange({ clock, autoAdvance: true });
    return {
      db,
      schema,
      exchange,
      clock,
      close: async () => {
        await exchange.close();
        await db.close();
        const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
        await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end({ timeout: 5 }));
      },
    };
  }

  const input = (strategy: string, tradingDay: string, marketId: string, clock: () => number, over: Partial<ShadowSessionInput> = {}): ShadowSessionInput => ({
    strategy,
    strategyName: 'ema-mean-reversion',
    // A low entry bar, short spans and no blackout: the sped-up day gives a few decisions to compare,
    // and pricing at the touch rests a buy at the bid, which only the quotes after it can fill.
    strategyParams: { emaSpanHours: 0.5, deviationSpanHours: 1, entryThreshold: 0.5, blackoutDays: 0, minHistoryHours: 1, minObservations: 5, pricing: 'touch' },
    tradingDay,
    marketIds: [marketId],
    endOfDayAt: clock() + HOURS_OF_DAY * HOUR,
    watchPeriodMs: HOUR / 4,
    pollIntervalMs: 100,
    // The session's order time-to-live, as LIVE would use it: half an hour of the sped-up day.
    orderTtlMs: ORDER_TTL_MS,
    fillModel: CASE_STUDY_FILL_MODEL,
    ...over,
  });

  it('runs a day on the venue data, writes one aligned comparison per decision, and sends no order to the venue', async () => {
    const w = await world();
    try {
      const counted = countingVenue(w.exchange.venue);
      const acts = createActivities(deps(w.db, counted.venue, w.clock));
      const taskQueue = server.unique('shadow-tq');
      const strategy = server.unique('shd');
      const day = new Date(w.clock()).toISOString().slice(0, 10);
      const worker = await server.startWorker(acts, taskQueue);
      try {
        const h = await client.workflow.start<typeof shadowSessionWorkflow>('shadowSessionWorkflow', {
          taskQueue,
          workflowId: shadowWorkflowId(strategy, day),
          args: [input(strategy, day, w.exchange.market.marketId, w.clock)],
        });
        const status = await h.result();
        expect(status.mode).toBe('ENDED');
        const rows = await listShadowComparisons(w.db.db, { shadowRun: status.shadowRun });
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.length).toBe(status.streak.decisions);
        expect(rows.every((r) => r.aligned)).toBe(true);
        // Every decision has the book's executable price beside the paper model's.
        expect(rows.every((r) => r.bookPrice !== null && r.observedSlippage !== null)).toBe(true);
        const stats = await shadowRunStatsFromRecords(w.db.db, status.shadowRun);
        expect(stats.signalAlignment).toBe(1);
        // Paper orders work over the quotes after their decision (a buy at the bid fills when the ask
        // comes down to it) until filled or LIVE's TTL passes; slippage is measured on each fill.
        const filled = rows.filter((r) => r.paperFilled > 0);
        expect(filled.length).toBeGreaterThan(0);
        expect(filled.every((r) => r.modelledSlippage !== null && r.observedSlippage !== null)).toBe(true);
        expect(stats.modelledSlippage).not.toBeNull();
        for (const r of rows.filter((x) => x.riskApproved)) {
          const order = r.detail.paperOrder as ShadowPaperOrder;
          expect(order.ttlMs).toBe(ORDER_TTL_MS);
          expect(order.fills.reduce((n, f) => n + f.quantity, 0)).toBe(r.paperFilled);
          expect(order.fills.every((f) => f.quotedAt >= r.quotedAt && f.quotedAt <= order.expiresAt)).toBe(true);
          if (order.status === 'FILLED') expect(r.paperFilled).toBe(r.quantity);
          // The same decision key over the same recorded quotes gives the same fills (a retry, a recomputation).
          const quotes = (await listShadowQuotes(w.db.db, { shadowRun: status.shadowRun, marketId: r.marketId, from: r.quotedAt, until: order.workedThrough }))
            .filter((q) => q.kind === 'QUOTE')
            .map((q) => {
              const book = q.payload as unknown as VenueMarketSnapshot;
              return { quotedAt: q.quotedAt, bid: book.bid, ask: book.ask, intervalVolume: book.intervalVolume, levels: r.side === 'BUY' ? book.asks : book.bids };
            });
          const again = workPaperOrder(r.decisionKey, { side: r.side as 'BUY' | 'SELL', quantity: r.quantity, limitPrice: r.limitPrice }, quotes, CASE_STUDY_FILL_MODEL, w.exchange.market.tickSize, order.expiresAt, 0);
          expect(again.fills).toEqual(order.fills);
        }
        expect(filled.some((r) => (r.detail.paperOrder as ShadowPaperOrder).fills.some((f) => f.quotedAt > r.quotedAt))).toBe(true);
        console.log(`shadow day: ${rows.length} decisions, ${filled.length} with paper fills (${rows.filter((r) => r.riskApproved).length} approved), alignment ${stats.signalAlignment}, slippage modelled ${stats.modelledSlippage} / observed ${stats.averageSlippage} micros per contract`);
      } finally {
        await worker.stop();
      }
      expect(counted.orderCalls).toEqual([]);
      expect(await w.exchange.venue.listOpenOrders()).toEqual([]);
      expect((await w.exchange.venue.getFillsSince(null)).fills).toEqual([]);
    } finally {
      await w.close();
    }
  }, 120_000);

  it('three scripted misalignments in a row halt the session with one alert and one journaled halt; no venue order', async () => {
    const w = await world();
    try {
      const counted = countingVenue(w.exchange.venue);
      const real = createActivities(deps(w.db, counted.venue, w.clock));
      const marketId = w.exchange.market.marketId;
      // The watch runs for real (quotes recorded), then reports a SELL the strategy never gave.
      const acts = {
        ...real,
        watchShadow: async (i: ShadowWatchInput) => {
          const r = await real.watchShadow({ ...i, untilMs: Math.min(i.untilMs, w.clock()) });
          const quotedAt = r.quoteTimes[marketId]!;
          return { ...r, quotedAt, signal: { marketId, side: 'SELL' as const, price: 10_000 as Price, confidence: 1, intent: 'ENTER' as const, quantity: 1 as Quantity, metadata: { scripted: 1 } } };
        },
      };
      const taskQueue = server.unique('shadow-tq');
      const strategy = server.unique('mis');
      const day = new Date(w.clock()).toISOString().slice(0, 10);
      const worker = await server.startWorker(acts, taskQueue);
      try {
        const h = await client.workflow.start<typeof shadowSessionWorkflow>('shadowSessionWorkflow', {
          taskQueue,
          workflowId: shadowWorkflowId(strategy, day),
          args: [input(strategy, day, marketId, w.clock, { strategyParams: { entryThreshold: 50 } })],
        });
        const status = await h.result();
        if (status.mode !== 'HALTED') console.log(JSON.stringify(status), await listShadowComparisons(w.db.db, { shadowRun: status.shadowRun }));
        expect(status.mode).toBe('HALTED');
        expect(status.streak).toEqual({ misalignedInARow: 3, decisions: 3, aligned: 0 });
        const rows = await listShadowComparisons(w.db.db, { shadowRun: status.shadowRun });
        expect(rows.map((r) => r.aligned)).toEqual([false, false, false]);
        const alerts = await w.db.db.execute(sql`select type, level from alerts where type = 'SHADOW_MISALIGNED'`);
        expect([...(alerts as unknown as { type: string; level: string }[])]).toEqual([{ type: 'SHADOW_MISALIGNED', level: 'HIGH' }]);
        const halts = await w.db.db.execute(sql`select action, operator from operator_actions where action = 'HALT'`);
        expect([...(halts as unknown as { action: string }[])].map((r) => r.action)).toEqual(['HALT']);
      } finally {
        await worker.stop();
      }
      expect(counted.orderCalls).toEqual([]);
      expect(await w.exchange.venue.listOpenOrders()).toEqual([]);
    } finally {
      await w.close();
    }
  });
});
