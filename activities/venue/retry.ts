/**
 * Exponential backoff with full jitter: the n-th retry waits a uniform draw in
 * [0, min(cap, base * 2^(n-1))), spreading a crowd of clients apart after an outage. A venue's
 * Retry-After is a floor: we never come back earlier than it asked (the reference's retry with exponential backoff and its handling of API errors).
 */
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { systemClock, type Clock, type RandomSource } from './clock';
import { isVenueError } from './errors';

export interface RetryPolicy {
  /** Total tries including the first; 1 disables retries. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we will honour; a longer one fails the call so the workflow can reschedule. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

export function validateRetryPolicy(p: RetryPolicy): RetryPolicy {
  const problems: FieldProblem[] = [];
  if (!Number.isSafeInteger(p.maxAttempts) || p.maxAttempts < 1) problems.push({ field: 'maxAttempts', value: p.maxAttempts, problem: 'must be a positive integer' });
  if (!(Number.isFinite(p.baseDelayMs) && p.baseDelayMs >= 0)) problems.push({ field: 'baseDelayMs', value: p.baseDelayMs, problem: 'must be a non-negative number of milliseconds' });
  if (!(Number.isFinite(p.maxDelayMs) && p.maxDelayMs >= p.baseDelayMs)) problems.push({ field: 'maxDelayMs', value: p.maxDelayMs, problem: 'must be at least baseDelayMs' });
  if (!(Number.isFinite(p.maxRetryAfterMs) && p.maxRetryAfterMs >= 0)) problems.push({ field: 'maxRetryAfterMs', value: p.maxRetryAfterMs, problem: 'must be a non-negative number of milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return p;
}

/** Delay before retry number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: RandomSource, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

export interface RetryHooks {
  clock?: Clock;
  random?: RandomSource;
  /** Decides whether `error` may be retried; defaults to transient VenueErrors. */
  shouldRetry?: (error: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Runs `fn` until it succeeds, the error is not retryable, or attempts run out; rethrows the last error. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const clock = hooks.clock ?? systemClock;
  const random = hooks.random ?? Math.random;
  const shouldRetry = hooks.shouldRetry ?? ((e: unknown) => isVenueError(e) && e.isTransient);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !shouldRetry(error)) throw error;
      const retryAfter = isVenueError(error) ? error.retryAfterMs : undefined;
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) throw error;
      const delayMs = backoffDelay(attempt, policy, random, retryAfter);
      hooks.onRetry?.({ attempt, delayMs, error });
      await clock.sleep(delayMs);
    }
  }
}
