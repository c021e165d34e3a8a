import { expect, it } from 'vitest';
import { recordFill, recordFills } from '../../db/repositories/fills';
import { listDailyPnl, listPositions, markDailyPnl, markPositions, positionHistoryOf, settleMarketPosition } from '../../db/repositories/positions';
import { getMarket, upsertMarket } from '../../db/repositories/markets';
import { InvalidInput } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const DAY1 = Date.UTC(2026, 0, 15, 14);
const DAY2 = Date.UTC(2026, 0, 16, 14);

const f = (id: string, marketId: string, side: 'BUY' | 'SELL', quantity: number, price: number, ts: number, fee = 10_000): Fill => ({
  tradeId: id,
  clientOrderId: `o-${id}`,
  marketId,
  side,
  quantity: quantity as Quantity,
  price: price as Price,
  fee: fee as Money,
  ts,
});

forEachBackend('positions and P&L', (ctx) => {
  it('lists positions with unrealized P&L at stored or given marks', async () => {
    await recordFills(ctx.db, [f('a', 'M1', 'BUY', 10, 400_000, DAY1), f('b', 'M2', 'SELL', 4, 700_000, DAY1)]);
    expect(await markPositions(ctx.db, 'paper', { M1: 450_000 as Price, M2: 650_000 as Price }, DAY1 + 1)).toBe(2);
    const views = await listPositions(ctx.db);
    expect(views.map((v) => [v.marketId, v.quantity, v.unrealizedPnl, v.totalPnl])).toEqual([
      ['M1', 10, 500_000, 490_000],
      ['M2', -4, 200_000, 190_000],
    ]);
    const override = await listPositions(ctx.db, { marks: { M1: 300_000 as Price } });
    expect(override[0]).toMatchObject({ mark: 300_000, unrealizedPnl: -1_000_000, averageEntryPrice: 400_000 });
    await expect(markPositions(ctx.db, 'paper', { M1: 1_000_000 as Price }, DAY1)).rejects.toBeInstanceOf(InvalidInput);
  });

  it('keeps a history row per fill and daily P&L per trading day', async () => {
    await recordFill(ctx.db, f('a', 'M1', 'BUY', 10, 400_000, DAY1));
    await recordFill(ctx.db, f('b', 'M1', 'SELL', 4, 500_000, DAY1 + 1000));
    await recordFill(ctx.db, f('c', 'M1', 'SELL', 6, 350_000, DAY2));
    const history = await positionHistoryOf(ctx.db, 'paper', 'M1');
    expect(history.map((h) => [h.tradeId, h.quantity, h.realizedPnl])).toEqual([
      ['a', 10, 0],
      ['b', 6, 400_000],
      ['c', 0, 100_000],
    ]);
    const days = await listDailyPnl(ctx.db);
    expect(days.map((d) => [d.tradingDay, d.realizedPnl, d.fees, d.fillCount, d.contractsTraded, d.notionalTraded])).toEqual([
      ['2026-01-16', -300_000, 10_000, 1, 6, 2_100_000],
      ['2026-01-15', 400_000, 20_000, 2, 14, 6_000_000],
    ]);
    expect(await listDailyPnl(ctx.db, { from: '2026-01-16' })).toHaveLength(1);
  });

  it('marks the day with the open positions and replaces the figure on a re-mark', async () => {
    await recordFill(ctx.db, f('a', 'M1', 'BUY', 10, 400_000, DAY1));
    await markDailyPnl(ctx.db, { tradingDay: '2026-01-15', at: DAY1 + 5, marks: { M1: 420_000 as Price } });
    const day = await markDailyPnl(ctx.db, { tradingDay: '2026-01-15', at: DAY1 + 6, marks: { M1: 430_000 as Price } });
    expect(day).toMatchObject({ realizedPnl: 0, unrealizedPnl: 300_000, fees: 10_000, netPnl: 290_000 });
  });

  it('settles a resolved market once, through the core ledger', async () => {
    await upsertMarket(ctx.db, { marketId: 'M1', category: 'economics', tickSize: 10_000, resolvesAt: DAY2, outcome: null });
    await recordFill(ctx.db, f('a', 'M1', 'BUY', 10, 400_000, DAY1));
    const first = await settleMarketPosition(ctx.db, { marketId: 'M1', outcome: 'YES', at: DAY2, tradingDay: '2026-01-16' });
    expect(first.settled).toBe(true);
    expect(first.position).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: 6_000_000 });
    const again = await settleMarketPosition(ctx.db, { marketId: 'M1', outcome: 'YES', at: DAY2, tradingDay: '2026-01-16' });
    expect(again.settled).toBe(false);
    expect((await listPositions(ctx.db))[0]).toMatchObject({ realizedPnl: 6_000_000, quantity: 0 });
    expect((await listDailyPnl(ctx.db, { from: '2026-01-16' }))[0]!.realizedPnl).toBe(6_000_000);
    expect((await getMarket(ctx.db, 'M1'))!.outcome).toBe('YES');
  });

  it('stores prices and money exactly, to the micro, at large magnitudes', async () => {
    await recordFill(ctx.db, f('a', 'M1', 'BUY', 999_999_999, 999_999, DAY1, 123_456_789_012));
    const [p] = await listPositions(ctx.db);
    expect(p).toMatchObject({ quantity: 999_999_999, costBasis: 999_999_999 * 999_999, fees: 123_456_789_012 });
  });
});
