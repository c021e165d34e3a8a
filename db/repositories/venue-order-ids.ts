/**
 * The venue order ID ↔ client order ID map (contracts/venue.ts `OrderIdMap`), kept in the records
 * so a restarted worker does not refetch every order to learn which of ours a fill belongs to
 * (Kalshi's fills carry only the venue's order ID). `remember` is idempotent; a venue order ID
 * maps to one client order ID for ever, and a second, different one is a RecordConflict.
 */
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordConflict } from '../errors';
import { venueOrderIds } from '../schema';
import type { OrderIdMap } from '../../contracts/venue';
import { InvalidInput } from '../../domain/errors';
import { validateClientOrderId } from '../../domain/ids';
import { mapErrors } from './common';

/** Longest venue name or venue order ID taken (Kalshi's order IDs are UUIDs). */
const MAX_ID_LENGTH = 200;

function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw InvalidInput.of(field, value, `must be 1-${MAX_ID_LENGTH} visible ASCII characters`);
  }
  return value;
}

/** The client order ID the records hold for a venue's order ID, or null when it was never learned. */
export async function clientOrderIdForVenueOrder(ex: Executor, venue: string, venueOrderId: string): Promise<string | null> {
  checkId('venue', venue);
  checkId('venueOrderId', venueOrderId);
  const [row] = await mapErrors(
    ex
      .select({ clientOrderId: venueOrderIds.clientOrderId })
      .from(venueOrderIds)
      .where(and(eq(venueOrderIds.venue, venue), eq(venueOrderIds.venueOrderId, venueOrderId))),
  );
  return row?.clientOrderId ?? null;
}

/**
 * Records that the venue's `venueOrderId` is our `clientOrderId`. Recording the same pair again
 * changes nothing; a different client order ID for a venue order ID already mapped is refused.
 */
export async function rememberVenueOrderId(ex: Executor, input: { venue: string; venueOrderId: string; clientOrderId: string; at?: number }): Promise<{ inserted: boolean }> {
  const venue = checkId('venue', input?.venue);
  const venueOrderId = checkId('venueOrderId', input?.venueOrderId);
  const clientOrderId = validateClientOrderId(input?.clientOrderId, 'clientOrderId');
  const rows = await mapErrors(
    ex
      .insert(venueOrderIds)
      .values({ venue, venueOrderId, clientOrderId, ...(input.at !== undefined ? { recordedAt: input.at } : {}) })
      .onConflictDoNothing()
      .returning({ venueOrderId: venueOrderIds.venueOrderId }),
  );
  if (rows.length === 1) return { inserted: true };
  const stored = await clientOrderIdForVenueOrder(ex, venue, venueOrderId);
  if (stored !== clientOrderId) throw new RecordConflict('venue_order_ids', `${venue}:${venueOrderId}`, ['clientOrderId'], stored, clientOrderId);
  return { inserted: false };
}

/**
 * The records' `OrderIdMap` over a database handle: what the worker passes to the Kalshi adapter
 * (`orderIdMap: createOrderIdMap(db)`). Holds no state of its own, so any number of instances,
 * in any number of workers, see the same map.
 */
export function createOrderIdMap(ex: Executor): OrderIdMap {
  return {
    clientOrderIdFor: (venue, venueOrderId) => clientOrderIdForVenueOrder(ex, venue, venueOrderId),
    remember: async (venue, venueOrderId, clientOrderId) => {
      await rememberVenueOrderId(ex, { venue, venueOrderId, clientOrderId });
    },
  };
}
