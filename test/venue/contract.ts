/**
 * One set of assertions every Venue adapter must pass, run against the paper exchange and the
 * Kalshi double (contract.test.ts). The harness says which market to use and two prices: one
 * that rests on the book and one that crosses it and fills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Venue, VenueOrder } from '../../contracts/venue';
import type { Fill } from '../../domain/fill';
import { MICROS, type Quantity } from '../../domain/money';
import type { VenueUnderTest } from '../../testkit/venue-harness';

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function drainFills(venue: Venue, cursor: string | null): Promise<{ fills: Fill[]; cursor: string | null }> {
  const fills: Fill[] = [];
  let c = cursor;
  for (let i = 0; i < 100; i++) {
    const page = await venue.getFillsSince(c);
    fills.push(...page.fills);
    const moved = page.cursor !== c;
    c = page.cursor;
    if (!page.hasMore || !moved) break;
  }
  return { fills, cursor: c };
}

export function venueContractSuite(name: string, makeVenue: () => Promise<VenueUnderTest>): void {
  describe(`venue contract: ${name}`, () => {
    let t: VenueUnderTest;
    let seq = 0;
    const nextId = (): string => `${t.idPrefix}-${String(++seq).padStart(4, '0')}`;

    beforeAll(async () => {
      t = await makeVenue();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('lists markets as valid core markets, including the test market', async () => {
      const markets = await t.venue.listMarkets();
      const m = markets.find((x) => x.marketId === t.marketId);
      expect(m).toBeDefined();
      for (const x of markets) {
        expect(Number.isSafeInteger(x.tickSize) && x.tickSize > 0 && MICROS % x.tickSize === 0).toBe(true);
        expect(x.category.length).toBeGreaterThan(0);
      }
    });

    it('gives a snapshot with ordered depth in fixed-point prices', async () => {
      const s = await t.venue.getMarketSnapshot(t.marketId);
      expect(s.marketId).toBe(t.marketId);
      expect(Number.isSafeInteger(s.ts)).toBe(true);
      if (s.bid !== null && s.ask !== null) expect(s.bid).toBeLessThan(s.ask);
      for (const [i, l] of s.bids.entries()) {
        expect(Number.isSafeInteger(l.price) && l.price > 0 && l.price < MICROS).toBe(true);
        if (i > 0) expect(l.price).toBeLessThan(s.bids[i - 1]!.price);
      }
      for (const [i, l] of s.asks.entries()) if (i > 0) expect(l.price).toBeGreaterThan(s.asks[i - 1]!.price);
      if (s.bids[0]) expect(s.bid).toBe(s.bids[0].price);
      if (s.asks[0]) expect(s.ask).toBe(s.asks[0].price);
    });

    it('reports cash as integer micros', async () => {
      const b = await t.venue.getBalance();
      expect(Number.isSafeInteger(b.cash)).toBe(true);
      expect(b.cash).toBeGreaterThan(0);
    });

    it('places a resting order, finds it by both IDs and in the open list, dedupes a resubmit, cancels idempotently', async () => {
      const clientOrderId = nextId();
      const request = { clientOrderId, marketId: t.marketId, side: 'BUY' as const, quantity: 3 as Quantity, limitPrice: await t.restingBuyPrice() };
      const placed = await t.venue.placeOrder(request);
      expect(placed).toMatchObject({ clientOrderId, marketId: t.marketId, side: 'BUY', quantity: 3, limitPrice: request.limitPrice, filledQuantity: 0, status: 'OPEN' });
      expect(placed.venueOrderId.length).toBeGreaterThan(0);

      const byVenue = await t.venue.getOrderByVenueId(placed.venueOrderId);
      const byClient = await t.venue.getOrderByClientId(clientOrderId);
      expect(byVenue?.venueOrderId).toBe(placed.venueOrderId);
      expect(byClient?.venueOrderId).toBe(placed.venueOrderId);

      const open = await t.venue.listOpenOrders(t.marketId);
      expect(open.map((o) => o.venueOrderId)).toContain(placed.venueOrderId);
      expect((await t.venue.listOpenOrders()).map((o) => o.venueOrderId)).toContain(placed.venueOrderId);

      const again = await t.venue.placeOrder(request);
      expect(again.venueOrderId).toBe(placed.venueOrderId);

      const canceled = await t.venue.cancelOrder({ clientOrderId });
      expect(canceled).toMatchObject({ venueOrderId: placed.venueOrderId, status: 'CANCELED' });
      const twice = await t.venue.cancelOrder({ venueOrderId: placed.venueOrderId });
      expect(twice.status).toBe('CANCELED');
      expect((await t.venue.listOpenOrders(t.marketId)).map((o) => o.venueOrderId)).not.toContain(placed.venueOrderId);
    });

    it('answers null for orders it does not know', async () => {
      expect(await t.venue.getOrderByClientId(`${t.idPrefix}-unknown`)).toBeNull();
    });

    it('fills a crossing order; fills since a cursor come once, oldest first; positions and cash follow', async () => {
      const before = await drainFills(t.venue, null);
      const posBefore = (await t.venue.getPositions()).find((p) => p.marketId === t.marketId)?.quantity ?? 0;
      const cashBefore = (await t.venue.getBalance()).cash;

      const clientOrderId = nextId();
      await t.venue.placeOrder({ clientOrderId, marketId: t.marketId, side: 'BUY', quantity: 2 as Quantity, limitPrice: await t.crossingBuyPrice() });
      const done: VenueOrder = await until('the crossing order to fill', async () => {
        const o = await t.venue.getOrderByClientId(clientOrderId);
        return o && o.status === 'FILLED' ? o : null;
      });
      expect(done.filledQuantity).toBe(2);
      expect(done.averageFillPrice).not.toBeNull();

      const after = await until('the fills to be listed', async () => {
        const r = await drainFills(t.venue, before.cursor);
        return r.fills.some((f) => f.clientOrderId === clientOrderId) ? r : null;
      });
      const mine = after.fills.filter((f) => f.clientOrderId === clientOrderId);
      expect(mine.reduce((s, f) => s + f.quantity, 0)).toBe(2);
      for (const f of mine) expect(f).toMatchObject({ marketId: t.marketId, side: 'BUY' });
      for (let i = 1; i < after.fills.length; i++) expect(after.fills[i]!.ts).toBeGreaterThanOrEqual(after.fills[i - 1]!.ts);
      expect(new Set(after.fills.map((f) => f.tradeId)).size).toBe(after.fills.length);
      expect(before.fills.map((f) => f.tradeId)).not.toContain(mine[0]!.tradeId);

      const nothingNew = await drainFills(t.venue, after.cursor);
      expect(nothingNew.fills.filter((f) => f.clientOrderId === clientOrderId)).toEqual([]);

      const posAfter = (await t.venue.getPositions()).find((p) => p.marketId === t.marketId)?.quantity ?? 0;
      expect(posAfter - posBefore).toBe(2);
      expect((await t.venue.getBalance()).cash).toBeLessThan(cashBefore);
    });
  });
}
