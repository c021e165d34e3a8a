/** The fill sync: cursor stored only after the fills commit; concurrent callers coalesce. */
import { expect, it } from 'vitest';
import { FillSync } from '../../activities/fill-sync';
import type { FillPage, Venue } from '../../contracts/venue';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import { getPosition, listFills, recordFill } from '../../db';
import { getFillCursor } from '../../db/repositories/venue-cursors';
import type { Fill } from '../../domain/fill';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from '../db/harness';

const fill = (n: number, price = 400_000): Fill => ({
  tradeId: `trd-${n}`,
  clientOrderId: 'mr-20261121-000001',
  marketId: 'PX-POL-1',
  side: 'BUY',
  quantity: 1 as Quantity,
  price: price as Price,
  fee: 0 as Money,
  ts: Date.UTC(2026, 10, 21, 12, 0, n),
});

/** Serves a fixed list of fills in pages of two; cursors are "c-<index>". */
class PagedFills implements Partial<Venue> {
  readonly name = 'paged';
  calls = 0;
  constructor(
    private readonly fills: Fill[],
    private readonly cursorAt: (index: number) => string = (i) => `c-${i}`,
  ) {}
  async getFillsSince(cursor: string | null): Promise<FillPage> {
    this.calls += 1;
    await new Promise((r) => setTimeout(r, 5));
    const from = cursor === null ? 0 : Number(cursor.slice(2));
    const page = this.fills.slice(from, from + 2);
    return { fills: page, cursor: this.cursorAt(from + page.length), hasMore: from + page.length < this.fills.length };
  }
}

forEachBackend('fill sync', (backend) => {
  const syncOver = (fills: Fill[], cursorAt?: (index: number) => string) => {
    const paged = new PagedFills(fills, cursorAt);
    return { paged, sync: new FillSync(backend.db, new ResilientVenue(paged as unknown as Venue, null), 'paper', 'UTC') };
  };

  it('reads every page, then stores the cursor; a later sync starts there', async () => {
    const { paged, sync } = syncOver([1, 2, 3, 4, 5].map((n) => fill(n)));
    expect(await sync.sync()).toMatchObject({ pages: 3, fillsSeen: 5, fillsInserted: 5 });
    expect((await getFillCursor(backend.db, 'paper'))?.cursor).toBe('c-5');
    expect((await getPosition(backend.db, 'paper', 'PX-POL-1'))?.quantity).toBe(5);
    const before = paged.calls;
    expect(await sync.sync()).toMatchObject({ pages: 1, fillsSeen: 0 });
    expect(paged.calls).toBe(before + 1);
  });

  it('a page that fails to commit leaves the cursor where it was, and nothing of the page is recorded', async () => {
    await recordFill(backend.db, fill(4, 410_000), { account: 'paper' }); // same trade ID, other price
    const { sync } = syncOver([1, 2, 3, 4].map((n) => fill(n)));
    await expect(sync.sync()).rejects.toMatchObject({ type: 'RecordConflict' });
    expect((await getFillCursor(backend.db, 'paper'))?.cursor).toBe('c-2');
    expect((await listFills(backend.db)).map((f) => f.tradeId).sort()).toEqual(['trd-1', 'trd-2', 'trd-4']);
  });

  it('a page whose cursor cannot be stored is refused before any of its fills is recorded', async () => {
    // Sweep seed -947578149: a NUL in the cursor was refused by the store only after the page's fills were in.
    for (const bad of ['\u0000', 'c-\u00002', 'c-\uD800', '', 'c'.repeat(1_001)]) {
      const { sync } = syncOver([1, 2, 3].map((n) => fill(n)), (i) => (i === 2 ? bad : `c-${i}`));
      await expect(sync.sync()).rejects.toMatchObject({ name: 'VenueError', kind: 'MALFORMED_RESPONSE', field: 'cursor' });
      expect(await listFills(backend.db)).toEqual([]);
      expect(await getFillCursor(backend.db, 'paper')).toBeNull();
      expect(await getPosition(backend.db, 'paper', 'PX-POL-1')).toBeNull();
    }
  });

  it('concurrent callers share syncs: every caller sees its fills, the venue is asked at most twice per round', async () => {
    const { paged, sync } = syncOver([1, 2].map((n) => fill(n)));
    await Promise.all(Array.from({ length: 8 }, () => sync.sync()));
    expect(paged.calls).toBeLessThanOrEqual(2);
    expect(await listFills(backend.db)).toHaveLength(2);
  });
});
