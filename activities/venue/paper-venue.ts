/**
 * The paper exchange adapter: the Venue contract over the wire API in exchange/API.md
 * (HMAC-SHA256 signed requests, decimal-string prices and money, integer quantities).
 * Each method is one logical call through the shared VenueHttpClient; every response field is
 * validated into core types, and a bad one is a MALFORMED_RESPONSE naming it.
 */
import { createHmac } from 'node:crypto';
import { validateFill, type Fill } from '../../domain/fill';
import { validateClientOrderId } from '../../domain/ids';
import { validateMarket, type Market, type MarketSnapshot } from '../../domain/market';
import { formatDecimal, type Money, type Price } from '../../domain/money';
import type {
  DepthLevel,
  FillPage,
  OrderRef,
  PlaceOrderRequest,
  SettlementPage,
  Venue,
  VenueBalance,
  VenueMarketSnapshot,
  VenueOrder,
  VenueOrderStatus,
  VenuePosition,
  VenueSettlement,
} from '../../contracts/venue';
import { fillCursorProblem } from '../../contracts/venue';
import type { PaperCredentials } from './credentials';
import { isVenueError } from './errors';
import { VenueHttpClient, type Signer, type VenueHttpClientOptions } from './http';
import { ResponseReader } from './parse';
import type { RateLimitConfig } from './rate-limiter';
import { ResilientVenue } from './resilient-venue';

const STATUSES: readonly VenueOrderStatus[] = ['OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'];

/** Request weights as the exchange charges them (API.md, "Rate limits"). */
export const PAPER_ENDPOINT_WEIGHTS: Readonly<Record<string, number>> = { placeOrder: 2, cancelOrder: 2 };

/** X-Paper-* headers: hex HMAC-SHA256 over timestamp + METHOD + path-with-query + body. */
export function paperSigner(keyId: string, secret: { reveal(): string }): Signer {
  return ({ method, pathWithQuery, body, timestampMs }) => {
    const ts = String(Math.trunc(timestampMs));
    const signature = createHmac('sha256', secret.reveal()).update(`${ts}${method}${pathWithQuery}${body}`).digest('hex');
    return { 'X-Paper-Key': keyId, 'X-Paper-Timestamp': ts, 'X-Paper-Signature': signature };
  };
}

export type PaperVenueOptions = Omit<VenueHttpClientOptions, 'venue' | 'baseUrl' | 'signer' | 'secrets' | 'rateLimit'> &
  Partial<Pick<VenueHttpClientOptions, 'rateLimit'>> & { name?: string };

/** The client's budget for one paper account: under the exchange's own bucket (200 capacity, 100/s) so the client slows first. */
export const PAPER_RATE_LIMIT: RateLimitConfig = Object.freeze({ capacity: 100, refillPerSecond: 80, weights: PAPER_ENDPOINT_WEIGHTS });

/** Builds the signed HTTP client for a paper exchange account. */
export function paperHttpClient(credentials: PaperCredentials, options: PaperVenueOptions = {}): VenueHttpClient {
  return new VenueHttpClient({
    rateLimit: PAPER_RATE_LIMIT,
    ...options,
    venue: options.name ?? 'paper',
    baseUrl: credentials.baseUrl,
    signer: paperSigner(credentials.keyId, credentials.secret),
    secrets: [credentials.secret.reveal(), credentials.keyId],
  });
}

export class PaperVenue implements Venue {
  readonly name: string;

  constructor(readonly http: VenueHttpClient) {
    this.name = http.venue;
  }

  private reader(operation: string): ResponseReader {
    return new ResponseReader(this.name, operation);
  }

  async placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    const body = {
      clientOrderId: request.clientOrderId,
      marketId: request.marketId,
      side: request.side,
      quantity: request.quantity,
      limitPrice: request.limitPrice === null ? null : formatDecimal(request.limitPrice),
    };
    const json = await this.http.request('placeOrder', { method: 'POST', path: '/v1/orders', body, idempotent: false });
    return this.orderFrom(json, 'placeOrder');
  }

  async cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    const json = await this.http.request('cancelOrder', { method: 'DELETE', path: this.orderPath(ref), idempotent: true });
    return this.orderFrom(json, 'cancelOrder');
  }

  getOrderByClientId(clientOrderId: string): Promise<VenueOrder | null> {
    return this.getOrder({ clientOrderId });
  }

  getOrderByVenueId(venueOrderId: string): Promise<VenueOrder | null> {
    return this.getOrder({ venueOrderId });
  }

  private async getOrder(ref: OrderRef): Promise<VenueOrder | null> {
    try {
      const json = await this.http.request('getOrder', { method: 'GET', path: this.orderPath(ref), idempotent: true });
      return this.orderFrom(json, 'getOrder');
    } catch (e) {
      if (isVenueError(e) && e.status === 404 && e.venueCode === 'ORDER_NOT_FOUND') return null;
      throw e;
    }
  }

  async listOpenOrders(marketId?: string): Promise<VenueOrder[]> {
    const json = await this.http.request('listOrders', { method: 'GET', path: '/v1/orders', query: { status: 'open', marketId }, idempotent: true });
    const r = this.reader('listOpenOrders');
    const items = r.array(r.object(json, 'body'), 'orders', 'body');
    return items.map((o, i) => this.order(r, o, `body.orders[${i}]`));
  }

  async getFillsSince(cursor: string | null): Promise<FillPage> {
    const json = await this.http.request('getFills', { method: 'GET', path: '/v1/fills', query: { cursor: cursor ?? undefined }, idempotent: true });
    const r = this.reader('getFillsSince');
    const body = r.object(json, 'body');
    const fills = r.array(body, 'fills', 'body').map((f, i) => this.fill(r, f, `body.fills[${i}]`));
    const next = r.string(body, 'cursor', 'body');
    const cursorProblem = fillCursorProblem(next);
    if (cursorProblem !== null) throw r.fail('body.cursor', next, cursorProblem);
    const hasMore = r.field(body, 'hasMore', 'body');
    if (typeof hasMore !== 'boolean') throw r.fail('body.hasMore', hasMore, 'must be a boolean');
    return { fills, cursor: next, hasMore };
  }

  async getPositions(): Promise<VenuePosition[]> {
    const json = await this.http.request('getPositions', { method: 'GET', path: '/v1/positions', idempotent: true });
    const r = this.reader('getPositions');
    return r.array(r.object(json, 'body'), 'positions', 'body').map((p, i) => {
      const path = `body.positions[${i}]`;
      const o = r.object(p, path);
      return { marketId: r.string(o, 'marketId', path), quantity: r.integer(o, 'quantity', path) };
    });
  }

  async getBalance(): Promise<VenueBalance> {
    const json = await this.http.request('getBalance', { method: 'GET', path: '/v1/balance', idempotent: true });
    const r = this.reader('getBalance');
    return { cash: r.money(r.object(json, 'body'), 'cash', 'body') };
  }

  async getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    const json = await this.http.request('getSnapshot', {
      method: 'GET',
      path: `/v1/markets/${encodeURIComponent(marketId)}/snapshot`,
      query: { depth: 10 },
      idempotent: true,
    });
    const r = this.reader('getMarketSnapshot');
    const path = 'body';
    const o = r.object(json, path);
    const levels = (key: 'bids' | 'asks'): DepthLevel[] =>
      r.array(o, key, path).map((l, i) => {
        const p = `${path}.${key}[${i}]`;
        const lo = r.object(l, p);
        return { price: r.price(lo, 'price', p), quantity: r.quantity(lo, 'quantity', p) };
      });
    return {
      marketId: r.string(o, 'marketId', path),
      ts: r.timestamp(o, 'ts', path),
      bid: r.nullablePrice(o, 'bid', path),
      ask: r.nullablePrice(o, 'ask', path),
      last: r.nullablePrice(o, 'last', path),
      averageDailyVolume: r.quantity(o, 'averageDailyVolume', path),
      intervalVolume: r.quantity(o, 'intervalVolume', path),
      bids: levels('bids'),
      asks: levels('asks'),
      volume24h: r.quantity(o, 'volume24h', path),
    };
  }

  async listMarkets(): Promise<Market[]> {
    const json = await this.http.request('listMarkets', { method: 'GET', path: '/v1/markets', idempotent: true });
    const r = this.reader('listMarkets');
    return r.array(r.object(json, 'body'), 'markets', 'body').map((m, i) => {
      const path = `body.markets[${i}]`;
      const o = r.object(m, path);
      const outcome = r.field(o, 'outcome', path);
      if (outcome !== null && outcome !== 'YES' && outcome !== 'NO') throw r.fail(`${path}.outcome`, outcome, 'must be YES, NO or null');
      const market: Market = {
        marketId: r.string(o, 'marketId', path),
        category: r.string(o, 'category', path),
        tickSize: r.micros(o, 'tickSize', path),
        resolvesAt: r.nullableInteger(o, 'resolvesAt', path),
        outcome,
      };
      return r.domain(path, m, () => validateMarket(market));
    });
  }

  /**
   * GET /v1/settlements (API.md): this key's resolution payouts after the cursor. The exchange
   * settles a market once per account, so the market ID is the settlement's ID; it charges no
   * settlement fee.
   */
  async getSettlementsSince(cursor: string | null): Promise<SettlementPage> {
    const json = await this.http.request('getSettlements', { method: 'GET', path: '/v1/settlements', query: { cursor: cursor ?? undefined }, idempotent: true });
    const r = this.reader('getSettlementsSince');
    const body = r.object(json, 'body');
    const settlements = r.array(body, 'settlements', 'body').map((s, i): VenueSettlement => {
      const path = `body.settlements[${i}]`;
      const o = r.object(s, path);
      const marketId = r.string(o, 'marketId', path);
      return {
        settlementId: marketId,
        marketId,
        result: r.oneOf(o, 'outcome', path, ['YES', 'NO'] as const),
        quantity: r.integer(o, 'quantity', path),
        cash: r.money(o, 'payout', path),
        fee: 0 as Money,
        ts: r.timestamp(o, 'ts', path),
      };
    });
    const next = r.string(body, 'cursor', 'body');
    const cursorProblem = fillCursorProblem(next);
    if (cursorProblem !== null) throw r.fail('body.cursor', next, cursorProblem);
    return { settlements, cursor: next };
  }

  /** GET /v1/markets/{id}/history (API.md): points strictly after `sinceMs`, oldest first. */
  async getPriceHistory(marketId: string, sinceMs: number): Promise<MarketSnapshot[]> {
    const json = await this.http.request('getPriceHistory', {
      method: 'GET',
      path: `/v1/markets/${encodeURIComponent(marketId)}/history`,
      query: { since: Math.max(0, Math.trunc(sinceMs)) },
      idempotent: true,
    });
    const r = this.reader('getPriceHistory');
    const body = r.object(json, 'body');
    const answered = r.string(body, 'marketId', 'body');
    if (answered !== marketId) throw r.fail('body.marketId', answered, `must be the market asked for (${marketId})`);
    const averageDailyVolume = r.quantity(body, 'averageDailyVolume', 'body');
    let previous = sinceMs;
    return r.array(body, 'history', 'body').map((p, i) => {
      const path = `body.history[${i}]`;
      const o = r.object(p, path);
      const ts = r.timestamp(o, 'ts', path);
      if (ts <= previous) throw r.fail(`${path}.ts`, ts, i === 0 ? `must be after since (${sinceMs})` : `must be after the point before it (${previous})`);
      previous = ts;
      return {
        marketId,
        ts,
        bid: r.nullablePrice(o, 'bid', path),
        ask: r.nullablePrice(o, 'ask', path),
        last: r.nullablePrice(o, 'last', path),
        averageDailyVolume,
        intervalVolume: r.quantity(o, 'volume', path),
      };
    });
  }

  private orderPath(ref: OrderRef): string {
    return 'clientOrderId' in ref
      ? `/v1/orders/by-client-id/${encodeURIComponent(validateClientOrderId(ref.clientOrderId))}`
      : `/v1/orders/${encodeURIComponent(ref.venueOrderId)}`;
  }

  private orderFrom(json: unknown, operation: string): VenueOrder {
    const r = this.reader(operation);
    return this.order(r, r.field(r.object(json, 'body'), 'order', 'body'), 'body.order');
  }

  private order(r: ResponseReader, value: unknown, path: string): VenueOrder {
    const o = r.object(value, path);
    const limitPrice: Price | null = r.nullablePrice(o, 'limitPrice', path);
    const order: VenueOrder = {
      venueOrderId: r.string(o, 'venueOrderId', path),
      clientOrderId: r.string(o, 'clientOrderId', path),
      marketId: r.string(o, 'marketId', path),
      side: r.oneOf(o, 'side', path, ['BUY', 'SELL'] as const),
      quantity: r.quantity(o, 'quantity', path),
      limitPrice,
      filledQuantity: r.quantity(o, 'filledQuantity', path),
      averageFillPrice: r.nullablePrice(o, 'averageFillPrice', path),
      status: r.oneOf(o, 'status', path, STATUSES),
      rejectReason: r.nullableString(o, 'rejectReason', path),
      createdAt: r.timestamp(o, 'createdAt', path),
      updatedAt: r.timestamp(o, 'updatedAt', path),
    };
    // Cross-field checks catch a nulled nullable field that the per-field reads must accept.
    if (order.filledQuantity > order.quantity) throw r.fail(`${path}.filledQuantity`, order.filledQuantity, `must not exceed quantity ${order.quantity}`);
    if (order.filledQuantity > 0 && order.averageFillPrice === null) throw r.fail(`${path}.averageFillPrice`, null, 'must be a price once something filled');
    if (order.status === 'FILLED' && order.filledQuantity !== order.quantity) throw r.fail(`${path}.filledQuantity`, order.filledQuantity, 'must equal quantity when FILLED');
    if (order.status === 'REJECTED' && order.rejectReason === null) throw r.fail(`${path}.rejectReason`, null, 'must name the reason when REJECTED');
    return order;
  }

  private fill(r: ResponseReader, value: unknown, path: string): Fill {
    const o = r.object(value, path);
    const fill: Fill = {
      tradeId: r.string(o, 'tradeId', path),
      clientOrderId: r.string(o, 'clientOrderId', path),
      marketId: r.string(o, 'marketId', path),
      side: r.oneOf(o, 'side', path, ['BUY', 'SELL'] as const),
      quantity: r.quantity(o, 'quantity', path),
      price: r.price(o, 'price', path),
      fee: r.money(o, 'fee', path),
      ts: r.timestamp(o, 'ts', path),
    };
    return r.domain(path, value, () => validateFill(fill));
  }
}


/** The paper venue as the activities layer uses it: adapter + resilient client, one per account. */
export function createPaperVenue(credentials: PaperCredentials, options: PaperVenueOptions = {}): ResilientVenue {
  const http = paperHttpClient(credentials, options);
  return new ResilientVenue(new PaperVenue(http), http);
}
