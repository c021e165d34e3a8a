/**
 * A fractional fill ("0.37" contracts) in the records, on PGlite and PostgreSQL: the fills table,
 * the position and its history, the order's filled quantity, execution quality, and the fill sync
 * with its cursor. Nothing is rounded; a third decimal is refused naming the field, nothing written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { FillSync } from '../../activities/fill-sync';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { FillPage, Venue } from '../../contracts/venue';
import {
  getOrder,
  getPosition,
  insertOrder,
  listDailyPnl,
  listExecutions,
  listFills,
  listPositions,
  positionHistoryOf,
  recordExecution,
  recordFill,
  recordFills,
  settleMarketPosition,
} from '../../db';
import { MIGRATIONS_FOLDER } from '../../db/migrate';
import { getFillCursor } from '../../db/repositories/venue-cursors';
import { executionQuality, fills, orders, positions } from '../../db/schema';
import { InvalidInput } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import { applyFillToPosition, emptyPosition } from '../../domain/ledger';
import { parseQuantity, type Money, type Price, type Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 11, 5, 15, 0, 0);
const COID = 'mr-20261205-000001';
const MARKET = 'KXFED-26DEC-T4.25';

const fill = (n: number, quantity: string, over: Partial<Fill> = {}): Fill => ({
  tradeId: `T-${n}`,
  clientOrderId: COID,
  marketId: MARKET,
  side: 'BUY',
  quantity: parseQuantity(quantity),
  price: 420_000 as Price,
  fee: 1_000 as Money,
  ts: T0 + n * 1000,
  ...over,
});

/** Serves a fixed list of fills in pages of two; cursors are "c-<index>" (as test/activities/fill-sync.test.ts). */
class PagedFills implements Partial<Venue> {
  readonly name = 'paged';
  constructor(private readonly all: Fill[]) {}
  async getFillsSince(cursor: string | null): Promise<FillPage> {
    const from = cursor === null ? 0 : Number(cursor.slice(2));
    const page = this.all.slice(from, from + 2);
    return { fills: page, cursor: `c-${from + page.length}`, hasMore: from + page.length < this.all.length };
  }
}

forEachBackend('fractional fills in the records', (ctx) => {
  const newOrder = () =>
    insertOrder(ctx.db, { clientOrderId: COID, marketId: MARKET, side: 'BUY', quantity: 1 as Quantity, limitPrice: 450_000 as Price, strategy: 'mr', tradingDay: '2026-12-05', createdAt: T0 });
  /** The stored decimals as the database holds them, not as the column mapping reads them. */
  const storedText = async () => ({
    fills: (await ctx.db.select({ id: fills.tradeId, q: sql<string>`${fills.quantity}::text` }).from(fills).orderBy(fills.tradeId)).map((r) => [r.id, r.q]),
    position: (await ctx.db.select({ q: sql<string>`${positions.quantity}::text` }).from(positions))[0]?.q,
    filled: (await ctx.db.select({ q: sql<string>`${orders.filledQuantity}::text` }).from(orders))[0]?.q,
  });

  it('round-trips a 0.37 fill exactly: the fills table, the position, the order filled quantity', async () => {
    await newOrder();
    const first = await recordFill(ctx.db, fill(1, '0.37'));
    expect(first).toMatchObject({ inserted: true, position: { quantity: 0.37, costBasis: 155_400, fees: 1_000 } });
    expect(await listFills(ctx.db)).toEqual([expect.objectContaining({ tradeId: 'T-1', quantity: 0.37 })]);
    expect(await getPosition(ctx.db, 'paper', MARKET)).toMatchObject({ quantity: 0.37, costBasis: 155_400 });
    expect(await getOrder(ctx.db, COID)).toMatchObject({ quantity: 1, filledQuantity: 0.37, fillNotional: 155_400, fees: 1_000 });
    expect(await storedText()).toEqual({ fills: [['T-1', '0.37']], position: '0.37', filled: '0.37' });

    // The rest of the order in two more fractions: 0.37 + 0.6 + 0.03 = 1 exactly in the records.
    await recordFills(ctx.db, [fill(2, '0.6', { price: 450_000 as Price }), fill(3, '0.03', { price: 123_400 as Price })]);
    expect(await getOrder(ctx.db, COID)).toMatchObject({ filledQuantity: 1, fillNotional: 155_400 + 270_000 + 3_702, fees: 3_000 });
    expect(await storedText()).toMatchObject({ position: '1.00', filled: '1.00' });
    // A repeat of a fractional trade changes nothing.
    expect((await recordFill(ctx.db, fill(1, '0.37'))).inserted).toBe(false);
    expect((await getOrder(ctx.db, COID))?.filledQuantity).toBe(1);
  });

  it('keeps the position, its history and the daily totals exactly as the core ledger does, long and short', async () => {
    const seq = [fill(1, '0.37'), fill(2, '0.63', { price: 450_000 as Price }), fill(3, '1.25', { side: 'SELL', price: 600_000 as Price })];
    await recordFills(ctx.db, seq);
    const core = seq.reduce((p, f) => applyFillToPosition(p, f), emptyPosition(MARKET));
    expect(core).toMatchObject({ quantity: -0.25, costBasis: -150_000, realizedPnl: 600_000 - 438_900 });
    expect(await getPosition(ctx.db, 'paper', MARKET)).toEqual({ account: 'paper', ...core });
    expect((await storedText()).position).toBe('-0.25');
    expect((await positionHistoryOf(ctx.db, 'paper', MARKET)).map((h) => [h.quantity, h.contractsTraded, h.notionalTraded])).toEqual([
      [0.37, 0.37, 155_400],
      [1, 0.63, 283_500],
      [-0.25, 1.25, 750_000],
    ]);
    expect(await listDailyPnl(ctx.db)).toEqual([expect.objectContaining({ tradingDay: '2026-12-05', contractsTraded: 2.25, fillCount: 3 })]);
    expect(await listPositions(ctx.db, { openOnly: true, marks: { [MARKET]: 500_000 as Price } })).toEqual([
      expect.objectContaining({ quantity: -0.25, unrealizedPnl: -125_000 + 150_000 }),
    ]);
    // Resolution NO: the short 0.25 keeps what it received.
    const settled = await settleMarketPosition(ctx.db, { account: 'paper', marketId: MARKET, outcome: 'NO', tradingDay: '2026-12-05', at: T0 + 10_000 });
    expect(settled.position).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: 600_000 - 438_900 + 150_000 });
  });

  it('refuses a quantity with three decimals naming the field, and records nothing', async () => {
    await newOrder();
    const err = await recordFills(ctx.db, [fill(1, '0.37'), { ...fill(2, '0.37'), quantity: 0.375 as Quantity }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems).toEqual([expect.objectContaining({ field: 'fills[1].quantity', value: 0.375 })]);
    expect(await listFills(ctx.db)).toEqual([]);
    expect(await getPosition(ctx.db, 'paper', MARKET)).toBeNull();
    expect((await getOrder(ctx.db, COID))?.filledQuantity).toBe(0);
  });

  it('records execution quality of fractional fills exactly', async () => {
    await recordExecution(ctx.db, {
      clientOrderId: COID,
      marketId: MARKET,
      side: 'BUY',
      intendedPrice: 420_000 as Price,
      orderQuantity: 1 as Quantity,
      fills: [
        { quantity: parseQuantity('0.1'), price: 430_000 as Price, fee: 0 as Money, ts: T0 + 2 },
        { quantity: parseQuantity('0.2'), price: 430_000 as Price, fee: 0 as Money, ts: T0 + 3 },
      ],
      signalAt: T0,
      submittedAt: T0 + 1,
      firstFillAt: T0 + 2,
      completedAt: T0 + 4,
      finalState: 'CANCELED',
    });
    const [row] = await ctx.db.select({ filled: sql<string>`${executionQuality.filledQuantity}::text`, read: executionQuality.filledQuantity }).from(executionQuality);
    expect(row).toEqual({ filled: '0.30', read: 0.3 });
    expect((await listExecutions(ctx.db))[0]?.fills.map((f) => f.quantity)).toEqual([0.1, 0.2]);
  });

  it('the fill sync records a page with a fractional fill exactly and advances its cursor', async () => {
    await newOrder();
    const venue = new PagedFills([fill(1, '1', { clientOrderId: 'mr-20261205-000002' }), fill(2, '0.37'), fill(3, '0.63'), fill(4, '0.01', { clientOrderId: 'mr-20261205-000002' })]);
    const sync = new FillSync(ctx.db, new ResilientVenue(venue as unknown as Venue, null), 'paper', 'UTC');
    expect(await sync.sync()).toMatchObject({ pages: 2, fillsSeen: 4, fillsInserted: 4 });
    expect((await getFillCursor(ctx.db, 'paper'))?.cursor).toBe('c-4');
    expect((await listFills(ctx.db)).map((f) => [f.tradeId, f.quantity])).toEqual([
      ['T-1', 1],
      ['T-2', 0.37],
      ['T-3', 0.63],
      ['T-4', 0.01],
    ]);
    expect(await getPosition(ctx.db, 'paper', MARKET)).toMatchObject({ quantity: 2.01, costBasis: 844_200 });
    expect(await getOrder(ctx.db, COID)).toMatchObject({ filledQuantity: 1 });
    // A second run starts at the stored cursor and reads nothing twice.
    expect(await sync.sync()).toMatchObject({ pages: 1, fillsSeen: 0, fillsInserted: 0 });
  });

  it('the fill sync refuses a page with a third decimal naming the field: nothing of the page is recorded, the cursor stays', async () => {
    const venue = new PagedFills([fill(1, '0.37'), fill(2, '0.63'), { ...fill(3, '0.5'), quantity: 0.505 as Quantity }, fill(4, '0.5')]);
    const sync = new FillSync(ctx.db, new ResilientVenue(venue as unknown as Venue, null), 'paper', 'UTC');
    const err = await sync.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).message).toMatch(/fills\[0\]\.quantity: must be a positive number of contracts with at most 2 decimal places \(got 0\.505\)/);
    expect((await getFillCursor(ctx.db, 'paper'))?.cursor).toBe('c-2');
    expect((await listFills(ctx.db)).map((f) => f.tradeId)).toEqual(['T-1', 'T-2']);
    expect((await getPosition(ctx.db, 'paper', MARKET))?.quantity).toBe(1);
  });
});

describe('migration 0003 on records written before it', () => {
  it('keeps whole-contract rows as they were and then takes fractions', async () => {
    const client = await PGlite.create();
    try {
      const files = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')).sort();
      expect(files.slice(0, 4)).toEqual(['0000_initial.sql', '0001_audit_log_append_only.sql', '0002_venue_cursors.sql', '0003_fractional_quantities.sql']);
      const run = async (file: string) => {
        for (const statement of readFileSync(join(MIGRATIONS_FOLDER, file), 'utf8').split('--> statement-breakpoint')) await client.exec(statement);
      };
      for (const file of files.slice(0, 3)) await run(file);
      await client.exec(`insert into positions (account, market_id, quantity, cost_basis) values ('paper', 'M', -7, -2.8)`);
      await client.exec(`insert into fills (trade_id, client_order_id, market_id, side, quantity, price, fee, filled_at, trading_day) values ('T-1', 'o', 'M', 'SELL', 7, 0.4, 0, now(), '2026-12-05')`);
      await run('0003_fractional_quantities.sql');
      const before = await client.query<{ p: string; f: string }>(`select (select quantity::text from positions) as p, (select quantity::text from fills) as f`);
      expect(before.rows).toEqual([{ p: '-7.00', f: '7.00' }]);
      await client.exec(`update positions set quantity = quantity + 0.37`);
      expect((await client.query<{ p: string }>(`select quantity::text as p from positions`)).rows).toEqual([{ p: '-6.63' }]);
      // The CHECK constraints still hold on numeric: a fill of zero is refused.
      await expect(client.exec(`insert into fills (trade_id, client_order_id, market_id, side, quantity, price, fee, filled_at, trading_day) values ('T-2', 'o', 'M', 'BUY', 0.00, 0.4, 0, now(), '2026-12-05')`)).rejects.toThrow(/fills_quantity_positive/);
    } finally {
      await client.close();
    }
  });
});
