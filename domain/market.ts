/** Markets and quotes, in the core's fixed-point types. */
import { InvalidInput, UnknownMarket } from './errors';
import { MICROS, type Price, type Quantity } from './money';

export type Side = 'BUY' | 'SELL';
export const SIDES: readonly Side[] = ['BUY', 'SELL'];

export function parseSide(value: unknown, field = 'side'): Side {
  if (value === 'BUY' || value === 'SELL') return value;
  throw InvalidInput.of(field, value, 'must be BUY or SELL');
}

/** +1 for a buy, -1 for a sell: the sign a fill adds to a position. */
export const sideSign = (side: Side): 1 | -1 => (side === 'BUY' ? 1 : -1);

export type Outcome = 'YES' | 'NO';

export interface Market {
  marketId: string;
  /** Concentration group for the category-exposure limit (e.g. "politics", "economics"). */
  category: string;
  /** Tick size in micros (10_000 = one cent). */
  tickSize: number;
  /** Epoch milliseconds when the event resolves; null when unknown. */
  resolvesAt: number | null;
  /** Set once the market has resolved. */
  outcome: Outcome | null;
}

/** Top of book and activity for one market at one instant. Prices are null when a side is empty. */
export interface MarketSnapshot {
  marketId: string;
  /** Epoch milliseconds of the quote, from the venue or the data file. */
  ts: number;
  bid: Price | null;
  ask: Price | null;
  last: Price | null;
  /** Average daily volume in contracts, for the liquidity check. */
  averageDailyVolume: Quantity;
  /** Contracts traded since the previous snapshot, for participation-capped fills. */
  intervalVolume: Quantity;
}

/** Mid of bid and ask, else last; null when neither exists (the reference's position tracking and P&L: mark at mid, else last). */
export function markPrice(s: Pick<MarketSnapshot, 'bid' | 'ask' | 'last'>): Price | null {
  if (s.bid !== null && s.ask !== null) return Math.round((s.bid + s.ask) / 2) as Price;
  return s.last;
}

export function spread(s: Pick<MarketSnapshot, 'bid' | 'ask'>): number | null {
  return s.bid !== null && s.ask !== null ? s.ask - s.bid : null;
}

const MARKET_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function validateMarketId(value: unknown, field = 'marketId'): string {
  if (typeof value !== 'string' || !MARKET_ID_RE.test(value)) {
    throw InvalidInput.of(field, value, 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"');
  }
  return value;
}

export function validateMarket(m: Market): Market {
  const problems = [];
  if (typeof m.marketId !== 'string' || !MARKET_ID_RE.test(m.marketId)) {
    problems.push({ field: 'marketId', value: m.marketId, problem: 'must be 1-128 letters, digits, ".", "_", ":" or "-"' });
  }
  if (typeof m.category !== 'string' || m.category.length === 0 || m.category.length > 64) {
    problems.push({ field: 'category', value: m.category, problem: 'must be a non-empty string of at most 64 characters' });
  }
  if (!Number.isSafeInteger(m.tickSize) || m.tickSize <= 0 || MICROS % m.tickSize !== 0) {
    problems.push({ field: 'tickSize', value: m.tickSize, problem: 'must be a positive number of micros dividing 1.000000' });
  }
  if (m.resolvesAt !== null && !Number.isSafeInteger(m.resolvesAt)) {
    problems.push({ field: 'resolvesAt', value: m.resolvesAt, problem: 'must be epoch milliseconds or null' });
  }
  if (m.outcome !== null && m.outcome !== 'YES' && m.outcome !== 'NO') {
    problems.push({ field: 'outcome', value: m.outcome, problem: 'must be YES, NO or null' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return m;
}

/** Looks a market up, failing with a typed UnknownMarket rather than a silent default. */
export function requireMarket(markets: ReadonlyMap<string, Market>, marketId: string): Market {
  const m = markets.get(marketId);
  if (!m) throw new UnknownMarket(marketId);
  return m;
}
