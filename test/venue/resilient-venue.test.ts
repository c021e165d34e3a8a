import { describe, expect, it } from 'vitest';
import type { PlaceOrderRequest, Venue, VenueOrder } from '../../contracts/venue';
import { idleVenueRest, openOrderFor } from '../../testkit/venue-harness';
import { VenueError, type VenueErrorKind } from '../../activities/venue/errors';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { Price, Quantity } from '../../domain/money';

const request: PlaceOrderRequest = { clientOrderId: 'rv-1', marketId: 'M-1', side: 'BUY', quantity: 2 as Quantity, limitPrice: 400_000 as Price };


const err = (kind: VenueErrorKind): VenueError => new VenueError(kind, 'scripted', { venue: 'fake', operation: 'x' });

/** A venue that answers placeOrder from a script (deduping on client order ID) and records every call. */
function scripted(place: ('accept' | 'accept-then-lose' | VenueError)[]) {
  const venueOrders = new Map<string, VenueOrder>();
  const calls: string[] = [];
  const venue: Venue = {
    name: 'fake',
    async placeOrder(r) {
      calls.push('place');
      const step = place.shift() ?? 'accept';
      if (step instanceof VenueError) throw step;
      const o = venueOrders.get(r.clientOrderId) ?? openOrderFor(r, `v-${venueOrders.size + 1}`);
      venueOrders.set(r.clientOrderId, o);
      if (step === 'accept-then-lose') throw err('TIMEOUT');
      return o;
    },
    async getOrderByClientId(id) {
      calls.push('lookup');
      return venueOrders.get(id) ?? null;
    },
    ...idleVenueRest,
  };
  return { venue: new ResilientVenue(venue, null), calls, venueOrders };
}

describe('resilient placeOrder: one attempt per call, reporting what it knows', () => {
  it("returns the venue's order", async () => {
    const t = scripted(['accept']);
    const o = await t.venue.placeOrder(request);
    expect(o).toMatchObject({ clientOrderId: 'rv-1', venueOrderId: 'v-1', status: 'OPEN' });
    expect(t.calls).toEqual(['place']);
    expect(t.venue.submissionStats()).toEqual({ submissions: 1, answered: 1, ambiguousOutcomes: 0, notPlaced: 0 });
  });

  it.each(['TIMEOUT', 'NETWORK', 'UNAVAILABLE', 'MALFORMED_RESPONSE'] as const)('a lost answer (%s) is AMBIGUOUS_SUBMIT naming it: no lookup, no resubmission', async (kind) => {
    const t = scripted([err(kind)]);
    const e = await t.venue.placeOrder(request).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', clientOrderId: 'rv-1', operation: 'placeOrder' });
    expect((e as VenueError).message).toContain(kind);
    expect((e as VenueError).cause).toMatchObject({ kind });
    expect(t.calls).toEqual(['place']);
    expect(t.venue.submissionStats()).toEqual({ submissions: 1, answered: 0, ambiguousOutcomes: 1, notPlaced: 0 });
  });

  it('an order the venue took before the answer was lost is still ambiguous to the client: the caller looks it up', async () => {
    const t = scripted(['accept-then-lose']);
    await expect(t.venue.placeOrder(request)).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT' });
    expect(t.calls).toEqual(['place']);
    expect(await t.venue.getOrderByClientId('rv-1')).toMatchObject({ venueOrderId: 'v-1' });
  });

  it.each(['AUTH', 'BAD_REQUEST', 'RATE_LIMITED', 'CIRCUIT_OPEN'] as const)('%s proves nothing was placed: it passes through as it is', async (kind) => {
    const t = scripted([err(kind)]);
    await expect(t.venue.placeOrder(request)).rejects.toMatchObject({ kind });
    expect(t.calls).toEqual(['place']);
    expect(t.venue.submissionStats()).toMatchObject({ submissions: 1, notPlaced: 1 });
  });

  it('shares one attempt between concurrent submissions of the same client order ID', async () => {
    const t = scripted(['accept']);
    const [a, b] = await Promise.all([t.venue.placeOrder(request), t.venue.placeOrder(request)]);
    expect(a).toBe(b);
    expect(t.calls).toEqual(['place']);
  });

  it('refuses a client order ID that already names a different order', async () => {
    const t = scripted(['accept', 'accept']);
    await t.venue.placeOrder(request);
    // Same ID at the venue, different quantity: a typed BAD_REQUEST, not a silent success.
    await expect(t.venue.placeOrder({ ...request, quantity: 5 as Quantity })).rejects.toMatchObject({ kind: 'BAD_REQUEST', venueCode: 'CLIENT_ORDER_ID_REUSED' });
  });

  it('rejects a bad request locally, naming the field, before anything is sent', async () => {
    const t = scripted([]);
    expect(() => t.venue.placeOrder({ ...request, quantity: 0 as Quantity })).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'quantity' }));
    expect(() => t.venue.placeOrder({ ...request, limitPrice: 1_000_000 as Price })).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'limitPrice' }));
    expect(() => t.venue.placeOrder({ ...request, clientOrderId: 'bad id!' })).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'clientOrderId' }));
    expect(t.calls).toEqual([]);
  });
});
