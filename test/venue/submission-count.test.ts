/**
 * How many times one order reaches the venue's placeOrder when its submissions fail ambiguously.
 * The three layers run together without a server (lifecycle-submit.ts): OrderLifecycle, the real
 * submitOrder and lookupOrder activities retried per the workflow's own activity options, and the
 * ResilientVenue client over a scripted adapter that counts every placeOrder it receives.
 * Before the protocol had one home, the first case came to 45 calls (3 per client call x 3
 * activity attempts x 5 workflow submissions) and the second to 15. Now the protocol lives in
 * the lifecycle alone and the count is at most MAX_SUBMIT_ATTEMPTS whatever the venue does.
 */
import { describe, expect, it } from 'vitest';
import { VenueError, type VenueErrorKind } from '../../activities/venue/errors';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { Venue, VenueOrder } from '../../contracts/venue';
import { idleVenueRest, openOrderFor } from '../../testkit/venue-harness';
import type { Price, Quantity } from '../../domain/money';
import { MAX_SUBMIT_ATTEMPTS } from '../../workflows/order-lifecycle';
import { lifecycleSubmitter } from './lifecycle-submit';

const COID = 'count-20261121-000001';

/** What the adapter does with each placeOrder it receives, and whether lookups answer. */
interface Script {
  /** The n-th placeOrder: accepted, or failing with `kind` after the venue took the order (`takes`) or before. */
  place: (n: number) => { kind: VenueErrorKind; takes: boolean } | 'accept';
  /** Lookups that fail (UNAVAILABLE) before the venue answers them. */
  failingLookups?: number;
}

const err = (kind: VenueErrorKind): VenueError => new VenueError(kind, 'scripted', { venue: 'scripted', operation: 'placeOrder' });

function scriptedVenue(script: Script) {
  const orders = new Map<string, VenueOrder>();
  let placements = 0;
  let lookups = 0;
  const inner: Venue = {
    name: 'scripted',
    async placeOrder(r) {
      const step = script.place(++placements);
      if (step !== 'accept' && !step.takes) throw err(step.kind);
      const o = orders.get(r.clientOrderId) ?? openOrderFor(r, `V-${r.clientOrderId}`);
      orders.set(r.clientOrderId, o);
      if (step !== 'accept') throw err(step.kind);
      return o;
    },
    async getOrderByClientId(id) {
      if (++lookups <= (script.failingLookups ?? 0)) throw err('UNAVAILABLE');
      return orders.get(id) ?? null;
    },
    ...idleVenueRest,
  };
  return { venue: new ResilientVenue(inner, null), orders, placements: () => placements };
}

async function runOrder(script: Script) {
  const v = scriptedVenue(script);
  const { submit, tally } = lifecycleSubmitter(v.venue);
  const outcome = await submit({ clientOrderId: COID, marketId: 'PRES-2028', side: 'BUY', quantity: 2 as Quantity, limitPrice: 400_000 as Price });
  if (!('status' in outcome)) throw outcome.error;
  return { status: outcome.status, placements: v.placements(), atVenue: v.orders.size, alerts: tally.alerts };
}

describe('placeOrder calls for one order under ambiguous outcomes', () => {
  it('every submission lost before the venue took it: at most MAX_SUBMIT_ATTEMPTS placements, then the order is abandoned with an alert', async () => {
    const r = await runOrder({ place: () => ({ kind: 'UNAVAILABLE', takes: false }) });
    console.log(`5xx on every submission: ${r.placements} placeOrder calls`);
    expect(r.placements).toBe(MAX_SUBMIT_ATTEMPTS);
    expect(r.status).toMatchObject({ state: 'EXPIRED', submitAttempts: MAX_SUBMIT_ATTEMPTS, venueOrderId: null });
    expect(r.atVenue).toBe(0);
    expect(r.alerts.map((a) => a.type)).toContain('ORDER_UNRESOLVED');
  });

  it('every answer lost by timeout, the venue never holding the order: the same bound', async () => {
    const r = await runOrder({ place: () => ({ kind: 'TIMEOUT', takes: false }) });
    console.log(`timeout on every submission: ${r.placements} placeOrder calls`);
    expect(r.placements).toBe(MAX_SUBMIT_ATTEMPTS);
    expect(r.status.state).toBe('EXPIRED');
  });

  it('the venue took the order and the answer was lost: one placement, found by lookup', async () => {
    const r = await runOrder({ place: () => ({ kind: 'TIMEOUT', takes: true }) });
    expect(r.placements).toBe(1);
    expect(r.status).toMatchObject({ venueOrderId: `V-${COID}`, submitAttempts: 1 });
  });

  it('lookups failing for a while hold the resubmission back: nothing is sent until the venue answers', async () => {
    const r = await runOrder({ place: (n) => (n === 1 ? { kind: 'NETWORK', takes: false } : 'accept'), failingLookups: 12 });
    expect(r.placements).toBe(2);
    expect(r.status).toMatchObject({ submitAttempts: 2, venueOrderId: `V-${COID}` });
    expect(r.alerts.filter((a) => a.type === 'ORDER_UNRESOLVED')).toHaveLength(1);
  });
});
