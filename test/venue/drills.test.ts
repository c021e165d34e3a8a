/**
 * Fault drills: the paper exchange breaks on purpose (its fault-injection admin settings). Orders
 * go the way the order workflow sends them (lifecycle-submit.ts: OrderLifecycle's submission
 * protocol on the real activities and venue client), which must keep one venue order per client
 * order ID, place each order at most MAX_SUBMIT_ATTEMPTS times, and settle every submission:
 * accepted, or confirmed absent and abandoned with an alert. The client alone must stop on a 401,
 * ride out a 429 storm, and turn broken bodies into typed errors. The last drill repeats the
 * duplicate check against the Kalshi double with venue-side dedupe switched off, so only the
 * lookup-before-resubmit protocol stands between a lost answer and a second order. Counts are
 * printed as small tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaceOrderRequest, VenueOrder } from '../../contracts/venue';
import { isVenueError, VenueError } from '../../activities/venue/errors';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { PaperExchange } from '../../exchange/server';
import type { Price, Quantity } from '../../domain/money';
import { seededRandom } from '../../domain/random';
import { kalshiUnderDouble, paperClient, PAPER_KEY_ID, PAPER_SECRET, startPaper } from '../../testkit/venue-harness';
import type { OrderStatus } from '../../workflows/api';
import { MAX_SUBMIT_ATTEMPTS } from '../../workflows/order-lifecycle';
import { lifecycleSubmitter, type SubmitTally } from './lifecycle-submit';

const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 2, maxDelayMs: 20, maxRetryAfterMs: 3_000 };
const WIDE_LIMITS = { capacity: 100_000, refillPerSecond: 100_000 };

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function table(title: string, rows: Record<string, string | number>): void {
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  console.log([`\n${title}`, ...Object.entries(rows).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n'));
}

function venueOrdersPerClientId(exchange: PaperExchange): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of exchange.engine.toState().accounts) {
    if (a.keyId !== PAPER_KEY_ID) continue;
    for (const o of a.orders) out.set(o.clientOrderId, [...(out.get(o.clientOrderId) ?? []), o.venueOrderId]);
  }
  return out;
}

type Outcome = { kind: 'placed'; order: VenueOrder } | { kind: 'failed'; error: VenueError };

/** Each request through the order lifecycle's submission protocol; fails the test if a run does not finish. */
async function sendAll(venue: ResilientVenue, requests: PlaceOrderRequest[], concurrency: number): Promise<{ statuses: Map<string, OrderStatus>; tally: SubmitTally }> {
  const { submit, tally } = lifecycleSubmitter(venue);
  const statuses = new Map<string, OrderStatus>();
  await pool(requests, concurrency, async (r) => {
    const outcome = await submit(r);
    if (!('status' in outcome)) throw outcome.error;
    statuses.set(r.clientOrderId, outcome.status);
  });
  return { statuses, tally };
}

/** What the protocol did, summed over the orders. */
function protocolCounts(statuses: Map<string, OrderStatus>, tally: SubmitTally) {
  const submissions = [...tally.submissions.values()];
  const placeCalls = submissions.reduce((a, b) => a + b, 0);
  return {
    accepted: [...statuses.values()].filter((s) => s.venueOrderId !== null).length,
    abandoned: [...statuses.values()].filter((s) => s.state === 'EXPIRED').length,
    placeCalls,
    resubmissions: placeCalls - statuses.size,
    mostForOneOrder: Math.max(...submissions),
  };
}

async function submitAll(venue: ResilientVenue, requests: PlaceOrderRequest[], concurrency: number): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  await pool(requests, concurrency, async (r) => {
    try {
      outcomes.set(r.clientOrderId, { kind: 'placed', order: await venue.placeOrder(r) });
    } catch (e) {
      if (!isVenueError(e)) throw e;
      outcomes.set(r.clientOrderId, { kind: 'failed', error: e });
    }
  });
  return outcomes;
}

describe('fault drills against the paper exchange', () => {
  let exchange: PaperExchange;
  let marketId: string;
  let tick: number;

  beforeAll(async () => {
    exchange = await startPaper({ rateLimit: { ...WIDE_LIMITS } });
    const probe = paperClient(exchange);
    const market = (await probe.listMarkets()).find((m) => m.tickSize === 10_000 && m.resolvesAt !== null)!;
    marketId = market.marketId;
    tick = market.tickSize;
  });
  afterAll(async () => {
    await exchange?.close();
  });

  it('500 orders under 20% 5xx and 10% accepted-but-dropped: zero duplicates, at most MAX_SUBMIT_ATTEMPTS placements each, every order settled', async () => {
    exchange.admin.setFaults({ seed: 11, errorRate: 0.2, dropAfterAcceptProbability: 0.1 });
    const venue = paperClient(exchange, {
      rateLimit: WIDE_LIMITS,
      retry: FAST_RETRY,
      circuitBreaker: { failureThreshold: 5, openMs: 30, halfOpenTrials: 1 },
    });
    const requests: PlaceOrderRequest[] = Array.from({ length: 500 }, (_, i) => ({
      clientOrderId: `drill5xx-${String(i).padStart(4, '0')}`,
      marketId,
      side: 'BUY',
      quantity: 1 as Quantity,
      limitPrice: tick as Price,
    }));
    const started = Date.now();
    const { statuses, tally } = await sendAll(venue, requests, 25);
    const elapsed = Date.now() - started;
    exchange.admin.resetFaults();

    const atVenue = venueOrdersPerClientId(exchange);
    const duplicates = [...atVenue.values()].filter((ids) => ids.length > 1).length;
    const c = protocolCounts(statuses, tally);
    expect(statuses.size).toBe(500);
    expect(duplicates).toBe(0);
    expect(c.mostForOneOrder).toBeLessThanOrEqual(MAX_SUBMIT_ATTEMPTS);
    for (const [coid, s] of statuses) {
      // An accepted order is the venue's order for that client ID; any other ended with the venue confirming it absent.
      if (s.venueOrderId !== null) expect(atVenue.get(coid), coid).toEqual([s.venueOrderId]);
      else expect([coid, s.state, atVenue.has(coid)]).toEqual([coid, 'EXPIRED', false]);
    }
    expect(tally.alerts.filter((a) => a.type === 'ORDER_UNRESOLVED' && a.level === 'HIGH')).toHaveLength(c.abandoned);

    const s = venue.submissionStats();
    const h = venue.httpStats()!;
    expect(s.submissions).toBe(c.placeCalls);
    expect(s.ambiguousOutcomes).toBeGreaterThan(0);
    expect(tally.foundByLookup).toBeGreaterThan(0);
    expect(c.resubmissions).toBeGreaterThan(0);
    table('drill: 500 orders, 20% 5xx + 10% dropped after accept', {
      'orders submitted': 500,
      'accepted (answered or found by lookup)': c.accepted,
      'abandoned, confirmed not at venue': c.abandoned,
      'venue orders': [...atVenue.values()].reduce((n, ids) => n + ids.length, 0),
      'client IDs with >1 venue order': duplicates,
      'placeOrder calls (client)': c.placeCalls,
      'most placeOrder calls for one order': `${c.mostForOneOrder} (bound ${MAX_SUBMIT_ATTEMPTS})`,
      'POST attempts (HTTP)': h.attempts.placeOrder ?? 0,
      'ambiguous submit outcomes': s.ambiguousOutcomes,
      lookups: tally.lookups,
      'found by lookup': tally.foundByLookup,
      'resubmissions (same ID)': c.resubmissions,
      'HTTP retries': h.retries,
      '5xx seen': h.failures.UNAVAILABLE ?? 0,
      'dropped connections seen': h.failures.NETWORK ?? 0,
      'circuit open rejections': h.failures.CIRCUIT_OPEN ?? 0,
      'elapsed ms': elapsed,
    });
  });

  it('a 401 is fatal: one attempt, no retries, no lookup, no secret in the error', async () => {
    const wrongSecret = 'definitely-not-the-secret-0123456789';
    const venue = paperClient(exchange, { retry: FAST_RETRY }, wrongSecret);
    const err = await venue
      .placeOrder({ clientOrderId: 'drill401-0001', marketId, side: 'BUY', quantity: 1 as Quantity, limitPrice: tick as Price })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    const v = err as VenueError;
    expect(v.kind).toBe('AUTH');
    expect(v.isFatal).toBe(true);
    await expect(venue.getBalance()).rejects.toMatchObject({ kind: 'AUTH' });
    const h = venue.httpStats()!;
    expect(h.attempts).toEqual({ placeOrder: 1, getBalance: 1 });
    expect(h.retries).toBe(0);
    expect(venue.submissionStats()).toEqual({ submissions: 1, answered: 0, ambiguousOutcomes: 0, notPlaced: 1 });
    const text = `${v.message} ${JSON.stringify(v)} ${String(v.stack)}`;
    expect(text).not.toContain(wrongSecret);
    expect(text).not.toContain(PAPER_SECRET);
    expect(venue.health()?.connected).toBe(true);
    table('drill: 401', { kind: v.kind, fatal: String(v.isFatal), 'HTTP attempts': 2, retries: h.retries, lookups: 0 });
  });

  it('a 429 storm slows the client without losing requests', async () => {
    exchange.admin.setFaults({ seed: 5, rateLimitStormRate: 0.3, rateLimitStormRetryAfterSeconds: 1 });
    const venue = paperClient(exchange, {
      rateLimit: { capacity: 20, refillPerSecond: 200 },
      retry: { maxAttempts: 10, baseDelayMs: 2, maxDelayMs: 20, maxRetryAfterMs: 3_000 },
    });
    const requests: PlaceOrderRequest[] = Array.from({ length: 30 }, (_, i) => ({
      clientOrderId: `drill429-${String(i).padStart(4, '0')}`,
      marketId,
      side: 'BUY',
      quantity: 1 as Quantity,
      limitPrice: tick as Price,
    }));
    const started = Date.now();
    const outcomes = await submitAll(venue, requests, 10);
    const elapsed = Date.now() - started;
    exchange.admin.resetFaults();
    const h = venue.httpStats()!;
    const placed = [...outcomes.values()].filter((o) => o.kind === 'placed').length;
    const atVenue = venueOrdersPerClientId(exchange);
    expect(placed).toBe(30);
    expect(requests.every((r) => atVenue.get(r.clientOrderId)?.length === 1)).toBe(true);
    expect(h.failures.RATE_LIMITED ?? 0).toBeGreaterThan(0);
    expect(venue.submissionStats().ambiguousOutcomes).toBe(0);
    const waited = venue.limiterStats()?.waitedMs ?? 0;
    expect(waited).toBeGreaterThan(0);
    table('drill: 429 storm (30% of requests, Retry-After 1 s)', {
      'orders submitted': 30,
      'orders placed': placed,
      '429 answers': h.failures.RATE_LIMITED ?? 0,
      'HTTP retries': h.retries,
      'time held by the limiter, ms (sum over callers)': waited,
      'elapsed ms': elapsed,
    });
  });

  it('null and missing fields give typed MALFORMED_RESPONSE errors naming the field, never crashes', async () => {
    const venue = paperClient(exchange, { rateLimit: WIDE_LIMITS, retry: FAST_RETRY });
    const resting = await venue.placeOrder({ clientOrderId: 'drillnull-0001', marketId, side: 'BUY', quantity: 1 as Quantity, limitPrice: tick as Price });
    exchange.admin.setFaults({ seed: 3, missingFieldProbability: 1 });
    const calls: [string, () => Promise<unknown>][] = [
      ['getBalance', () => venue.getBalance()],
      ['getPositions', () => venue.getPositions()],
      ['listOpenOrders', () => venue.listOpenOrders(marketId)],
      ['getOrderByVenueId', () => venue.getOrderByVenueId(resting.venueOrderId)],
      ['getOrderByClientId', () => venue.getOrderByClientId(resting.clientOrderId)],
      ['getMarketSnapshot', () => venue.getMarketSnapshot(marketId)],
      ['listMarkets', () => venue.listMarkets()],
      ['getFillsSince', () => venue.getFillsSince(null)],
    ];
    const tally = { ok: 0, malformed: 0, other: 0 };
    const fields = new Set<string>();
    for (let round = 0; round < 8; round++) {
      for (const [, call] of calls) {
        try {
          await call();
          tally.ok++;
        } catch (e) {
          if (isVenueError(e) && e.kind === 'MALFORMED_RESPONSE' && typeof e.field === 'string') {
            tally.malformed++;
            fields.add(e.field);
            expect(e.message).toContain(e.field);
          } else {
            tally.other++;
            console.log('unexpected', e);
          }
        }
      }
    }
    exchange.admin.resetFaults();
    expect(tally.other).toBe(0);
    expect(tally.malformed).toBeGreaterThan(32);
    table('drill: every response has one field deleted or nulled', {
      calls: calls.length * 8,
      'typed MALFORMED_RESPONSE': tally.malformed,
      'accepted (nulled field is legitimately nullable or unused)': tally.ok,
      'other errors / crashes': tally.other,
      'distinct fields named': fields.size,
    });
  });
});

describe('fault drill against the Kalshi double with venue dedupe off', () => {
  it('lookup-before-resubmit alone keeps one order per client order ID', async () => {
    const { double, venue } = await kalshiUnderDouble({
      rateLimit: WIDE_LIMITS,
      retry: FAST_RETRY,
      circuitBreaker: { failureThreshold: 5, openMs: 30, halfOpenTrials: 1 },
    });
    try {
      const rng = seededRandom(99);
      double.setChaos({ errorRate: 0.2, dropAfterProcessingRate: 0.1, random: () => rng.next(), dedupe: false });
      const requests: PlaceOrderRequest[] = Array.from({ length: 150 }, (_, i) => ({
        clientOrderId: `kdrill-${String(i).padStart(4, '0')}`,
        marketId: 'KXFEDDECISION-26JAN-H0',
        side: 'BUY',
        quantity: 1 as Quantity,
        limitPrice: 300_000 as Price,
      }));
      const { statuses, tally } = await sendAll(venue, requests, 10);
      double.setChaos({ errorRate: 0, dropAfterProcessingRate: 0, random: Math.random, dedupe: true });
      const created = double.ordersPerClientId();
      const duplicates = [...created.values()].filter((n) => n > 1).length;
      const c = protocolCounts(statuses, tally);
      expect(statuses.size).toBe(150);
      expect(duplicates).toBe(0);
      expect(c.mostForOneOrder).toBeLessThanOrEqual(MAX_SUBMIT_ATTEMPTS);
      expect(tally.foundByLookup).toBeGreaterThan(0);
      for (const [coid, s] of statuses) expect([coid, s.venueOrderId !== null]).toEqual([coid, created.has(coid)]);
      table('drill: Kalshi double, no venue dedupe, 20% 503 + 10% dropped after processing', {
        'orders submitted': 150,
        accepted: c.accepted,
        'abandoned, confirmed not at venue': c.abandoned,
        'venue orders': [...created.values()].reduce((a, b) => a + b, 0),
        'client IDs with >1 venue order': duplicates,
        'placeOrder calls (client)': c.placeCalls,
        'most placeOrder calls for one order': `${c.mostForOneOrder} (bound ${MAX_SUBMIT_ATTEMPTS})`,
        'found by lookup': tally.foundByLookup,
        'resubmissions (same ID)': c.resubmissions,
      });
    } finally {
      await double.close();
    }
  });
});
