/**
 * Orders sent the way the order workflow sends them, without a server: OrderLifecycle drives the
 * submission protocol (submit, look up after an ambiguous failure, resubmit) on the real
 * submitOrder and lookupOrder activities over a venue client, each retried per the workflow's
 * activity options (drills/controllers.ts). The risk check and the records are stand-ins, and
 * following the order is not under test: once the venue has it, a poll reports it canceled.
 */
import { createOrderActivities } from '../../activities/orders';
import { createServices } from '../../activities/services';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { AlertRequest, OrderActivities } from '../../contracts/activities';
import type { PlaceOrderRequest } from '../../contracts/venue';
import type { Db } from '../../db';
import type { OrderStatus, OrderWorkflowInput } from '../../workflows/api';
import { orderRules, runLifecycle, withRetryPolicies } from '../../drills/controllers';
import { makeDeps } from '../../testkit/activities-harness';

/** Submission and lookup never touch the records: any use of them fails loudly. */
const noRecords = new Proxy(
  {},
  {
    get: () => {
      throw new Error('the submission path touched the records');
    },
  },
) as Db;

export interface SubmitTally {
  /** submitOrder calls per client order ID: each is one placeOrder of the venue client. */
  submissions: Map<string, number>;
  lookups: number;
  /** Lookups that found the order after an ambiguous submission. */
  foundByLookup: number;
  alerts: AlertRequest[];
}

export interface SubmitOptions {
  /** Retry intervals of the activity options run this many times as long (default 0.01). */
  timeScale?: number;
  /** Longest durable wait (lookup retry, resubmission backoff), ms (default 5). */
  maxWaitMs?: number;
  deadlineMs?: number;
}

/** Sends each request through OrderLifecycle; returns its final status, or the error its run ended with. */
export function lifecycleSubmitter(venue: ResilientVenue, options: SubmitOptions = {}) {
  const deps = makeDeps({ db: noRecords, venue });
  const real = createOrderActivities(deps, createServices(deps));
  const tally: SubmitTally = { submissions: new Map(), lookups: 0, foundByLookup: 0, alerts: [] };
  const acts: OrderActivities = {
    assessOrder: async () => ({ approved: true, violations: [], at: Date.now() }),
    recordOrder: async () => undefined,
    recordExecution: async () => undefined,
    submitOrder: (o) => {
      tally.submissions.set(o.clientOrderId, (tally.submissions.get(o.clientOrderId) ?? 0) + 1);
      return real.submitOrder(o);
    },
    lookupOrder: async (coid) => {
      tally.lookups += 1;
      const r = await real.lookupOrder(coid);
      if (r.found) tally.foundByLookup += 1;
      return r;
    },
    syncFills: async () => ({ pages: 0, fillsSeen: 0, fillsInserted: 0 }),
    pollOrder: async () => ({ venueOrderId: null, status: 'CANCELED', rejectReason: null, fills: [], at: Date.now() }),
    cancelOrder: async () => ({ status: 'CANCELED', at: Date.now() }),
    raiseAlert: async (a) => {
      tally.alerts.push(a);
      return { sent: true, reason: 'SENT' };
    },
  };
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  const retried = withRetryPolicies(acts, orderRules, { deadline, timeScale: options.timeScale ?? 0.01 });

  async function submit(request: PlaceOrderRequest): Promise<{ status: OrderStatus } | { error: unknown }> {
    const input: OrderWorkflowInput = {
      order: { ...request },
      context: { strategy: 'drill', sessionWorkflowId: null, tradingDay: '2026-11-21', signal: { price: request.limitPrice!, confidence: 1, at: Date.now(), metadata: {} } },
      ttlMs: 60_000,
      halted: null,
      ordersInLastMinute: 0,
      searchAttributes: false,
    };
    return runLifecycle(retried, input, options.maxWaitMs ?? 5).outcome;
  }
  return { submit, tally };
}
