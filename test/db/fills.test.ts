import { expect, it } from 'vitest';
import { recordFill, recordFills, getPosition, listFills, listOrderFills } from '../../db/repositories/fills';
import { insertOrder, getOrder } from '../../db/repositories/orders';
import { RecordConflict, RecordError } from '../../db/errors';
import { InvalidInput } from '../../domain/errors';
import { applyFillToPosition, emptyPosition, type Position } from '../../domain/ledger';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14, 0, 0);

function fill(n: number, over: Partial<Fill> = {}): Fill {
  return {
    tradeId: `T-${n}`,
    clientOrderId: 'mr-20260115-000001',
    marketId: 'FED-RATE-CUT',
    side: 'BUY',
    quantity: 10 as Quantity,
    price: 420_000 as Price,
    fee: 70_000 as Money,
    ts: T0 + n * 1000,
    ...over,
  };
}

function replay(fs: Fill[]): Position {
  return fs.reduce((p, f) => applyFillToPosition(p, f), emptyPosition(fs[0]!.marketId));
}

forEachBackend('fills and positions', (ctx) => {
  it('applies a fill to its position, and a repeat of the same trade ID changes nothing', async () => {
    const first = await recordFill(ctx.db, fill(1));
    expect(first.inserted).toBe(true);
    expect(first.position).toMatchObject({ quantity: 10, costBasis: 4_200_000, realizedPnl: 0, fees: 70_000 });
    const again = await recordFill(ctx.db, fill(1));
    expect(again.inserted).toBe(false);
    expect(await getPosition(ctx.db, 'paper', 'FED-RATE-CUT')).toMatchObject({ quantity: 10, costBasis: 4_200_000, fees: 70_000 });
    expect(await listFills(ctx.db, { marketId: 'FED-RATE-CUT' })).toHaveLength(1);
  });

  it('realizes P&L exactly as the core ledger does, over buys and sells', async () => {
    const seq = [
      fill(1, { quantity: 10 as Quantity, price: 420_000 as Price }),
      fill(2, { quantity: 3 as Quantity, price: 455_000 as Price, side: 'SELL' }),
      fill(3, { quantity: 7 as Quantity, price: 333_333 as Price }),
      fill(4, { quantity: 20 as Quantity, price: 610_000 as Price, side: 'SELL', fee: 123_457 as Money }),
    ];
    for (const f of seq) await recordFill(ctx.db, f);
    const stored = await getPosition(ctx.db, 'paper', 'FED-RATE-CUT');
    expect(stored).toEqual({ account: 'paper', ...replay(seq) });
    expect(stored!.quantity).toBe(-6);
  });

  it('refuses the same trade ID with different content, naming the field, and writes nothing', async () => {
    await recordFill(ctx.db, fill(1));
    const err = await recordFill(ctx.db, fill(1, { price: 430_000 as Price })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordConflict);
    expect((err as RecordConflict).field).toBe('price');
    expect((err as RecordConflict).message).toMatch(/T-1.*price/);
    expect(await getPosition(ctx.db, 'paper', 'FED-RATE-CUT')).toMatchObject({ quantity: 10 });
  });

  it('rolls a whole batch back when one fill in it conflicts', async () => {
    await recordFill(ctx.db, fill(1));
    const err = await recordFills(ctx.db, [fill(2), fill(1, { quantity: 11 as Quantity })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordConflict);
    expect(await listFills(ctx.db)).toHaveLength(1);
    expect(await getPosition(ctx.db, 'paper', 'FED-RATE-CUT')).toMatchObject({ quantity: 10 });
  });

  it('validates a fill before writing and names every bad field', async () => {
    const err = await recordFill(ctx.db, fill(1, { price: 1_200_000 as Price, quantity: 0 as Quantity })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    const fields = (err as InvalidInput).problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['price', 'quantity']));
    expect(await listFills(ctx.db)).toHaveLength(0);
  });

  it('books fills to the given account, on the trading day of their time in the given zone', async () => {
    const evening = fill(1, { ts: Date.UTC(2026, 0, 16, 2, 0, 0) }); // 21:00 on the 15th in New York
    await recordFills(ctx.db, [evening], { account: 'acct-1', timeZone: 'America/New_York' });
    expect(await listFills(ctx.db, { account: 'acct-1' })).toEqual([expect.objectContaining({ ...evening, account: 'acct-1', tradingDay: '2026-01-15' })]);
    await recordFill(ctx.db, fill(2, { ts: evening.ts }));
    expect(await listFills(ctx.db, { account: 'paper' })).toEqual([expect.objectContaining({ tradeId: 'T-2', tradingDay: '2026-01-16' })]);
    await expect(recordFills(ctx.db, [fill(3)], { timeZone: 'Mars/Olympus' })).rejects.toThrow(/timeZone: must be an IANA time zone/);
  });

  it("gives an order's fills back as the fills recorded, oldest first, with nothing of the records added", async () => {
    const mine = [fill(2), fill(1, { price: 430_000 as Price })];
    await recordFills(ctx.db, [...mine, fill(3, { clientOrderId: 'mr-20260115-000002' })], { account: 'acct-1' });
    expect(await listOrderFills(ctx.db, 'mr-20260115-000001')).toEqual([mine[1], mine[0]]);
  });

  it('adds fills to their order and keeps batches idempotent', async () => {
    await insertOrder(ctx.db, {
      clientOrderId: 'mr-20260115-000001',
      marketId: 'FED-RATE-CUT',
      side: 'BUY',
      quantity: 30 as Quantity,
      limitPrice: 450_000 as Price,
      strategy: 'mr',
      tradingDay: '2026-01-15',
      createdAt: T0,
    });
    const batch = [fill(1), fill(2, { price: 430_000 as Price }), fill(1)];
    const r1 = await recordFills(ctx.db, batch);
    expect(r1.outcomes.map((o) => o.inserted)).toEqual([true, true, false]);
    const r2 = await recordFills(ctx.db, batch);
    expect(r2.outcomes.map((o) => o.inserted)).toEqual([false, false, false]);
    const order = await getOrder(ctx.db, 'mr-20260115-000001');
    expect(order).toMatchObject({ filledQuantity: 20, fillNotional: 8_500_000, fees: 140_000 });
  });

  it('maps a refused value to a typed RecordError naming the column', async () => {
    const err = await ctx.db.execute(`insert into fills (trade_id, client_order_id, market_id, side, quantity, price, fee, filled_at, trading_day) values ('X', 'o', 'm', 'HOLD', 1, 0.5, 0, now(), '2026-01-15')`).catch((e: unknown) => e);
    const { toRecordError } = await import('../../db/errors');
    const mapped = toRecordError(err);
    expect(mapped).toBeInstanceOf(RecordError);
    expect((mapped as RecordError).type).toBe('ConstraintViolation');
    expect((mapped as RecordError).field).toBe('side');
  });
});
