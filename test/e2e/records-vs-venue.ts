/**
 * The venue's own state against the records, read through the venue's API (never through the
 * workflows' results): per client order ID the venue order and the recorded order, per trade ID
 * the venue fill and the recorded fill, per market the venue position and the recorded one. Each
 * function returns the disagreements as sentences (empty: they agree), so a failed expectation
 * names every difference at once.
 */
import { getOrder, listFills, listPositions, type Db } from '../../db';
import type { VenueOrder } from '../../contracts/venue';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { Fill } from '../../domain/fill';
import { TERMINAL_STATES } from '../../domain/order';

/** Every fill the venue reports for the account, oldest first (all pages). */
export async function venueFills(venue: ResilientVenue): Promise<Fill[]> {
  const out: Fill[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    const p = await venue.getFillsSince(cursor);
    out.push(...p.fills);
    if (p.fills.length === 0 || p.hasMore === false) return out;
    cursor = p.cursor;
  }
  throw new Error('more than 1000 pages of fills');
}

/** Venue order status → the recorded state it must have once the order's workflow has finished. */
const SETTLED_STATE: Partial<Record<VenueOrder['status'], string>> = { FILLED: 'FILLED', CANCELED: 'CANCELED', REJECTED: 'REJECTED', EXPIRED: 'EXPIRED' };

/**
 * Orders, fills and positions for these client order IDs and markets, once their workflows have
 * finished. An order the venue never received must be recorded without a venue order ID; every
 * venue fill of these orders must be recorded exactly once under its trade ID and no other fill
 * recorded; each market's recorded position must be the venue's.
 */
export async function recordsAgainstVenue(db: Db, venue: ResilientVenue, input: { clientOrderIds: readonly string[]; marketIds: readonly string[] }): Promise<string[]> {
  const problems: string[] = [];
  const fills = await venueFills(venue);
  for (const coid of input.clientOrderIds) {
    const [record, order] = await Promise.all([getOrder(db, coid), venue.getOrderByClientId(coid)]);
    if (record === null && order === null) continue;
    if (record === null) {
      problems.push(`${coid}: the venue has ${order!.venueOrderId} (${order!.status}) and the records have no order`);
      continue;
    }
    if (order === null) {
      if (record.venueOrderId !== null) problems.push(`${coid}: recorded as venue order ${record.venueOrderId}, which the venue does not have`);
      if (record.filledQuantity !== 0) problems.push(`${coid}: recorded ${record.filledQuantity} filled, the venue has no such order`);
      continue;
    }
    if (record.venueOrderId !== order.venueOrderId) problems.push(`${coid}: recorded venue order ${record.venueOrderId}, the venue's is ${order.venueOrderId}`);
    for (const f of ['marketId', 'side', 'quantity', 'limitPrice'] as const) {
      if (record[f] !== order[f]) problems.push(`${coid}: ${f} recorded ${String(record[f])}, at the venue ${String(order[f])}`);
    }
    if (record.filledQuantity !== order.filledQuantity) problems.push(`${coid}: recorded ${record.filledQuantity} filled, the venue ${order.filledQuantity}`);
    const settled = SETTLED_STATE[order.status];
    if (settled !== undefined && record.state !== settled) problems.push(`${coid}: recorded ${record.state}, the venue says ${order.status}`);
    if (settled === undefined && (TERMINAL_STATES as readonly string[]).includes(record.state)) problems.push(`${coid}: recorded ${record.state}, still ${order.status} at the venue`);

    const atVenue = fills.filter((f) => f.clientOrderId === coid).map((f) => f.tradeId).sort();
    const recorded = (await listFills(db, { clientOrderId: coid })).map((f) => f.tradeId).sort();
    if (new Set(recorded).size !== recorded.length) problems.push(`${coid}: a trade is recorded twice: ${recorded.join(', ')}`);
    if (atVenue.join() !== recorded.join()) problems.push(`${coid}: venue trades [${atVenue.join(', ')}], recorded [${recorded.join(', ')}]`);
  }
  const [venuePositions, recordedPositions] = await Promise.all([venue.getPositions(), listPositions(db)]);
  for (const m of input.marketIds) {
    const v = venuePositions.find((p) => p.marketId === m)?.quantity ?? 0;
    const r = recordedPositions.find((p) => p.marketId === m)?.quantity ?? 0;
    if (v !== r) problems.push(`${m}: the venue holds ${v}, the records ${r}`);
  }
  return problems;
}
