/** Venues and the markets traded on them (category, tick size, resolution date, outcome). */
import { asc, eq } from 'drizzle-orm';
import type { Executor } from '../client';
import { markets, venues } from '../schema';
import { InvalidInput } from '../../domain/errors';
import { validateMarket, type Market, type Outcome } from '../../domain/market';
import type { Price } from '../../domain/money';
import { mapErrors } from './common';

export async function upsertVenue(ex: Executor, venue: { venueId: string; name: string }): Promise<void> {
  if (typeof venue.venueId !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(venue.venueId)) throw InvalidInput.of('venueId', venue.venueId, 'must be 1-32 lower-case letters, digits, "_" or "-"');
  await mapErrors(ex.insert(venues).values(venue).onConflictDoUpdate({ target: venues.venueId, set: { name: venue.name } }));
}

/** Inserts or refreshes a market's reference data; writing the same market twice changes nothing. */
export async function upsertMarket(ex: Executor, market: Market, options: { venueId?: string; title?: string | null } = {}): Promise<void> {
  const m = validateMarket(market);
  const row = {
    marketId: m.marketId,
    venueId: options.venueId ?? 'paper',
    title: options.title ?? null,
    category: m.category,
    tickSize: m.tickSize as Price,
    resolvesAt: m.resolvesAt,
    outcome: m.outcome,
  };
  const { marketId: _key, ...update } = row;
  await mapErrors(ex.insert(markets).values(row).onConflictDoUpdate({ target: markets.marketId, set: update }));
}

const toMarket = (r: typeof markets.$inferSelect): Market & { venueId: string; title: string | null } => ({
  marketId: r.marketId,
  category: r.category,
  tickSize: r.tickSize,
  resolvesAt: r.resolvesAt,
  outcome: r.outcome as Outcome | null,
  venueId: r.venueId,
  title: r.title,
});

export async function getMarket(ex: Executor, marketId: string) {
  const [row] = await mapErrors(ex.select().from(markets).where(eq(markets.marketId, marketId)));
  return row ? toMarket(row) : null;
}

export async function listMarkets(ex: Executor, filter: { venueId?: string } = {}) {
  const rows = await mapErrors(
    ex
      .select()
      .from(markets)
      .where(filter.venueId === undefined ? undefined : eq(markets.venueId, filter.venueId))
      .orderBy(asc(markets.marketId)),
  );
  return rows.map(toMarket);
}
