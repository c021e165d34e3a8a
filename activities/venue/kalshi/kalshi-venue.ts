/**
 * Kalshi adapter: the Venue contract over Kalshi's Trade API v2 (shapes and assumptions are
 * listed in mapping.ts). Endpoints used, relative to the base URL (default: demo):
 *   POST   /portfolio/orders                 create (client_order_id, ticker, side, action, count, type, yes_price)
 *   GET    /portfolio/orders/{order_id}      one order
 *   DELETE /portfolio/orders/{order_id}      cancel
 *   GET    /portfolio/orders?status&ticker&cursor&limit   list (paged)
 *   GET    /portfolio/fills?min_ts&cursor&limit           fills (paged)
 *   GET    /portfolio/positions, /portfolio/balance
 *   GET    /markets?status&cursor&limit, /markets/{ticker}, /markets/{ticker}/orderbook
 *
 * ASSUMPTIONS beyond mapping.ts: no documented lookup by client_order_id, so the adapter keeps
 * a client-ID -> order-ID map of every order it has seen and otherwise scans the order list;
 * a duplicate client_order_id on create is answered with 409 (the adapter then returns the
 * existing order, as the contract requires); the fills list is newest first and min_ts is in
 * unix seconds; rate limits follow the basic tier (20 reads/s, 10 writes/s).
 *
 * No `getPriceHistory` (optional in the contract): Kalshi serves candlesticks per series, which
 * are not mapped yet, so a strategy on Kalshi warms up on live quotes alone.
 */
import type { Fill } from '../../../domain/fill';
import { validateMarket, type Market } from '../../../domain/market';
import type { Quantity } from '../../../domain/money';
import { systemClock, type Clock } from '../clock';
import type { FillPage, OrderRef, PlaceOrderRequest, Venue, VenueBalance, VenueMarketSnapshot, VenueOrder, VenuePosition } from '../../../contracts/venue';
import { isVenueError, VenueError } from '../errors';
import { VenueHttpClient, type VenueHttpClientOptions } from '../http';
import { ResponseReader, type Json } from '../parse';
import { ResilientVenue } from '../resilient-venue';
import { createOrderBody, depthFromKalshi, fillFromKalshi, kalshiMoney, marketFromKalshi, orderFromKalshi, positionFromKalshi } from './mapping';
import { kalshiSigner, type KalshiCredentials } from './signing';

/** Writes cost 2 of a 20-point bucket refilled at 20/s: 20 reads/s or 10 writes/s. */
export const KALSHI_ENDPOINT_WEIGHTS: Readonly<Record<string, number>> = { placeOrder: 2, cancelOrder: 2 };

const PAGE_LIMIT = 200;

export interface KalshiAdapterOptions {
  /** Pages scanned when looking an order up by client order ID before giving up. */
  maxLookupPages?: number;
  /** Pages followed for fills, orders, positions and markets per call. */
  maxPages?: number;
  clock?: Clock;
}

interface FillCursor {
  /** Epoch ms of the newest fill already delivered. */
  ts: number;
  /** Trade IDs delivered at exactly `ts` (several fills may share a timestamp). */
  ids: string[];
}

function encodeCursor(c: FillCursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export class KalshiVenue implements Venue {
  readonly name: string;
  private readonly orderIdByClientId = new Map<string, string>();
  private readonly clientIdByOrderId = new Map<string, string>();
  private readonly lastVolume = new Map<string, number>();
  private readonly clock: Clock;

  constructor(
    readonly http: VenueHttpClient,
    private readonly options: KalshiAdapterOptions = {},
  ) {
    this.name = http.venue;
    this.clock = options.clock ?? systemClock;
  }

  private reader(operation: string): ResponseReader {
    return new ResponseReader(this.name, operation);
  }

  private remember(o: VenueOrder): VenueOrder {
    this.orderIdByClientId.set(o.clientOrderId, o.venueOrderId);
    this.clientIdByOrderId.set(o.venueOrderId, o.clientOrderId);
    return o;
  }

  private orderFrom(json: unknown, operation: string): VenueOrder {
    const r = this.reader(operation);
    return this.remember(orderFromKalshi(r, r.field(r.object(json, 'body'), 'order', 'body'), 'body.order'));
  }

  async placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    const body = createOrderBody(request, this.name);
    try {
      const json = await this.http.request('placeOrder', { method: 'POST', path: '/portfolio/orders', body, idempotent: false });
      return this.orderFrom(json, 'placeOrder');
    } catch (e) {
      if (isVenueError(e) && e.status === 409) {
        const existing = await this.getOrderByClientId(request.clientOrderId);
        if (existing) return existing;
      }
      throw e;
    }
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    const orderId = await this.resolveOrderId(ref, 'cancelOrder');
    try {
      const json = await this.http.request('cancelOrder', { method: 'DELETE', path: `/portfolio/orders/${encodeURIComponent(orderId)}`, idempotent: true });
      return this.orderFrom(json, 'cancelOrder');
    } catch (e) {
      // Canceling an order that is no longer resting is refused; the contract answers with its state.
      if (isVenueError(e) && e.kind === 'BAD_REQUEST' && e.status !== 404) {
        const current = await this.getOrderByVenueId(orderId);
        if (current && current.status !== 'OPEN' && current.status !== 'PARTIALLY_FILLED') return current;
      }
      throw e;
    }
  }

  private async resolveOrderId(ref: OrderRef, operation: string): Promise<string> {
    if ('venueOrderId' in ref) return ref.venueOrderId;
    const found = await this.getOrderByClientId(ref.clientOrderId);
    if (!found) {
      throw new VenueError('BAD_REQUEST', 'no order with this client order ID', { venue: this.name, operation, status: 404, clientOrderId: ref.clientOrderId, venueCode: 'not_found' });
    }
    return found.venueOrderId;
  }

  async getOrderByVenueId(venueOrderId: string): Promise<VenueOrder | null> {
    try {
      const json = await this.http.request('getOrder', { method: 'GET', path: `/portfolio/orders/${encodeURIComponent(venueOrderId)}`, idempotent: true });
      return this.orderFrom(json, 'getOrder');
    } catch (e) {
      if (isVenueError(e) && e.status === 404) return null;
      throw e;
    }
  }

  async getOrderByClientId(clientOrderId: string): Promise<VenueOrder | null> {
    const known = this.orderIdByClientId.get(clientOrderId);
    if (known !== undefined) {
      const order = await this.getOrderByVenueId(known);
      if (order) return order;
    }
    const maxPages = this.options.maxLookupPages ?? 20;
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const { orders, next } = await this.ordersPage({ cursor }, 'getOrderByClientId');
      const hit = orders.find((o) => o.clientOrderId === clientOrderId);
      if (hit) return hit;
      if (!next) return null;
      cursor = next;
    }
    // Not finding it in a partial scan proves nothing; saying "absent" could cause a duplicate.
    throw new VenueError('UNAVAILABLE', `order list not exhausted after ${maxPages} pages`, { venue: this.name, operation: 'getOrderByClientId', clientOrderId });
  }

  private async ordersPage(query: Record<string, string | undefined>, operation: string): Promise<{ orders: VenueOrder[]; next: string | null }> {
    const json = await this.http.request('listOrders', { method: 'GET', path: '/portfolio/orders', query: { limit: PAGE_LIMIT, ...query }, idempotent: true });
    const r = this.reader(operation);
    const body = r.object(json, 'body');
    const orders = r.arrayOrEmpty(body, 'orders', 'body').map((o, i) => this.remember(orderFromKalshi(r, o, `body.orders[${i}]`)));
    const next = typeof body.cursor === 'string' && body.cursor.length > 0 ? body.cursor : null;
    return { orders, next };
  }

  async listOpenOrders(marketId?: string): Promise<VenueOrder[]> {
    const out: VenueOrder[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 50); page++) {
      const { orders, next } = await this.ordersPage({ status: 'resting', ticker: marketId, cursor }, 'listOpenOrders');
      out.push(...orders);
      if (!next) break;
      cursor = next;
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFillsSince(cursor: string | null): Promise<FillPage> {
    const r = this.reader('getFillsSince');
    const from = cursor === null ? { ts: 0, ids: [] } : this.decodeCursor(cursor);
    const seen = new Set(from.ids);
    const all: Fill[] = [];
    const clientOrderIdOf = (orderId: string) => this.clientIdOf(orderId);
    let pageCursor: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 50); page++) {
      const json = await this.http.request('getFills', {
        method: 'GET',
        path: '/portfolio/fills',
        query: { limit: PAGE_LIMIT, min_ts: from.ts > 0 ? Math.floor(from.ts / 1000) : undefined, cursor: pageCursor },
        idempotent: true,
      });
      const body = r.object(json, 'body');
      for (const [i, f] of r.arrayOrEmpty(body, 'fills', 'body').entries()) all.push(await fillFromKalshi(r, f, `body.fills[${i}]`, clientOrderIdOf));
      pageCursor = typeof body.cursor === 'string' && body.cursor.length > 0 ? body.cursor : undefined;
      if (!pageCursor) break;
    }
    const fills = all.filter((f) => f.ts > from.ts || (f.ts === from.ts && !seen.has(f.tradeId)));
    fills.sort((a, b) => a.ts - b.ts || a.tradeId.localeCompare(b.tradeId));
    const last = fills.at(-1);
    if (!last) return { fills, cursor: cursor ?? encodeCursor(from), hasMore: false };
    const ids = last.ts === from.ts ? [...from.ids] : [];
    for (const f of fills) if (f.ts === last.ts) ids.push(f.tradeId);
    return { fills, cursor: encodeCursor({ ts: last.ts, ids }), hasMore: false };
  }

  private decodeCursor(cursor: string): FillCursor {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
      const c = parsed as FillCursor;
      if (Number.isSafeInteger(c.ts) && Array.isArray(c.ids) && c.ids.every((x) => typeof x === 'string')) return c;
    } catch {
      // Falls through to the typed error below.
    }
    throw new VenueError('BAD_REQUEST', 'fill cursor was not made by this adapter', { venue: this.name, operation: 'getFillsSince', field: 'cursor', value: cursor });
  }

  private async clientIdOf(orderId: string): Promise<string> {
    const known = this.clientIdByOrderId.get(orderId);
    if (known !== undefined) return known;
    const order = await this.getOrderByVenueId(orderId);
    if (!order) throw this.reader('getFillsSince').fail('fill.order_id', orderId, 'names an order the venue does not know');
    return order.clientOrderId;
  }

  async getPositions(): Promise<VenuePosition[]> {
    const r = this.reader('getPositions');
    const out: VenuePosition[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 50); page++) {
      const json = await this.http.request('getPositions', { method: 'GET', path: '/portfolio/positions', query: { limit: PAGE_LIMIT, cursor }, idempotent: true });
      const body = r.object(json, 'body');
      for (const [i, p] of r.arrayOrEmpty(body, 'market_positions', 'body').entries()) {
        const pos = positionFromKalshi(r, p, `body.market_positions[${i}]`);
        if (pos.quantity !== 0) out.push(pos);
      }
      cursor = typeof body.cursor === 'string' && body.cursor.length > 0 ? body.cursor : undefined;
      if (!cursor) break;
    }
    return out.sort((a, b) => a.marketId.localeCompare(b.marketId));
  }

  async getBalance(): Promise<VenueBalance> {
    const json = await this.http.request('getBalance', { method: 'GET', path: '/portfolio/balance', idempotent: true });
    const r = this.reader('getBalance');
    return { cash: kalshiMoney(r, r.object(json, 'body'), 'balance', 'body') };
  }

  async getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    const ticker = encodeURIComponent(marketId);
    const [marketJson, bookJson] = await Promise.all([
      this.http.request('getMarket', { method: 'GET', path: `/markets/${ticker}`, idempotent: true }),
      this.http.request('getOrderbook', { method: 'GET', path: `/markets/${ticker}/orderbook`, idempotent: true }),
    ]);
    const r = this.reader('getMarketSnapshot');
    const m = r.object(r.field(r.object(marketJson, 'body'), 'market', 'body'), 'body.market');
    const book = r.object(r.field(r.object(bookJson, 'body'), 'orderbook', 'body'), 'body.orderbook');
    const { bids, asks } = depthFromKalshi(r, book, 'body.orderbook');
    const volume = r.integer(m, 'volume', 'body.market');
    const volume24h = r.integer(m, 'volume_24h', 'body.market');
    const lastCents = r.integer(m, 'last_price', 'body.market');
    const previous = this.lastVolume.get(marketId);
    this.lastVolume.set(marketId, volume);
    return {
      marketId: r.string(m, 'ticker', 'body.market'),
      ts: this.clock.now(),
      bid: bids[0]?.price ?? null,
      ask: asks[0]?.price ?? null,
      last: lastCents > 0 && lastCents < 100 ? (lastCents * 10_000 as VenueMarketSnapshot['bid']) : null,
      averageDailyVolume: volume24h as Quantity,
      intervalVolume: (previous === undefined ? 0 : Math.max(0, volume - previous)) as Quantity,
      bids,
      asks,
      volume24h: volume24h as Quantity,
    };
  }

  async listMarkets(): Promise<Market[]> {
    const r = this.reader('listMarkets');
    const out: Market[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 50); page++) {
      const json = await this.http.request('listMarkets', { method: 'GET', path: '/markets', query: { status: 'open', limit: PAGE_LIMIT, cursor }, idempotent: true });
      const body: Json = r.object(json, 'body');
      for (const [i, m] of r.arrayOrEmpty(body, 'markets', 'body').entries()) {
        const market = marketFromKalshi(r, m, `body.markets[${i}]`);
        out.push(r.domain(`body.markets[${i}]`, m, () => validateMarket(market)));
      }
      cursor = typeof body.cursor === 'string' && body.cursor.length > 0 ? body.cursor : undefined;
      if (!cursor) break;
    }
    return out;
  }
}

export type KalshiVenueOptions = Omit<VenueHttpClientOptions, 'venue' | 'baseUrl' | 'signer' | 'secrets' | 'rateLimit'> &
  Partial<Pick<VenueHttpClientOptions, 'rateLimit'>> & { name?: string; adapter?: KalshiAdapterOptions };

export function kalshiHttpClient(credentials: KalshiCredentials, options: KalshiVenueOptions = {}): VenueHttpClient {
  const { adapter: _adapter, ...http } = options;
  return new VenueHttpClient({
    rateLimit: { capacity: 20, refillPerSecond: 20, weights: KALSHI_ENDPOINT_WEIGHTS },
    ...http,
    venue: options.name ?? 'kalshi',
    baseUrl: credentials.baseUrl,
    signer: kalshiSigner(credentials.keyId, credentials.privateKey),
    secrets: [credentials.keyId, credentials.privateKeyPem.reveal()],
  });
}

/** Kalshi as the activities layer uses it: adapter + resilient client, one per account. */
export function createKalshiVenue(credentials: KalshiCredentials, options: KalshiVenueOptions = {}): ResilientVenue {
  const http = kalshiHttpClient(credentials, options);
  const adapter = new KalshiVenue(http, { clock: options.clock, ...options.adapter });
  return new ResilientVenue(adapter, http);
}
