import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../exchange/auth';
import { startPaperExchange, type PaperExchange } from '../../exchange/server';
import { admin, call, errorOf, OTHER_KEY, TEST_KEY } from './client';

describe('paper exchange signing', () => {
  let ex: PaperExchange;
  beforeAll(async () => {
    ex = await startPaperExchange({ keys: [TEST_KEY, OTHER_KEY], adminToken: 'admin-token-0123456789', timestampWindowMs: 30_000 });
  });
  afterAll(() => ex.close());

  it('signs timestamp + METHOD + path-with-query + body as lowercase hex HMAC-SHA256', () => {
    // Expected values from: echo -n '<pre-image>' | openssl dgst -sha256 -hmac s3cret
    expect(signRequest('s3cret', 1_700_000_000_000, 'get', '/v1/balance', '')).toBe('ca48645665fe7d95fddd84b44a7acc473dfde6cb5096dbee8d17f5612e2080af');
    expect(signRequest('s3cret', '1700000000000', 'POST', '/v1/orders', '{"a":1}')).toBe('55607a3c2a2aeddbec6ef8978c8167d10cffecac9ad780f3f8a01cc2833a1bc9');
  });

  it('binds 127.0.0.1 on a free port by default', () => {
    expect(ex.url).toBe(`http://127.0.0.1:${ex.port}`);
    expect(ex.port).toBeGreaterThan(0);
  });

  it('accepts a good signature', async () => {
    const a = await call(ex, 'GET', '/v1/balance');
    expect(a.status).toBe(200);
    expect(a.body.cash).toBe('10000.000000');
  });

  it('covers the query string and the body', async () => {
    const ok = await call(ex, 'GET', '/v1/orders?status=open');
    expect(ok.status).toBe(200);
    // Sign one path, send another.
    const ts = Date.now();
    const sig = signRequest(TEST_KEY.secret, ts, 'GET', '/v1/orders?status=open', '');
    const res = await fetch(`${ex.url}/v1/orders?status=open&marketId=PX-POL-1`, {
      headers: { 'x-paper-key': TEST_KEY.keyId, 'x-paper-timestamp': String(ts), 'x-paper-signature': sig },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('AUTH_BAD_SIGNATURE');
  });

  it('rejects a bad signature with 401 and does not echo secrets', async () => {
    const a = await call(ex, 'GET', '/v1/balance', undefined, { key: { keyId: TEST_KEY.keyId, secret: 'wrong-secret-0123456789' } });
    expect(a.status).toBe(401);
    expect(errorOf(a).code).toBe('AUTH_BAD_SIGNATURE');
    expect(JSON.stringify(a.body)).not.toContain(TEST_KEY.secret);
  });

  it('rejects stale and future timestamps outside the window', async () => {
    const stale = await call(ex, 'GET', '/v1/balance', undefined, { timestampMs: Date.now() - 31_000 });
    expect(stale.status).toBe(401);
    expect(errorOf(stale).code).toBe('AUTH_STALE_TIMESTAMP');
    const future = await call(ex, 'GET', '/v1/balance', undefined, { timestampMs: Date.now() + 31_000 });
    expect(errorOf(future).code).toBe('AUTH_STALE_TIMESTAMP');
    const inside = await call(ex, 'GET', '/v1/balance', undefined, { timestampMs: Date.now() - 20_000 });
    expect(inside.status).toBe(200);
  });

  it('rejects an unknown key and missing headers with 401', async () => {
    const a = await call(ex, 'GET', '/v1/balance', undefined, { key: { keyId: 'nobody', secret: 'x'.repeat(20) } });
    expect(a.status).toBe(401);
    expect(errorOf(a).code).toBe('AUTH_UNKNOWN_KEY');
    const res = await fetch(`${ex.url}/v1/balance`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('AUTH_MISSING');
  });

  it('keeps accounts apart: one key cannot see another key’s order', async () => {
    const placed = await call(ex, 'POST', '/v1/orders', { clientOrderId: 'iso-1', marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: '0.01' });
    expect(placed.status).toBe(201);
    const id = (placed.body.order as { venueOrderId: string }).venueOrderId;
    const other = await call(ex, 'GET', `/v1/orders/${id}`, undefined, { key: OTHER_KEY });
    expect(other.status).toBe(404);
    const byClient = await call(ex, 'GET', '/v1/orders/by-client-id/iso-1', undefined, { key: OTHER_KEY });
    expect(byClient.status).toBe(404);
  });

  it('guards admin endpoints with the bearer token: missing 401, wrong 403, trading signature not enough', async () => {
    expect((await admin(ex, 'GET', '/admin/faults', undefined, '')).status).toBe(401);
    const wrong = await admin(ex, 'GET', '/admin/faults', undefined, 'not-the-token-at-all');
    expect(wrong.status).toBe(403);
    expect(errorOf(wrong).code).toBe('ADMIN_TOKEN_INVALID');
    const signed = await call(ex, 'GET', '/admin/faults');
    expect(signed.status).toBe(401);
    expect((await admin(ex, 'GET', '/admin/faults')).status).toBe(200);
  });
});
