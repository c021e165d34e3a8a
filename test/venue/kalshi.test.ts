import { constants, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { VenueError } from '../../activities/venue/errors';
import type { VenueLogEntry } from '../../activities/venue/http';
import { coreSide, createOrderBody, depthFromKalshi, fillFromKalshi, orderFromKalshi } from '../../activities/venue/kalshi/mapping';
import { KALSHI_DEMO_BASE_URL, kalshiSignature, loadKalshiCredentials } from '../../activities/venue/kalshi/signing';
import { loadPaperCredentials } from '../../activities/venue/credentials';
import { ResponseReader } from '../../activities/venue/parse';
import type { Price, Quantity } from '../../domain/money';
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

describe('Kalshi mapping (published shapes)', () => {
  it('maps the documented order shape onto the core order', () => {
    const o = orderFromKalshi(r, (readFixture('order-example.json') as { order: unknown }).order, 'body.order');
    expect(o).toMatchObject({ clientOrderId: 'mr-20260115-000001', marketId: MARKET, side: 'BUY', quantity: 10, limitPrice: 410_000, filledQuantity: 0, status: 'OPEN' });
    expect(o.createdAt).toBe(Date.parse('2026-01-15T14:03:21.512Z'));
  });

  it('maps a NO fill to the YES side: buying NO is selling YES at the YES price', async () => {
    const noLookup = (orderId: string): Promise<string> => Promise.reject(new Error(`looked up ${orderId} though the fill names its order`));
    const fill = await fillFromKalshi(r, (readFixture('fill-example.json') as { fills: unknown[] }).fills[0], 'body.fills[0]', noLookup);
    expect(fill).toMatchObject({ side: 'SELL', price: 440_000, quantity: 4, fee: 0, clientOrderId: 'mr-20260115-000001' });
    expect(coreSide('no', 'sell')).toBe('BUY');
    expect(coreSide('yes', 'sell')).toBe('SELL');
  });

  it("takes a fill's client order ID from its order when Kalshi leaves it out, and names a bad field", async () => {
    const example = (readFixture('fill-example.json') as { fills: Record<string, unknown>[] }).fills[0]!;
    const asked: string[] = [];
    const lookup = (orderId: string): Promise<string> => {
      asked.push(orderId);
      return Promise.resolve('mr-20260115-000009');
    };
    const fill = await fillFromKalshi(r, { ...example, client_order_id: null }, 'body.fills[0]', lookup);
    expect(fill).toEqual({
      tradeId: example.trade_id,
      clientOrderId: 'mr-20260115-000009',
      marketId: MARKET,
      side: 'SELL',
      quantity: 4,
      price: 440_000,
      fee: 0,
      ts: Date.parse('2026-01-15T14:05:00.000Z'),
    });
    expect(asked).toEqual([example.order_id]);
    await expect(fillFromKalshi(r, { ...example, count: 0 }, 'body.fills[3]', lookup)).rejects.toThrow(/body\.fills\[3\]/);
  });

  it('turns the two bid ladders into YES bids and asks', () => {
    const book = (readFixture(`orderbook-${MARKET}.json`) as { orderbook: Record<string, unknown> }).orderbook;
    const { bids, asks } = depthFromKalshi(r, book, 'body.orderbook');
    expect(bids.map((l) => l.price)).toEqual([420_000, 410_000, 400_000]);
    expect(asks.map((l) => [l.price, l.quantity])).toEqual([[440_000, 290], [450_000, 480], [460_000, 700]]);
  });

  it('always places on the YES contract, in whole cents', () => {
    expect(createOrderBody(order('a', 430_000), 'kalshi')).toEqual({ ticker: MARKET, client_order_id: 'a', side: 'yes', action: 'buy', count: 1, type: 'limit', yes_price: 43 });
    expect(() => createOrderBody(order('a', 435_000), 'kalshi')).toThrow(expect.objectContaining({ kind: 'BAD_REQUEST', field: 'limitPrice' }));
  });

  it('names the field of a missing, null or wrong-typed value', () => {
    const base = (readFixture('order-example.json') as { order: Record<string, unknown> }).order;
    for (const [field, value] of [['status', undefined], ['fill_count', null], ['yes_price_dollars', 0.41], ['created_time', 'yesterday']] as const) {
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
    double.inject({ status: 401, body: { error: { code: 'authentication_error', message: `key ${KALSHI_KEY_ID} is not valid` } } });
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
    const venue = createKalshiVenue(loadKalshiCredentials({ KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: other.privateKeyPem, KALSHI_BASE_URL: double.url }));
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
    double.inject({ status: 0, afterProcessing: true, pathPrefix: '/portfolio/orders' });
    await expect(started.venue.placeOrder(order('kal-drop-1'))).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', clientOrderId: 'kal-drop-1' });
    expect(await started.venue.getOrderByClientId('kal-drop-1')).toMatchObject({ clientOrderId: 'kal-drop-1', status: 'OPEN' });
    expect(double.ordersPerClientId().get('kal-drop-1')).toBe(1);
    expect(started.venue.submissionStats()).toMatchObject({ submissions: 1, ambiguousOutcomes: 1 });
  });

  it('a garbled create answer is AMBIGUOUS_SUBMIT; resubmitting the same ID gives back the one order', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    double.mutateNext((b) => {
      (b.order as Record<string, unknown>).status = null;
    }, '/portfolio/orders');
    await expect(started.venue.placeOrder(order('kal-amb-1'))).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', message: expect.stringContaining('MALFORMED_RESPONSE') });
    const o = await started.venue.placeOrder(order('kal-amb-1'));
    expect(o.clientOrderId).toBe('kal-amb-1');
    expect(double.ordersPerClientId().get('kal-amb-1')).toBe(1);
  });

  it('null and missing fields in reads are typed MALFORMED_RESPONSE errors', async () => {
    const started = await kalshiUnderDouble();
    double = started.double;
    double.mutateNext((b) => {
      b.balance = null;
    }, '/portfolio/balance');
    await expect(started.venue.getBalance()).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.balance' });
    double.mutateNext((b) => {
      delete (b.markets as Record<string, unknown>[])[0]!.ticker;
    }, '/markets');
    await expect(started.venue.listMarkets()).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.markets[0].ticker' });
    double.mutateNext((b) => {
      (b.orderbook as Record<string, unknown>).yes = [[42, 'lots']];
    }, `/markets/${MARKET}/orderbook`);
    await expect(started.venue.getMarketSnapshot(MARKET)).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: 'body.orderbook.yes[0][1]' });
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
