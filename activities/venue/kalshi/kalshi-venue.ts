/**
 * Kalshi adapter: the Venue contract over Kalshi's Trade API v2 as documented today (shapes,
 * direction and fixed point in mapping.ts; every page and every assumption in docs/kalshi-api.md).
 * Endpoints, relative to the base URL (default: demo), and the page each follows:
 *   POST   /portfolio/events/orders              create (V2)   https://docs.kalshi.com/api-reference/orders/create-order-v2
 *   DELETE /portfolio/events/orders/{order_id}   cancel (V2)   https://docs.kalshi.com/api-reference/orders/cancel-order-v2
 *   GET    /portfolio/orders/{order_id}          one order     https://docs.kalshi.com/api-reference/orders/get-order
 *   GET    /portfolio/orders?status&ticker&cursor&limit        https://docs.kalshi.com/api-reference/orders/get-orders
 *   GET    /portfolio/fills?min_ts&cursor&limit                https://docs.kalshi.com/api-reference/portfolio/get-fills
 *   GET    /portfolio/settlements?min_ts&cursor&limit          https://docs.kalshi.com/api-reference/portfolio/get-settlements
 *   GET    /portfolio/positions, /portfolio/balance            https://docs.kalshi.com/api-reference/portfolio/get-positions, .../get-balance
 *   GET    /markets, /markets/{ticker}, /markets/{ticker}/orderbook   https://docs.kalshi.com/getting_started/orderbook_responses
 * Pages marked above that were not read themselves (cancel-order-v2, get-order, get-orders,
 * get-positions, get-balance) are followed through integrators' notes and the published SDK models:
 * ASSUMPTION, listed in docs/kalshi-api.md. The retired /portfolio/orders create and cancel are
 * never called (integrators report they answer 410 deprecated_v1_order_endpoint; not on a Kalshi page).
 *
 * Market orders are gone (V2 always takes a price): a core request with limitPrice null is sent as
 * a marketable limit at $0.99 (buy) or $0.01 (sell) with time_in_force immediate_or_cancel.
 *
 * Client order IDs: fills carry only the venue order ID (client_order_id left the Fill on
 * 2026-03-30), so every order this adapter places or reads is remembered in the records' OrderIdMap
 * (not in memory); a fill's order is resolved through that map, then through one
 * GET /portfolio/orders/{id} (remembered too). An order with no client order ID of its own (placed
 * by hand) gets externalClientOrderId(order_id), so its fills never stop the fill sync.
 *
 * Rate limits (https://docs.kalshi.com/getting_started/rate_limits): token budgets per tier, reads
 * and writes billed apart; most requests cost 10 tokens; the write bucket holds two seconds of its
 * budget; 429 carries no Retry-After, so the client empties that budget and backs off on its own.
 *
 * ASSUMPTIONS beyond mapping.ts: no documented lookup by client_order_id, so a lookup scans the
 * order list (remembering every order it reads); a duplicate client_order_id on create is answered
 * with 409 (the adapter then returns the existing order); cancel of an order that is no longer
 * resting answers 404; the fills and settlements lists are newest first and min_ts is in unix
 * seconds; cancels and single-order reads cost the default 10 tokens (their lower cost is not
 * published as a number); the read bucket holds one second of its budget.
 *
 * No `getPriceHistory` (optional in the contract): candlesticks are not mapped yet.
 */
import type { Fill } from '../../../domain/fill';
import { validateMarket, type Market } from '../../../domain/market';
import { quantityLots, type Quantity } from '../../../domain/money';
import { systemClock, type Clock } from '../clock';
import type {
  FillPage,
  OrderIdMap,
  OrderRef,
  PlaceOrderRequest,
  SettlementPage,
  Venue,
  VenueBalance,
  VenueMarketSnapshot,
  VenueOrder,
  VenuePosition,
  VenueSettlement,
} from '../../../contracts/venue';
import { isVenueError, VenueError } from '../errors';
import { VenueHttpClient, type VenueHttpClientOptions } from '../http';
import type { RateLimitConfig } from '../rate-limiter';
import { ResponseReader, type Json } from '../parse';
import { ResilientVenue } from '../resilient-venue';
import { externalClientOrderId } from '../../../domain/ids';
import {
  balanceFromKalshi,
  createdOrderFromKalshi,
  createOrderBody,
  depthFromKalshi,
  fillFromKalshi,
  fpCount,
  marketFromKalshi,
  orderFromCreated,
  orderFromKalshi,
  positionFromKalshi,
  settlementFromKalshi,
} from './mapping';
import { kalshiSigner, type KalshiCredentials } from './signing';

/** Tokens per request: "Most requests cost the default of 10 tokens" (rate limits page). */
export const KALSHI_DEFAULT_COST = 10;

/** Endpoints billed to the write budget: "order placement, amends, cancels, order groups". */
export const KALSHI_WRITE_ENDPOINTS: readonly string[] = ['placeOrder', 'cancelOrder'];

/** Per-second token budgets per tier (read, write), from the rate limits page. */
export const KALSHI_TIERS = {
  basic: { read: 200, write: 100 },
  advanced: { read: 300, write: 300 },
  premier: { read: 1_000, write: 1_000 },
  paragon: { read: 2_000, write: 2_000 },
  prime: { read: 4_000, write: 4_000 },
} as const;
export type KalshiTier = keyof typeof KALSHI_TIERS;

/** Every endpoint at the default cost; kept as a table so a documented cheaper cost has one place to go. */
export const KALSHI_ENDPOINT_WEIGHTS: Readonly<Record<string, number>> = {
  placeOrder: KALSHI_DEFAULT_COST,
  cancelOrder: KALSHI_DEFAULT_COST,
};

/** The limiter for a tier: the read bucket holds one second (an assumption), the write bucket two (documented). */
export function kalshiRateLimit(tier: KalshiTier = 'basic'): RateLimitConfig {
  const t = KALSHI_TIERS[tier];
  return {
    capacity: t.read,
    refillPerSecond: t.read,
    defaultWeight: KALSHI_DEFAULT_COST,
    weights: KALSHI_ENDPOINT_WEIGHTS,
    budgets: { write: { capacity: 2 * t.write, refillPerSecond: t.write, endpoints: KALSHI_WRITE_ENDPOINTS } },
  };
}

const PAGE_LIMIT = 200;

export interface KalshiAdapterOptions {
  /** The records' venue order ID -> client order ID map. */
  orderIds: OrderIdMap;
  /** Pages scanned when looking an order up by client order ID before giving up. */
  maxLookupPages?: number;
  /** Pages followed for fills, orders, positions and markets per call. */
  maxPages?: number;
  clock?: Clock;
}

interface TsCursor {
  /** Epoch ms of the newest item already delivered. */
  ts: number;
  /** IDs delivered at exactly `ts` (several may share a timestamp). */
  ids: string[];
}

function encodeCursor(c: TsCursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export class KalshiVenue implements Venue {
  readonly name: string;
  private readonly lastVolume = new Map<string, number>();
  private readonly clock: Clock;
  private readonly orderIds: OrderIdMap;

  constructor(
    readonly http: VenueHttpClient,
    private readonly options: KalshiAdapterOptions,
  ) {
    this.name = http.venue;
    this.clock = options.clock ?? systemClock;
    this.orderIds = options.orderIds;
  }

  private reader(operation: string): ResponseReader {
    return new ResponseReader(this.name, operation);
  }

  private async remember(o: VenueOrder): Promise<VenueOrder> {
    await this.orderIds.remember(this.name, o.venueOrderId, o.clientOrderId);
    return o;
  }

  private orderFrom(json: unknown, operation: string): Promise<VenueOrder> {
    const r = this.reader(operation);
    return this.remember(orderFromKalshi(r, r.field(r.object(json, 'body'), 'order', 'body'), 'body.order'));
  }

  async placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    const body = createOrderBody(request, this.name);
    try {
      const json = await this.http.request('placeOrder', { method: 'POST', path: '/portfolio/events/orders', body, idempotent: false });
      const r = this.reader('placeOrder');
      const created = createdOrderFromKalshi(r, json, 'body');
      if (created.clientOrderId !== request.clientOrderId) throw r.fail('body.client_order_id', created.clientOrderId, `must echo the request's ${request.clientOrderId}`);
      const filledLots = quantityLots(created.filled);
      if (filledLots + quantityLots(created.remaining) > quantityLots(request.quantity)) {
        throw r.fail('body.fill_count', json === null ? null : (json as Json).fill_count, `with remaining_count exceeds the order quantity ${request.quantity}`);
      }
      return await this.remember(orderFromCreated(request, created));
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
      const json = await this.http.request('cancelOrder', { method: 'DELETE', path: `/portfolio/events/orders/${encodeURIComponent(orderId)}`, idempotent: true });
      const r = this.reader('cancelOrder');
      const body = r.object(json, 'body');
      const answered = r.string(body, 'order_id', 'body');
      if (answered !== orderId) throw r.fail('body.order_id', answered, `must be the canceled order ${orderId}`);
      fpCount(r, body, 'reduced_by', 'body');
    } catch (e) {
      // An order that is no longer resting cannot be canceled; the contract answers with its state.
      if (!(isVenueError(e) && e.kind === 'BAD_REQUEST')) throw e;
      const current = await this.getOrderByVenueId(orderId);
      if (current && current.status !== 'OPEN' && current.status !== 'PARTIALLY_FILLED') return current;
      throw e;
    }
    // The V2 cancel answers without the order's state: read it.
    const after = await this.getOrderByVenueId(orderId);
    if (!after) throw new VenueError('MALFORMED_RESPONSE', 'the canceled order is not found', { venue: this.name, operation: 'cancelOrder', field: 'order_id', value: orderId });
    return after;
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
      return await this.orderFrom(json, 'getOrder');
    } catch (e) {
      if (isVenueError(e) && e.status === 404) return null;
      throw e;
    }
  }

  async getOrderByClientId(clientOrderId: string): Promise<VenueOrder | null> {
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
    const orders = r.arrayOrEmpty(body, 'orders', 'body').map((o, i) => orderFromKalshi(r, o, `body.orders[${i}]`));
    for (const o of orders) await this.remember(o);
    return { orders, next: nextCursor(r, body) };
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

  /** The client order ID of a fill's order: the records' map, else one order lookup (remembered), else the external ID. */
  private async clientIdOf(venueOrderId: string): Promise<string> {
    const known = await this.orderIds.clientOrderIdFor(this.name, venueOrderId);
    if (known !== null) return known;
    const order = await this.getOrderByVenueId(venueOrderId);
    if (order) return order.clientOrderId;
    // The venue does not show the order (archived, another subaccount): still never stall the sync.
    return this.reader('getFillsSince').domain('fill.order_id', venueOrderId, () => externalClientOrderId(venueOrderId));
  }

  async getFillsSince(cursor: string | null): Promise<FillPage> {
    const r = this.reader('getFillsSince');
    const from = cursor === null ? { ts: 0, ids: [] } : this.decodeCursor(cursor, 'getFillsSince');
    const raw: { value: unknown; path: string }[] = [];
    await this.pages('getFills', '/portfolio/fills', from, 'fills', r, raw);
    const all: Fill[] = [];
    for (const { value, path } of raw) all.push(await fillFromKalshi(r, value, path, (id) => this.clientIdOf(id)));
    const { items, next } = since(all, from, (f) => f.tradeId);
    return { fills: items, cursor: next === null ? (cursor ?? encodeCursor(from)) : encodeCursor(next), hasMore: false };
  }

  async getSettlementsSince(cursor: string | null): Promise<SettlementPage> {
    const r = this.reader('getSettlementsSince');
    const from = cursor === null ? { ts: 0, ids: [] } : this.decodeCursor(cursor, 'getSettlementsSince');
    const raw: { value: unknown; path: string }[] = [];
    await this.pages('getSettlements', '/portfolio/settlements', from, 'settlements', r, raw);
    const all: VenueSettlement[] = raw.map(({ value, path }) => settlementFromKalshi(r, value, path));
    const { items, next } = since(all, from, (s) => s.settlementId);
    return { settlements: items, cursor: next === null ? (cursor ?? encodeCursor(from)) : encodeCursor(next), hasMore: false };
  }

  /** Every item of a time-filtered list since `from` (min_ts in seconds, so the boundary second is re-read and filtered). */
  private async pages(operation: string, path: string, from: TsCursor, key: string, r: ResponseReader, out: { value: unknown; path: string }[]): Promise<void> {
    let pageCursor: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 50); page++) {
      const json = await this.http.request(operation, {
        method: 'GET',
        path,
        query: { limit: PAGE_LIMIT, min_ts: from.ts > 0 ? Math.floor(from.ts / 1000) : undefined, cursor: pageCursor },
        idempotent: true,
      });
      const body = r.object(json, 'body');
      for (const [i, value] of r.array(body, key, 'body').entries()) out.push({ value, path: `body.${key}[${i}]` });
      const next = nextCursor(r, body);
      if (next === null) return;
      pageCursor = next;
    }
    throw new VenueError('UNAVAILABLE', `${key} list not exhausted after ${this.options.maxPages ?? 50} pages`, { venue: this.name, operation });
  }

  private decodeCursor(cursor: string, operation: string): TsCursor {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
      const c = parsed as TsCursor;
      if (Number.isSafeInteger(c.ts) && Array.isArray(c.ids) && c.ids.every((x) => typeof x === 'string')) return c;
    } catch {
      // Falls through to the typed error below.
    }
    throw new VenueError('BAD_REQUEST', 'cursor was not made by this adapter', { venue: this.name, operation, field: 'cursor', value: cursor });
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
      const next = nextCursor(r, body);
      if (next === null) break;
      cursor = next;
    }
    return out.sort((a, b) => a.marketId.localeCompare(b.marketId));
  }

  async getBalance(): Promise<VenueBalance> {
    const json = await this.http.request('getBalance', { method: 'GET', path: '/portfolio/balance', idempotent: true });
    const r = this.reader('getBalance');
    return { cash: balanceFromKalshi(r, r.object(json, 'body'), 'body') };
  }

  async getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    const ticker = encodeURIComponent(marketId);
    const [marketJson, bookJson] = await Promise.all([
      this.http.request('getMarket', { method: 'GET', path: `/markets/${ticker}`, idempotent: true }),
      this.http.request('getOrderbook', { method: 'GET', path: `/markets/${ticker}/orderbook`, idempotent: true }),
    ]);
    const r = this.reader('getMarketSnapshot');
    const m = r.object(r.field(r.object(marketJson, 'body'), 'market', 'body'), 'body.market');
    const book = r.object(r.field(r.object(bookJson, 'body'), 'orderbook_fp', 'body'), 'body.orderbook_fp');
    const { bids, asks } = depthFromKalshi(r, book, 'body.orderbook_fp');
    const volume = fpCount(r, m, 'volume_fp', 'body.market');
    const volume24h = fpCount(r, m, 'volume_24h_fp', 'body.market');
    const last = m.last_price_dollars === undefined || m.last_price_dollars === null || m.last_price_dollars === '0.0000' ? null : r.price(m, 'last_price_dollars', 'body.market');
    const previous = this.lastVolume.get(marketId);
    this.lastVolume.set(marketId, volume);
    return {
      marketId: r.string(m, 'ticker', 'body.market'),
      ts: this.clock.now(),
      bid: bids[0]?.price ?? null,
      ask: asks[0]?.price ?? null,
      last,
      averageDailyVolume: volume24h,
      intervalVolume: (previous === undefined ? 0 : Math.max(0, quantityLots(volume) - quantityLots(previous)) / 100) as Quantity,
      bids,
      asks,
      volume24h,
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
      const next = nextCursor(r, body);
      if (next === null) break;
      cursor = next;
    }
    return out;
  }
}

/** A list's next-page cursor: a non-empty string, or none ("" or absent). */
function nextCursor(r: ResponseReader, body: Json): string | null {
  const c = body.cursor;
  if (c === undefined || c === null || c === '') return null;
  if (typeof c !== 'string') throw r.fail('body.cursor', c, 'must be a string');
  return c;
}

/** The items after `from`, oldest first, and the cursor after them (null when there are none). */
function since<T extends { ts: number }>(all: T[], from: TsCursor, idOf: (t: T) => string): { items: T[]; next: TsCursor | null } {
  const seen = new Set(from.ids);
  const unique = new Map<string, T>();
  for (const x of all) if (x.ts > from.ts || (x.ts === from.ts && !seen.has(idOf(x)))) unique.set(idOf(x), x);
  const items = [...unique.values()].sort((a, b) => a.ts - b.ts || idOf(a).localeCompare(idOf(b)));
  const last = items.at(-1);
  if (!last) return { items, next: null };
  const ids = last.ts === from.ts ? [...from.ids] : [];
  for (const x of items) if (x.ts === last.ts) ids.push(idOf(x));
  return { items, next: { ts: last.ts, ids } };
}

export type KalshiVenueOptions = Omit<VenueHttpClientOptions, 'venue' | 'baseUrl' | 'signer' | 'secrets' | 'rateLimit'> &
  Partial<Pick<VenueHttpClientOptions, 'rateLimit'>> & { name?: string; tier?: KalshiTier; adapter?: Omit<KalshiAdapterOptions, 'orderIds'> };

export function kalshiHttpClient(credentials: KalshiCredentials, options: KalshiVenueOptions = {}): VenueHttpClient {
  const { adapter: _adapter, tier, ...http } = options;
  return new VenueHttpClient({
    rateLimit: kalshiRateLimit(tier),
    ...http,
    venue: options.name ?? 'kalshi',
    baseUrl: credentials.baseUrl,
    signer: kalshiSigner(credentials.keyId, credentials.privateKey),
    secrets: [credentials.keyId, credentials.privateKeyPem.reveal()],
  });
}

/** Kalshi as the activities layer uses it: adapter + resilient client, one per account, with the records' order-ID map. */
export function createKalshiVenue(credentials: KalshiCredentials, orderIds: OrderIdMap, options: KalshiVenueOptions = {}): ResilientVenue {
  const http = kalshiHttpClient(credentials, options);
  const adapter = new KalshiVenue(http, { clock: options.clock, ...options.adapter, orderIds });
  return new ResilientVenue(adapter, http);
}
