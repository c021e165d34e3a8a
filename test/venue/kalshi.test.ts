import { constants, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { VenueError } from '../../activities/venue/errors';
import { KALSHI_TIERS, kalshiRateLimit } from '../../activities/venue/kalshi/kalshi-venue';
import { TokenBucketRateLimiter } from '../../activities/venue/rate-limiter';
import { ManualClock } from './manual-clock';
import type { VenueLogEntry } from '../../activities/venue/http';
import { createOrderBody, depthFromKalshi, directionOf, fillFromKalshi, marketFromKalshi, orderFromKalshi, settlementFromKalshi } from '../../activities/venue/kalshi/mapping';
import { externalClientOrderId, venueOrderIdOfExternal } from '../../domain/ids';
import { MemoryOrderIdMap } from '../../testkit/order-id-map';
import { KALSHI_DEMO_BASE_URL, kalshiSignature, loadKalshiCredentials } from '../../activities/venue/kalshi/signing';
import { loadPaperCredentials } from '../../activities/venue/credentials';
import { ResponseReader } from '../../activities/venue/parse';
import { quantityLots, type Price, type Quantity } from '../../domain/money';
import { readFixture, type KalshiDouble } from '../../testkit/kalshi-double';
import { KALSHI_KEY_ID, kalshiKeyPair, kalshiUnderDouble } from '../../testkit/venue-harness';

const r = new ResponseReader('kalshi', 'test');
const MARKET = 'KXFEDDECISION-26JAN-H0';
const order = (id: string, price = 300_000) => ({ clientOrderId: id, marketId: MARKET, side: 'BUY' as const, quantity: 1 as Quantity, limitPrice: price as Price });

describe('Kalshi credentials and signing', () => {
  it('names every missing variable, never echoes a bad key, and defaults to the demo environment', () => {
    expect(() => loadKalshiCredentials({})).toThrow(/KALSHI_API_KEY_ID.*KALSHI_PRIVATE_KEY_PEM/);
    const bogus = 'not-a-pem-but-a-secret-looking-string';
    try {
      loadKalshiCredentials({ KALSHI_API_KEY_ID: 'k', KALSHI_PRIVATE_KEY_PEM: bogus });
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toContain('KALSHI_PRIVATE_KEY_PEM');
      expect(String(e)).not.toContain(bogus);
    }
    const { privateKeyPem } = kalshiKeyPair();
    const creds = loadKalshiCredentials({ KALSHI_API_KEY_ID: 'k', KALSHI_PRIVATE_KEY_PEM: privateKeyPem.replaceAll('\n', '\\n') });
    expect(creds.baseUrl).toBe(KALSHI_DEMO_BASE_URL);
    expect(JSON.stringify(creds)).not.toContain('PRIVATE KEY');
    expect(String(creds.privateKeyPem)).toBe('[redacted]');
    expect(() => loadPaperCredentials({ PAPER_EXCHANGE_URL: 'ftp://x' })).toThrow(/PAPER_EXCHANGE_URL.*PAPER_EXCHANGE_KEY_ID.*PAPER_EXCHANGE_SECRET/);
  });

  it('signs timestamp + METHOD + path with RSA-PSS SHA-256 verifiable by the public key', () => {
    const { publicKey, privateKeyPem } = kalshiKeyPair();
    const creds = loadKalshiCredentials({ KALSHI_API_KEY_ID: 'k', KALSHI_PRIVATE_KEY_PEM: privateKeyPem });
    const sig = kalshiSignature(creds.privateKey, '1700000000000', 'GET', '/trade-api/v2/portfolio/balance');
    const check = (msg: string): boolean =>
      verify('sha256', Buffer.from(msg), { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(sig, 'base64'));
    expect(check('1700000000000GET/trade-api/v2/portfolio/balance')).toBe(true);
    expect(check('1700000000000GET/trade-api/v2/portfolio/positions')).toBe(false);
  });
});

describe('Kalshi mapping (shapes as documented today)', () => {
  it('maps the documented order shape onto the core order', () => {
    const o = orderFromKalshi(r, (readFixture('order-example.json') as { order: unknown }).order, 'body.order');
    expect(o).toMatchObject({ clientOrderId: 'mr-20260115-000001', marketId: MARKET, side: 'BUY', quantity: 10, limitPrice: 410_000, filledQuantity: 0, status: 'OPEN' });
    expect(o.createdAt).toBe(Date.parse('2026-01-15T14:03:21.512Z'));
  });

  it('maps a long-NO fill to a YES sell at the YES price, with its fee_cost, asking the resolver for the client order ID', async () => {
    const asked: string[] = [];
    const lookup = (orderId: string): Promise<string> => {
      asked.push(orderId);
      return Promise.resolve('mr-20260115-000009');
    };
    const example = (readFixture('fill-example.json') as { fills: Record<string, unknown>[] }).fills[0]!;
    const fill = await fillFromKalshi(r, example, 'body.fills[0]', lookup);
    expect(fill).toEqual({ tradeId: example.fill_id, clientOrderId: 'mr-20260115-000009', marketId: MARKET, side: 'SELL', quantity: 4, price: 440_000, fee: 69_000, ts: Date.parse('2026-01-15T14:05:00.000Z') });
    expect(asked).toEqual([example.order_id]);
    await expect(fillFromKalshi(r, { ...example, count_fp: '0.00' }, 'body.fills[3]', lookup)).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.fills[3].count_fp' });
    await expect(fillFromKalshi(r, { ...example, count_fp: 4 }, 'body.fills[3]', lookup)).rejects.toMatchObject({ field: 'body.fills[3].count_fp' });
  });

  it('delivers a fractional fill exactly: "0.37" is 0.37 contracts, never rounded', async () => {
    const example = (readFixture('fill-example.json') as { fills: Record<string, unknown>[] }).fills[0]!;
    const fill = await fillFromKalshi(r, { ...example, count_fp: '0.37' }, 'body.fills[0]', () => Promise.resolve('mr-1'));
    expect(fill.quantity).toBe(0.37);
    expect(quantityLots(fill.quantity)).toBe(37);
    await expect(fillFromKalshi(r, { ...example, count_fp: '0.375' }, 'body.fills[0]', () => Promise.resolve('mr-1'))).rejects.toMatchObject({ field: 'body.fills[0].count_fp' });
  });

  it('reads direction from outcome_side, book_side and the legacy side/action, and refuses a disagreement naming the field', () => {
    const base = (readFixture('order-example.json') as { order: Record<string, unknown> }).order;
    const { outcome_side: _o, book_side: _b, ...legacyOnly } = base;
    expect(directionOf(r, { ...legacyOnly, side: 'no', action: 'sell' }, 'o')).toBe('BUY');
    expect(directionOf(r, { ...legacyOnly, side: 'yes', action: 'sell' }, 'o')).toBe('SELL');
    expect(directionOf(r, { book_side: 'ask' }, 'o')).toBe('SELL');
    expect(directionOf(r, { ...base, side: 'no', action: 'sell' }, 'o')).toBe('BUY');
    expect(() => directionOf(r, { ...base, book_side: 'ask' }, 'body.order')).toThrow(expect.objectContaining({ kind: 'MALFORMED_RESPONSE', field: 'body.order.book_side' }));
    expect(() => directionOf(r, { ...base, side: 'yes', action: 'sell' }, 'body.order')).toThrow(expect.objectContaining({ kind: 'MALFORMED_RESPONSE', field: 'body.order.side' }));
    expect(() => directionOf(r, {}, 'body.order')).toThrow(expect.objectContaining({ field: 'body.order.outcome_side' }));
  });

  it('gives an order without client_order_id (placed by hand) its deterministic external client order ID', () => {
    const { client_order_id: _c, ...byHand } = (readFixture('order-example.json') as { order: Record<string, unknown> }).order;
    const o = orderFromKalshi(r, byHand, 'body.order');
    expect(o.clientOrderId).toBe(externalClientOrderId(o.venueOrderId));
    expect(venueOrderIdOfExternal(o.clientOrderId)).toBe(o.venueOrderId);
    expect(venueOrderIdOfExternal('mr-20260115-000001')).toBeNull();
  });

  it('turns the two bid ladders of orderbook_fp into YES bids and asks', () => {
    const book = (readFixture(`orderbook-${MARKET}.json`) as { orderbook_fp: Record<string, unknown> }).orderbook_fp;
    const { bids, asks } = depthFromKalshi(r, book, 'body.orderbook_fp');
    expect(bids.map((l) => l.price)).toEqual([420_000, 410_000, 400_000]);
    expect(asks.map((l) => [l.price, l.quantity])).toEqual([[440_000, 290], [450_000, 480], [460_000, 700]]);
  });

  it('derives the tick from price_ranges (the coarsest step) and the category from the event', () => {
    const [fed, ny] = (readFixture('markets.json') as { markets: unknown[] }).markets;
    expect(marketFromKalshi(r, fed, 'm')).toMatchObject({ tickSize: 10_000, category: 'KXFEDDECISION-26JAN' });
    expect(marketFromKalshi(r, ny, 'm').tickSize).toBe(10_000);
    expect(() => marketFromKalshi(r, { ...(fed as object), price_ranges: [{ start: '0', end: '1', step: '0.0003' }] }, 'm')).toThrow(expect.objectContaining({ field: 'm.price_ranges[0].step' }));
  });

  it('maps a documented settlement: result, the position it removed, revenue and fee', () => {
    const s = settlementFromKalshi(r, (readFixture('settlement-example.json') as { settlements: unknown[] }).settlements[0], 'body.settlements[0]');
    expect(s).toEqual({ settlementId: 'KXHIGHNY-26JAN15-B40@2026-01-16T06:12:00Z', marketId: 'KXHIGHNY-26JAN15-B40', result: 'NO', quantity: -2.37, cash: 2_370_000, fee: 0, ts: Date.parse('2026-01-16T06:12:00Z') });
  });

  it('creates through the V2 shape: YES book side, string count, dollar price, GTC; a market order becomes an IOC marketable limit', () => {
    expect(createOrderBody(order('a', 430_000), 'kalshi')).toEqual({
      ticker: MARKET,
      client_order_id: 'a',
      side: 'bid',
      count: '1.00',
      price: '0.4300',
      time_in_force: 'good_till_canceled',
      self_trade_prevention_type: 'taker_at_cross',
    });
    expect(createOrderBody({ ...order('b'), side: 'SELL', limitPrice: null, quantity: 2.5 as Quantity }, 'kalshi')).toMatchObject({ side: 'ask', count: '2.50', price: '0.0100', time_in_force: 'immediate_or_cancel' });
    expect(createOrderBody({ ...order('c'), limitPrice: null }, 'kalshi')).toMatchObject({ side: 'bid', price: '0.9900', time_in_force: 'immediate_or_cancel' });
    expect(() => createOrderBody(order('a', 435_050), 'kalshi')).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'limitPrice' }));
  });

  it('names the field of a missing, null or wrong-typed value', () => {
    const base = (readFixture('order-example.json') as { order: Record<string, unknown> }).order;
    for (const [field, value] of [['status', undefined], ['fill_count_fp', null], ['yes_price_dollars', 0.41], ['created_time', 'yesterday'], ['remaining_count_fp', 10]] as const) {
      const broken = { ...base, [field]: value };
      if (value === undefined) delete broken[field];
      try {
        orderFromKalshi(r, broken, 'body.order');
        expect.unreachable(field);
      } catch (e) {
        expect(e).toBeInstanceOf(VenueError);
        expect((e as VenueError).kind).toBe('MALFORMED_RESPONSE');
        expect((e as VenueError).field).toBe(`body.order.${field}`);
      }
    }
  });
});

describe('Kalshi adapter against the double', () => {
  let double: KalshiDouble | undefined;
  afterEach(async () => {
    await double?.close();
    double = undefined;
  });

  it('treats 401 as fatal with one attempt and keeps the key id and PEM out of errors and logs', async () => {
    const logs: VenueLogEntry[] = [];
    const started = await kalshiUnderDouble({ logger: (e) => logs.push(e) });
    double = started.double;
    double.inject({ status: 401, body: { code: 'authentication_error', message: `key ${KALSHI_KEY_ID} is not valid`, details: '', service: 'gateway' } });
    const e = (await started.venue.getBalance().catch((x: unknown) => x)) as VenueError;
    expect(e.kind).toBe('AUTH');
    expect(e.isFatal).toBe(true);
    expect(double.requests.filter((q) => q.path.endsWith('/portfolio/balance'))).toHaveLength(1);
    const everything = [e.message, JSON.stringify(e), String(e.stack), JSON.stringify(logs)].join('\n');
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(KALSHI_KEY_ID);
    expect(everything).not.toContain(started.privateKeyPem.split('\n')[1]!);
  });

  it('a wrong private key is refused by the double signature check', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    const other = kalshiKeyPair();
    const { createKalshiVenue } = await import('../../activities/venue/kalshi/kalshi-venue');
    const venue = createKalshiVenue(loadKalshiCredentials({ KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: other.privateKeyPem, KALSHI_BASE_URL: double.url }), new MemoryOrderIdMap());
    await expect(venue.getBalance()).rejects.toMatchObject({ kind: 'AUTH', status: 401 });
  });

  it('400 is not retried; 429 honours Retry-After then succeeds; 5xx is retried', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    double.inject({ status: 400, pathPrefix: '/portfolio/positions' });
    await expect(started.venue.getPositions()).rejects.toMatchObject({ kind: 'BAD_REQUEST', status: 400, venueCode: 'invalid_parameters' });
    expect(double.requests.filter((q) => q.path.endsWith('/positions'))).toHaveLength(1);

    double.inject({ status: 429, retryAfterSeconds: 1, pathPrefix: '/portfolio/balance' });
    const t0 = Date.now();
    const balance = await started.venue.getBalance();
    expect(balance.cash).toBe(10_000_000_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);

    double.inject({ status: 500, pathPrefix: '/markets' }, 2);
    expect((await started.venue.listMarkets()).map((m) => m.marketId)).toEqual([MARKET, 'KXHIGHNY-26JAN15-B40']);
    expect(started.venue.httpStats()?.failures).toMatchObject({ BAD_REQUEST: 1, RATE_LIMITED: 1, UNAVAILABLE: 2 });
  });

  it('a dropped answer to a create is AMBIGUOUS_SUBMIT; a lookup finds the one order', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    double.inject({ status: 0, afterProcessing: true, pathPrefix: '/portfolio/events/orders' });
    await expect(started.venue.placeOrder(order('kal-drop-1'))).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', clientOrderId: 'kal-drop-1' });
    expect(await started.venue.getOrderByClientId('kal-drop-1')).toMatchObject({ clientOrderId: 'kal-drop-1', status: 'OPEN' });
    expect(double.ordersPerClientId().get('kal-drop-1')).toBe(1);
    expect(started.venue.submissionStats()).toMatchObject({ submissions: 1, ambiguousOutcomes: 1 });
  });

  it('a garbled create answer is AMBIGUOUS_SUBMIT; resubmitting the same ID gives back the one order', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    double.mutateNext((b) => {
      b.fill_count = null;
    }, '/portfolio/events/orders');
    await expect(started.venue.placeOrder(order('kal-amb-1'))).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', message: expect.stringContaining('MALFORMED_RESPONSE') });
    const o = await started.venue.placeOrder(order('kal-amb-1'));
    expect(o.clientOrderId).toBe('kal-amb-1');
    expect(double.ordersPerClientId().get('kal-amb-1')).toBe(1);
  });

  it('null and missing fields in reads are typed MALFORMED_RESPONSE errors', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    double.mutateNext((b) => {
      b.balance_dollars = 10000;
    }, '/portfolio/balance');
    await expect(started.venue.getBalance()).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.balance_dollars' });
    double.mutateNext((b) => {
      delete (b.markets as Record<string, unknown>[])[0]!.ticker;
    }, '/markets');
    await expect(started.venue.listMarkets()).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.markets[0].ticker' });
    double.mutateNext((b) => {
      (b.orderbook_fp as Record<string, unknown>).yes_dollars = [['0.4200', 'lots']];
    }, `/markets/${MARKET}/orderbook`);
    await expect(started.venue.getMarketSnapshot(MARKET)).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.orderbook_fp.yes_dollars[0][1]' });
  });

  it('reports the connection lost after consecutive failures, and found again after a success', async () => {
    const started = await kalshiUnderDouble({ lostAfterFailures: 3, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10 } });
    double = started.double;
    double.inject({ status: 503 }, 3);
    await expect(started.venue.getBalance()).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
    const lost = started.venue.health()!;
    expect(lost.connected).toBe(false);
    expect(lost.lostSince).not.toBeNull();
    await started.venue.getBalance();
    expect(started.venue.health()).toMatchObject({ connected: true, lostSince: null });
  });
});

describe('Kalshi token budgets (rate limits page: reads and writes billed apart)', () => {
  it('basic tier: 200 read and 100 write tokens a second at 10 a request; the write bucket holds two seconds; a 429 empties only its budget', async () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketRateLimiter(kalshiRateLimit('basic'), clock);
    let writes = 0;
    for (let i = 0; i < 30; i++) void limiter.acquire('placeOrder').then(() => (writes += 1));
    let reads = 0;
    for (let i = 0; i < 25; i++) void limiter.acquire('getOrder').then(() => (reads += 1));
    for (let i = 0; i < 10; i++) await clock.advance(0);
    expect(writes).toBe(20);
    expect(reads).toBe(20);
    await clock.advance(1_000);
    expect(writes).toBe(30);
    expect(reads).toBe(25);

    limiter.exhausted('cancelOrder');
    let afterStorm = 0;
    void limiter.acquire('placeOrder').then(() => (afterStorm += 1));
    void limiter.acquire('getBalance').then(() => (afterStorm += 10));
    await clock.advance(0);
    expect(afterStorm).toBe(10);
    await clock.advance(100);
    expect(afterStorm).toBe(11);
    expect(KALSHI_TIERS.prime).toEqual({ read: 4_000, write: 4_000 });
  });
});
