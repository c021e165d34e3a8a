/**
 * Kalshi Trade API v2 shapes, as documented today, <-> the core's market/side model. Every
 * behaviour names the documentation page it follows; docs/kalshi-api.md lists the pages, what we
 * rely on from each and what could not be confirmed.
 *
 * FIXED POINT (https://docs.kalshi.com/getting_started/fixed_point_migration, "Last Updated:
 * April 17, 2026"): prices are dollar strings (`*_dollars`, up to 4 decimals in prices, 6 in
 * amounts), contract counts are `*_fp` strings with 2 decimals; fractional counts ("0.37") occur.
 * Counts go through parseQuantity (exact, integer hundredths), prices and money through the core's
 * exact decimal parsers. The integer cent fields are not read at all.
 *
 * DIRECTION (https://docs.kalshi.com/getting_started/order_direction): `outcome_side` (yes|no) and
 * `book_side` (bid|ask, bid ≡ yes, ask ≡ no) carry the same bit; long YES is the core's BUY, long
 * NO its SELL, and the price is always the YES price ("direction does not change the price").
 * The legacy `action`/`side` pair (buy yes ≡ sell no ≡ yes; buy no ≡ sell yes ≡ no) is deprecated,
 * "not removed before May 28, 2026". All present fields are read, the new ones first; any two that
 * disagree are refused with a MALFORMED_RESPONSE naming the disagreeing field.
 *
 * ORDER (GET /portfolio/orders/{id}; the Order model of the published SDKs): order_id,
 * client_order_id, ticker, status (resting|canceled|executed), yes_price_dollars, fill_count_fp,
 * remaining_count_fp, initial_count_fp, taker_fill_cost_dollars, maker_fill_cost_dollars,
 * created_time, last_update_time. No `type` is read: market orders are gone.
 * FILL (https://docs.kalshi.com/api-reference/portfolio/get-fills, page copy of 2026-07-17):
 * fill_id (trade_id a legacy alias), order_id, ticker/market_ticker, count_fp, yes_price_dollars,
 * fee_cost (dollar string), created_time; no client_order_id (removed 2026-03-30).
 * ORDERBOOK (https://docs.kalshi.com/getting_started/orderbook_responses): {orderbook_fp:
 * {yes_dollars: [[price, count_fp]], no_dollars: [...]}}, bids only, ascending (best last).
 * MARKET (fixed-point migration page): price_level_structure and price_ranges [{start, end, step}]
 * replace tick_size; category and the cent fields are gone.
 * SETTLEMENT (https://docs.kalshi.com/api-reference/portfolio/get-settlements and the Settlement
 * model): ticker, event_ticker, market_result (yes|no|scalar|void), yes_count_fp, no_count_fp,
 * yes_total_cost_dollars, no_total_cost_dollars, revenue (cents), settled_time, fee_cost (dollars).
 * CREATE V2 (https://docs.kalshi.com/api-reference/orders/create-order-v2): body ticker,
 * client_order_id, side (bid|ask, YES leg), count (fp string), price (YES dollars),
 * time_in_force (fill_or_kill|good_till_canceled|immediate_or_cancel), self_trade_prevention_type
 * (taker_at_cross|maker); answer {order_id, client_order_id, fill_count, remaining_count,
 * average_fill_price?, average_fee_paid?, ts_ms}, no status.
 *
 * ASSUMPTIONS (not established from the docs; the double mirrors them):
 *  - A resting order with a fill is PARTIALLY_FILLED; an order is FILLED when its remaining count
 *    is 0 and its fill count is its initial count, otherwise a closed order is CANCELED.
 *  - The average fill price of an order is (taker + maker fill cost) / fill count, in the price of
 *    the order's own outcome side (1 - YES for outcome_side no).
 *  - A market's core tick is the coarsest `step` of its price_ranges: every price on that grid is
 *    valid in every range. Its category is the event ticker. Resolution time is expiration_time,
 *    else close_time. Snapshot volumes are volume_fp / volume_24h_fp, the last price
 *    last_price_dollars.
 *  - Settlement revenue is integer cents (as the Settlement model says) unless revenue_dollars is
 *    sent; a settlement is identified by ticker and settled_time (the shape has no ID).
 *  - An order without client_order_id (placed by hand) gets externalClientOrderId(order_id).
 *  - The Order carries time_in_force; an immediate_or_cancel order at $0.99 (buy) or $0.01 (sell)
 *    is the marketable limit this adapter sends for a core market order and reads back as one
 *    (limitPrice null), so a lookup after an ambiguous submit matches the request.
 */
import { validateFill, type Fill } from '../../../domain/fill';
import { externalClientOrderId } from '../../../domain/ids';
import type { Market, Side } from '../../../domain/market';
import { LOTS_PER_CONTRACT, MICROS, parseQuantity, quantityFromLots, quantityLots, quantityText, type Money, type Price, type Quantity } from '../../../domain/money';
import type { DepthLevel, PlaceOrderRequest, VenueOrder, VenueOrderStatus, VenuePosition, VenueSettlement } from '../../../contracts/venue';
import { VenueError } from '../errors';
import { ResponseReader, type Json } from '../parse';

/** Kalshi prices carry at most 4 decimals: a price must be a whole number of these micros. */
export const PRICE_STEP_MICROS = 100;

/** The marketable limit that replaces a market order: the far end of the cent grid, valid on every price structure. */
export const MARKETABLE_BUY_PRICE = 990_000 as Price;
export const MARKETABLE_SELL_PRICE = 10_000 as Price;

export type KalshiTimeInForce = 'good_till_canceled' | 'immediate_or_cancel' | 'fill_or_kill';

/** Micros as a 4-decimal dollar string ("0.5600"). */
export function dollarsText(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / MICROS)}.${String(Math.floor((abs % MICROS) / PRICE_STEP_MICROS)).padStart(4, '0')}`;
}

/**
 * The V2 create body for a core request. A limit order rests good-till-canceled; a core request
 * without a limit price (the contract's market order) becomes a marketable limit at the far end of
 * the book with immediate_or_cancel, since V2 always requires a price.
 */
export function createOrderBody(r: PlaceOrderRequest, venue: string): Json {
  const fail = (field: string, value: unknown, problem: string) =>
    new VenueError('BAD_REQUEST', `${field} ${problem}`, { venue, operation: 'placeOrder', field, value, clientOrderId: r.clientOrderId });
  let count: string;
  try {
    count = quantityText(r.quantity);
  } catch {
    throw fail('quantity', r.quantity, 'must have at most 2 decimal places for Kalshi');
  }
  const marketable = r.limitPrice === null;
  const price = r.limitPrice ?? (r.side === 'BUY' ? MARKETABLE_BUY_PRICE : MARKETABLE_SELL_PRICE);
  if (price % PRICE_STEP_MICROS !== 0) throw fail('limitPrice', price, 'must have at most 4 decimal places for Kalshi');
  const timeInForce: KalshiTimeInForce = marketable ? 'immediate_or_cancel' : 'good_till_canceled';
  return {
    ticker: r.marketId,
    client_order_id: r.clientOrderId,
    side: r.side === 'BUY' ? 'bid' : 'ask',
    count,
    price: dollarsText(price),
    time_in_force: timeInForce,
    self_trade_prevention_type: 'taker_at_cross',
  };
}

/** A fixed-point count string ("10.00", "0.37"), exact. */
export function fpCount(r: ResponseReader, o: Json, key: string, path: string): Quantity {
  const v = r.field(o, key, path);
  if (typeof v !== 'string') throw r.fail(`${path}.${key}`, v, 'must be a fixed-point count string');
  return r.domain(`${path}.${key}`, v, () => parseQuantity(v, `${path}.${key}`));
}

/** A signed fixed-point count ("-3.00"). */
export function signedFpCount(r: ResponseReader, o: Json, key: string, path: string): number {
  const v = r.field(o, key, path);
  if (typeof v !== 'string') throw r.fail(`${path}.${key}`, v, 'must be a signed fixed-point count string');
  const negative = v.startsWith('-');
  const q = r.domain(`${path}.${key}`, v, () => parseQuantity(negative ? v.slice(1) : v, `${path}.${key}`));
  return negative ? quantityFromLots(-quantityLots(q)) : q;
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

const present = (o: Json, key: string): boolean => o[key] !== undefined && o[key] !== null;

/**
 * The core side of an order or fill from every direction field it carries, new ones first; a
 * disagreement names the field that disagrees with the ones read before it.
 */
export function directionOf(r: ResponseReader, o: Json, path: string): Side {
  const readings: { field: string; value: unknown; side: Side }[] = [];
  if (present(o, 'outcome_side')) readings.push({ field: 'outcome_side', value: o.outcome_side, side: r.oneOf(o, 'outcome_side', path, ['yes', 'no'] as const) === 'yes' ? 'BUY' : 'SELL' });
  if (present(o, 'book_side')) readings.push({ field: 'book_side', value: o.book_side, side: r.oneOf(o, 'book_side', path, ['bid', 'ask'] as const) === 'bid' ? 'BUY' : 'SELL' });
  if (present(o, 'side') || present(o, 'action')) {
    const side = r.oneOf(o, 'side', path, ['yes', 'no'] as const);
    const action = r.oneOf(o, 'action', path, ['buy', 'sell'] as const);
    readings.push({ field: 'side', value: `${action} ${side}`, side: (side === 'yes') === (action === 'buy') ? 'BUY' : 'SELL' });
  }
  const first = readings[0];
  if (!first) throw r.fail(`${path}.outcome_side`, undefined, 'is missing (and so are book_side and the legacy side/action)');
  for (const other of readings.slice(1)) {
    if (other.side !== first.side) throw r.fail(`${path}.${other.field}`, other.value, `disagrees with ${first.field} "${String(first.value)}"`);
  }
  return first.side;
}

/** The price of the order's own outcome side back to the YES price. */
const yesPriceOf = (side: Side, ownPrice: number): number => (side === 'BUY' ? ownPrice : MICROS - ownPrice);

function clientOrderIdOf(r: ResponseReader, o: Json, path: string, orderId: string): string {
  const given = o.client_order_id;
  if (given === undefined || given === null || given === '') return r.domain(`${path}.order_id`, orderId, () => externalClientOrderId(orderId));
  return r.string(o, 'client_order_id', path);
}

export function orderFromKalshi(r: ResponseReader, value: unknown, path: string): VenueOrder {
  const o = r.object(value, path);
  const orderId = r.string(o, 'order_id', path);
  const side = directionOf(r, o, path);
  const rawStatus = r.oneOf(o, 'status', path, ['resting', 'canceled', 'executed'] as const);
  const filled = fpCount(r, o, 'fill_count_fp', path);
  const remaining = fpCount(r, o, 'remaining_count_fp', path);
  const quantity = present(o, 'initial_count_fp') ? fpCount(r, o, 'initial_count_fp', path) : quantityFromLots(quantityLots(filled) + quantityLots(remaining));
  if (quantityLots(filled) > quantityLots(quantity)) throw r.fail(`${path}.fill_count_fp`, o.fill_count_fp, `must not exceed the order quantity ${quantityText(quantity)}`);
  let status: VenueOrderStatus;
  if (rawStatus === 'executed') status = 'FILLED';
  else if (rawStatus === 'canceled') status = 'CANCELED';
  else status = quantityLots(filled) > 0 ? 'PARTIALLY_FILLED' : 'OPEN';
  const created = isoTime(r, o, 'created_time', path);
  return {
    venueOrderId: orderId,
    clientOrderId: clientOrderIdOf(r, o, path, orderId),
    marketId: r.string(o, 'ticker', path),
    side,
    quantity,
    limitPrice: coreLimitPrice(r.price(o, 'yes_price_dollars', path), side, o.time_in_force),
    filledQuantity: filled,
    averageFillPrice: averageFill(r, o, path, filled, side),
    status,
    rejectReason: null,
    createdAt: created,
    updatedAt: optionalIsoTime(r, o, 'last_update_time', path) ?? created,
  };
}

/** The marketable limit this adapter sends for a core market order reads back as a market order (limitPrice null). */
function coreLimitPrice(yesPrice: Price, side: Side, timeInForce: unknown): Price | null {
  const marketable = side === 'BUY' ? MARKETABLE_BUY_PRICE : MARKETABLE_SELL_PRICE;
  return timeInForce === 'immediate_or_cancel' && yesPrice === marketable ? null : yesPrice;
}

function averageFill(r: ResponseReader, o: Json, path: string, filled: Quantity, side: Side): Price | null {
  const lots = quantityLots(filled);
  if (lots === 0 || !present(o, 'taker_fill_cost_dollars') || !present(o, 'maker_fill_cost_dollars')) return null;
  const cost = r.money(o, 'taker_fill_cost_dollars', path) + r.money(o, 'maker_fill_cost_dollars', path);
  const yes = yesPriceOf(side, Math.round((cost * LOTS_PER_CONTRACT) / lots));
  if (yes <= 0 || yes >= MICROS) throw r.fail(`${path}.taker_fill_cost_dollars`, o.taker_fill_cost_dollars, `gives an average price outside (0, 1) for ${quantityText(filled)} contracts`);
  return yes as Price;
}

/** The V2 create answer: no status, no side, no price. */
export interface CreatedOrder {
  venueOrderId: string;
  clientOrderId: string;
  filled: Quantity;
  remaining: Quantity;
  averageFillPrice: Price | null;
  ts: number;
}

export function createdOrderFromKalshi(r: ResponseReader, value: unknown, path: string): CreatedOrder {
  const o = r.object(value, path);
  const ts = r.timestamp(o, 'ts_ms', path);
  return {
    venueOrderId: r.string(o, 'order_id', path),
    clientOrderId: r.string(o, 'client_order_id', path),
    filled: fpCount(r, o, 'fill_count', path),
    remaining: fpCount(r, o, 'remaining_count', path),
    averageFillPrice: present(o, 'average_fill_price') ? r.price(o, 'average_fill_price', path) : null,
    ts,
  };
}

/** The core order a V2 create answer describes, with the request it answered. */
export function orderFromCreated(request: PlaceOrderRequest, c: CreatedOrder): VenueOrder {
  const filledLots = quantityLots(c.filled);
  let status: VenueOrderStatus;
  if (quantityLots(c.remaining) > 0) status = filledLots > 0 ? 'PARTIALLY_FILLED' : 'OPEN';
  else status = filledLots === quantityLots(request.quantity) ? 'FILLED' : 'CANCELED';
  return {
    venueOrderId: c.venueOrderId,
    clientOrderId: c.clientOrderId,
    marketId: request.marketId,
    side: request.side,
    quantity: request.quantity,
    limitPrice: request.limitPrice,
    filledQuantity: c.filled,
    averageFillPrice: filledLots > 0 ? c.averageFillPrice : null,
    status,
    rejectReason: null,
    createdAt: c.ts,
    updatedAt: c.ts,
  };
}

/**
 * A Kalshi fill as the core's Fill, checked. Fills carry only the venue order ID:
 * `clientOrderIdOf(order_id)` names the client order ID (the adapter's OrderIdMap, then a lookup).
 * The count is read on Kalshi's two-decimal grid (`count_fp`, fractions included) and
 * validateFill checks the whole fill, quantity too, once.
 */
export async function fillFromKalshi(r: ResponseReader, value: unknown, path: string, clientOrderIdOf: (orderId: string) => Promise<string>): Promise<Fill> {
  const o = r.object(value, path);
  const tradeId = present(o, 'fill_id') ? r.string(o, 'fill_id', path) : r.string(o, 'trade_id', path);
  const orderId = r.string(o, 'order_id', path);
  const marketId = present(o, 'ticker') ? r.string(o, 'ticker', path) : r.string(o, 'market_ticker', path);
  const side = directionOf(r, o, path);
  const quantity = fpCount(r, o, 'count_fp', path);
  if (quantityLots(quantity) <= 0) throw r.fail(`${path}.count_fp`, o.count_fp, 'must be a positive count');
  const price = r.price(o, 'yes_price_dollars', path);
  const fee = r.money(o, 'fee_cost', path);
  const ts = isoTime(r, o, 'created_time', path);
  const clientOrderId = await clientOrderIdOf(orderId);
  return r.domain(path, value, () => validateFill({ tradeId, clientOrderId, marketId, side, quantity, price, fee, ts }));
}

export function positionFromKalshi(r: ResponseReader, value: unknown, path: string): VenuePosition {
  const o = r.object(value, path);
  return { marketId: r.string(o, 'ticker', path), quantity: signedFpCount(r, o, 'position_fp', path) };
}

export function marketFromKalshi(r: ResponseReader, value: unknown, path: string): Market {
  const o = r.object(value, path);
  const ranges = r.array(o, 'price_ranges', path);
  if (ranges.length === 0) throw r.fail(`${path}.price_ranges`, ranges, 'must list at least one price range');
  let tick = 0;
  for (const [i, range] of ranges.entries()) {
    const p = `${path}.price_ranges[${i}]`;
    const step = r.money(r.object(range, p), 'step', p);
    if (step <= 0 || MICROS % step !== 0) throw r.fail(`${p}.step`, (range as Json).step, 'must be a positive step dividing $1');
    tick = Math.max(tick, step);
  }
  const result = o.result;
  let outcome: Market['outcome'] = null;
  if (result === 'yes') outcome = 'YES';
  else if (result === 'no') outcome = 'NO';
  else if (result !== undefined && result !== null && result !== '') throw r.fail(`${path}.result`, result, 'must be "yes", "no", "" or null');
  return {
    marketId: r.string(o, 'ticker', path),
    category: r.string(o, 'event_ticker', path).slice(0, 64),
    tickSize: tick,
    resolvesAt: optionalIsoTime(r, o, 'expiration_time', path) ?? optionalIsoTime(r, o, 'close_time', path),
    outcome,
  };
}

/** Both bid ladders of orderbook_fp as core depth: YES bids are bids; NO bids at q are YES asks at 1 - q. */
export function depthFromKalshi(r: ResponseReader, book: Json, path: string): { bids: DepthLevel[]; asks: DepthLevel[] } {
  const levels = (key: 'yes_dollars' | 'no_dollars'): DepthLevel[] =>
    r.arrayOrEmpty(book, key, path).map((l, i) => {
      const p = `${path}.${key}[${i}]`;
      if (!Array.isArray(l) || l.length !== 2) throw r.fail(p, l, 'must be ["price_dollars", "count_fp"]');
      const level = { price: l[0] as unknown, count: l[1] as unknown };
      if (typeof level.price !== 'string') throw r.fail(`${p}[0]`, level.price, 'must be a dollar string');
      if (typeof level.count !== 'string') throw r.fail(`${p}[1]`, level.count, 'must be a fixed-point count string');
      const quantity = r.domain(`${p}[1]`, level.count, () => parseQuantity(level.count, `${p}[1]`));
      if (quantityLots(quantity) <= 0) throw r.fail(`${p}[1]`, level.count, 'must be a positive count');
      return { price: r.price({ v: level.price }, 'v', `${p}[0]`), quantity };
    });
  const bids = levels('yes_dollars').sort((a, b) => b.price - a.price);
  const asks = levels('no_dollars')
    .map((l) => ({ price: (MICROS - l.price) as Price, quantity: l.quantity }))
    .sort((a, b) => a.price - b.price);
  return { bids, asks };
}

/** Dollars when `<key>_dollars` is sent, else integer cents in `<key>`. */
function dollarsOrCents(r: ResponseReader, o: Json, key: string, path: string): Money {
  if (present(o, `${key}_dollars`)) return r.money(o, `${key}_dollars`, path);
  return (r.integer(o, key, path) * 10_000) as Money;
}

export function balanceFromKalshi(r: ResponseReader, o: Json, path: string): Money {
  return dollarsOrCents(r, o, 'balance', path);
}

export function settlementFromKalshi(r: ResponseReader, value: unknown, path: string): VenueSettlement {
  const o = r.object(value, path);
  const ticker = r.string(o, 'ticker', path);
  const rawResult = r.oneOf(o, 'market_result', path, ['yes', 'no', 'void', 'scalar'] as const);
  if (rawResult === 'scalar') throw r.fail(`${path}.market_result`, rawResult, 'is a scalar settlement, which the core does not model');
  const settledText = r.string(o, 'settled_time', path);
  const ts = isoTime(r, o, 'settled_time', path);
  const yes = quantityLots(fpCount(r, o, 'yes_count_fp', path));
  const no = quantityLots(fpCount(r, o, 'no_count_fp', path));
  return {
    settlementId: `${ticker}@${settledText}`,
    marketId: ticker,
    result: rawResult === 'yes' ? 'YES' : rawResult === 'no' ? 'NO' : 'VOID',
    quantity: quantityFromLots(yes - no),
    cash: dollarsOrCents(r, o, 'revenue', path),
    fee: present(o, 'fee_cost') ? r.money(o, 'fee_cost', path) : (0 as Money),
    ts,
  };
}
