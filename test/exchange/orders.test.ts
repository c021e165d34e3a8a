import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../exchange/config';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { call, errorOf, orderOf, TEST_KEY } from './client';

const T0 = 1_767_225_600_000;
const order = (clientOrderId: string, over: Record<string, unknown> = {}) => ({
  clientOrderId,
  marketId: 'PX-POL-1',
  side: 'BUY',
  quantity: 5,
  limitPrice: '0.01',
  ...over,
});

describe('paper exchange orders over HTTP', () => {
  let ex: PaperExchange;
  const clock = new ManualClock(T0);
  beforeAll(async () => {
    ex = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, seed: 3 });
  });
  afterAll(() => ex.close());

  it('lists markets with category, tick size as a decimal string, resolution time and outcome', async () => {
    const a = await call(ex, 'GET', '/v1/markets');
    expect(a.status).toBe(200);
    const markets = a.body.markets as Record<string, unknown>[];
    expect(markets.length).toBe(16);
    const pol = markets.find((m) => m.marketId === 'PX-POL-1')!;
    expect(pol).toMatchObject({ category: 'politics', tickSize: '0.01', resolvesAt: T0 + 5 * 86_400_000, outcome: null, status: 'OPEN' });
    expect(markets.find((m) => m.category === 'crypto')!.tickSize).toBe('0.001');
    // The case study trades 3-14 days before resolution: every dated default market opens there.
    for (const m of markets.filter((x) => x.resolvesAt !== null)) {
      const days = ((m.resolvesAt as number) - T0) / 86_400_000;
      expect(days).toBeGreaterThan(3);
      expect(days).toBeLessThanOrEqual(14);
    }
    expect(markets.filter((x) => x.resolvesAt === null)).toHaveLength(2);
  });

  it('serves four days of pre-rolled history at five-minute points, oldest first, after `since`', async () => {
    const a = await call(ex, 'GET', '/v1/markets/PX-POL-1/history');
    expect(a.status).toBe(200);
    const body = a.body as { marketId: string; intervalMs: number; averageDailyVolume: number; history: { ts: number; bid: string | null; ask: string | null; last: string | null; volume: number }[] };
    expect(body).toMatchObject({ marketId: 'PX-POL-1', intervalMs: 300_000, averageDailyVolume: 1_000_000 });
    expect(body.history).toHaveLength(96 * 12);
    expect(body.history[0]!.ts).toBe(T0 - 96 * 3_600_000 + 300_000);
    expect(body.history.at(-1)!.ts).toBe(T0);
    for (let i = 1; i < body.history.length; i++) expect(body.history[i]!.ts - body.history[i - 1]!.ts).toBe(300_000);
    const p = body.history.at(-1)!;
    expect(p.bid).toMatch(/^0\.\d{2}$/);
    expect(Number(p.ask) - Number(p.bid)).toBeCloseTo(0.01, 6);
    expect(Number.isInteger(p.volume) && p.volume > 0).toBe(true);
    // The newest point is the quote the market opened with.
    const snap = await call(ex, 'GET', '/v1/markets/PX-POL-1/snapshot?depth=1');
    expect([p.bid, p.ask]).toEqual([snap.body.bid, snap.body.ask]);

    const since = body.history.at(-3)!.ts;
    const recent = await call(ex, 'GET', `/v1/markets/PX-POL-1/history?since=${since}`);
    expect((recent.body.history as { ts: number }[]).map((x) => x.ts)).toEqual([body.history.at(-2)!.ts, T0]);
    const future = await call(ex, 'GET', `/v1/markets/PX-POL-1/history?since=${T0}`);
    expect(future.body.history).toEqual([]);
  });

  it('rejects bad history queries naming the field; an unknown market is 404', async () => {
    for (const query of ['since=-1', 'since=abc', 'since=', 'since=1.5', 'from=1']) {
      const a = await call(ex, 'GET', `/v1/markets/PX-POL-1/history?${query}`);
      expect(a.status, query).toBe(400);
      expect(errorOf(a), query).toMatchObject({ code: 'INVALID_INPUT', field: query.split('=')[0] });
    }
    const missing = await call(ex, 'GET', '/v1/markets/NOPE/history');
    expect(missing.status).toBe(404);
    expect(errorOf(missing).code).toBe('MARKET_NOT_FOUND');
    const post = await call(ex, 'POST', '/v1/markets/PX-POL-1/history', {});
    expect(post.status).toBe(405);
    const unsigned = await fetch(`${ex.url}/v1/markets/PX-POL-1/history`);
    expect(unsigned.status).toBe(401);
  });

  it('answers a snapshot with string prices, ordered depth and volumes', async () => {
    const a = await call(ex, 'GET', '/v1/markets/PX-POL-1/snapshot?depth=3');
    expect(a.status).toBe(200);
    const s = a.body as { bid: string; ask: string; bids: { price: string; quantity: number }[]; asks: { price: string }[]; ts: number; averageDailyVolume: number };
    expect(s.bid).toMatch(/^0\.\d{2}$/);
    expect(Number(s.ask)).toBeGreaterThan(Number(s.bid));
    expect(s.bids).toHaveLength(3);
    expect(s.bids[0]!.price).toBe(s.bid);
    expect(Number(s.bids[1]!.price)).toBeLessThan(Number(s.bids[0]!.price));
    expect(Number(s.asks[1]!.price)).toBeGreaterThan(Number(s.asks[0]!.price));
    expect(Number.isInteger(s.bids[0]!.quantity)).toBe(true);
    expect(s.ts).toBe(T0);
    expect(s.averageDailyVolume).toBe(1_000_000);
    expect((await call(ex, 'GET', '/v1/markets/NOPE/snapshot')).status).toBe(404);
  });

  it('places an order (201), returns the same order for the same client order ID (200) and 409 for different parameters', async () => {
    const first = await call(ex, 'POST', '/v1/orders', order('idem-1'));
    expect(first.status).toBe(201);
    const o = orderOf(first);
    expect(o).toMatchObject({ clientOrderId: 'idem-1', side: 'BUY', quantity: 5, limitPrice: '0.01', filledQuantity: 0, averageFillPrice: null, status: 'OPEN', rejectReason: null });
    expect(o.venueOrderId).toMatch(/^ord-\d{12}$/);

    const again = await call(ex, 'POST', '/v1/orders', order('idem-1'));
    expect(again.status).toBe(200);
    expect(orderOf(again).venueOrderId).toBe(o.venueOrderId);

    const changed = await call(ex, 'POST', '/v1/orders', order('idem-1', { quantity: 6 }));
    expect(changed.status).toBe(409);
    expect(errorOf(changed)).toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID', field: 'clientOrderId' });
    expect(orderOf(changed).venueOrderId).toBe(o.venueOrderId);
    expect(orderOf(changed).quantity).toBe(5);

    const open = await call(ex, 'GET', '/v1/orders?status=open');
    expect((open.body.orders as { clientOrderId: string }[]).filter((x) => x.clientOrderId === 'idem-1')).toHaveLength(1);
  });

  it('creates exactly one order for concurrent duplicate submissions', async () => {
    const answers = await Promise.all(Array.from({ length: 16 }, () => call(ex, 'POST', '/v1/orders', order('race-1', { quantity: 2 }))));
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    expect(answers.every((a) => a.status === 201 || a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => orderOf(a).venueOrderId)).size).toBe(1);
    const open = await call(ex, 'GET', '/v1/orders?status=open&marketId=PX-POL-1');
    expect((open.body.orders as { clientOrderId: string }[]).filter((x) => x.clientOrderId === 'race-1')).toHaveLength(1);
  });

  it('finds orders by client and venue ID and cancels by either; cancel is idempotent', async () => {
    const placed = orderOf(await call(ex, 'POST', '/v1/orders', order('cx-1')));
    expect(orderOf(await call(ex, 'GET', '/v1/orders/by-client-id/cx-1')).venueOrderId).toBe(placed.venueOrderId);
    expect(orderOf(await call(ex, 'GET', `/v1/orders/${placed.venueOrderId}`)).clientOrderId).toBe('cx-1');
    const canceled = await call(ex, 'DELETE', '/v1/orders/by-client-id/cx-1');
    expect(canceled.status).toBe(200);
    expect(orderOf(canceled).status).toBe('CANCELED');
    const again = await call(ex, 'DELETE', `/v1/orders/${placed.venueOrderId}`);
    expect(again.status).toBe(200);
    expect(orderOf(again).status).toBe('CANCELED');
    expect((await call(ex, 'DELETE', '/v1/orders/ord-999999999999')).status).toBe(404);
    expect(errorOf(await call(ex, 'GET', '/v1/orders/by-client-id/none-such')).code).toBe('ORDER_NOT_FOUND');
    const open = await call(ex, 'GET', '/v1/orders?status=open');
    expect((open.body.orders as { clientOrderId: string }[]).some((x) => x.clientOrderId === 'cx-1')).toBe(false);
  });

  it('reserves cash for a buy and rejects an order the account cannot pay for', async () => {
    const before = (await call(ex, 'GET', '/v1/balance')).body as { cash: string; reserved: string; available: string };
    const placed = await call(ex, 'POST', '/v1/orders', order('res-1', { quantity: 1000, limitPrice: '0.02' }));
    expect(orderOf(placed).status).toBe('OPEN');
    const after = (await call(ex, 'GET', '/v1/balance')).body as { cash: string; reserved: string; available: string };
    expect(after.cash).toBe(before.cash);
    expect(Number(after.reserved) - Number(before.reserved)).toBeCloseTo(20, 6);
    const tooBig = await call(ex, 'POST', '/v1/orders', order('res-2', { quantity: 1_000_000, limitPrice: '0.99' }));
    expect(tooBig.status).toBe(201);
    expect(orderOf(tooBig)).toMatchObject({ status: 'REJECTED', rejectReason: 'INSUFFICIENT_BALANCE' });
    // The rejected order keeps its client order ID.
    expect(orderOf(await call(ex, 'POST', '/v1/orders', order('res-2', { quantity: 1_000_000, limitPrice: '0.99' }))).status).toBe('REJECTED');
    await call(ex, 'DELETE', '/v1/orders/by-client-id/res-1');
    const released = (await call(ex, 'GET', '/v1/balance')).body as { reserved: string };
    expect(released.reserved).toBe(before.reserved);
  });

  it('pages fills with an opaque cursor that echoes back when there is nothing new', async () => {
    const a = await call(ex, 'GET', '/v1/fills');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ fills: [], cursor: 'c-0', hasMore: false });
    const b = await call(ex, 'GET', `/v1/fills?cursor=${a.body.cursor as string}&limit=10`);
    expect(b.body.cursor).toBe('c-0');
    const bad = await call(ex, 'GET', '/v1/fills?cursor=zzz');
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'INVALID_INPUT', field: 'cursor', value: 'zzz' });
  });
});

describe('paper exchange request validation', () => {
  let ex: PaperExchange;
  beforeAll(async () => {
    ex = await startPaperExchange({ keys: [TEST_KEY], clock: new ManualClock(T0).now, maxBodyBytes: 1024 });
  });
  afterAll(() => ex.close());

  const cases: [string, Record<string, unknown>, string, string | undefined][] = [
    ['non-integer quantity', order('v-1', { quantity: 1.5 }), 'quantity', '1.5'],
    ['quantity as a string', order('v-2', { quantity: '5' }), 'quantity', '5'],
    ['zero quantity', order('v-3', { quantity: 0 }), 'quantity', '0'],
    ['off-tick price', order('v-4', { limitPrice: '0.435' }), 'limitPrice', '0.435'],
    ['price at 1', order('v-5', { limitPrice: '1.00' }), 'limitPrice', '1.00'],
    ['price at 0', order('v-6', { limitPrice: '0' }), 'limitPrice', '0'],
    ['price as a JSON number', order('v-7', { limitPrice: 0.43 }), 'limitPrice', '0.43'],
    ['bad side', order('v-8', { side: 'HOLD' }), 'side', 'HOLD'],
    ['bad client order id', order('bad id!'), 'clientOrderId', 'bad id!'],
    ['missing field', { clientOrderId: 'v-9', marketId: 'PX-POL-1', side: 'BUY', quantity: 1 }, 'limitPrice', undefined],
    ['unknown field', { ...order('v-10'), tif: 'GTC' }, 'tif', 'GTC'],
  ];
  for (const [name, body, field, value] of cases) {
    it(`rejects ${name} with 400 naming the field and value`, async () => {
      const a = await call(ex, 'POST', '/v1/orders', body);
      expect(a.status).toBe(400);
      expect(errorOf(a)).toMatchObject({ code: 'INVALID_INPUT', field });
      expect(errorOf(a).value).toBe(value);
    });
  }

  it('rejects an unknown market with 400 UNKNOWN_MARKET', async () => {
    const a = await call(ex, 'POST', '/v1/orders', order('v-11', { marketId: 'NOPE-1' }));
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatchObject({ code: 'UNKNOWN_MARKET', field: 'marketId', value: 'NOPE-1' });
    expect(errorOf(await call(ex, 'GET', '/v1/orders?status=open&marketId=NOPE-1')).code).toBe('UNKNOWN_MARKET');
  });

  it('rejects malformed JSON and non-object bodies', async () => {
    const a = await call(ex, 'POST', '/v1/orders', undefined, { raw: '{"clientOrderId": ' });
    expect(a.status).toBe(400);
    expect(errorOf(a).code).toBe('MALFORMED_JSON');
    expect(errorOf(await call(ex, 'POST', '/v1/orders', undefined, { raw: '[1,2]' })).code).toBe('MALFORMED_JSON');
  });

  it('rejects an oversized body with 413', async () => {
    const a = await call(ex, 'POST', '/v1/orders', { ...order('v-12'), pad: 'x'.repeat(2048) });
    expect(a.status).toBe(413);
    expect(errorOf(a).code).toBe('BODY_TOO_LARGE');
  });

  it('rejects bad query parameters, unknown routes and wrong methods', async () => {
    expect(errorOf(await call(ex, 'GET', '/v1/orders')).field).toBe('status');
    expect(errorOf(await call(ex, 'GET', '/v1/fills?limit=0')).field).toBe('limit');
    expect(errorOf(await call(ex, 'GET', '/v1/markets/PX-POL-1/snapshot?depth=x')).field).toBe('depth');
    expect((await call(ex, 'GET', '/v1/nowhere')).status).toBe(404);
    expect((await call(ex, 'PUT', '/v1/balance', {})).status).toBe(405);
  });

  it('creates nothing for a rejected request', async () => {
    const open = await call(ex, 'GET', '/v1/orders?status=open');
    expect(open.body.orders).toEqual([]);
  });
});
