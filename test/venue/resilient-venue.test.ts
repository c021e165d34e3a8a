import { describe, expect, it } from 'vitest';
import type { PlaceOrderRequest, Venue, VenueOrder } from '../../contracts/venue';
import { VenueError, type VenueErrorKind } from '../../activities/venue/errors';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { Price, Quantity } from '../../domain/money';

const request: PlaceOrderRequest = { clientOrderId: 'rv-1', marketId: 'M-1', side: 'BUY', quantity: 2 as Quantity, limitPrice: 400_000 as Price };

const orderFor = (r: PlaceOrderRequest, venueOrderId = 'v-1'): VenueOrder => ({
  venueOrderId,
  clientOrderId: r.clientOrderId,
  marketId: r.marketId,
  side: r.side,
  quantity: r.quantity,
  limitPrice: r.limitPrice,
  filledQuantity: 0 as Quantity,
  averageFillPrice: null,
  status: 'OPEN',
  rejectReason: null,
  createdAt: 1,
  updatedAt: 1,
});

const err = (kind: VenueErrorKind): VenueError => new VenueError(kind, 'scripted', { venue: 'fake', operation: 'x' });

type Step<T> = T | VenueError;

/** A venue that answers placeOrder and getOrderByClientId from scripts and records every call. */
function scripted(place: Step<'accept' | 'accept-then-lose'>[], lookup: Step<'found' | 'absent'>[]) {
  const venueOrders = new Map<string, VenueOrder[]>();
  const calls: string[] = [];
  const venue: Venue = {
    name: 'fake',
    async placeOrder(r) {
      calls.push('place');
      const step = place.shift() ?? 'accept';
      if (step instanceof VenueError) throw step;
      const list = venueOrders.get(r.clientOrderId) ?? [];
      const o = orderFor(r, `v-${list.length + 1}`);
      venueOrders.set(r.clientOrderId, [...list, o]);
      if (step === 'accept-then-lose') throw err('TIMEOUT');
      return o;
    },
    async getOrderByClientId(id) {
      calls.push('lookup');
      const step = lookup.shift() ?? 'found';
      if (step instanceof VenueError) throw step;
      return step === 'found' ? (venueOrders.get(id)?.[0] ?? null) : null;
    },
    cancelOrder: () => Promise.reject(new Error('unused')),
    getOrderByVenueId: () => Promise.resolve(null),
    listOpenOrders: () => Promise.resolve([]),
    getFillsSince: () => Promise.resolve({ fills: [], cursor: '' }),
    getPositions: () => Promise.resolve([]),
    getBalance: () => Promise.reject(new Error('unused')),
    getMarketSnapshot: () => Promise.reject(new Error('unused')),
    listMarkets: () => Promise.resolve([]),
  };
  const instant = { now: () => 0, sleep: () => Promise.resolve() };
  return { venue: new ResilientVenue(venue, null, { clock: instant, random: () => 0, maxSubmissions: 3 }), calls, venueOrders };
}

describe('resilient placeOrder', () => {
  it('returns the order found by client ID after a lost answer, without resubmitting', async () => {
    const t = scripted(['accept-then-lose'], ['found']);
    const o = await t.venue.placeOrder(request);
    expect(o.venueOrderId).toBe('v-1');
    expect(t.calls).toEqual(['place', 'lookup']);
    expect(t.venueOrders.get('rv-1')).toHaveLength(1);
  });

  it('resubmits with the same client order ID only after a lookup says it is absent', async () => {
    const t = scripted([err('UNAVAILABLE'), err('NETWORK'), 'accept'], ['absent', 'absent']);
    const o = await t.venue.placeOrder(request);
    expect(o.clientOrderId).toBe('rv-1');
    expect(t.calls).toEqual(['place', 'lookup', 'place', 'lookup', 'place']);
    expect(t.venue.submissionStats()).toMatchObject({ submissions: 3, lookups: 2, resubmissions: 2 });
  });

  it('raises AMBIGUOUS_SUBMIT and lists the order as unresolved when the lookup fails', async () => {
    const t = scripted([err('TIMEOUT')], [err('UNAVAILABLE')]);
    await expect(t.venue.placeOrder(request)).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', clientOrderId: 'rv-1' });
    expect(t.venue.unresolvedSubmissions().map((u) => u.clientOrderId)).toEqual(['rv-1']);
    // A later attempt that settles it clears the entry.
    await t.venue.placeOrder(request);
    expect(t.venue.unresolvedSubmissions()).toEqual([]);
  });

  it('gives up with the last error once submissions run out and the order is confirmed absent', async () => {
    const t = scripted([err('UNAVAILABLE'), err('UNAVAILABLE'), err('UNAVAILABLE')], ['absent', 'absent', 'absent']);
    await expect(t.venue.placeOrder(request)).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
    expect(t.calls.filter((c) => c === 'place')).toHaveLength(3);
    expect(t.venue.unresolvedSubmissions()).toEqual([]);
  });

  it.each(['AUTH', 'BAD_REQUEST', 'RATE_LIMITED', 'CIRCUIT_OPEN'] as const)('does not look up or resubmit after %s', async (kind) => {
    const t = scripted([err(kind)], []);
    await expect(t.venue.placeOrder(request)).rejects.toMatchObject({ kind });
    expect(t.calls).toEqual(['place']);
  });

  it('shares one attempt between concurrent submissions of the same client order ID', async () => {
    const t = scripted(['accept'], []);
    const [a, b] = await Promise.all([t.venue.placeOrder(request), t.venue.placeOrder(request)]);
    expect(a).toBe(b);
    expect(t.calls).toEqual(['place']);
  });

  it('refuses a client order ID that already names a different order', async () => {
    const t = scripted(['accept-then-lose', err('TIMEOUT')], ['found', 'found']);
    await t.venue.placeOrder(request);
    // Same ID at the venue, different quantity: a typed BAD_REQUEST, not a silent success.
    await expect(t.venue.placeOrder({ ...request, quantity: 5 as Quantity })).rejects.toMatchObject({ kind: 'BAD_REQUEST', venueCode: 'CLIENT_ORDER_ID_REUSED' });
  });

  it('rejects a bad request locally, naming the field, before anything is sent', async () => {
    const t = scripted([], []);
    expect(() => t.venue.placeOrder({ ...request, quantity: 0 as Quantity })).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'quantity' }));
    expect(() => t.venue.placeOrder({ ...request, limitPrice: 1_000_000 as Price })).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'limitPrice' }));
    expect(() => t.venue.placeOrder({ ...request, clientOrderId: 'bad id!' })).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'clientOrderId' }));
    expect(t.calls).toEqual([]);
  });
});
