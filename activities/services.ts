/**
 * In-memory helpers the activity factories share, built once by `createActivities` and handed
 * to each factory: the market cache, the account's fill sync (so concurrent callers coalesce
 * into one sync), the venue request counter behind the error-rate breaker, the last cash the
 * venue reported, and the alerts.
 */
import { formatDecimal, type Money } from '../domain/money';
import type { Fill } from '../domain/fill';
import { createAlertActivities, type AlertActivities } from './alerts';
import { logEvent, type ActivityDeps } from './deps';
import { FillSync } from './fill-sync';
import { MarketBook } from './portfolio';
import type { HttpStats } from './venue/http';
import type { ResilientVenue } from './venue/resilient-venue';

/** Failure kinds that say the venue is failing us; a 4xx answer (BAD_REQUEST) is the venue working. */
const ERROR_KINDS = ['AUTH', 'RATE_LIMITED', 'UNAVAILABLE', 'NETWORK', 'TIMEOUT', 'MALFORMED_RESPONSE'] as const;

interface RequestSample {
  at: number;
  requests: number;
  errors: number;
}

function totals(stats: HttpStats | null): { requests: number; errors: number } {
  if (!stats) return { requests: 0, errors: 0 };
  const requests = Object.values(stats.attempts).reduce((s, n) => s + n, 0);
  const errors = ERROR_KINDS.reduce((s, k) => s + (stats.failures[k] ?? 0), 0);
  return { requests, errors };
}

/**
 * Venue requests and errors in a trailing window, from the HTTP client's running totals. The
 * totals are sampled at each call; the count in the window is the growth since the newest sample
 * at least a window old (or since the worker started, when it is younger than the window).
 * A worker restart starts counting afresh: the breaker sees this worker's traffic only.
 */
export class RequestWindow {
  private readonly samples: RequestSample[] = [];

  constructor(
    private readonly venue: ResilientVenue,
    startedAt: number,
  ) {
    this.samples.push({ at: startedAt, ...totals(venue.httpStats()) });
  }

  count(now: number, windowMs: number): { requests: number; errors: number } {
    const current = { at: now, ...totals(this.venue.httpStats()) };
    const edge = now - windowMs;
    let base: RequestSample = { at: edge, requests: 0, errors: 0 };
    for (const s of this.samples) if (s.at <= edge) base = s;
    // Keep one sample at or before the edge (the base of the next call) and everything after.
    while (this.samples.length > 1 && this.samples[1]!.at <= edge) this.samples.shift();
    this.samples.push(current);
    if (this.samples.length > 10_000) this.samples.splice(1, this.samples.length - 5_000);
    return { requests: Math.max(0, current.requests - base.requests), errors: Math.max(0, current.errors - base.errors) };
  }
}

/**
 * The account's cash as the venue last reported it. Equity needs a cash figure; when the venue
 * does not answer, the session measures with the last one this worker saw rather than none.
 */
export class CashBook {
  private last: Money | null = null;

  constructor(private readonly venue: ResilientVenue) {}

  /** Asks the venue and remembers the answer. */
  async read(): Promise<Money> {
    const { cash } = await this.venue.getBalance();
    this.last = cash;
    return cash;
  }

  /** The last cash the venue reported to this worker, or null before the first answer. */
  lastKnown(): Money | null {
    return this.last;
  }
}

export interface ActivityServices {
  markets: MarketBook;
  fills: FillSync;
  requests: RequestWindow;
  cash: CashBook;
  alerts: AlertActivities;
}

/** One log line and one count per fill the ledger recorded for the first time. */
function fillsRecorded(deps: ActivityDeps, fills: readonly Fill[]): void {
  for (const f of fills) {
    deps.metrics?.fill(f);
    logEvent(
      deps,
      'fill',
      { clientOrderId: f.clientOrderId },
      { tradeId: f.tradeId, marketId: f.marketId, side: f.side, quantity: f.quantity, price: formatDecimal(f.price, 2), fee: formatDecimal(f.fee, 2), ts: f.ts, account: deps.config.account },
      'fill recorded',
    );
  }
}

/** One set per worker (or per test): every factory `createActivities` composes gets the same. */
export function createServices(deps: ActivityDeps): ActivityServices {
  return {
    markets: new MarketBook(deps.db, deps.venue, deps.config.venueName),
    fills: new FillSync(deps.db, deps.venue, deps.config.account, deps.config.timeZone, deps.log || deps.metrics ? (fills) => fillsRecorded(deps, fills) : undefined),
    requests: new RequestWindow(deps.venue, deps.clock()),
    cash: new CashBook(deps.venue),
    alerts: createAlertActivities(deps),
  };
}
