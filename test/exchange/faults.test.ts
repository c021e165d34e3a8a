import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../exchange/config';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { admin, call, errorOf, orderOf, TEST_KEY } from './client';

const T0 = 1_767_225_600_000;
const buy = (clientOrderId: string) => ({ clientOrderId, marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: '0.01' });

describe('fault injection', () => {
  let ex: PaperExchange | null = null;
  const start = async (faults = {}) => {
    ex = await startPaperExchange({ keys: [TEST_KEY], clock: new ManualClock(T0).now, faults, rateLimit: { capacity: 10_000, refillPerSecond: 10_000 } });
    return ex;
  };
  afterEach(async () => {
    await ex?.close();
    ex = null;
  });

  it('answers 5xx at the configured rate, without side effects', async () => {
    const x = await start({ errorRate: 1 });
    const a = await call(x, 'POST', '/v1/orders', buy('e-1'));
    expect([500, 502, 503]).toContain(a.status);
    expect(['INTERNAL_ERROR', 'BAD_GATEWAY', 'SERVICE_UNAVAILABLE']).toContain(errorOf(a).code);
    x.admin.resetFaults();
    expect((await call(x, 'GET', '/v1/orders/by-client-id/e-1')).status).toBe(404);
  });

  it('a 5xx rate of 0.3 hits about 30% of requests, reproducibly for the same seed', async () => {
    const statuses = async () => {
      const x = await start({ errorRate: 0.3, seed: 42 });
      const out: number[] = [];
      for (let i = 0; i < 100; i++) out.push((await call(x, 'GET', '/v1/balance')).status);
      await x.close();
      return out;
    };
    const first = await statuses();
    const errors = first.filter((s) => s >= 500).length;
    expect(errors).toBeGreaterThan(15);
    expect(errors).toBeLessThan(45);
    expect(await statuses()).toEqual(first);
  });

  it('answers a 429 storm with Retry-After', async () => {
    const x = await start({ rateLimitStormRate: 1, rateLimitStormRetryAfterSeconds: 7 });
    const a = await call(x, 'GET', '/v1/balance');
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('7');
    expect(errorOf(a).code).toBe('RATE_LIMITED');
  });

  it('delays responses on a latency spike', async () => {
    const x = await start({ latencySpikeProbability: 1, latencySpikeMs: 300 });
    const t = performance.now();
    const a = await call(x, 'GET', '/v1/balance');
    expect(a.status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
  });

  it('hangs: no answer until the client gives up; the server drops the socket after hangMaxMs', async () => {
    const x = await start({ hangProbability: 1, hangMaxMs: 2_000 });
    await expect(call(x, 'GET', '/v1/balance', undefined, { timeoutMs: 300 })).rejects.toThrow();
    x.admin.setFaults({ hangProbability: 1, hangMaxMs: 100 });
    await expect(call(x, 'GET', '/v1/balance', undefined, { timeoutMs: 5_000 })).rejects.toThrow();
  });

  it('accepts an order and then drops the response: the order exists afterwards', async () => {
    const x = await start({ dropAfterAcceptProbability: 1 });
    await expect(call(x, 'POST', '/v1/orders', buy('drop-1'))).rejects.toThrow();
    // Reads are not affected; the ambiguous submit is resolved by looking the order up.
    const found = await call(x, 'GET', '/v1/orders/by-client-id/drop-1');
    expect(found.status).toBe(200);
    expect(orderOf(found).status).toBe('OPEN');
    // A retry with the same client order ID returns the same order (200, not another one).
    x.admin.resetFaults();
    const retry = await call(x, 'POST', '/v1/orders', buy('drop-1'));
    expect(retry.status).toBe(200);
    expect(orderOf(retry).venueOrderId).toBe(orderOf(found).venueOrderId);
  });

  it('freezes quotes: same ts and prices while stale, fresh again when switched off', async () => {
    const clock = new ManualClock(T0);
    ex = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now });
    const x = ex;
    const before = (await call(x, 'GET', '/v1/markets/PX-POL-1/snapshot')).body;
    x.admin.setFaults({ staleQuotes: true });
    clock.advance(600_000);
    const stale = (await call(x, 'GET', '/v1/markets/PX-POL-1/snapshot')).body;
    expect(stale.ts).toBe(before.ts);
    expect(stale.bid).toBe(before.bid);
    x.admin.setFaults({ staleQuotes: false });
    const fresh = (await call(x, 'GET', '/v1/markets/PX-POL-1/snapshot')).body;
    expect(fresh.ts).toBe(T0 + 600_000);
  });

  it('drops or nulls a field of the response object', async () => {
    const x = await start({ missingFieldProbability: 1 });
    let damaged = 0;
    for (let i = 0; i < 10; i++) {
      const o = orderOf(await call(x, 'POST', '/v1/orders', buy(`mf-${i}`)));
      const nonNull = ['venueOrderId', 'clientOrderId', 'marketId', 'side', 'quantity', 'limitPrice', 'filledQuantity', 'status', 'createdAt', 'updatedAt'];
      const complete = nonNull.every((k) => o[k] !== undefined && o[k] !== null);
      if (!complete || Object.keys(o).length < 12) damaged++;
    }
    expect(damaged).toBe(10);
  });

  it('changes a position on the venue side without a fill (admin)', async () => {
    const x = await start();
    const a = await admin(x, 'POST', '/admin/positions/adjust', { keyId: TEST_KEY.keyId, marketId: 'PX-POL-1', delta: 7 });
    expect(a.status).toBe(200);
    expect(a.body.position).toEqual({ marketId: 'PX-POL-1', quantity: 7 });
    expect((await call(x, 'GET', '/v1/positions')).body.positions).toEqual([{ marketId: 'PX-POL-1', quantity: 7 }]);
    expect((await call(x, 'GET', '/v1/fills')).body.fills).toEqual([]);
    const bad = await admin(x, 'POST', '/admin/positions/adjust', { keyId: TEST_KEY.keyId, marketId: 'PX-POL-1', delta: 1.5 });
    expect(errorOf(bad)).toMatchObject({ code: 'INVALID_INPUT', field: 'delta' });
  });

  it('sets, reads and resets faults through the admin endpoint, validating every field', async () => {
    const x = await start();
    const set = await admin(x, 'PUT', '/admin/faults', { errorRate: 1 });
    expect((set.body.faults as { errorRate: number }).errorRate).toBe(1);
    expect((await call(x, 'GET', '/v1/balance')).status).toBeGreaterThanOrEqual(500);
    const bad = await admin(x, 'PUT', '/admin/faults', { errorRate: 2, nonsense: true });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toContain('faults.errorRate');
    expect(errorOf(bad).message).toContain('faults.nonsense');
    const reset = await admin(x, 'POST', '/admin/faults/reset');
    expect((reset.body.faults as { errorRate: number }).errorRate).toBe(0);
    expect((await call(x, 'GET', '/v1/balance')).status).toBe(200);
  });

  it('resolves a market through the admin endpoint and lists the settlement', async () => {
    const x = await start();
    await admin(x, 'POST', '/admin/positions/adjust', { keyId: TEST_KEY.keyId, marketId: 'PX-POL-1', delta: 3 });
    const r = await admin(x, 'POST', '/admin/markets/PX-POL-1/resolve', { outcome: 'YES' });
    expect(r.body.market).toMatchObject({ outcome: 'YES', status: 'RESOLVED' });
    const s = await call(x, 'GET', '/v1/settlements');
    expect(s.body.settlements).toEqual([{ marketId: 'PX-POL-1', outcome: 'YES', quantity: 3, payout: '3.000000', ts: T0 }]);
    expect((await call(x, 'GET', '/v1/balance')).body.cash).toBe('10003.000000');
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once the bucket is empty, and weights orders double', async () => {
    const ex = await startPaperExchange({ keys: [TEST_KEY], rateLimit: { capacity: 6, refillPerSecond: 0.5 } });
    try {
      const a = await call(ex, 'GET', '/v1/balance');
      expect(a.headers.get('x-ratelimit-limit')).toBe('6');
      expect(a.headers.get('x-ratelimit-remaining')).toBe('5');
      const o = await call(ex, 'POST', '/v1/orders', buy('rl-1'));
      expect(o.headers.get('x-ratelimit-remaining')).toBe('3');
      let limited = null;
      for (let i = 0; i < 10 && !limited; i++) {
        const r = await call(ex, 'GET', '/v1/balance');
        if (r.status === 429) limited = r;
      }
      expect(limited).not.toBeNull();
      expect(errorOf(limited!).code).toBe('RATE_LIMITED');
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited!.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    } finally {
      await ex.close();
    }
  });
});
