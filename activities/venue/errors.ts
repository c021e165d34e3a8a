/**
 * Venue error taxonomy. Every failure that crosses a venue adapter is a VenueError with a
 * stable `kind`; the activities layer turns it into an ApplicationFailure whose `type` is the
 * kind and whose nonRetryable flag comes from `temporalSemantics`.
 *
 * Handling follows the book's error table (the reference's handling of API errors): authentication stops trading and
 * alerts; a bad request is a bug and is not retried; rate limits and server/network errors
 * are retried with backoff; a timeout on an order submission is ambiguous and must be
 * resolved by looking the order up before any resubmission.
 *
 * Messages never carry credentials: they are built from the status, the venue's error code
 * and message (with any known secret scrubbed out by the transport), never from headers.
 */
import { describeValue } from '../../domain/errors';

export const VenueErrorKind = {
  /** 401/403: credentials rejected. Fatal: stop trading and raise a CRITICAL alert. */
  AUTH: 'AUTH',
  /** 400/404/409/422: the request is wrong; retrying cannot help. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** 429: slow down; `retryAfterMs` carries the venue's Retry-After when given. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** 5xx: the venue is failing. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** Connection refused/reset, DNS failure: no usable response. */
  NETWORK: 'NETWORK',
  /** No response within the deadline. On a submission this means "maybe placed". */
  TIMEOUT: 'TIMEOUT',
  /** A submission whose answer was lost (timeout, dropped connection, 5xx, garbled body): only a lookup can tell. */
  AMBIGUOUS_SUBMIT: 'AMBIGUOUS_SUBMIT',
  /** The venue answered, but a field was missing, null or of the wrong type. */
  MALFORMED_RESPONSE: 'MALFORMED_RESPONSE',
  /** The circuit breaker is open: the call was not sent. */
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
} as const;
export type VenueErrorKind = (typeof VenueErrorKind)[keyof typeof VenueErrorKind];

export const VENUE_ERROR_KINDS: readonly VenueErrorKind[] = Object.values(VenueErrorKind);

/** Kinds whose retry inside the client (same request, after backoff) is safe for idempotent calls. */
const TRANSIENT: ReadonlySet<VenueErrorKind> = new Set<VenueErrorKind>(['RATE_LIMITED', 'UNAVAILABLE', 'NETWORK', 'TIMEOUT', 'CIRCUIT_OPEN']);

/**
 * Kinds that mean "the venue may have acted on a submission we did not hear back about".
 * A malformed answer to a submission is included: the venue may well have accepted it.
 */
const AMBIGUOUS_ON_SUBMIT: ReadonlySet<VenueErrorKind> = new Set<VenueErrorKind>(['TIMEOUT', 'NETWORK', 'UNAVAILABLE', 'MALFORMED_RESPONSE']);

/** Temporal retry semantics per kind: non-retryable kinds fail the activity at once. */
const NON_RETRYABLE: ReadonlySet<VenueErrorKind> = new Set<VenueErrorKind>(['AUTH', 'BAD_REQUEST']);

/**
 * ApplicationFailure `type` strings that must be listed in `nonRetryableErrorTypes` of every
 * venue activity retry policy. MALFORMED_RESPONSE stays retryable at the activity level (a
 * truncated body is often transient; the activity's maximumAttempts bounds it) but is never
 * retried inside the client; AMBIGUOUS_SUBMIT is never retried blindly: the submit activity
 * runs once and the order workflow looks the order up.
 */
export const NON_RETRYABLE_VENUE_ERROR_TYPES: readonly string[] = VENUE_ERROR_KINDS.filter((k) => NON_RETRYABLE.has(k));

export type RetrySemantics = 'retryable' | 'nonRetryable';

export function retrySemantics(kind: VenueErrorKind): RetrySemantics {
  return NON_RETRYABLE.has(kind) ? 'nonRetryable' : 'retryable';
}

export interface VenueErrorDetails {
  venue: string;
  /** Logical operation, e.g. "placeOrder", "getBalance". */
  operation: string;
  status?: number;
  retryAfterMs?: number;
  /** The venue's own error code, when its error body carried one. */
  venueCode?: string;
  /** For MALFORMED_RESPONSE: the offending field path and the value it had. */
  field?: string;
  value?: unknown;
  clientOrderId?: string;
  cause?: unknown;
}

export class VenueError extends Error {
  readonly kind: VenueErrorKind;
  readonly venue: string;
  readonly operation: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly venueCode: string | undefined;
  readonly field: string | undefined;
  readonly value: unknown;
  readonly clientOrderId: string | undefined;

  constructor(kind: VenueErrorKind, message: string, details: VenueErrorDetails) {
    super(`${details.venue} ${details.operation}: ${kind}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'VenueError';
    this.kind = kind;
    this.venue = details.venue;
    this.operation = details.operation;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.venueCode = details.venueCode;
    this.field = details.field;
    this.value = details.value;
    this.clientOrderId = details.clientOrderId;
  }

  /** Authentication failure: stop trading, raise a CRITICAL alert, never retry. */
  get isFatal(): boolean {
    return this.kind === 'AUTH';
  }

  /** Safe to repeat the same idempotent request after backoff. */
  get isTransient(): boolean {
    return TRANSIENT.has(this.kind);
  }

  get retryable(): boolean {
    return !NON_RETRYABLE.has(this.kind);
  }

  /** A plain object for structured logs; carries no headers, bodies or credentials. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      venue: this.venue,
      operation: this.operation,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      venueCode: this.venueCode,
      field: this.field,
      value: this.field === undefined ? undefined : describeValue(this.value),
      clientOrderId: this.clientOrderId,
      message: this.message,
    };
  }
}

export const isVenueError = (e: unknown): e is VenueError => e instanceof VenueError;

export function isAmbiguousOnSubmit(e: unknown): boolean {
  return isVenueError(e) && AMBIGUOUS_ON_SUBMIT.has(e.kind);
}

/** A missing, null or wrong-typed field in a venue response. */
export function malformed(venue: string, operation: string, field: string, value: unknown, expected: string): VenueError {
  return new VenueError('MALFORMED_RESPONSE', `field ${field} ${expected} (got ${describeValue(value)})`, {
    venue,
    operation,
    field,
    value,
  });
}

/** HTTP status to kind (the reference's handling of API errors). Anything unexpected in 4xx is a bad request. */
export function kindForStatus(status: number): VenueErrorKind | null {
  if (status >= 200 && status < 300) return null;
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 408) return 'TIMEOUT';
  if (status >= 500) return 'UNAVAILABLE';
  return 'BAD_REQUEST';
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Returns undefined when absent or unreadable; `nowMs` is only used for the date form.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Temporal semantics of any error thrown by the venue layer. Non-venue errors are bugs: non-retryable. */
export interface FailureSpec {
  type: string;
  nonRetryable: boolean;
  fatal: boolean;
  message: string;
}

export function temporalSemantics(e: unknown): FailureSpec {
  if (isVenueError(e)) return { type: e.kind, nonRetryable: !e.retryable, fatal: e.isFatal, message: e.message };
  const message = e instanceof Error ? e.message : String(e);
  return { type: 'VENUE_INTERNAL', nonRetryable: true, fatal: false, message };
}
