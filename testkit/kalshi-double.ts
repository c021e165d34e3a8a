/**
 * A local stand-in for Kalshi's Trade API v2 on 127.0.0.1, for the adapter and contract tests.
 *
 * Published shapes it serves (see activities/venue/kalshi/mapping.ts for the sources):
 * markets, market, orderbook and balance bodies come from the recorded fixtures in
 * fixtures/kalshi/; orders and fills are built in the documented Order / Fill shapes; errors use
 * {"error": {"code", "message"}}. Requests must carry KALSHI-ACCESS-KEY/-TIMESTAMP/-SIGNATURE,
 * and the signature is verified with the matching public key (RSA-PSS, SHA-256, salt = digest
 * length, over timestamp + METHOD + path-without-query).
 *
 * ASSUMPTIONS (the double's own behaviour, not Kalshi's documented behaviour): a duplicate
 * client_order_id answers 409 "order_already_exists"; canceling a non-resting order answers
 * 400; a limit order crossing the fixture book fills completely at the touch as taker, else it
 * rests and never fills; lists are newest first with a numeric offset as the page cursor.
 */
import { constants, randomUUID, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'kalshi');
const BASE_PATH = '/trade-api/v2';

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
  /** Orders created per client_order_id (the duplicate check). */
  ordersPerClientId(): Map<string, number>;
  close(): Promise<void>;
}

interface Book {
  yes: [number, number][];
  no: [number, number][];
}

export async function startKalshiDouble(opts: { keyId: string; publicKey: KeyObject; timestampWindowMs?: number }): Promise<KalshiDouble> {
  const markets = (readFixture('markets.json') as { markets: Obj[] }).markets;
  const books = new Map<string, Book>();
  for (const m of markets) {
    const ticker = m.ticker as string;
    const raw = (readFixture(`orderbook-${ticker}.json`) as { orderbook: { yes: [number, number][] | null; no: [number, number][] | null } }).orderbook;
    books.set(ticker, { yes: raw.yes ?? [], no: raw.no ?? [] });
  }
  const errors = readFixture('errors.json') as Record<string, Obj>;
  let balanceCents = (readFixture('balance.json') as { balance: number }).balance;
  const orders: Obj[] = [];
  const fills: Obj[] = [];
  const positions = new Map<string, number>();
  const created = new Map<string, number>();
  const faults: { fault: InjectedFault; left: number }[] = [];
  const mutations: { fn: (b: Obj) => void; pathPrefix?: string }[] = [];
  const requests: KalshiDouble['requests'] = [];
  const window = opts.timestampWindowMs ?? 30_000;
  let chaos = { errorRate: 0, dropAfterProcessingRate: 0, random: Math.random, dedupe: true };

  const errorBody = (status: number, message?: string): Obj => {
    const base = (errors[String(status)] ?? errors['500']) as { error: Obj };
    return { error: { ...base.error, ...(message === undefined ? {} : { message }) } };
  };

  const authenticate = (req: IncomingMessage, path: string): string | null => {
    const key = req.headers['kalshi-access-key'];
    const ts = req.headers['kalshi-access-timestamp'];
    const sig = req.headers['kalshi-access-signature'];
    if (typeof key !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return 'missing authentication headers';
    if (key !== opts.keyId) return 'unknown api key';
    if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - Date.now()) > window) return 'stale timestamp';
    const ok = verify('sha256', Buffer.from(`${ts}${req.method ?? ''}${path}`), { key: opts.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(sig, 'base64'));
    return ok ? null : 'invalid signature';
  };

  const orderView = (o: Obj): Obj => ({ ...o });

  const match = (o: Obj): void => {
    const book = books.get(o.ticker as string);
    if (!book || o.status !== 'resting') return;
    const yesPrice = o.yes_price as number;
    const buyYes = (o.side === 'yes') === (o.action === 'buy');
    const bestNoBid = Math.max(0, ...book.no.map((l) => l[0]));
    const bestYesBid = Math.max(0, ...book.yes.map((l) => l[0]));
    const askYes = bestNoBid > 0 ? 100 - bestNoBid : null;
    let fillYes: number | null = null;
    if (buyYes && askYes !== null && (o.type === 'market' || yesPrice >= askYes)) fillYes = askYes;
    if (!buyYes && bestYesBid > 0 && (o.type === 'market' || yesPrice <= bestYesBid)) fillYes = bestYesBid;
    if (fillYes === null) return;
    const count = o.remaining_count as number;
    const ownPrice = o.side === 'yes' ? fillYes : 100 - fillYes;
    o.fill_count = (o.fill_count as number) + count;
    o.remaining_count = 0;
    o.taker_fill_cost = (o.taker_fill_cost as number) + ownPrice * count;
    o.status = 'executed';
    const now = new Date();
    o.last_update_time = now.toISOString();
    const tradeId = randomUUID();
    fills.unshift({
      fill_id: tradeId,
      trade_id: tradeId,
      order_id: o.order_id,
      client_order_id: o.client_order_id,
      ticker: o.ticker,
      market_ticker: o.ticker,
      side: o.side,
      action: o.action,
      count,
      yes_price: fillYes,
      no_price: 100 - fillYes,
      yes_price_fixed: (fillYes / 100).toFixed(4),
      no_price_fixed: ((100 - fillYes) / 100).toFixed(4),
      is_taker: true,
      created_time: now.toISOString(),
      ts: Math.floor(now.getTime() / 1000),
    });
    positions.set(o.ticker as string, (positions.get(o.ticker as string) ?? 0) + (buyYes ? count : -count));
    balanceCents += buyYes ? -fillYes * count : fillYes * count;
  };

  const page = <T>(items: T[], url: URL): { items: T[]; cursor: string } => {
    const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? '100'));
    const offset = Number(url.searchParams.get('cursor') || '0');
    const slice = items.slice(offset, offset + limit);
    return { items: slice, cursor: offset + limit < items.length ? String(offset + limit) : '' };
  };

  const route = (method: string, path: string, url: URL, body: Obj | null): { status: number; body: Obj } => {
    const orderMatch = /^\/portfolio\/orders\/([^/]+)$/.exec(path);
    if (method === 'POST' && path === '/portfolio/orders') {
      if (!body) return { status: 400, body: errorBody(400, 'body must be a JSON object') };
      const { ticker, client_order_id: cid, side, action, count, type, yes_price: yesPrice } = body;
      if (typeof ticker !== 'string' || !books.has(ticker)) return { status: 400, body: errorBody(400, 'unknown ticker') };
      if (side !== 'yes' && side !== 'no') return { status: 400, body: errorBody(400, 'side must be yes or no') };
      if (action !== 'buy' && action !== 'sell') return { status: 400, body: errorBody(400, 'action must be buy or sell') };
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) return { status: 400, body: errorBody(400) };
      if (type !== 'limit' && type !== 'market') return { status: 400, body: errorBody(400, 'type must be limit or market') };
      if (type === 'limit' && (typeof yesPrice !== 'number' || !Number.isInteger(yesPrice) || yesPrice < 1 || yesPrice > 99)) return { status: 400, body: errorBody(400, 'yes_price must be 1-99') };
      if (chaos.dedupe && typeof cid === 'string' && orders.some((o) => o.client_order_id === cid)) return { status: 409, body: errorBody(409) };
      const now = new Date().toISOString();
      const price = type === 'limit' ? (yesPrice as number) : action === 'buy' ? 99 : 1;
      const o: Obj = {
        order_id: randomUUID(),
        user_id: 'double-user',
        client_order_id: typeof cid === 'string' ? cid : randomUUID(),
        ticker,
        side,
        action,
        type,
        status: 'resting',
        yes_price: price,
        no_price: 100 - price,
        yes_price_dollars: (price / 100).toFixed(4),
        no_price_dollars: ((100 - price) / 100).toFixed(4),
        fill_count: 0,
        remaining_count: count,
        initial_count: count,
        taker_fill_cost: 0,
        maker_fill_cost: 0,
        taker_fees: 0,
        maker_fees: 0,
        created_time: now,
        last_update_time: now,
        expiration_time: null,
      };
      orders.unshift(o);
      created.set(o.client_order_id as string, (created.get(o.client_order_id as string) ?? 0) + 1);
      match(o);
      if (o.type === 'market' && o.status === 'resting') o.status = 'canceled';
      return { status: 201, body: { order: orderView(o) } };
    }
    if (orderMatch && (method === 'GET' || method === 'DELETE')) {
      const o = orders.find((x) => x.order_id === decodeURIComponent(orderMatch[1] ?? ''));
      if (!o) return { status: 404, body: errorBody(404) };
      if (method === 'GET') return { status: 200, body: { order: orderView(o) } };
      if (o.status !== 'resting') return { status: 400, body: errorBody(400, 'order is not resting') };
      const reducedBy = o.remaining_count;
      o.status = 'canceled';
      o.remaining_count = 0;
      o.last_update_time = new Date().toISOString();
      return { status: 200, body: { order: orderView(o), reduced_by: reducedBy } };
    }
    if (method === 'GET' && path === '/portfolio/orders') {
      const status = url.searchParams.get('status');
      const ticker = url.searchParams.get('ticker');
      const list = orders.filter((o) => (status === null || o.status === status) && (ticker === null || o.ticker === ticker));
      const p = page(list, url);
      return { status: 200, body: { orders: p.items.map(orderView), cursor: p.cursor } };
    }
    if (method === 'GET' && path === '/portfolio/fills') {
      const minTs = Number(url.searchParams.get('min_ts') ?? '0');
      const p = page(fills.filter((f) => (f.ts as number) >= minTs), url);
      return { status: 200, body: { fills: p.items, cursor: p.cursor } };
    }
    if (method === 'GET' && path === '/portfolio/positions') {
      const list = [...positions.entries()].map(([ticker, position]) => ({
        ticker,
        position,
        market_exposure: 0,
        realized_pnl: 0,
        total_traded: 0,
        resting_orders_count: orders.filter((o) => o.ticker === ticker && o.status === 'resting').length,
        fees_paid: 0,
      }));
      return { status: 200, body: { market_positions: list, event_positions: [], cursor: '' } };
    }
    if (method === 'GET' && path === '/portfolio/balance') {
      return { status: 200, body: { balance: balanceCents, portfolio_value: 0, updated_ts: Math.floor(Date.now() / 1000) } };
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
      if (marketMatch[2]) {
        const raw = readFixture(`orderbook-${ticker}.json`) as Obj;
        return { status: 200, body: raw };
      }
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
