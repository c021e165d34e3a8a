/**
 * The resilient venue client: the one Venue the activities layer talks to. It wraps an
 * adapter (paper, Kalshi) whose HTTP calls already go through the shared rate limiter,
 * circuit breaker, health monitor and retries (http.ts: reads and cancels after any transient
 * failure; a submission only when it provably never reached the venue, a 429 or an open circuit).
 *
 * A submission is one attempt per call, and the call says what it knows: the venue's order
 * (placed, or REJECTED by the venue), a failure that proves nothing was placed (AUTH,
 * BAD_REQUEST, RATE_LIMITED, CIRCUIT_OPEN), or AMBIGUOUS_SUBMIT when the answer was lost
 * (timeout, dropped connection, 5xx, garbled body) and the venue may hold the order. Resolving
 * an ambiguous submission (look up, then resubmit with the same client order ID) is the order
 * lifecycle's, where the ambiguous state is durable (workflows/order-lifecycle.ts).
 *
 * Concurrent submissions of the same client order ID inside one process share one attempt.
 */
import { validateClientOrderId } from '../../domain/ids';
import { parseSide, validateMarketId, type Market, type MarketSnapshot } from '../../domain/market';
import { positiveQuantity, price } from '../../domain/money';
import { DomainError } from '../../domain/errors';
import type { FillPage, OrderRef, SettlementPage, PlaceOrderRequest, Venue, VenueBalance, VenueMarketSnapshot, VenueOrder, VenuePosition } from '../../contracts/venue';
import { VenueError, isAmbiguousOnSubmit } from './errors';
import type { HealthReport } from './health';
import type { HttpStats, VenueHttpClient } from './http';

/** Submissions this client sent, by what it learned of each. */
export interface SubmissionStats {
  /** Submissions handed to the adapter. */
  submissions: number;
  /** The venue answered with its order (REJECTED ones included). */
  answered: number;
  /** The answer was lost: the venue may or may not hold the order (AMBIGUOUS_SUBMIT). */
  ambiguousOutcomes: number;
  /** Failed in a way that proves nothing was placed. */
  notPlaced: number;
}

export class ResilientVenue implements Venue {
  readonly name: string;
  private readonly inFlight = new Map<string, Promise<VenueOrder>>();
  private readonly counts: SubmissionStats = { submissions: 0, answered: 0, ambiguousOutcomes: 0, notPlaced: 0 };
  /** Present exactly when the adapter serves price history. */
  readonly getPriceHistory?: (marketId: string, sinceMs: number) => Promise<MarketSnapshot[]>;
  /** Present exactly when the adapter serves settlements. */
  readonly getSettlementsSince?: (cursor: string | null) => Promise<SettlementPage>;

  constructor(
    private readonly inner: Venue,
    private readonly http: VenueHttpClient | null,
  ) {
    this.name = inner.name;
    if (inner.getPriceHistory) this.getPriceHistory = inner.getPriceHistory.bind(inner);
    if (inner.getSettlementsSince) this.getSettlementsSince = inner.getSettlementsSince.bind(inner);
  }

  /** Connection health for the "connection lost over a minute" alert; null without a transport. */
  health(): HealthReport | null {
    return this.http?.health.report() ?? null;
  }

  httpStats(): HttpStats | null {
    return this.http?.stats() ?? null;
  }

  /** Calls admitted by the shared rate limiter and the total time callers waited for it. */
  limiterStats(): { acquired: number; waitedMs: number } | null {
    if (!this.http) return null;
    const { acquired, waitedMs } = this.http.limiter.stats();
    return { acquired, waitedMs };
  }

  submissionStats(): SubmissionStats {
    return { ...this.counts };
  }

  placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    this.validate(request);
    const running = this.inFlight.get(request.clientOrderId);
    if (running) return running;
    const p = this.submitOnce(request).finally(() => this.inFlight.delete(request.clientOrderId));
    this.inFlight.set(request.clientOrderId, p);
    return p;
  }

  private async submitOnce(request: PlaceOrderRequest): Promise<VenueOrder> {
    this.counts.submissions += 1;
    let order: VenueOrder;
    try {
      order = await this.inner.placeOrder(request);
    } catch (e) {
      if (!isAmbiguousOnSubmit(e)) {
        this.counts.notPlaced += 1;
        throw e;
      }
      this.counts.ambiguousOutcomes += 1;
      throw this.ambiguous(request, e as VenueError);
    }
    this.counts.answered += 1;
    return this.checkSame(order, request);
  }

  private ambiguous(request: PlaceOrderRequest, outcome: VenueError): VenueError {
    return new VenueError('AMBIGUOUS_SUBMIT', `order ${request.clientOrderId} may or may not be at the venue: the submission failed with ${outcome.kind} (${outcome.message})`, {
      venue: this.name,
      operation: 'placeOrder',
      clientOrderId: request.clientOrderId,
      status: outcome.status,
      cause: outcome,
    });
  }

  /** The venue's order under this client order ID must be the one we asked for. */
  private checkSame(order: VenueOrder, request: PlaceOrderRequest): VenueOrder {
    const diffs: string[] = [];
    if (order.clientOrderId !== request.clientOrderId) diffs.push(`clientOrderId ${order.clientOrderId}`);
    if (order.marketId !== request.marketId) diffs.push(`marketId ${order.marketId}`);
    if (order.side !== request.side) diffs.push(`side ${order.side}`);
    if (order.quantity !== request.quantity) diffs.push(`quantity ${order.quantity}`);
    if (order.limitPrice !== request.limitPrice) diffs.push(`limitPrice ${String(order.limitPrice)}`);
    if (diffs.length === 0) return order;
    throw new VenueError('BAD_REQUEST', `client order ID already holds a different order (${diffs.join(', ')})`, {
      venue: this.name,
      operation: 'placeOrder',
      clientOrderId: request.clientOrderId,
      venueCode: 'CLIENT_ORDER_ID_REUSED',
    });
  }

  private validate(r: PlaceOrderRequest): void {
    const check = (field: string, value: unknown, fn: () => unknown): void => {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        throw new VenueError('BAD_REQUEST', e.message, { venue: this.name, operation: 'placeOrder', field, value, clientOrderId: r.clientOrderId });
      }
    };
    check('clientOrderId', r.clientOrderId, () => validateClientOrderId(r.clientOrderId));
    check('marketId', r.marketId, () => validateMarketId(r.marketId));
    check('side', r.side, () => parseSide(r.side));
    check('quantity', r.quantity, () => positiveQuantity(r.quantity));
    if (r.limitPrice !== null) check('limitPrice', r.limitPrice, () => price(r.limitPrice as number, 'limitPrice'));
  }

  cancelOrder(ref: OrderRef): Promise<VenueOrder> {
    return this.inner.cancelOrder(ref);
  }

  getOrderByClientId(clientOrderId: string): Promise<VenueOrder | null> {
    return this.inner.getOrderByClientId(clientOrderId);
  }

  getOrderByVenueId(venueOrderId: string): Promise<VenueOrder | null> {
    return this.inner.getOrderByVenueId(venueOrderId);
  }

  listOpenOrders(marketId?: string): Promise<VenueOrder[]> {
    return this.inner.listOpenOrders(marketId);
  }

  getFillsSince(cursor: string | null): Promise<FillPage> {
    return this.inner.getFillsSince(cursor);
  }

  getPositions(): Promise<VenuePosition[]> {
    return this.inner.getPositions();
  }

  getBalance(): Promise<VenueBalance> {
    return this.inner.getBalance();
  }

  getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    return this.inner.getMarketSnapshot(marketId);
  }

  listMarkets(): Promise<Market[]> {
    return this.inner.listMarkets();
  }
}
