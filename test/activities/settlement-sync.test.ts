/**
 * The settlement sync against the paper exchange in-process and the records (PGlite, and
 * PostgreSQL with TEST_DATABASE_URL): each settlement booked once, the reconciliation clean after
 * a market settles, a malformed settlement refused with nothing booked and the cursor kept.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { syncSettlements } from '../../activities/settlement-sync';
import { createServices } from '../../activities/services';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import { bookSettlements, getPosition, getSettlementCursor, listVenueSettlements, recordFills } from '../../db';
import type { Venue } from '../../contracts/venue';
import { CapturingMailer, contracts, inActivity, makeDeps, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

forEachBackend('settlement sync', (backend) => {
  let x: TestExchange;
  beforeEach(async () => {
    x = await startTestExchange();
  });
  afterEach(async () => {
    await x.close();
  });

  async function buy(quantity: number): Promise<void> {
    const clientOrderId = `settle-test-${quantity}`;
    await x.venue.placeOrder({ clientOrderId, marketId: x.market.marketId, side: 'BUY', quantity: contracts(quantity), limitPrice: await x.crossingBuy() });
    for (let i = 0; i < 100 && (await x.venue.getOrderByClientId(clientOrderId))?.status !== 'FILLED'; i++) await new Promise((r) => setTimeout(r, 30));
    await recordFills(backend.db, (await x.venue.getFillsSince(null)).fills);
  }

  it('books a settlement once, however often the venue hands it over, and the reconciliation finds nothing', async () => {
    const ops = createActivities(makeDeps({ db: backend.db, venue: x.venue, mailer: new CapturingMailer() }));
    await buy(5);
    await inActivity(() => ops.reconcileAccount({ runId: 'before', policy: 'HALT_AND_ALERT' }));
    const held = (await getPosition(backend.db, 'paper', x.market.marketId))!;
    x.exchange.admin.resolveMarket(x.market.marketId, 'YES');

    await expect(inActivity(() => ops.syncSettlements())).resolves.toMatchObject({ supported: true, settlementsSeen: 1, settlementsBooked: 1 });
    const cursor = await getSettlementCursor(backend.db, 'paper');
    await expect(inActivity(() => ops.syncSettlements())).resolves.toMatchObject({ settlementsBooked: 0 });
    // The same page read again from the start books nothing more.
    const replay = await x.venue.getSettlementsSince!(null);
    expect(replay.settlements).toHaveLength(1);
    await expect(bookSettlements(backend.db, { account: 'paper', venue: x.venue.name, timeZone: 'UTC' }, replay.settlements)).resolves.toEqual({ booked: [], alreadyBooked: 1 });
    await expect(inActivity(() => ops.settleResolvedMarkets())).resolves.toEqual({ settled: [] });
    expect(await listVenueSettlements(backend.db, 'paper')).toEqual([expect.objectContaining({ marketId: x.market.marketId, result: 'YES', localQuantity: 5, realizedDelta: 5_000_000 - held.costBasis })]);
    expect(await getPosition(backend.db, 'paper', x.market.marketId)).toMatchObject({ quantity: 0, realizedPnl: held.realizedPnl + 5_000_000 - held.costBasis });
    expect(await getSettlementCursor(backend.db, 'paper')).toBe(cursor);

    const after = await inActivity(() => ops.reconcileAccount({ runId: 'after', policy: 'HALT_AND_ALERT' }));
    expect(after.discrepancies).toEqual([]);
  });

  it('refuses a malformed settlement naming the field: nothing booked, the cursor not moved', async () => {
    await buy(2);
    x.exchange.admin.resolveMarket(x.market.marketId, 'NO');
    const inner = x.venue as unknown as Venue;
    const broken: Venue = Object.assign(Object.create(Object.getPrototypeOf(inner) as object) as Venue, inner, {
      getSettlementsSince: async (c: string | null) => {
        const page = await x.venue.getSettlementsSince!(c);
        return { ...page, settlements: page.settlements.map((s) => ({ ...s, quantity: 2.345 })) };
      },
    });
    const venue = new ResilientVenue(broken, null);
    const deps = makeDeps({ db: backend.db, venue });
    await expect(syncSettlements(deps, createServices(deps))).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', message: expect.stringMatching(/settlements\[0\]\.quantity/) });
    expect(await listVenueSettlements(backend.db, 'paper')).toEqual([]);
    expect(await getSettlementCursor(backend.db, 'paper')).toBeNull();
    expect((await getPosition(backend.db, 'paper', x.market.marketId))!.quantity).toBe(2);
  });
});
