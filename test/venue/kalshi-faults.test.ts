/**
 * Faults against the Kalshi double as documented today, each sent the way the order workflow sends
 * orders (lifecycle-submit.ts: submit, look up after an ambiguous failure, resubmit): a retired
 * endpoint, an expired key, clock skew, a 429 storm and a 5xx burst. Each asserts the venue's own
 * count of orders per client order ID never goes above 1. Then the records side of the adapter:
 * client order IDs of fills through the OrderIdMap, hand-placed orders, fractional fills,
 * settlements and the marketable limit that replaced market orders.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../activities/venue/clock';
import type { VenueError } from '../../activities/venue/errors';
import { KalshiVenue, kalshiHttpClient, type KalshiVenueOptions } from '../../activities/venue/kalshi/kalshi-venue';
import { loadKalshiCredentials } from '../../activities/venue/kalshi/signing';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { PlaceOrderRequest } from '../../contracts/venue';
import { externalClientOrderId } from '../../domain/ids';
import { quantityLots, type Price, type Quantity } from '../../domain/money';
import { startKalshiDouble, type KalshiDouble } from '../../testkit/kalshi-double';
import { MemoryOrderIdMap } from '../../testkit/order-id-map';
import { KALSHI_KEY_ID, kalshiKeyPair } from '../../testkit/venue-harness';
import { lifecycleSubmitter } from './lifecycle-submit';

const MARKET = 'KXFEDDECISION-26JAN-H0';
const NO_ASKS_MARKET = 'KXHIGHNY-26JAN15-B40';
const FAST = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 };

interface Rig {
  double: KalshiDouble;
  venue: ResilientVenue;
  adapter: KalshiVenue;
  orderIds: MemoryOrderIdMap;
  /** Another client on the same account (a restarted worker), sharing the records' map unless given one. */
  client(options?: KalshiVenueOptions, orderIds?: MemoryOrderIdMap): { venue: ResilientVenue; adapter: KalshiVenue };
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.double.close();
  rig = undefined;
});

async function start(options: KalshiVenueOptions = {}): Promise<Rig> {
  const keys = kalshiKeyPair();
  const double = await startKalshiDouble({ keyId: KALSHI_KEY_ID, publicKey: keys.publicKey });
  const credentials = loadKalshiCredentials({ KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: keys.privateKeyPem, KALSHI_BASE_URL: double.url });
  const orderIds = new MemoryOrderIdMap();
  const client = (o: KalshiVenueOptions = {}, ids: MemoryOrderIdMap = orderIds) => {
    const http = kalshiHttpClient(credentials, { timeoutMs: 2_000, retry: FAST, ...options, ...o });
    const adapter = new KalshiVenue(http, { orderIds: ids, clock: o.clock });
    return { venue: new ResilientVenue(adapter, http), adapter };
  };
  const first = client();
  rig = { double, venue: first.venue, adapter: first.adapter, orderIds, client };
  return rig;
}

const order = (clientOrderId: string, limitPrice: number | null = 300_000, quantity = 1): PlaceOrderRequest => ({
  clientOrderId,
  marketId: MARKET,
  side: 'BUY',
  quantity: quantity as Quantity,
  limitPrice: limitPrice as Price | null,
});

const mostPerClientId = (d: KalshiDouble): number => Math.max(0, ...d.ordersPerClientId().values());
const v1Calls = (d: KalshiDouble) => d.requests.filter((q) => q.path.endsWith('/portfolio/orders') ? q.method === 'POST' : /\/portfolio\/orders\/[^/]+$/.test(q.path) && q.method === 'DELETE');

describe('Kalshi faults against the double', () => {
  it('a retired endpoint answers 410 deprecated_v1_order_endpoint, is not retried, and the adapter never calls it', async () => {
    const { double, adapter, venue } = await start();
    const body = { ticker: MARKET, client_order_id: 'k-v1', side: 'yes', action: 'buy', count: 1, type: 'limit', yes_price: 30 };
    const e = (await adapter.http.request('legacyCreate', { method: 'POST', path: '/portfolio/orders', body, idempotent: false }).catch((x: unknown) => x)) as VenueError;
    expect(e).toMatchObject({ kind: 'BAD_REQUEST', status: 410, venueCode: 'deprecated_v1_order_endpoint' });
    expect(v1Calls(double)).toHaveLength(1);
    expect(double.ordersPerClientId().get('k-v1')).toBeUndefined();

    const placed = await venue.placeOrder(order('k-v2'));
    await venue.cancelOrder({ venueOrderId: placed.venueOrderId });
    expect(v1Calls(double)).toHaveLength(1);
    expect(double.requests.some((q) => q.method === 'POST' && q.path.endsWith('/portfolio/events/orders'))).toBe(true);
    expect(mostPerClientId(double)).toBe(1);
  });

  it('an expired key (401) is fatal at once: one attempt, no order, and the workflow protocol does not resend', async () => {
    const { double, venue } = await start();
    double.revokeKey();
    const e = (await venue.placeOrder(order('k-expired')).catch((x: unknown) => x)) as VenueError;
    expect(e).toMatchObject({ kind: 'AUTH', status: 401 });
    expect(e.isFatal).toBe(true);
    const { submit, tally } = lifecycleSubmitter(venue);
    const outcome = await submit(order('k-expired-2'));
    expect(JSON.stringify(outcome)).toMatch(/AUTH|REJECTED|401/);
    expect(tally.submissions.get('k-expired-2')).toBe(1);
    expect(double.requests.filter((q) => q.path.endsWith('/portfolio/events/orders'))).toHaveLength(2);
    expect(double.ordersPerClientId().size).toBe(0);
  });

  it('clock skew: a timestamp outside the window answers 401 and places nothing; with the clock right the same ID is placed once', async () => {
    const { double, client } = await start();
    const skewed: Clock = { now: () => Date.now() - 120_000, sleep: systemClock.sleep };
    const late = client({ clock: skewed });
    const e = (await late.venue.placeOrder(order('k-skew')).catch((x: unknown) => x)) as VenueError;
    expect(e).toMatchObject({ kind: 'AUTH', status: 401 });
    expect(e.message).toContain('timestamp');
    expect(double.ordersPerClientId().get('k-skew')).toBeUndefined();
    const right = client();
    expect(await right.venue.placeOrder(order('k-skew'))).toMatchObject({ clientOrderId: 'k-skew', status: 'OPEN' });
    expect(double.ordersPerClientId().get('k-skew')).toBe(1);
  });

  it('a 429 storm without Retry-After: the client empties its write budget and backs off on its own; one order in the end', async () => {
    const { double, venue } = await start({ retry: { maxAttempts: 4, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 1_000 } });
    double.inject({ status: 429, method: 'POST', pathPrefix: '/portfolio/events/orders' }, 3);
    const t0 = Date.now();
    const placed = await venue.placeOrder(order('k-429'));
    const waited = Date.now() - t0;
    expect(placed.status).toBe('OPEN');
    // No backoff in the retry policy: the wait is the write budget refilling (10 tokens at 100/s, three times).
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(venue.httpStats()?.failures.RATE_LIMITED).toBe(3);
    expect(double.ordersPerClientId().get('k-429')).toBe(1);

    // A storm longer than the client's attempts reaches the workflow, which resends the same ID.
    double.inject({ status: 429, method: 'POST', pathPrefix: '/portfolio/events/orders' }, 6);
    const { submit, tally } = lifecycleSubmitter(venue);
    const outcome = await submit(order('k-429-long'));
    expect('status' in outcome).toBe(true);
    expect(tally.submissions.get('k-429-long')).toBeGreaterThan(1);
    expect(double.ordersPerClientId().get('k-429-long')).toBe(1);
    expect(mostPerClientId(double)).toBe(1);
  });

  it('a 5xx burst around a submission: the answer is ambiguous, the order is looked up before anything is resent', async () => {
    const { double, venue } = await start();
    double.inject({ status: 503, method: 'POST', pathPrefix: '/portfolio/events/orders' }, 2);
    double.inject({ status: 0, afterProcessing: true, method: 'POST', pathPrefix: '/portfolio/events/orders' });
    double.inject({ status: 500, method: 'GET', pathPrefix: '/portfolio/orders' }, 2);
    const { submit, tally } = lifecycleSubmitter(venue);
    const outcome = await submit(order('k-5xx'));
    expect('status' in outcome).toBe(true);
    expect(tally.lookups).toBeGreaterThan(0);
    expect(tally.foundByLookup).toBe(1);
    expect(double.ordersPerClientId().get('k-5xx')).toBe(1);
    const found = await venue.getOrderByClientId('k-5xx');
    expect(found).toMatchObject({ clientOrderId: 'k-5xx', status: 'OPEN' });
    expect(mostPerClientId(double)).toBe(1);
  });
});

describe('Kalshi adapter and the records', () => {
  it("resolves fills' client order IDs through the OrderIdMap; a restarted worker does not refetch orders", async () => {
    const { double, venue, orderIds, client } = await start();
    await venue.placeOrder(order('k-map-1', 450_000, 2));
    const orderReads = () => double.requests.filter((q) => /\/portfolio\/orders\/[^/]+$/.test(q.path) && q.method === 'GET').length;
    const page = await venue.getFillsSince(null);
    expect(page.fills.map((f) => f.clientOrderId)).toEqual(['k-map-1']);
    expect(orderReads()).toBe(0);

    const restarted = client();
    expect((await restarted.venue.getFillsSince(null)).fills.map((f) => f.clientOrderId)).toEqual(['k-map-1']);
    expect(orderReads()).toBe(0);

    // Records without the mapping: one order lookup, then remembered.
    const empty = new MemoryOrderIdMap();
    const cold = client({}, empty);
    expect((await cold.venue.getFillsSince(null)).fills.map((f) => f.clientOrderId)).toEqual(['k-map-1']);
    expect(orderReads()).toBe(1);
    await cold.venue.getFillsSince(null);
    expect(orderReads()).toBe(1);
    expect(empty.size).toBe(1);
    expect(orderIds.size).toBeGreaterThan(0);
  });

  it('a fill of an order placed by hand gets the external client order ID and does not stop the sync', async () => {
    const { double, venue } = await start();
    const handOrderId = double.placeByHand({ ticker: MARKET, side: 'bid', count: '3.00', price: '0.4500' });
    await venue.placeOrder(order('k-after-hand', 450_000));
    const page = await venue.getFillsSince(null);
    expect(page.fills.map((f) => f.clientOrderId).sort()).toEqual([externalClientOrderId(handOrderId), 'k-after-hand'].sort());
    expect((await venue.getFillsSince(page.cursor)).fills).toEqual([]);
  });

  it('fractional fills come through exactly and never stall the cursor', async () => {
    const { double, venue } = await start();
    double.splitNextFill(['0.37', '0.63']);
    const placed = await venue.placeOrder(order('k-frac', 450_000, 1));
    expect(placed).toMatchObject({ status: 'FILLED', filledQuantity: 1 });
    const page = await venue.getFillsSince(null);
    expect(page.fills.map((f) => f.quantity).sort()).toEqual([0.37, 0.63]);
    expect(page.fills.reduce((s, f) => s + quantityLots(f.quantity), 0)).toBe(100);
    expect(page.fills.every((f) => f.fee > 0 && f.price === 440_000)).toBe(true);
    const again = await venue.getFillsSince(page.cursor);
    expect(again.fills).toEqual([]);
    expect(again.cursor).toBe(page.cursor);
    expect(await venue.getPositions()).toEqual([{ marketId: MARKET, quantity: 1 }]);
  });

  it('reads settlements once: the position removed, the cash credited', async () => {
    const { double, venue } = await start();
    await venue.placeOrder(order('k-settle', 450_000, 2));
    const cashBefore = (await venue.getBalance()).cash;
    double.settle(MARKET, 'yes');
    const page = await venue.getSettlementsSince!(null);
    expect(page.settlements).toHaveLength(1);
    expect(page.settlements[0]).toMatchObject({ marketId: MARKET, result: 'YES', quantity: 2, cash: 2_000_000, fee: 0 });
    expect((await venue.getBalance()).cash - cashBefore).toBe(2_000_000);
    expect(await venue.getPositions()).toEqual([]);
    expect((await venue.getSettlementsSince!(page.cursor)).settlements).toEqual([]);
  });

  it('a core market order is a marketable limit with immediate-or-cancel: it fills at the touch, or nothing rests', async () => {
    const { double, venue } = await start();
    const filled = await venue.placeOrder(order('k-mkt-1', null, 2));
    expect(filled).toMatchObject({ status: 'FILLED', filledQuantity: 2, averageFillPrice: 440_000 });
    const noAsks = await venue.placeOrder({ ...order('k-mkt-2', null, 1), marketId: NO_ASKS_MARKET });
    expect(noAsks).toMatchObject({ status: 'CANCELED', filledQuantity: 0 });
    expect((await venue.listOpenOrders()).map((o) => o.clientOrderId)).not.toContain('k-mkt-2');
    expect(mostPerClientId(double)).toBe(1);
  });

  it('a V2 create answer that disagrees with the request or lacks a field records nothing and is ambiguous', async () => {
    const { double, venue, orderIds } = await start();
    double.mutateNext((b) => {
      b.client_order_id = 'someone-else';
    }, '/portfolio/events/orders');
    await expect(venue.placeOrder(order('k-bad-echo'))).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT' });
    double.mutateNext((b) => {
      delete b.ts_ms;
    }, '/portfolio/events/orders');
    await expect(venue.placeOrder(order('k-no-ts'))).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', message: expect.stringContaining('ts_ms') });
    expect(orderIds.size).toBe(0);
    expect(mostPerClientId(double)).toBe(1);
  });
});
