/**
 * Bad-input sweep of venue responses: what the paper exchange and Kalshi adapters do with
 * answers that are wrong. The signed HTTP client is given a fetch that answers each request
 * with a scripted status and body (valid responses with one field made wrong, JSON of any
 * shape, text that is not JSON, oversized bodies, error statuses whose bodies echo the secret),
 * so everything after the socket runs as in production. Every failure is a VenueError (most a
 * MALFORMED_RESPONSE naming the field path), never a TypeError; the secret never appears in an
 * error; and a fill sync fed a bad page, each run from empty records, either takes the page or
 * fails with a VenueError having recorded nothing: every table is still empty.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FillSync } from '../../activities/fill-sync';
import { Secret } from '../../activities/venue/credentials';
import { isVenueError, type VenueError } from '../../activities/venue/errors';
import { VenueHttpClient } from '../../activities/venue/http';
import { KalshiVenue } from '../../activities/venue/kalshi/kalshi-venue';
import { PaperVenue, paperSigner } from '../../activities/venue/paper-venue';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { Venue } from '../../contracts/venue';
import { getFillCursor, openDatabase, type Database } from '../../db';
import type { Price, Quantity } from '../../domain/money';
import { MemoryOrderIdMap } from '../../testkit/order-id-map';
import { SweepCounter, anyJson, hostileString, malformedJsonText, recordsDigest, resetRecords, runs, wrongTyped } from './support';

const counter = new SweepCounter('venue-responses');
const SECRET = 'venue-sweep-secret-5e1f0a9c77d2';

interface Scripted {
  status: number;
  body: string;
  headers?: Record<string, string>;
}
let next: Scripted = { status: 200, body: '{}' };

const scriptedFetch = (async () => new Response(next.body, { status: next.status, headers: { 'content-type': 'application/json', ...next.headers } })) as unknown as typeof fetch;

function client(venue: string): VenueHttpClient {
  return new VenueHttpClient({
    venue,
    baseUrl: 'http://venue.invalid/api',
    signer: paperSigner('sweep', new Secret(SECRET)),
    secrets: [SECRET],
    rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    circuitBreaker: { failureThreshold: 1_000_000_000, openMs: 1, halfOpenTrials: 1 },
    timeoutMs: 2_000,
    fetch: scriptedFetch,
  });
}

const paper = new PaperVenue(client('paper'));
const kalshi = new KalshiVenue(client('kalshi'), { orderIds: new MemoryOrderIdMap() });

const ORDER = { venueOrderId: 'ord-000000000001', clientOrderId: 'mr-20260105-000001', marketId: 'PX-A', side: 'BUY', quantity: 10, limitPrice: '0.43', filledQuantity: 4, averageFillPrice: '0.4275', status: 'PARTIALLY_FILLED', rejectReason: null, createdAt: 1767225600000, updatedAt: 1767225603000 };
const FILL = { tradeId: 'trd-000000000007', venueOrderId: 'ord-000000000001', clientOrderId: 'mr-20260105-000001', marketId: 'PX-A', side: 'BUY', quantity: 4, price: '0.43', fee: '0.070000', ts: 1767225603000 };

const HISTORY_SINCE = 1767225000000;
const HISTORY = {
  marketId: 'PX-A',
  intervalMs: 300000,
  averageDailyVolume: 1000000,
  history: [
    { ts: 1767225300000, bid: '0.42', ask: '0.43', last: null, volume: 3120 },
    { ts: 1767225600000, bid: '0.43', ask: '0.44', last: '0.43', volume: 2904 },
  ],
};

/** Valid paper responses per operation, and the call that reads each. */
const PAPER_OPS: { name: string; call: (v: Venue) => Promise<unknown>; valid: Record<string, unknown> }[] = [
  { name: 'listMarkets', call: (v) => v.listMarkets(), valid: { markets: [{ marketId: 'PX-A', title: 't', category: 'politics', tickSize: '0.01', resolvesAt: 1767312000000, outcome: null, status: 'OPEN' }] } },
  {
    name: 'getMarketSnapshot',
    call: (v) => v.getMarketSnapshot('PX-A'),
    valid: { marketId: 'PX-A', ts: 1767225600000, bid: '0.42', ask: '0.44', last: '0.43', bids: [{ price: '0.42', quantity: 310 }], asks: [{ price: '0.44', quantity: 290 }], volume24h: 51234, averageDailyVolume: 1000000, intervalVolume: 14, status: 'OPEN' },
  },
  { name: 'getBalance', call: (v) => v.getBalance(), valid: { cash: '9998.210000', reserved: '3.440000', available: '9994.770000' } },
  { name: 'getPositions', call: (v) => v.getPositions(), valid: { positions: [{ marketId: 'PX-A', quantity: 4 }] } },
  { name: 'getFillsSince', call: (v) => v.getFillsSince(null), valid: { fills: [FILL], cursor: 'c-7', hasMore: false } },
  { name: 'listOpenOrders', call: (v) => v.listOpenOrders(), valid: { orders: [ORDER] } },
  { name: 'getOrderByClientId', call: (v) => v.getOrderByClientId('mr-20260105-000001'), valid: { order: ORDER } },
  {
    name: 'placeOrder',
    call: (v) => v.placeOrder({ clientOrderId: 'mr-20260105-000001', marketId: 'PX-A', side: 'BUY', quantity: 10 as Quantity, limitPrice: 430_000 as Price }),
    valid: { order: ORDER },
  },
  { name: 'cancelOrder', call: (v) => v.cancelOrder({ venueOrderId: 'ord-000000000001' }), valid: { order: ORDER } },
  { name: 'getPriceHistory', call: (v) => v.getPriceHistory!('PX-A', HISTORY_SINCE), valid: HISTORY },
];
const KALSHI_OPS = PAPER_OPS.filter((o) => o.name !== 'cancelOrder' && o.name !== 'getPriceHistory');

/** Every path to a leaf or a node of a JSON value, as key lists. */
function pathsOf(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
  return out;
}

function replaced(v: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove && !Array.isArray(o)) delete o[last];
  else o[last] = value;
  return copy;
}

/** Runs one call against the scripted answer: it resolves, or fails with a VenueError that names no secret. */
async function outcome(call: () => Promise<unknown>, answer: Scripted): Promise<VenueError | null> {
  next = answer;
  try {
    await call();
    return null;
  } catch (e) {
    expect(isVenueError(e), `only VenueError may escape, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`).toBe(true);
    const err = e as VenueError;
    expect(err.message.length).toBeGreaterThan(0);
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(SECRET);
    return err;
  }
}

describe('paper exchange adapter', () => {
  it('a valid response with one field made wrong (or removed) is read or refused as MALFORMED_RESPONSE naming it', async () => {
    const cases = fc.constantFrom(...PAPER_OPS).chain((op) => fc.tuple(fc.constant(op), fc.constantFrom(...pathsOf(op.valid)), wrongTyped, fc.boolean()));
    await fc.assert(
      fc.asyncProperty(cases, async ([op, path, value, remove]) => {
        counter.tried(`paper: one field wrong (${op.name})`);
        const body = JSON.stringify(replaced(op.valid, path, value, remove));
        const err = await outcome(() => op.call(paper), { status: 200, body });
        if (err !== null) {
          expect(err.kind).toBe('MALFORMED_RESPONSE');
          expect(err.field ?? '').toMatch(/^body/);
        }
      }),
      { numRuns: runs(600) },
    );
  });

  it('price history: read into snapshots; out of order, before `since` or for another market is MALFORMED_RESPONSE naming the field', async () => {
    next = { status: 200, body: JSON.stringify(HISTORY) };
    expect(await paper.getPriceHistory('PX-A', HISTORY_SINCE)).toEqual([
      { marketId: 'PX-A', ts: 1767225300000, bid: 420_000, ask: 430_000, last: null, averageDailyVolume: 1_000_000, intervalVolume: 3120 },
      { marketId: 'PX-A', ts: 1767225600000, bid: 430_000, ask: 440_000, last: 430_000, averageDailyVolume: 1_000_000, intervalVolume: 2904 },
    ]);
    const [a, b] = HISTORY.history;
    const bad: [unknown, string][] = [
      [{ ...HISTORY, history: [b, a] }, 'body.history[1].ts'],
      [{ ...HISTORY, history: [{ ...a, ts: HISTORY_SINCE }] }, 'body.history[0].ts'],
      [{ ...HISTORY, marketId: 'PX-B' }, 'body.marketId'],
      [{ ...HISTORY, history: [a, { ...b, volume: -1 }] }, 'body.history[1].volume'],
      [{ ...HISTORY, history: [{ ...a, bid: 0.42 }] }, 'body.history[0].bid'],
    ];
    for (const [body, field] of bad) {
      const err = await outcome(() => paper.getPriceHistory('PX-A', HISTORY_SINCE), { status: 200, body: JSON.stringify(body) });
      expect(err, field).toMatchObject({ kind: 'MALFORMED_RESPONSE', field });
    }
  });

  it('bodies of any shape, text that is not JSON and oversized bodies are VenueErrors', async () => {
    const body = fc.oneof(anyJson.map((v) => JSON.stringify(v) ?? 'null'), malformedJsonText, fc.constantFrom('x'.repeat(2_000_000), `[${'1,'.repeat(200_000)}1]`));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PAPER_OPS), body, async (op, text) => {
        counter.tried('paper: body of any shape');
        await outcome(() => op.call(paper), { status: 200, body: text });
      }),
      { numRuns: runs(300) },
    );
  });

  it('error statuses with hostile bodies (even ones echoing the secret) are classified, and the secret is scrubbed', async () => {
    const status = fc.constantFrom(400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504, 418, 302, 204);
    const body = fc.oneof(
      hostileString,
      hostileString.map((s) => JSON.stringify({ error: { code: s, message: `bad signature for ${SECRET}: ${s}` } })),
      wrongTyped.map((v) => JSON.stringify({ error: v })),
      fc.constant(`<html>${SECRET}</html>`),
    );
    const retryAfter = fc.option(fc.oneof(hostileString.filter((s) => /^[\x20-\x7e]*$/.test(s) && s.length < 200), fc.constantFrom('-1', '1e9', 'NaN', 'Wed, 21 Oct 2015 07:28:00 GMT')), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PAPER_OPS), status, body, retryAfter, async (op, s, text, ra) => {
        counter.tried('paper: error status');
        await outcome(() => op.call(paper), { status: s, body: text, headers: ra === undefined ? {} : { 'retry-after': ra } });
      }),
      { numRuns: runs(300) },
    );
  });

  it('a 429 asking to wait for years pauses the client no longer than the policy honours', async () => {
    counter.tried('paper: absurd Retry-After', 3);
    const patient = new VenueHttpClient({
      venue: 'paper',
      baseUrl: 'http://venue.invalid/api',
      rateLimit: { capacity: 1_000, refillPerSecond: 1_000 },
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 50 },
      fetch: scriptedFetch,
    });
    const venue = new PaperVenue(patient);
    for (const header of ['99999999999', '1e9', 'Fri, 31 Dec 9999 23:59:59 GMT']) {
      const err = await outcome(() => venue.getBalance(), { status: 429, body: '{}', headers: { 'retry-after': header } });
      expect(err?.kind).toBe('RATE_LIMITED');
      // Without the cap this call waited out the venue's Retry-After (the test's own timeout).
      await expect(outcome(() => venue.getBalance(), { status: 200, body: JSON.stringify({ cash: '1.000000' }) })).resolves.toBeNull();
    }
  });
});

describe('Kalshi adapter', () => {
  it('bodies of any shape, paper-shaped answers, non-JSON and error statuses are VenueErrors or read', async () => {
    const body = fc.oneof(
      anyJson.map((v) => JSON.stringify(v) ?? 'null'),
      fc.constantFrom(...PAPER_OPS).map((o) => JSON.stringify(o.valid)),
      fc.record({ order: anyJson, orders: anyJson, fills: anyJson, market_positions: anyJson, markets: anyJson, orderbook: anyJson, balance: anyJson, cursor: anyJson }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      malformedJsonText,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KALSHI_OPS), fc.constantFrom(200, 200, 200, 400, 404, 409, 429, 500), body, async (op, status, text) => {
        counter.tried('kalshi: hostile answer');
        await outcome(() => op.call(kalshi), { status, body: text });
      }),
      { numRuns: runs(400) },
    );
  });
});

describe('fill sync fed bad pages', () => {
  let database: Database;
  let empty: Awaited<ReturnType<typeof recordsDigest>>;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    empty = await recordsDigest(database.db);
  });
  afterAll(async () => {
    await database?.close();
    counter.report();
  });

  it('a fills page with a wrong field records nothing and stores no cursor', async () => {
    const valid = PAPER_OPS.find((o) => o.name === 'getFillsSince')!.valid;
    const fillPaths = pathsOf(valid).filter((p) => p[0] === 'fills' || p[0] === 'cursor');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fillPaths), fc.oneof(wrongTyped, hostileString), async (path, value) => {
        counter.tried('fill sync: bad page');
        // Each run (shrinking included) starts from empty records, so a failure is this page's own.
        await resetRecords(database.db);
        const sync = new FillSync(database.db, new ResilientVenue(paper, null), 'paper', 'UTC');
        const page = replaced(valid, path, value, false) as { fills: Record<string, unknown>[]; cursor: unknown };
        // A second fill carrying the bad field too, so no valid fill of the page can slip in before it.
        const first = Array.isArray(page.fills) ? page.fills[0] : undefined;
        if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
          page.fills = [first, { ...first, tradeId: typeof first.tradeId === 'string' ? `${first.tradeId}-b` : first.tradeId }];
        }
        next = { status: 200, body: JSON.stringify(page) };
        try {
          await sync.sync();
        } catch (e) {
          expect(isVenueError(e), String(e)).toBe(true);
          expect(await recordsDigest(database.db)).toEqual(empty);
          return;
        }
        expect((await getFillCursor(database.db, 'paper'))?.cursor).toBe(page.cursor);
      }),
      { numRuns: runs(80) },
    );
  });

  it('pinned counterexamples of earlier seeds: each page is refused naming the field, nothing recorded', async () => {
    const valid = PAPER_OPS.find((o) => o.name === 'getFillsSince')!.valid;
    const pinned: [seed: number, path: (string | number)[], value: unknown, field: string][] = [
      // The store refused the cursor only after the page's fills were in.
      [-947578149, ['cursor'], '\u0000', 'body.cursor'],
      // A market ID the store cannot hold passed the fill check.
      [1448980236, ['fills', 0, 'marketId'], 'a\u0000b', 'body.fills[0]'],
    ];
    for (const [seed, path, value, field] of pinned) {
      counter.tried('fill sync: pinned cases');
      await resetRecords(database.db);
      const page = replaced({ ...valid, fills: [FILL, { ...FILL, tradeId: `${FILL.tradeId}-b` }] }, path, value, false);
      next = { status: 200, body: JSON.stringify(page) };
      const sync = new FillSync(database.db, new ResilientVenue(paper, null), 'paper', 'UTC');
      await expect(sync.sync(), `seed ${seed}`).rejects.toMatchObject({ kind: 'MALFORMED_RESPONSE', field: expect.stringContaining(field) });
      expect(await recordsDigest(database.db)).toEqual(empty);
    }
  });
});
