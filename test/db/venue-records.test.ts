/**
 * The venue order ID map and venue settlements in the records, on every back end.
 */
import { expect, it } from 'vitest';
import { recordFills } from '../../db/repositories/fills';
import { getPosition } from '../../db';
import { positionHistoryOf } from '../../db/repositories/positions';
import { bookSettlements, getSettlementCursor, advanceSettlementCursor, listVenueSettlements } from '../../db/repositories/settlements';
import { createOrderIdMap, rememberVenueOrderId } from '../../db/repositories/venue-order-ids';
import { RecordConflict } from '../../db/errors';
import { InvalidInput } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import { positionsNetCashFlow } from '../../domain/ledger';
import type { Money, Price, Quantity } from '../../domain/money';
import type { VenueSettlement } from '../../contracts/venue';
import { forEachBackend } from './harness';

const T = Date.UTC(2026, 0, 15, 14);
const BOOK = { account: 'paper', venue: 'kalshi', timeZone: 'America/New_York' };

const buy = (id: string, marketId: string, quantity: number, price: number): Fill => ({
  tradeId: id,
  clientOrderId: `o-${id}`,
  marketId,
  side: 'BUY',
  quantity: quantity as Quantity,
  price: price as Price,
  fee: 20_000 as Money,
  ts: T,
});

const settlement = (over: Partial<VenueSettlement> = {}): VenueSettlement => ({
  settlementId: 'st-1',
  marketId: 'M1',
  result: 'YES',
  quantity: 10,
  cash: 10_000_000 as Money,
  fee: 0 as Money,
  ts: T + 60_000,
  ...over,
});

forEachBackend('venue order IDs', (ctx) => {
  it('remembers a pair once, refuses a second client order ID for the venue order, and survives a new instance', async () => {
    const map = createOrderIdMap(ctx.db);
    expect(await map.clientOrderIdFor('kalshi', 'v-1')).toBeNull();
    await map.remember('kalshi', 'v-1', 'c-1');
    await map.remember('kalshi', 'v-1', 'c-1');
    expect(await rememberVenueOrderId(ctx.db, { venue: 'kalshi', venueOrderId: 'v-1', clientOrderId: 'c-1' })).toEqual({ inserted: false });
    await expect(map.remember('kalshi', 'v-1', 'c-2')).rejects.toBeInstanceOf(RecordConflict);
    await expect(map.remember('kalshi', 'v-1', 'c-2')).rejects.toThrow(/venue_order_ids.*clientOrderId.*c-1.*c-2/);
    // The same venue order ID at another venue is another order.
    await map.remember('paper', 'v-1', 'c-9');

    const restarted = createOrderIdMap(await ctx.openAnother());
    expect(await restarted.clientOrderIdFor('kalshi', 'v-1')).toBe('c-1');
    expect(await restarted.clientOrderIdFor('paper', 'v-1')).toBe('c-9');
    expect(await restarted.clientOrderIdFor('kalshi', 'v-2')).toBeNull();
  });

  it('refuses a malformed ID naming the field', async () => {
    const map = createOrderIdMap(ctx.db);
    await expect(map.remember('kalshi', '', 'c-1')).rejects.toThrow(/venueOrderId/);
    await expect(map.remember('kalshi', 'v-1', 'bad id')).rejects.toThrow(/clientOrderId/);
    await expect(map.clientOrderIdFor('', 'v-1')).rejects.toBeInstanceOf(InvalidInput);
  });
});

forEachBackend('venue settlements', (ctx) => {
  it('books a YES settlement once as resolution P&L, even when the page is read twice', async () => {
    await recordFills(ctx.db, [buy('a', 'M1', 10, 400_000)]);
    const page = [settlement({ fee: 30_000 as Money })];
    const first = await bookSettlements(ctx.db, BOOK, page);
    expect(first.booked).toEqual([{ settlementId: 'st-1', marketId: 'M1', result: 'YES', localQuantity: 10, realizedDelta: 6_000_000, fee: 30_000 }]);
    const second = await bookSettlements(ctx.db, BOOK, page);
    expect(second).toEqual({ booked: [], alreadyBooked: 1 });

    const p = (await getPosition(ctx.db, 'paper', 'M1'))!;
    expect(p).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: 6_000_000, fees: 50_000 });
    // Cash booked: -4.00 and 0.02 fee for the buy, +10.00 payout and 0.03 fee at settlement.
    expect(positionsNetCashFlow([p])).toBe(-4_000_000 - 20_000 + 10_000_000 - 30_000);
    const history = await positionHistoryOf(ctx.db, 'paper', 'M1');
    expect(history.filter((h) => h.cause === 'SETTLEMENT')).toHaveLength(1);
    expect(await listVenueSettlements(ctx.db, 'paper')).toEqual([expect.objectContaining({ settlementId: 'st-1', quantity: 10, localQuantity: 10, cash: 10_000_000, realizedDelta: 6_000_000 })]);

    // Same ID with different content is a conflict, not a silent overwrite.
    await expect(bookSettlements(ctx.db, BOOK, [settlement({ cash: 9_000_000 as Money })])).rejects.toBeInstanceOf(RecordConflict);
  });

  it('books NO at 0 and VOID at the cash the venue paid, keeps fractional quantities exact', async () => {
    await recordFills(ctx.db, [buy('a', 'M1', 4, 300_000), buy('b', 'M2', 2, 500_000)]);
    await bookSettlements(ctx.db, BOOK, [
      settlement({ settlementId: 'n', marketId: 'M1', result: 'NO', quantity: 4, cash: 0 as Money }),
      settlement({ settlementId: 'v', marketId: 'M2', result: 'VOID', quantity: 2, cash: 1_000_000 as Money }),
      settlement({ settlementId: 'f', marketId: 'M3', result: 'NO', quantity: -0.37, cash: 0 as Money }),
    ]);
    expect(await getPosition(ctx.db, 'paper', 'M1')).toMatchObject({ quantity: 0, realizedPnl: -1_200_000 });
    expect(await getPosition(ctx.db, 'paper', 'M2')).toMatchObject({ quantity: 0, realizedPnl: 0 });
    const stored = await listVenueSettlements(ctx.db, 'paper');
    expect(stored.find((s) => s.settlementId === 'f')).toMatchObject({ quantity: -0.37, localQuantity: 0 });
  });

  it('refuses a malformed settlement naming the field, booking nothing of its page', async () => {
    await recordFills(ctx.db, [buy('a', 'M1', 10, 400_000)]);
    const bad = [settlement(), settlement({ settlementId: 'st-2', marketId: 'M2', cash: 1.5 as Money })];
    await expect(bookSettlements(ctx.db, BOOK, bad)).rejects.toThrow(/settlements\[1\]\.cash/);
    await expect(bookSettlements(ctx.db, BOOK, [settlement({ result: 'MAYBE' as never })])).rejects.toThrow(/settlements\[0\]\.result/);
    await expect(bookSettlements(ctx.db, BOOK, [settlement({ quantity: 1.234 })])).rejects.toThrow(/settlements\[0\]\.quantity/);
    expect(await listVenueSettlements(ctx.db, 'paper')).toEqual([]);
    expect((await getPosition(ctx.db, 'paper', 'M1'))!.quantity).toBe(10);
  });

  it('keeps the settlement cursor apart from the fill cursor, moved by compare-and-set', async () => {
    expect(await getSettlementCursor(ctx.db, 'paper')).toBeNull();
    expect(await advanceSettlementCursor(ctx.db, { account: 'paper', venue: 'kalshi', expected: null, next: 's-1' })).toBe(true);
    expect(await advanceSettlementCursor(ctx.db, { account: 'paper', venue: 'kalshi', expected: null, next: 's-2' })).toBe(false);
    expect(await advanceSettlementCursor(ctx.db, { account: 'paper', venue: 'kalshi', expected: 's-1', next: 's-2' })).toBe(true);
    expect(await getSettlementCursor(ctx.db, 'paper')).toBe('s-2');
    await expect(advanceSettlementCursor(ctx.db, { account: 'paper', venue: 'kalshi', expected: 's-2', next: '' })).rejects.toThrow(/next/);
  });
});
