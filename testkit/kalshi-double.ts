/**
 * A local stand-in for Kalshi's Trade API v2 on 127.0.0.1, rebuilt from the documentation as it
 * stands (docs/kalshi-api.md lists the pages): today's shapes only.
 *
 * - Orders are created and canceled through the V2 event-order endpoints (POST
 *   /portfolio/events/orders, DELETE /portfolio/events/orders/{id}): single YES book, side bid|ask,
 *   count and price as fixed-point strings, time_in_force and self_trade_prevention_type required;
 *   the create answer is {order_id, client_order_id, fill_count, remaining_count,
 *   average_fill_price?, average_fee_paid?, ts_ms} without a status. The retired POST
 *   /portfolio/orders and DELETE /portfolio/orders/{id} answer 410 deprecated_v1_order_endpoint.
 * - Orders, fills, positions, balance, settlements and markets use `*_fp` counts and `*_dollars`
 *   prices only; direction is outcome_side/book_side; fills carry no client_order_id and a
 *   fee_cost (taker fee 0.07 × C × P × (1 − P), rounded up to $0.0001, per the fee-rounding page).
 * - The order book is orderbook_fp {yes_dollars, no_dollars}, bids only, ascending.
 * - Requests must carry KALSHI-ACCESS-KEY/-TIMESTAMP/-SIGNATURE (RSA-PSS SHA-256 over timestamp +
 *   METHOD + path without query); an unknown or revoked key, a bad signature or a timestamp outside
 *   the window answers 401. A 429 has the documented body {"error": "too many requests"} and no
 *   Retry-After.
 *
 * ASSUMPTIONS (the double's own behaviour, not documented): a duplicate client_order_id answers 409
 * order_already_exists; cancel of an order that is not resting answers 404; a limit order crossing
 * the fixture book fills at the touch as taker (in the parts set by splitNextFill), else rests and
 * never fills; lists are newest first with a numeric offset as the page cursor; the timestamp
 * window is 30 s; errors other than 429 are {code, message, details, service} as on the V2 pages.
 */
import { constants, randomUUID, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'kalshi');
const BASE_PATH = '/trade-api/v2';
const M = 1_000_000;

export const readFixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown;

type Obj = Record<string, unknown>;

export interface InjectedFault {
  status: number;
  /** Body to send; defaults to the fixture error body for the status. */
  body?: unknown;
  retryAfterSeconds?: number;
  /** Only requests whose path (under the base path) starts with this. */
  pathPrefix?: string;
  /** Only requests with this method. */
  method?: string;
  /** Destroy the socket instead of answering (after processing when `afterProcessing`). */
  drop?: boolean;
  afterProcessing?: boolean;
}

export interface KalshiDouble {
  url: string;
  keyId: string;
  /** Answers the next `times` matching requests with `fault`. */
  inject(fault: InjectedFault, times?: number): void;
  /** Rewrites the next successful JSON body (to delete or null a field). */
  mutateNext(fn: (body: Obj) => void, pathPrefix?: string): void;
  /** Method and path of every request received, including rejected ones. */
  requests: { method: string; path: string; status: number }[];
  /**
   * Random faults on every request: 5xx before processing, or processing then dropping the
   * connection. With `dedupe: false` the double creates a new order for a repeated
   * client_order_id, so only the client's lookup-before-resubmit protocol prevents duplicates.
   */
  setChaos(chaos: { errorRate: number; dropAfterProcessingRate: number; random: () => number; dedupe: boolean }): void;
  /** Orders created per client_order_id (the venue's own count, for the duplicate check). */
  ordersPerClientId(): Map<string, number>;
  /** The next crossing order fills in these parts (fixed-point counts summing to its count). */
  splitNextFill(parts: string[]): void;
  /** An order placed by hand on the venue's site: no client_order_id. Returns its order ID. */
  placeByHand(o: { ticker: string; side: 'bid' | 'ask'; count: string; price: string }): string;
  /** Resolves a market: every position in it is settled and credited (GET /portfolio/settlements). */
  settle(ticker: string, result: 'yes' | 'no' | 'void'): void;
  /** Revokes the API key: every later request answers 401 (an expired key). */
  revokeKey(): void;
  close(): Promise<void>;
}

/** Exact fixed-point parsing, in integer hundredths of a contract and integer micros of a dollar. */
const LOTS_RE = /^(\d{1,13})(?:\.(\d{1,2}))?$/;
function lotsOf(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = LOTS_RE.exec(text);
  return m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : null;
}
const DOLLARS_RE = /^(\d{1,9})(?:\.(\d{1,4}))?$/;
function microsOf(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = DOLLARS_RE.exec(text);
  return m ? Number(m[1]) * M + Number((m[2] ?? '').padEnd(6, '0')) : null;
}
const fp = (lots: number): string => `${lots < 0 ? '-' : ''}${Math.floor(Math.abs(lots) / 100)}.${String(Math.abs(lots) % 100).padStart(2, '0')}`;
const dollars = (micros: number): string => `${micros < 0 ? '-' : ''}${Math.floor(Math.abs(micros) / M)}.${String(Math.floor((Math.abs(micros) % M) / 100)).padStart(4, '0')}`;
/** Cost of `lots` hundredths at `price` micros, in micros (exact: lots × price is a multiple of 100 for 4-decimal prices). */
const cost = (lots: number, price: number): number => (lots * price) / 100;

/** Taker fee 0.07 × C × P × (1 − P), rounded up to $0.0001 (fee-rounding page), in micros. */
export function takerFeeMicros(lots: number, priceMicros: number): number {
  const num = 7n * BigInt(lots) * BigInt(priceMicros) * BigInt(M - priceMicros);
  const den = 100n * 100n * BigInt(M) * 100n; // 0.07, hundredths of a contract, micros², then to centicents
  const centicents = (num + den - 1n) / den;
  return Number(centicents) * 100;
}

interface Book {
  yes: [number, number][];
  no: [number, number][];
}

interface Order {
  orderId: string;
  clientOrderId: string | null;
  ticker: string;
  buyYes: boolean;
  price: number;
  initial: number;
  filled: number;
  remaining: number;
  fillCost: number;
  fees: number;
  status: 'resting' | 'canceled' | 'executed';
  timeInForce: string;
  created: string;
  updated: string;
}

export async function startKalshiDouble(opts: { keyId: string; publicKey: KeyObject; timestampWindowMs?: number }): Promise<KalshiDouble> {
  const markets = (readFixture('markets.json') as { markets: Obj[] }).markets.map((m) => ({ ...m }));
  const books = new Map<string, Book>();
  for (const m of markets) {
    const ticker = m.ticker as string;
    const raw = (readFixture(`orderbook-${ticker}.json`) as { orderbook_fp: { yes_dollars: [string, string][]; no_dollars: [string, string][] } }).orderbook_fp;
    const parse = (levels: [string, string][]): [number, number][] => levels.map(([p, c]) => [microsOf(p) ?? 0, lotsOf(c) ?? 0]);
    books.set(ticker, { yes: parse(raw.yes_dollars), no: parse(raw.no_dollars) });
  }
  const errors = readFixture('errors.json') as Record<string, Obj>;
  let balance = microsOf((readFixture('balance.json') as { balance_dollars: string }).balance_dollars) ?? 0;
  const orders: Order[] = [];
  const fills: Obj[] = [];
  const settlements: Obj[] = [];
  const positions = new Map<string, number>();
  const costBasis = new Map<string, number>();
  const created = new Map<string, number>();
  const faults: { fault: InjectedFault; left: number }[] = [];
  const mutations: { fn: (b: Obj) => void; pathPrefix?: string }[] = [];
  const requests: KalshiDouble['requests'] = [];
  const window = opts.timestampWindowMs ?? 30_000;
  let keyRevoked = false;
  let nextSplit: number[] | null = null;
  let chaos = { errorRate: 0, dropAfterProcessingRate: 0, random: Math.random, dedupe: true };

  const errorBody = (status: number, message?: string, code?: string): Obj => {
    const base = errors[String(status)] ?? errors['500']!;
    if ('error' in base) return { ...base };
    return { ...base, ...(message === undefined ? {} : { message }), ...(code === undefined ? {} : { code }) };
  };

  const authenticate = (req: IncomingMessage, path: string): string | null => {
    const key = req.headers['kalshi-access-key'];
    const ts = req.headers['kalshi-access-timestamp'];
    const sig = req.headers['kalshi-access-signature'];
    if (typeof key !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return 'missing authentication headers';
    if (key !== opts.keyId || keyRevoked) return 'api key is not valid';
    if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - Date.now()) > window) return 'request timestamp outside the allowed window';
    const ok = verify('sha256', Buffer.from(`${ts}${req.method ?? ''}${path}`), { key: opts.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(sig, 'base64'));
    return ok ? null : 'invalid signature';
  };

  const orderView = (o: Order): Obj => ({
    order_id: o.orderId,
    user_id: 'double-user',
    ...(o.clientOrderId === null ? {} : { client_order_id: o.clientOrderId }),
    ticker: o.ticker,
    outcome_side: o.buyYes ? 'yes' : 'no',
    book_side: o.buyYes ? 'bid' : 'ask',
    status: o.status,
    yes_price_dollars: dollars(o.price),
    no_price_dollars: dollars(M - o.price),
    fill_count_fp: fp(o.filled),
    remaining_count_fp: fp(o.remaining),
    initial_count_fp: fp(o.initial),
    taker_fill_cost_dollars: dollars(o.fillCost),
    maker_fill_cost_dollars: '0.0000',
    taker_fees_dollars: dollars(o.fees),
    maker_fees_dollars: '0.0000',
    time_in_force: o.timeInForce,
    self_trade_prevention_type: 'taker_at_cross',
    created_time: o.created,
    last_update_time: o.updated,
    expiration_time: null,
  });

  /** Fills a crossing order at the touch as taker, in the parts set by splitNextFill. */
  const match = (o: Order): void => {
    const book = books.get(o.ticker);
    if (!book || o.status !== 'resting') return;
    const bestNoBid = Math.max(0, ...book.no.map((l) => l[0]));
    const bestYesBid = Math.max(0, ...book.yes.map((l) => l[0]));
    let fillYes: number | null = null;
    if (o.buyYes && bestNoBid > 0 && o.price >= M - bestNoBid) fillYes = M - bestNoBid;
    if (!o.buyYes && bestYesBid > 0 && o.price <= bestYesBid) fillYes = bestYesBid;
    if (fillYes === null) return;
    const parts = nextSplit ?? [o.remaining];
    nextSplit = null;
    const now = new Date();
    for (const lots of parts) {
      const ownPrice = o.buyYes ? fillYes : M - fillYes;
      const fee = takerFeeMicros(lots, fillYes);
      o.filled += lots;
      o.remaining -= lots;
      o.fillCost += cost(lots, ownPrice);
      o.fees += fee;
      const id = randomUUID();
      fills.unshift({
        fill_id: id,
        trade_id: id,
        order_id: o.orderId,
        ticker: o.ticker,
        market_ticker: o.ticker,
        outcome_side: o.buyYes ? 'yes' : 'no',
        book_side: o.buyYes ? 'bid' : 'ask',
        count_fp: fp(lots),
        yes_price_dollars: dollars(fillYes),
        no_price_dollars: dollars(M - fillYes),
        is_taker: true,
        fee_cost: dollars(fee),
        created_time: now.toISOString(),
        subaccount_number: 0,
        ts: Math.floor(now.getTime() / 1000),
      });
      positions.set(o.ticker, (positions.get(o.ticker) ?? 0) + (o.buyYes ? lots : -lots));
      costBasis.set(o.ticker, (costBasis.get(o.ticker) ?? 0) + cost(lots, ownPrice));
      balance -= cost(lots, ownPrice) + fee;
    }
    if (o.remaining === 0) o.status = 'executed';
    o.updated = now.toISOString();
  };

  const newOrder = (ticker: string, clientOrderId: string | null, buyYes: boolean, lots: number, price: number, timeInForce: string): Order => {
    const now = new Date().toISOString();
    const o: Order = { orderId: randomUUID(), clientOrderId, ticker, buyYes, price, initial: lots, filled: 0, remaining: lots, fillCost: 0, fees: 0, status: 'resting', timeInForce, created: now, updated: now };
    orders.unshift(o);
    match(o);
    if (timeInForce !== 'good_till_canceled' && o.status === 'resting') {
      o.status = 'canceled';
      o.remaining = 0;
    }
    return o;
  };

  const page = <T>(items: T[], url: URL): { items: T[]; cursor: string } => {
    const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? '100'));
    const offset = Number(url.searchParams.get('cursor') || '0');
    const slice = items.slice(offset, offset + limit);
    return { items: slice, cursor: offset + limit < items.length ? String(offset + limit) : '' };
  };

  const bad = (message: string, details = ''): { status: number; body: Obj } => ({ status: 400, body: { ...errorBody(400, message), details } });

  const route = (method: string, path: string, url: URL, body: Obj | null): { status: number; body: Obj } => {
    // The retired V1 create and cancel (https://docs.kalshi.com/api-reference/orders/create-order-v2).
    if ((method === 'POST' && path === '/portfolio/orders') || (method === 'DELETE' && /^\/portfolio\/orders\/[^/]+$/.test(path))) {
      return { status: 410, body: errorBody(410) };
    }
    if (method === 'POST' && path === '/portfolio/events/orders') {
      if (!body) return bad('body must be a JSON object');
      const { ticker, client_order_id: cid, side, count, price, time_in_force: tif, self_trade_prevention_type: stp } = body;
      if (typeof ticker !== 'string' || !books.has(ticker)) return bad('unknown ticker', 'ticker');
      if (side !== 'bid' && side !== 'ask') return bad('side must be bid or ask', 'side');
      const lots = lotsOf(count);
      if (lots === null || lots < 1) return bad('count must be a fixed-point string of at least 0.01', 'count');
      const micros = microsOf(price);
      if (micros === null || micros <= 0 || micros >= M) return bad('price must be a dollar string inside (0, 1)', 'price');
      if (tif !== 'good_till_canceled' && tif !== 'immediate_or_cancel' && tif !== 'fill_or_kill') return bad('time_in_force is required', 'time_in_force');
      if (stp !== 'taker_at_cross' && stp !== 'maker') return bad('self_trade_prevention_type is required', 'self_trade_prevention_type');
      if (cid !== undefined && (typeof cid !== 'string' || cid.length === 0 || cid.length > 64)) return bad('client_order_id must be 1-64 characters', 'client_order_id');
      if (chaos.dedupe && typeof cid === 'string' && orders.some((o) => o.clientOrderId === cid)) return { status: 409, body: errorBody(409) };
      const clientOrderId = typeof cid === 'string' ? cid : randomUUID();
      created.set(clientOrderId, (created.get(clientOrderId) ?? 0) + 1);
      const o = newOrder(ticker, clientOrderId, side === 'bid', lots, micros, tif);
      const answer: Obj = { order_id: o.orderId, client_order_id: clientOrderId, fill_count: fp(o.filled), remaining_count: fp(o.remaining), ts_ms: Date.now() };
      if (o.filled > 0) {
        const ownAverage = Math.round((o.fillCost * 100) / o.filled / 100) * 100;
        answer.average_fill_price = dollars(o.buyYes ? ownAverage : M - ownAverage);
        answer.average_fee_paid = dollars(Math.ceil((o.fees * 100) / o.filled / 100) * 100);
      }
      return { status: 201, body: answer };
    }
    const v2Cancel = /^\/portfolio\/events\/orders\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && v2Cancel) {
      const o = orders.find((x) => x.orderId === decodeURIComponent(v2Cancel[1] ?? ''));
      if (!o || o.status !== 'resting') return { status: 404, body: errorBody(404) };
      const reducedBy = o.remaining;
      o.status = 'canceled';
      o.remaining = 0;
      o.updated = new Date().toISOString();
      return { status: 200, body: { order_id: o.orderId, ...(o.clientOrderId === null ? {} : { client_order_id: o.clientOrderId }), reduced_by: fp(reducedBy), ts_ms: Date.now() } };
    }
    const orderMatch = /^\/portfolio\/orders\/([^/]+)$/.exec(path);
    if (method === 'GET' && orderMatch) {
      const o = orders.find((x) => x.orderId === decodeURIComponent(orderMatch[1] ?? ''));
      return o ? { status: 200, body: { order: orderView(o) } } : { status: 404, body: errorBody(404) };
    }
    if (method === 'GET' && path === '/portfolio/orders') {
      const status = url.searchParams.get('status');
      const ticker = url.searchParams.get('ticker');
      const p = page(orders.filter((o) => (status === null || o.status === status) && (ticker === null || o.ticker === ticker)), url);
      return { status: 200, body: { orders: p.items.map(orderView), cursor: p.cursor } };
    }
    if (method === 'GET' && path === '/portfolio/fills') {
      const minTs = Number(url.searchParams.get('min_ts') ?? '0');
      const p = page(fills.filter((f) => (f.ts as number) >= minTs), url);
      return { status: 200, body: { fills: p.items, cursor: p.cursor } };
    }
    if (method === 'GET' && path === '/portfolio/settlements') {
      const minTs = Number(url.searchParams.get('min_ts') ?? '0');
      const p = page(settlements.filter((s) => Date.parse(s.settled_time as string) / 1000 >= minTs), url);
      return { status: 200, body: { settlements: p.items, cursor: p.cursor } };
    }
    if (method === 'GET' && path === '/portfolio/positions') {
      const list = [...positions.entries()].map(([ticker, lots]) => ({
        ticker,
        position_fp: fp(lots),
        market_exposure_dollars: dollars(costBasis.get(ticker) ?? 0),
        realized_pnl_dollars: '0.0000',
        fees_paid_dollars: '0.0000',
        total_traded_dollars: dollars(costBasis.get(ticker) ?? 0),
        resting_orders_count: orders.filter((o) => o.ticker === ticker && o.status === 'resting').length,
      }));
      return { status: 200, body: { market_positions: list, event_positions: [], cursor: '' } };
    }
    if (method === 'GET' && path === '/portfolio/balance') {
      return { status: 200, body: { balance_dollars: dollars(balance), portfolio_value_dollars: '0.0000', updated_ts: Math.floor(Date.now() / 1000) } };
    }
    if (method === 'GET' && path === '/markets') {
      const p = page(markets, url);
      return { status: 200, body: { markets: p.items, cursor: p.cursor } };
    }
    const marketMatch = /^\/markets\/([^/]+)(\/orderbook)?$/.exec(path);
    if (method === 'GET' && marketMatch) {
      const ticker = decodeURIComponent(marketMatch[1] ?? '');
      const m = markets.find((x) => x.ticker === ticker);
      if (!m) return { status: 404, body: errorBody(404, 'market not found') };
      if (marketMatch[2]) return { status: 200, body: readFixture(`orderbook-${ticker}.json`) as Obj };
      return { status: 200, body: { market: m } };
    }
    return { status: 404, body: errorBody(404, 'no such route') };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      requests.push({ method, path: url.pathname, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (!url.pathname.startsWith(BASE_PATH)) return send(404, errorBody(404, 'no such route'));
    const path = url.pathname.slice(BASE_PATH.length);
    const authProblem = authenticate(req, url.pathname);
    if (authProblem) return send(401, errorBody(401, authProblem));
    const faultIdx = faults.findIndex(
      (f) => f.left > 0 && (f.fault.pathPrefix === undefined || path.startsWith(f.fault.pathPrefix)) && (f.fault.method === undefined || f.fault.method === method),
    );
    const fault = faultIdx >= 0 ? faults[faultIdx] : undefined;
    if (fault) {
      fault.left -= 1;
      if (fault.left === 0) faults.splice(faultIdx, 1);
    }
    if (fault && !fault.fault.afterProcessing) {
      if (fault.fault.drop) {
        requests.push({ method, path: url.pathname, status: 0 });
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = fault.fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.fault.retryAfterSeconds) };
      return send(fault.fault.status, fault.fault.body ?? errorBody(fault.fault.status), headers);
    }
    if (chaos.errorRate > 0 && chaos.random() < chaos.errorRate) return send(503, errorBody(503));
    let body: Obj | null = null;
    if (text !== '') {
      try {
        const parsed = JSON.parse(text) as unknown;
        body = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Obj) : null;
      } catch {
        return send(400, errorBody(400, 'body is not JSON'));
      }
    }
    const out = route(method, path, url, body);
    if (fault?.fault.afterProcessing || (method === 'POST' && chaos.dropAfterProcessingRate > 0 && chaos.random() < chaos.dropAfterProcessingRate)) {
      requests.push({ method, path: url.pathname, status: 0 });
      req.socket.destroy();
      return;
    }
    if (out.status < 300) {
      const mIdx = mutations.findIndex((m) => m.pathPrefix === undefined || path.startsWith(m.pathPrefix));
      const mutation = mIdx >= 0 ? mutations.splice(mIdx, 1)[0] : undefined;
      if (mutation) {
        const copy = JSON.parse(JSON.stringify(out.body)) as Obj;
        mutation.fn(copy);
        return send(out.status, copy);
      }
    }
    return send(out.status, out.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody(500)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${BASE_PATH}`,
    keyId: opts.keyId,
    inject: (fault, times = 1) => void faults.push({ fault, left: times }),
    mutateNext: (fn, pathPrefix) => void mutations.push({ fn, pathPrefix }),
    setChaos: (c) => {
      chaos = c;
    },
    requests,
    ordersPerClientId: () => new Map(created),
    splitNextFill: (parts) => {
      nextSplit = parts.map((p) => {
        const lots = lotsOf(p);
        if (lots === null || lots < 1) throw new Error(`bad fill part ${p}`);
        return lots;
      });
    },
    placeByHand: ({ ticker, side, count, price }) => newOrder(ticker, null, side === 'bid', lotsOf(count) ?? 0, microsOf(price) ?? 0, 'good_till_canceled').orderId,
    settle: (ticker, result) => {
      const lots = positions.get(ticker) ?? 0;
      const basis = costBasis.get(ticker) ?? 0;
      const yes = Math.max(lots, 0);
      const no = Math.max(-lots, 0);
      // Winning contracts pay $1 (100 cents per contract, so one cent per hundredth); a void returns the cost.
      const revenueCents = result === 'yes' ? yes : result === 'no' ? no : Math.round(basis / 10_000);
      balance += revenueCents * 10_000;
      positions.delete(ticker);
      costBasis.delete(ticker);
      const m = markets.find((x) => x.ticker === ticker);
      if (m) m.result = result;
      const event = typeof m?.event_ticker === 'string' ? m.event_ticker : ticker;
      settlements.unshift({
        ticker,
        event_ticker: event,
        market_result: result,
        yes_count_fp: fp(yes),
        yes_total_cost_dollars: lots > 0 ? dollars(basis) : '0.0000',
        no_count_fp: fp(no),
        no_total_cost_dollars: lots < 0 ? dollars(basis) : '0.0000',
        revenue: revenueCents,
        settled_time: new Date().toISOString(),
        fee_cost: '0.0000',
        value: result === 'yes' ? 100 : 0,
      });
    },
    revokeKey: () => {
      keyRevoked = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
