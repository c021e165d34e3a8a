/**
 * Kalshi Trade API v2 shapes <-> the core's market/side model.
 *
 * WHAT COMES FROM KALSHI'S PUBLISHED DOCS (docs.kalshi.com, the OpenAPI-generated SDK models):
 *  - Order: order_id, client_order_id, ticker, side ("yes"|"no"), action ("buy"|"sell"),
 *    type ("limit"|"market"), status ("resting"|"canceled"|"executed"), yes_price / no_price
 *    (integer cents) and yes_price_dollars / no_price_dollars (fixed-point dollar strings),
 *    fill_count, remaining_count, initial_count, taker_fill_cost, maker_fill_cost (cents),
 *    created_time, last_update_time (RFC 3339).
 *  - Fill: fill_id / trade_id, order_id, client_order_id (optional), ticker, side, action,
 *    count (or count_fp), yes_price / no_price (cents), yes_price_fixed / no_price_fixed
 *    (dollar strings), is_taker, created_time, ts (unix seconds, legacy).
 *  - Positions: {market_positions: [{ticker, position (signed: + YES, - NO contracts), ...}], cursor}.
 *  - Balance: {balance (cents available), portfolio_value (cents), updated_ts}.
 *  - Markets: {markets: [{ticker, event_ticker, status, yes_bid, yes_ask, last_price, volume,
 *    volume_24h, close_time, expiration_time, result, ...}], cursor}; {market: {...}} for one.
 *  - Orderbook: {orderbook: {yes: [[price_cents, count], ...], no: [[price_cents, count], ...]}},
 *    both lists are BIDS (resting buys of YES and of NO); either may be null when empty.
 *  - Errors: {"error": {"code": "...", "message": "...", "details": "..."}}.
 *
 * ASSUMPTIONS (not established from the docs; the double mirrors them and they are marked so):
 *  - A resting order with fill_count > 0 is PARTIALLY_FILLED; "pending" (older API) is OPEN.
 *  - Order quantity is initial_count when present, else fill_count + remaining_count.
 *  - The average fill price is (taker_fill_cost + maker_fill_cost) / fill_count, in the cents
 *    of the order's own side; null when those fields are absent.
 *  - Fills carry no fee in the documented shape; fee_cost (dollar string) is read when present,
 *    otherwise the fee is 0 and fees are reconciled from the balance.
 *  - Market category is `category` when present and non-empty, else the event_ticker.
 *    Tick size is `tick_size` cents when present, else one cent (Kalshi's standard grid).
 *  - A market's resolution time is expiration_time, else close_time.
 *  - The orderbook has no timestamp: the snapshot is stamped with the adapter's clock.
 *
 * SIDE MAPPING. The core trades the YES contract: BUY = buy YES, SELL = sell YES, prices are
 * YES prices, positions are signed YES contracts. Orders this system places are always
 * side "yes". Orders and fills on side "no" (placed elsewhere, e.g. by hand) are translated by
 * the identity "buying NO at p is selling YES at 1 - p": (no, buy) -> SELL, (no, sell) -> BUY,
 * at the YES price (Kalshi reports yes_price on every order and fill, = 100 - no_price).
 * Kalshi's signed position (+ YES / - NO) is already the core's signed YES position.
 */
import { validateFill, type Fill } from '../../../domain/fill';
import type { Market, Side } from '../../../domain/market';
import { MICROS, parseMicros, type Money, type Price, type Quantity } from '../../../domain/money';
import type { DepthLevel, PlaceOrderRequest, VenueOrder, VenueOrderStatus, VenuePosition } from '../../../contracts/venue';
import { VenueError } from '../errors';
import { ResponseReader, type Json } from '../parse';

export const CENT = 10_000;

export type KalshiSide = 'yes' | 'no';
export type KalshiAction = 'buy' | 'sell';

export function coreSide(side: KalshiSide, action: KalshiAction): Side {
  if (side === 'yes') return action === 'buy' ? 'BUY' : 'SELL';
  return action === 'buy' ? 'SELL' : 'BUY';
}

/** The create-order body for a core request: always the YES contract. */
export function createOrderBody(r: PlaceOrderRequest, venue: string): Json {
  const body: Json = {
    ticker: r.marketId,
    client_order_id: r.clientOrderId,
    side: 'yes',
    action: r.side === 'BUY' ? 'buy' : 'sell',
    count: r.quantity,
    type: r.limitPrice === null ? 'market' : 'limit',
  };
  if (r.limitPrice !== null) {
    if (r.limitPrice % CENT !== 0) {
      throw new VenueError('BAD_REQUEST', 'limitPrice must be a whole number of cents for Kalshi', {
        venue,
        operation: 'placeOrder',
        field: 'limitPrice',
        value: r.limitPrice,
        clientOrderId: r.clientOrderId,
      });
    }
    body.yes_price = r.limitPrice / CENT;
  }
  return body;
}

/** A YES/NO price from "<key>_dollars" (exact string) or "<key>" integer cents, whichever is present. */
export function kalshiPrice(r: ResponseReader, o: Json, centsKey: string, dollarsKeys: readonly string[], path: string): Price {
  // A present dollars field wins and must be a decimal string; a wrong type is not skipped over.
  for (const dk of dollarsKeys) if (o[dk] !== undefined && o[dk] !== null) return r.price(o, dk, path);
  const cents = r.integer(o, centsKey, path);
  if (cents < 1 || cents > 99) throw r.fail(`${path}.${centsKey}`, cents, 'must be a price in cents inside (0, 100)');
  return (cents * CENT) as Price;
}

/** A contract count from "<key>" (integer) or "<key>_fp" (fixed-point string, whole contracts). */
export function kalshiCount(r: ResponseReader, o: Json, key: string, path: string): number {
  if (o[key] === undefined && typeof o[`${key}_fp`] === 'string') {
    const micros = r.micros(o, `${key}_fp`, path);
    if (micros % MICROS !== 0) throw r.fail(`${path}.${key}_fp`, o[`${key}_fp`], 'must be a whole number of contracts');
    return micros / MICROS;
  }
  return r.integer(o, key, path);
}

function isoTime(r: ResponseReader, o: Json, key: string, path: string): number {
  const text = r.string(o, key, path);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw r.fail(`${path}.${key}`, text, 'must be an RFC 3339 time');
  return ms;
}

function optionalIsoTime(r: ResponseReader, o: Json, key: string, path: string): number | null {
  return o[key] === undefined || o[key] === null || o[key] === '' ? null : isoTime(r, o, key, path);
}

const KALSHI_SIDES = ['yes', 'no'] as const;
const KALSHI_ACTIONS = ['buy', 'sell'] as const;

export function orderFromKalshi(r: ResponseReader, value: unknown, path: string): VenueOrder {
  const o = r.object(value, path);
  const side = r.oneOf(o, 'side', path, KALSHI_SIDES);
  const action = r.oneOf(o, 'action', path, KALSHI_ACTIONS);
  const type = r.oneOf(o, 'type', path, ['limit', 'market'] as const);
  const rawStatus = r.oneOf(o, 'status', path, ['resting', 'canceled', 'executed', 'pending'] as const);
  const filled = kalshiCount(r, o, 'fill_count', path);
  const quantity = o.initial_count !== undefined || o.initial_count_fp !== undefined ? kalshiCount(r, o, 'initial_count', path) : filled + kalshiCount(r, o, 'remaining_count', path);
  if (filled > quantity) throw r.fail(`${path}.fill_count`, filled, `must not exceed the order quantity ${quantity}`);
  const yesPrice = kalshiPrice(r, o, 'yes_price', ['yes_price_dollars'], path);
  let status: VenueOrderStatus;
  if (rawStatus === 'executed') status = 'FILLED';
  else if (rawStatus === 'canceled') status = 'CANCELED';
  else status = filled > 0 ? 'PARTIALLY_FILLED' : 'OPEN';
  const created = isoTime(r, o, 'created_time', path);
  return {
    venueOrderId: r.string(o, 'order_id', path),
    clientOrderId: r.string(o, 'client_order_id', path),
    marketId: r.string(o, 'ticker', path),
    side: coreSide(side, action),
    quantity: quantity as Quantity,
    limitPrice: type === 'limit' ? yesPrice : null,
    filledQuantity: filled as Quantity,
    averageFillPrice: averageFill(r, o, path, filled, side),
    status,
    rejectReason: null,
    createdAt: created,
    updatedAt: optionalIsoTime(r, o, 'last_update_time', path) ?? created,
  };
}

function averageFill(r: ResponseReader, o: Json, path: string, filled: number, side: KalshiSide): Price | null {
  if (filled === 0 || o.taker_fill_cost === undefined || o.maker_fill_cost === undefined) return null;
  const costCents = r.integer(o, 'taker_fill_cost', path) + r.integer(o, 'maker_fill_cost', path);
  const ownSide = Math.round((costCents * CENT) / filled);
  const yes = side === 'yes' ? ownSide : MICROS - ownSide;
  if (yes <= 0 || yes >= MICROS) throw r.fail(`${path}.taker_fill_cost`, costCents, `gives an average price outside (0, 1) for ${filled} contracts`);
  return yes as Price;
}

/**
 * A Kalshi fill as the core's Fill, checked. Kalshi may leave out client_order_id; the fill's
 * order then names it, through `clientOrderIdOf(order_id)` (the adapter's lookup).
 */
export async function fillFromKalshi(r: ResponseReader, value: unknown, path: string, clientOrderIdOf: (orderId: string) => Promise<string>): Promise<Fill> {
  const o = r.object(value, path);
  const side = r.oneOf(o, 'side', path, KALSHI_SIDES);
  const action = r.oneOf(o, 'action', path, KALSHI_ACTIONS);
  const tradeKey = typeof o.trade_id === 'string' ? 'trade_id' : 'fill_id';
  let ts: number;
  if (typeof o.created_time === 'string') ts = isoTime(r, o, 'created_time', path);
  else ts = r.integer(o, 'ts', path) * 1000;
  const orderId = r.string(o, 'order_id', path);
  const tradeId = r.string(o, tradeKey, path);
  const marketId = r.string(o, 'ticker', path);
  const quantity = kalshiCount(r, o, 'count', path) as Quantity;
  const price = kalshiPrice(r, o, 'yes_price', ['yes_price_fixed', 'yes_price_dollars'], path);
  const fee = o.fee_cost === undefined || o.fee_cost === null ? (0 as Money) : r.money(o, 'fee_cost', path);
  const given = o.client_order_id === undefined || o.client_order_id === null || o.client_order_id === '' ? null : r.string(o, 'client_order_id', path);
  const clientOrderId = given ?? (await clientOrderIdOf(orderId));
  const fill: Fill = { tradeId, clientOrderId, marketId, side: coreSide(side, action), quantity, price, fee, ts };
  return r.domain(path, value, () => validateFill(fill));
}

export function positionFromKalshi(r: ResponseReader, value: unknown, path: string): VenuePosition {
  const o = r.object(value, path);
  return { marketId: r.string(o, 'ticker', path), quantity: kalshiCount(r, o, 'position', path) };
}

/** Cents (integer) or "<key>_dollars" string to micros. */
export function kalshiMoney(r: ResponseReader, o: Json, key: string, path: string): Money {
  if (typeof o[`${key}_dollars`] === 'string') return r.money(o, `${key}_dollars`, path);
  return (r.integer(o, key, path) * CENT) as Money;
}

export function marketFromKalshi(r: ResponseReader, value: unknown, path: string): Market {
  const o = r.object(value, path);
  const category = typeof o.category === 'string' && o.category.length > 0 ? o.category : r.string(o, 'event_ticker', path);
  const tick = o.tick_size === undefined || o.tick_size === null ? CENT : r.integer(o, 'tick_size', path) * CENT;
  const result = o.result;
  let outcome: Market['outcome'] = null;
  if (result === 'yes') outcome = 'YES';
  else if (result === 'no') outcome = 'NO';
  else if (result !== undefined && result !== null && result !== '') throw r.fail(`${path}.result`, result, 'must be "yes", "no", "" or null');
  return {
    marketId: r.string(o, 'ticker', path),
    category: category.slice(0, 64),
    tickSize: tick,
    resolvesAt: optionalIsoTime(r, o, 'expiration_time', path) ?? optionalIsoTime(r, o, 'close_time', path),
    outcome,
  };
}

/** Both sides of a Kalshi orderbook as core depth: YES bids are bids; NO bids at q are YES asks at 1 - q. */
export function depthFromKalshi(r: ResponseReader, book: Json, path: string): { bids: DepthLevel[]; asks: DepthLevel[] } {
  const levels = (key: 'yes' | 'no'): DepthLevel[] => {
    const dollarsKey = `${key}_dollars`;
    if (Array.isArray(book[dollarsKey])) {
      return r.arrayOrEmpty(book, dollarsKey, path).map((l, i) => {
        const p = `${path}.${dollarsKey}[${i}]`;
        if (!Array.isArray(l) || l.length < 2 || typeof l[0] !== 'string') throw r.fail(p, l, 'must be ["price", count]');
        const count = typeof l[1] === 'number' ? l[1] : typeof l[1] === 'string' ? parseMicros(l[1], p) / MICROS : NaN;
        if (!Number.isSafeInteger(count) || count <= 0) throw r.fail(`${p}[1]`, l[1], 'must be a positive whole count');
        return { price: r.price({ v: l[0] }, 'v', p), quantity: count as Quantity };
      });
    }
    return r.arrayOrEmpty(book, key, path).map((l, i) => {
      const p = `${path}.${key}[${i}]`;
      if (!Array.isArray(l) || l.length < 2) throw r.fail(p, l, 'must be [price_cents, count]');
      const [cents, count] = l as unknown[];
      if (typeof cents !== 'number' || !Number.isSafeInteger(cents) || cents < 1 || cents > 99) throw r.fail(`${p}[0]`, cents, 'must be a price in cents inside (0, 100)');
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 0) throw r.fail(`${p}[1]`, count, 'must be a positive whole count');
      return { price: (cents * CENT) as Price, quantity: count as Quantity };
    });
  };
  const bids = levels('yes').sort((a, b) => b.price - a.price);
  const asks = levels('no')
    .map((l) => ({ price: (MICROS - l.price) as Price, quantity: l.quantity }))
    .sort((a, b) => a.price - b.price);
  return { bids, asks };
}
