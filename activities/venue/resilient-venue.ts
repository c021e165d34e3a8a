/**
 * The resilient venue client: the one Venue the activities layer talks to. It wraps an
 * adapter (paper, Kalshi) whose HTTP calls already go through the shared rate limiter,
 * circuit breaker, health monitor and read retries (http.ts), and adds the submission
 * protocol that keeps one client order ID to at most one venue order (book ch. 19.3.4):
 *
 *   1. submit once;
 *   2. if the outcome is unknown (timeout, dropped connection, 5xx, garbled answer), look the
 *      order up by client order ID before anything else;
 *   3. found: that is the order, return it; not found: resubmit with the SAME client order ID
 *      (the venue deduplicates on it as a second line of defence);
 *   4. if the lookup itself fails, raise AMBIGUOUS_SUBMIT and keep the ID on the unresolved
 *      list, so the workflow retries later and an alert can name it.
 *
 * Concurrent submissions of the same client order ID inside one process share one attempt.
 */
import { validateClientOrderId } from '../../domain/ids';
import { parseSide, validateMarketId, type Market, type MarketSnapshot } from '../../domain/market';
import { positiveQuantity, price } from '../../domain/money';
import { DomainError } from '../../domain/errors';
import { systemClock, type Clock, type RandomSource } from './clock';
import type { FillPage, OrderRef, PlaceOrderRequest, Venue, VenueBalance, VenueMarketSnapshot, VenueOrder, VenuePosition } from '../../contracts/venue';
import { VenueError, isAmbiguousOnSubmit, isVenueError } from './errors';
import type { HealthReport } from './health';
import type { HttpStats, VenueHttpClient } from './http';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

export interface UnresolvedSubmission {
  clientOrderId: string;
  request: PlaceOrderRequest;
  firstSeenAt: number;
  lastErrorKind: string;
  lastErrorMessage: string;
}

export interface SubmissionStats {
  submissions: number;
  ambiguousOutcomes: number;
  lookups: number;
  recoveredByLookup: number;
  resubmissions: number;
  ambiguousRaised: number;
}

export interface ResilientVenueOptions {
  /** Submissions per placeOrder call, the first included (each after a "not found" lookup). */
  maxSubmissions?: number;
  /** Backoff between a "not found" lookup and the resubmission. */
  resubmitBackoff?: RetryPolicy;
  clock?: Clock;
  random?: RandomSource;
  onUnresolved?: (u: UnresolvedSubmission) => void;
}

export class ResilientVenue implements Venue {
  readonly name: string;
  private readonly unresolved = new Map<string, UnresolvedSubmission>();
  private readonly inFlight = new Map<string, Promise<VenueOrder>>();
  private readonly counts: SubmissionStats = { submissions: 0, ambiguousOutcomes: 0, lookups: 0, recoveredByLookup: 0, resubmissions: 0, ambiguousRaised: 0 };
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly maxSubmissions: number;
  private readonly resubmitBackoff: RetryPolicy;
  /** Present exactly when the adapter serves price history. */
  readonly getPriceHistory?: (marketId: string, sinceMs: number) => Promise<MarketSnapshot[]>;

  constructor(
    private readonly inner: Venue,
    private readonly http: VenueHttpClient | null,
    private readonly options: ResilientVenueOptions = {},
  ) {
    this.name = inner.name;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.maxSubmissions = options.maxSubmissions ?? 3;
    this.resubmitBackoff = options.resubmitBackoff ?? DEFAULT_RETRY_POLICY;
    if (inner.getPriceHistory) this.getPriceHistory = inner.getPriceHistory.bind(inner);
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

  /** Submissions whose outcome is still unknown: the activities layer alerts on these. */
  unresolvedSubmissions(): UnresolvedSubmission[] {
    return [...this.unresolved.values()];
  }

  placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    this.validate(request);
    const running = this.inFlight.get(request.clientOrderId);
    if (running) return running;
    const p = this.submit(request).finally(() => this.inFlight.delete(request.clientOrderId));
    this.inFlight.set(request.clientOrderId, p);
    return p;
  }

  private async submit(request: PlaceOrderRequest): Promise<VenueOrder> {
    const id = request.clientOrderId;
    for (let submission = 1; ; submission++) {
      let outcome: unknown;
      try {
        this.counts.submissions += 1;
        const order = await this.inner.placeOrder(request);
        this.unresolved.delete(id);
        return this.checkSame(order, request);
      } catch (e) {
        if (!isAmbiguousOnSubmit(e)) throw e;
        outcome = e;
      }
      this.counts.ambiguousOutcomes += 1;
      let found: VenueOrder | null;
      try {
        this.counts.lookups += 1;
        found = await this.inner.getOrderByClientId(id);
      } catch (lookupError) {
        throw this.raiseAmbiguous(request, outcome, lookupError);
      }
      if (found !== null) {
        this.counts.recoveredByLookup += 1;
        this.unresolved.delete(id);
        return this.checkSame(found, request);
      }
      // Confirmed absent: the submission never landed, so the original failure is the answer.
      if (submission >= this.maxSubmissions) {
        this.unresolved.delete(id);
        throw outcome;
      }
      this.counts.resubmissions += 1;
      await this.clock.sleep(backoffDelay(submission, this.resubmitBackoff, this.random));
    }
  }

  private raiseAmbiguous(request: PlaceOrderRequest, outcome: unknown, lookupError: unknown): VenueError {
    this.counts.ambiguousRaised += 1;
    const kindOf = (e: unknown): string => (isVenueError(e) ? e.kind : 'UNKNOWN');
    const err = new VenueError(
      'AMBIGUOUS_SUBMIT',
      `order ${request.clientOrderId} may or may not be at the venue: submit failed with ${kindOf(outcome)}, lookup failed with ${kindOf(lookupError)}`,
      { venue: this.name, operation: 'placeOrder', clientOrderId: request.clientOrderId, cause: lookupError },
    );
    const entry: UnresolvedSubmission = {
      clientOrderId: request.clientOrderId,
      request,
      firstSeenAt: this.unresolved.get(request.clientOrderId)?.firstSeenAt ?? this.clock.now(),
      lastErrorKind: kindOf(lookupError),
      lastErrorMessage: err.message,
    };
    this.unresolved.set(request.clientOrderId, entry);
    this.options.onUnresolved?.(entry);
    return err;
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
