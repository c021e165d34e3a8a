/**
 * The activity options of every workflow, in one place: per group of
 * activities a timeout, a retry policy and the failure types no retry can fix. The workflows
 * proxy their activities with these; the drills, which run the workflow controllers without a
 * server, retry by the same policies (drills/controllers.ts). Sandbox-safe: plain data.
 */
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/common';
import type { OrderActivities } from '../contracts/activities';
import { ActivityFailure, DomainFailure, RECORD_WRITE_NON_RETRYABLE, VenueFailure } from './failure-types';

/** Record writes retry until they succeed, unless the records refuse the data itself. */
const RECORD_WRITES: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: RECORD_WRITE_NON_RETRYABLE },
};

/** An alert gives up after ten tries; the caller decides what a lost alert means. */
const ALERTS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '60 seconds', maximumAttempts: 10 },
};

/** Pre-trade risk is short and local to the worker: a local activity saves two server round trips. */
const RISK_CHECK: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [DomainFailure.InvalidInput, DomainFailure.UnknownMarket] },
};

/**
 * One attempt: the submission protocol is the order lifecycle's (workflows/order-lifecycle.ts,
 * `submit`). A retry here would resend after a timeout or a worker that died mid-call without
 * asking the venue first; every failure goes back to the lifecycle, which looks the order up and
 * decides. The non-retryable types name the failures that are final whatever the attempt cap.
 */
const SUBMISSION: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1, nonRetryableErrorTypes: [VenueFailure.AUTH, VenueFailure.BAD_REQUEST, ActivityFailure.AMBIGUOUS_SUBMIT, DomainFailure.InvalidInput] },
};

const LOOKUP: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [VenueFailure.AUTH] },
};

/** Polls and cancels retry until the venue answers: a lost answer would mean a lost fill. */
const ORDER_VENUE_CALLS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '60 seconds', nonRetryableErrorTypes: [VenueFailure.AUTH, DomainFailure.InvalidInput] },
};

/**
 * The fill sync before each poll retries as the poll does, until the venue answers: a poll that
 * went on without it would report the order's status without its fills. Up to 50 venue pages
 * after an outage: the session's sync step allows the same time.
 */
const FILL_SYNC_BEFORE_POLL: ActivityOptions = { ...ORDER_VENUE_CALLS, startToCloseTimeout: '2 minutes' };

/** The order workflow's options, per activity; `syncFillsBeforeRisk` is the fill sync that precedes the risk check. */
export const ORDER_ACTIVITY_OPTIONS: { assessOrder: LocalActivityOptions; syncFillsBeforeRisk: LocalActivityOptions } & Record<Exclude<keyof OrderActivities, 'assessOrder'>, ActivityOptions> = {
  assessOrder: RISK_CHECK,
  /**
   * Gives up as the risk check does, and the order ends rejected as when the check cannot run
   * (the sync used to run inside it): a venue outage must not hold a signal back for later.
   */
  syncFillsBeforeRisk: RISK_CHECK,
  syncFills: FILL_SYNC_BEFORE_POLL,
  recordOrder: RECORD_WRITES,
  recordExecution: RECORD_WRITES,
  submitOrder: SUBMISSION,
  lookupOrder: LOOKUP,
  pollOrder: ORDER_VENUE_CALLS,
  cancelOrder: ORDER_VENUE_CALLS,
  raiseAlert: ALERTS,
};

/** The watch's retry policy; its timeouts follow the session's watch period (session.ts, watchActivityTimeouts). */
export const WATCH_RETRY: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [DomainFailure.InvalidInput, DomainFailure.InvalidConfig, VenueFailure.AUTH] };

/** The trading session workflow's options, per group. */
export const SESSION_ACTIVITY_OPTIONS = {
  records: RECORD_WRITES,
  /** Journal and breaker writes give up after about a minute and a half; the session keeps them and tries again later. */
  boundedRecordWrites: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: RECORD_WRITE_NON_RETRYABLE },
  },
  preflight: {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  },
  /** Fixed timeouts: histories from before SessionPatch.watchPeriods; one watch lasts at most its period, heartbeats carry the strategy state. */
  watch: { startToCloseTimeout: '30 minutes', heartbeatTimeout: '1 minute', retry: WATCH_RETRY },
  cancelAllOpenOrders: {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: [VenueFailure.AUTH] },
  },
  /** A few tries, then the session reads the records as they are (a venue outage must not hold up the breakers). */
  syncFills: {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: [DomainFailure.InvalidInput, VenueFailure.AUTH] },
  },
  alerts: ALERTS,
} satisfies Record<string, ActivityOptions>;

/** Records: retried until they succeed, within the run's own timeout (set by its schedule). */
const OPERATIONS_RETRY: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...RECORD_WRITE_NON_RETRYABLE, VenueFailure.AUTH] };

/** The operations workflows' options (reconciliation, daily reset, market resolution, the day's session start). */
export const OPERATIONS_ACTIVITY_OPTIONS = {
  records: { startToCloseTimeout: '2 minutes', retry: OPERATIONS_RETRY },
  /** A comparison that cannot finish in 10 minutes gives way: the next scheduled run comes 5 minutes later. */
  comparison: { startToCloseTimeout: '2 minutes', scheduleToCloseTimeout: '10 minutes', retry: OPERATIONS_RETRY },
  /** Settling is idempotent per market; a stuck attempt gives way to the next scheduled run. */
  settlement: { startToCloseTimeout: '2 minutes', scheduleToCloseTimeout: '10 minutes', retry: OPERATIONS_RETRY },
  /** Mail: a few minutes of retries, then the caller carries on and notes it (the alert row keeps the failure). */
  mail: {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '3 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: [DomainFailure.InvalidInput] },
  },
  /** The daily report: half an hour of retries; a report that cannot go out never holds the reset. */
  report: {
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: '30 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...RECORD_WRITE_NON_RETRYABLE] },
  },
} satisfies Record<string, ActivityOptions>;

/**
 * The shadow session's options (workflows/shadow-session.ts). The watch's timeouts follow its
 * period as the session's do; a comparison is a few reads and one idempotent write.
 */
export const SHADOW_ACTIVITY_OPTIONS = {
  watchRetry: WATCH_RETRY,
  comparison: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: [...RECORD_WRITE_NON_RETRYABLE, DomainFailure.InvalidInput, DomainFailure.UnknownMarket, VenueFailure.AUTH] },
  },
  records: RECORD_WRITES,
  alerts: ALERTS,
} satisfies Record<string, ActivityOptions | RetryPolicy>;
