import { expect, it } from 'vitest';
import { RecordConflict } from '../../db/errors';
import { createFillWriter } from '../../db/repositories/fill-writer';
import { getPosition, listFills } from '../../db/repositories/fills';
import { positionHistoryOf } from '../../db/repositories/positions';
import { applyFillToPosition, emptyPosition } from '../../domain/ledger';
import { InvalidInput } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14);
const fill = (i: number, over: Partial<Fill> = {}): Fill => ({
  tradeId: `W-${i}`,
  clientOrderId: `o-${i % 3}`,
  marketId: 'M1',
  side: i % 4 === 0 ? 'SELL' : 'BUY',
  quantity: (1 + (i % 5)) as Quantity,
  price: (400_000 + i * 1_000) as Price,
  fee: 100 as Money,
  ts: T0 + i,
  ...over,
});

forEachBackend('group-commit fill writer', (ctx) => {
  it('records concurrent callers\' fills once each and fails only the bad fill', async () => {
    const writer = createFillWriter(ctx.db);
    const good = Array.from({ length: 40 }, (_, i) => fill(i));
    await writer.record(good[0]!);
    const calls = [
      ...good.map((f) => writer.record(f)),
      writer.record(fill(5)),
      writer.record(fill(7, { price: 990_000 as Price })),
      writer.record(fill(99, { quantity: -1 as Quantity })),
    ];
    const settled = await Promise.allSettled(calls);
    const inserted = settled.filter((s) => s.status === 'fulfilled' && s.value.inserted).length;
    expect(inserted).toBe(39);
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown);
    expect(rejected).toHaveLength(2);
    expect(rejected[0]).toBeInstanceOf(RecordConflict);
    expect(rejected[1]).toBeInstanceOf(InvalidInput);
    await writer.flush();

    expect(await listFills(ctx.db)).toHaveLength(40);
    const history = await positionHistoryOf(ctx.db, 'paper', 'M1');
    const byId = new Map(good.map((f) => [f.tradeId, f]));
    const expected = history.map((h) => byId.get(h.tradeId)!).reduce((p, f) => applyFillToPosition(p, f), emptyPosition('M1'));
    expect(await getPosition(ctx.db, 'paper', 'M1')).toEqual({ account: 'paper', ...expected });
  });
});
