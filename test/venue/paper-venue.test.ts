import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../activities/venue/credentials';
import type { VenueLogEntry } from '../../activities/venue/http';
import { paperSigner } from '../../activities/venue/paper-venue';
import { signRequest } from '../../exchange/auth';
import type { PaperExchange } from '../../exchange/server';
import type { Price, Quantity } from '../../domain/money';
import { paperClient, PAPER_SECRET, startPaper } from '../../testkit/venue-harness';

describe('paper venue adapter', () => {
  let exchange: PaperExchange;
  let marketId: string;

  beforeAll(async () => {
    exchange = await startPaper();
    marketId = (await paperClient(exchange).listMarkets()).find((m) => m.tickSize === 10_000 && m.resolvesAt !== null)!.marketId;
  });
  afterAll(async () => {
    await exchange?.close();
  });

  it('reads the price history as snapshots, oldest first, strictly after `since`', async () => {
    const venue = paperClient(exchange);
    expect(venue.getPriceHistory).toBeTypeOf('function');
    const all = await venue.getPriceHistory!(marketId, 0);
    expect(all).toHaveLength(96 * 12);
    for (let i = 1; i < all.length; i++) expect(all[i]!.ts).toBeGreaterThan(all[i - 1]!.ts);
    expect(all[0]).toMatchObject({ marketId, averageDailyVolume: 1_000_000 });
    expect(all.every((s) => s.bid !== null && s.ask !== null && Number.isInteger(s.intervalVolume))).toBe(true);
    const recent = await venue.getPriceHistory!(marketId, all.at(-3)!.ts);
    expect(recent).toEqual(all.slice(-2));
  });

  it('signs exactly as the exchange verifies (API.md pre-image)', () => {
    const headers = paperSigner('dev', new Secret('s3cret'))({
      method: 'GET',
      path: '/v1/orders',
      pathWithQuery: '/v1/orders?status=open&marketId=PRES-2028',
      body: '',
      timestampMs: 1_700_000_000_000,
    });
    expect(headers).toEqual({
      'X-Paper-Key': 'dev',
      'X-Paper-Timestamp': '1700000000000',
      'X-Paper-Signature': signRequest('s3cret', '1700000000000', 'GET', '/v1/orders?status=open&marketId=PRES-2028', ''),
    });
  });

  it('a submit that times out is AMBIGUOUS_SUBMIT after one send; the lookup decides, and the same ID goes again', async () => {
    const venue = paperClient(exchange, { timeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10 } });
    const request = { clientOrderId: 'hang-0001', marketId, side: 'BUY' as const, quantity: 1 as Quantity, limitPrice: 10_000 as Price };
    exchange.admin.setFaults({ hangProbability: 1, hangMaxMs: 400 });
    await expect(venue.placeOrder(request)).rejects.toMatchObject({ kind: 'AMBIGUOUS_SUBMIT', clientOrderId: 'hang-0001' });
    exchange.admin.resetFaults();
    expect(venue.httpStats()?.attempts.placeOrder).toBe(1);
    expect(venue.httpStats()?.failures.TIMEOUT).toBe(1);
    // A hung request is never processed: the venue does not have it, so it may be sent again.
    expect(await venue.getOrderByClientId('hang-0001')).toBeNull();
    const placed = await venue.placeOrder(request);
    expect(placed.clientOrderId).toBe('hang-0001');
    expect(await venue.getOrderByClientId('hang-0001')).toMatchObject({ venueOrderId: placed.venueOrderId });
  });

  it('logs failures and retries without the secret or signature', async () => {
    const logs: VenueLogEntry[] = [];
    const venue = paperClient(exchange, { logger: (e) => logs.push(e), retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10 } });
    exchange.admin.setFaults({ seed: 2, errorRate: 0.5 });
    for (let i = 0; i < 10; i++) await venue.getBalance().catch(() => undefined);
    exchange.admin.resetFaults();
    const bad = paperClient(exchange, { logger: (e) => logs.push(e) }, 'the-wrong-secret-for-this-key-000');
    await bad.getBalance().catch(() => undefined);
    expect(logs.some((l) => l.event === 'retry')).toBe(true);
    expect(logs.some((l) => l.kind === 'AUTH')).toBe(true);
    const text = JSON.stringify(logs);
    expect(text).not.toContain(PAPER_SECRET);
    expect(text).not.toContain('the-wrong-secret-for-this-key-000');
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });
});
