/**
 * The one contract every venue implements (paper exchange, Kalshi, ...). Order workflows
 * reach venues only through activities built on this interface. Money uses the core's
 * fixed-point types; every order carries the client order ID made in the workflow.
 */
import type { Fill } from '../domain/fill';
import type { Market, MarketSnapshot, Side } from '../domain/market';
import type { Money, Price, Quantity } from '../domain/money';

export interface PlaceOrderRequest {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  /** Null for a market order. */
  limitPrice: Price | null;
}

import type { VenueOrderStatus } from '../domain/order';
export type { VenueOrderStatus };

export interface VenueOrder {
  venueOrderId: string;
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  limitPrice: Price | null;
  filledQuantity: Quantity;
  averageFillPrice: Price | null;
  status: VenueOrderStatus;
  /** The venue's reason when status is REJECTED. */
  rejectReason: string | null;
  /** Epoch milliseconds, venue clock. */
  createdAt: number;
  updatedAt: number;
}

export interface VenuePosition {
  marketId: string;
  /** Signed contracts: positive long, negative short. */
  quantity: number;
}

export interface VenueBalance {
  cash: Money;
}

export interface DepthLevel {
  price: Price;
  quantity: Quantity;
}

export interface VenueMarketSnapshot extends MarketSnapshot {
  bids: DepthLevel[];
  asks: DepthLevel[];
  volume24h: Quantity;
}

/** Longest fill cursor a venue may hand back: the records store it (venue_cursors). */
export const MAX_CURSOR_LENGTH = 1000;

/**
 * Why a fill cursor cannot be stored, or null. The records keep it as text and send it back to
 * the venue as it came: PostgreSQL text cannot hold a NUL byte and a lone surrogate would come
 * back as U+FFFD, so only visible ASCII is taken (the paper exchange's "c-7", Kalshi's base64url).
 */
export function fillCursorProblem(cursor: unknown): string | null {
  const ok = typeof cursor === 'string' && cursor.length >= 1 && cursor.length <= MAX_CURSOR_LENGTH && /^[\x21-\x7e]+$/.test(cursor);
  return ok ? null : `must be 1-${MAX_CURSOR_LENGTH} visible ASCII characters`;
}

export interface FillPage {
  fills: Fill[];
  /** Pass back to get the fills after these; opaque to the caller. */
  cursor: string;
  /** True when the venue holds more fills after `cursor` than this page carried; absent when unknown. */
  hasMore?: boolean;
}

/**
 * The records' map of venue order IDs to client order IDs, for venues whose fills carry only the
 * venue's order ID (Kalshi). Kept in the records, not in a worker's memory, so a restart does not
 * refetch every order. `remember` is idempotent; a venue order ID maps to one client order ID.
 */
export interface OrderIdMap {
  clientOrderIdFor(venue: string, venueOrderId: string): Promise<string | null>;
  remember(venue: string, venueOrderId: string, clientOrderId: string): Promise<void>;
}

/** A market's resolution as the venue settled it for this account. */
export interface VenueSettlement {
  /** Unique per settlement at the venue: booking it twice must change nothing. */
  settlementId: string;
  marketId: string;
  /** The resolved outcome. */
  result: 'YES' | 'NO' | 'VOID';
  /** Signed YES contracts the settlement removed (the position just before it). */
  quantity: number;
  /** Cash the venue credited (or debited) for it. */
  cash: Money;
  /** Fees charged at settlement, if any. */
  fee: Money;
  /** Epoch milliseconds, venue clock. */
  ts: number;
}

export interface SettlementPage {
  settlements: VenueSettlement[];
  /** Pass back to get the settlements after these; same rule as a fill cursor. */
  cursor: string;
  hasMore?: boolean;
}

export type OrderRef = { clientOrderId: string } | { venueOrderId: string };

export interface Venue {
  readonly name: string;
  /** Idempotent by clientOrderId: placing the same ID again returns the existing order. */
  placeOrder(request: PlaceOrderRequest): Promise<VenueOrder>;
  cancelOrder(ref: OrderRef): Promise<VenueOrder>;
  getOrderByClientId(clientOrderId: string): Promise<VenueOrder | null>;
  getOrderByVenueId(venueOrderId: string): Promise<VenueOrder | null>;
  listOpenOrders(marketId?: string): Promise<VenueOrder[]>;
  /** Fills after `cursor` (null: from the beginning), oldest first. */
  getFillsSince(cursor: string | null): Promise<FillPage>;
  getPositions(): Promise<VenuePosition[]>;
  getBalance(): Promise<VenueBalance>;
  getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot>;
  listMarkets(): Promise<Market[]>;
  /**
   * The quotes the venue recorded for a market after `sinceMs` (venue clock), oldest first, at
   * the venue's own sampling interval and as far back as it keeps them; each snapshot's
   * `intervalVolume` is what traded since the one before. Optional: a venue without price
   * history leaves it out, and a strategy there warms up on live quotes alone.
   */
  getPriceHistory?(marketId: string, sinceMs: number): Promise<MarketSnapshot[]>;
  /** Settlements after `cursor` (null: from the beginning), oldest first. Optional: a venue without them leaves it out. */
  getSettlementsSince?(cursor: string | null): Promise<SettlementPage>;
}
