/**
 * Two writers on separate connections (on the server: separate pools) record interleaved fills
 * for the same position at the same time, including trade IDs both of them deliver.
 * Every fill must count exactly once and the position must equal the sequential replay of
 * the fills in the order they were applied.
 */
import { expect, it } from 'vitest';
import { recordFill, recordFills } from '../../db/repositories/fills';
import { listDailyPnl, listPositions, positionHistoryOf } from '../../db/repositories/positions';
import { listFills } from '../../db/repositories/fills';
import { applyFillToPosition, emptyPosition } from '../../domain/ledger';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14);

/** Deterministic pseudo-random fills: mixed sides so realized P&L depends on application order. */
function makeFills(n: number, marketId: string, prefix: string): Fill[] {
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => ({
    tradeId: `${prefix}-${i}`,
    clientOrderId: `o-${prefix}-${i % 7}`,
    marketId,
    side: next() < 0.55 ? ('BUY' as const) : ('SELL' as const),
    quantity: (1 + Math.floor(next() * 20)) as Quantity,
    price: (10_000 * (20 + Math.floor(next() * 60)) + 7) as Price,
    fee: Math.floor(next() * 5_000) as Money,
    ts: T0 + i,
  }));
}

forEachBackend('concurrent fill writers', (ctx) => {
  it('counts every fill once and leaves the position exact', async () => {
    const [a, b] = [await ctx.openAnother(), await ctx.openAnother()];
    const all = makeFills(120, 'M1', 'T');
    // Interleaved: A gets the even fills, B the odd; both also deliver every fifth fill (duplicates).
    const forA = all.filter((_, i) => i % 2 === 0 || i % 5 === 0);
    const forB = all.filter((_, i) => i % 2 === 1 || i % 5 === 0);
    const results = await Promise.all([
      (async () => {
        let n = 0;
        for (const f of forA) n += (await recordFill(a, f)).inserted ? 1 : 0;
        return n;
      })(),
      (async () => {
        let n = 0;
        for (const f of forB) n += (await recordFill(b, f)).inserted ? 1 : 0;
        return n;
      })(),
    ]);
    expect(results[0] + results[1]).toBe(all.length);

    const history = await positionHistoryOf(ctx.db, 'paper', 'M1');
    expect(history).toHaveLength(all.length);
    const byId = new Map(all.map((f) => [f.tradeId, f]));
    const appliedOrder = history.map((h) => byId.get(h.tradeId)!);
    const expected = appliedOrder.reduce((p, f) => applyFillToPosition(p, f), emptyPosition('M1'));
    const [stored] = await listPositions(ctx.db);
    expect({ quantity: stored!.quantity, costBasis: stored!.costBasis, realizedPnl: stored!.realizedPnl, fees: stored!.fees }).toEqual({
      quantity: expected.quantity,
      costBasis: expected.costBasis,
      realizedPnl: expected.realizedPnl,
      fees: expected.fees,
    });
    // Order-independent checks: net contracts, fees, and the ledger's cash identity.
    const signed = all.reduce((s, f) => s + (f.side === 'BUY' ? f.quantity : -f.quantity), 0);
    const cash = all.reduce((s, f) => s + (f.side === 'SELL' ? 1 : -1) * f.quantity * f.price, 0);
    expect(stored!.quantity).toBe(signed);
    expect(stored!.fees).toBe(all.reduce((s, f) => s + f.fee, 0));
    expect(stored!.realizedPnl - stored!.costBasis).toBe(cash);
    expect(stored!.fillCount).toBe(all.length);
    expect(await listFills(ctx.db)).toHaveLength(all.length);
    const [day] = await listDailyPnl(ctx.db);
    expect(day).toMatchObject({ fillCount: all.length, realizedPnl: stored!.realizedPnl, fees: stored!.fees });
  });

  it('does not deadlock when batches touch the same positions in opposite orders', async () => {
    const [a, b] = [await ctx.openAnother(), await ctx.openAnother()];
    const markets = ['M1', 'M2', 'M3'];
    const fillsA = markets.flatMap((m) => makeFills(30, m, `A${m}`));
    const fillsB = [...markets].reverse().flatMap((m) => makeFills(30, m, `B${m}`));
    const batches = (fs: Fill[]) => Array.from({ length: 10 }, (_, i) => fs.filter((_, j) => j % 10 === i));
    await Promise.all([
      (async () => {
        for (const batch of batches(fillsA)) await recordFills(a, batch);
      })(),
      (async () => {
        for (const batch of batches(fillsB)) await recordFills(b, batch);
      })(),
    ]);
    for (const m of markets) {
      const history = await positionHistoryOf(ctx.db, 'paper', m);
      expect(history).toHaveLength(60);
      const byId = new Map([...fillsA, ...fillsB].map((f) => [f.tradeId, f]));
      const expected = history.map((h) => byId.get(h.tradeId)!).reduce((p, f) => applyFillToPosition(p, f), emptyPosition(m));
      const stored = (await listPositions(ctx.db)).find((p) => p.marketId === m)!;
      expect([stored.quantity, stored.costBasis, stored.realizedPnl, stored.fees]).toEqual([expected.quantity, expected.costBasis, expected.realizedPnl, expected.fees]);
    }
  });
});
