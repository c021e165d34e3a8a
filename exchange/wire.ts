/**
 * The wire form of API.md: engine values to JSON (prices and money as decimal strings) and
 * request bodies/queries to checked values, every failure naming its field and value.
 */
import { InvalidInput } from '../domain/errors';
import { validateClientOrderId } from '../domain/ids';
import { formatDecimal, MICROS, parseMicros, toNumericString } from '../domain/money';
import { parseSide, validateMarketId } from '../domain/market';
import { type ExchangeFill, type ExchangeOrder, type MarketView, PaperEngine, type PlaceOrder, type Settlement, type SnapshotView, type BalanceView } from './engine';
import { ExchangeError } from './errors';
import type { QuotePoint } from './history';

export const MAX_ORDER_QUANTITY = 1_000_000;
export const MAX_FILLS_PAGE = 1_000;
export const DEFAULT_FILLS_PAGE = 500;
export const MAX_DEPTH = 50;

export const priceText = (micros: number | null): string | null => (micros === null ? null : formatDecimal(micros, 2));
export const moneyText = (micros: number): string => toNumericString(micros);

export function orderJson(o: ExchangeOrder): Record<string, unknown> {
  return {
    venueOrderId: o.venueOrderId,
    clientOrderId: o.clientOrderId,
    marketId: o.marketId,
    side: o.side,
    quantity: o.quantity,
    limitPrice: priceText(o.limitPrice),
    filledQuantity: o.filledQuantity,
    averageFillPrice: priceText(PaperEngine.averageFillPrice(o)),
    status: o.status,
    rejectReason: o.rejectReason,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export function fillJson(f: ExchangeFill): Record<string, unknown> {
  return {
    tradeId: f.tradeId,
    venueOrderId: f.venueOrderId,
    clientOrderId: f.clientOrderId,
    marketId: f.marketId,
    side: f.side,
    quantity: f.quantity,
    price: priceText(f.price),
    fee: moneyText(f.fee),
    ts: f.ts,
  };
}

export function settlementJson(s: Settlement): Record<string, unknown> {
  return { marketId: s.marketId, outcome: s.outcome, quantity: s.quantity, payout: moneyText(s.payout), ts: s.ts };
}

export function marketJson(m: MarketView): Record<string, unknown> {
  return {
    marketId: m.marketId,
    title: m.title,
    category: m.category,
    tickSize: formatDecimal(m.tickSize, 2),
    resolvesAt: m.resolvesAt,
    outcome: m.outcome,
    status: m.status,
  };
}

export function snapshotJson(s: SnapshotView): Record<string, unknown> {
  return {
    marketId: s.marketId,
    ts: s.ts,
    bid: priceText(s.bid),
    ask: priceText(s.ask),
    last: priceText(s.last),
    bids: s.bids.map((l) => ({ price: priceText(l.price), quantity: l.quantity })),
    asks: s.asks.map((l) => ({ price: priceText(l.price), quantity: l.quantity })),
    volume24h: s.volume24h,
    averageDailyVolume: s.averageDailyVolume,
    intervalVolume: s.intervalVolume,
    status: s.status,
  };
}

export function historyJson(marketId: string, intervalMs: number, averageDailyVolume: number, points: readonly QuotePoint[]): Record<string, unknown> {
  return {
    marketId,
    intervalMs,
    averageDailyVolume,
    history: points.map((p) => ({ ts: p.ts, bid: priceText(p.bid), ask: priceText(p.ask), last: priceText(p.last), volume: p.volume })),
  };
}

export function balanceJson(b: BalanceView): Record<string, unknown> {
  return { cash: moneyText(b.cash), reserved: moneyText(b.reserved), available: moneyText(b.available) };
}

// ---- requests ---------------------------------------------------------------------------

/** Parses a request body that must be a JSON object. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ExchangeError(400, 'MALFORMED_JSON', `body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ExchangeError(400, 'MALFORMED_JSON', 'body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw ExchangeError.invalid(key, body[key], 'is not a field of this request');
  }
}

function requireField(body: Record<string, unknown>, field: string): unknown {
  if (!(field in body)) throw ExchangeError.invalid(field, undefined, 'is required');
  return body[field];
}

/** Runs a domain validator, turning its InvalidInput into a 400 naming the field. */
function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InvalidInput) throw ExchangeError.fromInvalidInput(e);
    throw e;
  }
}

export function integerField(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw ExchangeError.invalid(field, value, 'must be a JSON integer');
  if (value < min || value > max) throw ExchangeError.invalid(field, value, `must be between ${min} and ${max}`);
  return value;
}

const PLACE_FIELDS = ['clientOrderId', 'marketId', 'side', 'quantity', 'limitPrice'] as const;

/** Checks a place-order body against the engine's markets (tick grid, range, known market). */
export function parsePlaceOrder(body: Record<string, unknown>, tickSizeOf: (marketId: string) => number | null): PlaceOrder {
  rejectUnknownFields(body, PLACE_FIELDS);
  const clientOrderId = checked(() => validateClientOrderId(requireField(body, 'clientOrderId')));
  const marketId = checked(() => validateMarketId(requireField(body, 'marketId')));
  const side = checked(() => parseSide(requireField(body, 'side')));
  const quantity = integerField(requireField(body, 'quantity'), 'quantity', 1, MAX_ORDER_QUANTITY);
  const rawPrice = requireField(body, 'limitPrice');
  const tick = tickSizeOf(marketId);
  if (tick === null) throw new ExchangeError(400, 'UNKNOWN_MARKET', `unknown market ${JSON.stringify(marketId)}`, 'marketId', marketId);
  let limitPrice: number | null = null;
  if (rawPrice !== null) {
    if (typeof rawPrice !== 'string') throw ExchangeError.invalid('limitPrice', rawPrice, 'must be a decimal string like "0.43", or null for a market order');
    const micros = checked(() => parseMicros(rawPrice, 'limitPrice'));
    if (micros <= 0 || micros >= MICROS) throw ExchangeError.invalid('limitPrice', rawPrice, 'must be inside (0, 1)');
    if (micros % tick !== 0) throw ExchangeError.invalid('limitPrice', rawPrice, `must be on the ${formatDecimal(tick, 2)} tick grid`);
    limitPrice = micros;
  }
  return { clientOrderId, marketId, side, quantity, limitPrice };
}

const CURSOR_RE = /^([cs])-(\d{1,15})$/;

export function parseCursor(value: string | null, kind: 'c' | 's'): number {
  if (value === null) return 0;
  const m = CURSOR_RE.exec(value);
  if (!m || m[1] !== kind) throw ExchangeError.invalid('cursor', value, 'is not a cursor this endpoint returned');
  return Number(m[2]);
}

export const cursorText = (seq: number, kind: 'c' | 's'): string => `${kind}-${seq}`;

/** Query parameter as an integer in a range; null when absent. */
export function queryInteger(params: URLSearchParams, field: string, min: number, max: number): number | null {
  const raw = params.get(field);
  if (raw === null) return null;
  if (!/^-?\d{1,16}$/.test(raw)) throw ExchangeError.invalid(field, raw, 'must be an integer');
  return integerField(Number(raw), field, min, max);
}

export function rejectUnknownQuery(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw ExchangeError.invalid(key, params.get(key), 'is not a query parameter of this endpoint');
  }
}

export { rejectUnknownFields, requireField, checked };
