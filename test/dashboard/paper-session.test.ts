/**
 * The paper-session helper (testkit/paper-session.ts) that the dashboard test and the drills
 * run: real controllers and activities on PGlite and an in-process paper exchange, no Temporal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getOrder, listOperatorActions, listPositions, listSessions, loadActiveTrips, openDatabase, type Database } from '../../db';
import type { Price } from '../../domain/money';
import { startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { startPaperSession } from '../../testkit/paper-session';

let database: Database;
let exchange: TestExchange;

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  exchange = await startTestExchange();
});

afterAll(async () => {
  await exchange?.close();
  await database?.close();
});

it('trades, halts on a signal, and at the end of the day cancels what rests and completes its record', async () => {
  const marketId = exchange.market.marketId;
  const session = startPaperSession({ db: database.db, venue: exchange.venue, marketIds: [marketId], strategy: 'drill', strategyParams: { blackoutDays: 0 }, durationMs: 60_000 });
  try {
    const buy = session.placeOrder({ marketId, side: 'BUY', quantity: 5, limitPrice: await exchange.crossingBuy() });
    const status = await buy.done;
    expect(status.state).toBe('FILLED');
    expect(buy.clientOrderId).toMatch(/^drill-\d{8}-900001$/);
    expect((await listPositions(database.db, { openOnly: true })).map((p) => [p.marketId, p.quantity])).toEqual([[marketId, 5]]);

    const quote = await exchange.venue.getMarketSnapshot(marketId);
    const resting = session.placeOrder({ marketId, side: 'BUY', quantity: 2, limitPrice: (quote.bid! - 30_000) as Price });
    await session.until('the resting order is working', async () => (await getOrder(database.db, resting.clientOrderId))?.state === 'SUBMITTED');

    session.halt({ operator: 'drill', reason: 'testing the helper' });
    await session.until('the halt is recorded', async () => (await loadActiveTrips(database.db, 'drill')).some((t) => t.kind === 'MANUAL'));
    expect(session.session.status().mode).toBe('HALTED');
  } finally {
    const final = await session.end();
    expect(final.mode).toBe('ENDED');
  }
  const [record] = await listSessions(database.db, { strategy: 'drill' });
  expect(record).toMatchObject({ sessionId: session.sessionWorkflowId, status: 'COMPLETED' });
  const orders = [...session.orders.keys()];
  expect(orders).toHaveLength(2);
  expect((await getOrder(database.db, orders[1]!))?.state).toBe('CANCELED');
  expect((await listOperatorActions(database.db, { action: 'HALT' }))[0]).toMatchObject({ operator: 'drill', workflowId: session.sessionWorkflowId });
}, 60_000);
