import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../activities/venue/circuit-breaker';
import {
  NON_RETRYABLE_VENUE_ERROR_TYPES,
  VenueError,
  isAmbiguousOnSubmit,
  kindForStatus,
  parseRetryAfter,
  retrySemantics,
  temporalSemantics,
} from '../../activities/venue/errors';
import { ConnectionHealth } from '../../activities/venue/health';
import { TokenBucketRateLimiter } from '../../activities/venue/rate-limiter';
import { backoffDelay, withRetry } from '../../activities/venue/retry';
import { ManualClock } from './manual-clock';

const v = (kind: VenueError['kind'], extra: Partial<{ retryAfterMs: number }> = {}): VenueError =>
  new VenueError(kind, 'x', { venue: 't', operation: 'op', ...extra });

describe('error taxonomy', () => {
  it('maps HTTP statuses to kinds', () => {
    expect([401, 403, 400, 404, 409, 422, 429, 500, 502, 503].map(kindForStatus)).toEqual([
      'AUTH', 'AUTH', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'RATE_LIMITED', 'UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE',
    ]);
    expect(kindForStatus(200)).toBeNull();
  });

  it('sorts kinds into Temporal retry semantics, AUTH fatal', () => {
    expect(NON_RETRYABLE_VENUE_ERROR_TYPES).toEqual(['AUTH', 'BAD_REQUEST']);
    expect(retrySemantics('RATE_LIMITED')).toBe('retryable');
    expect(retrySemantics('AUTH')).toBe('nonRetryable');
    expect(v('AUTH').isFatal).toBe(true);
    expect(v('UNAVAILABLE').isFatal).toBe(false);
    expect(temporalSemantics(v('AUTH'))).toMatchObject({ type: 'AUTH', nonRetryable: true, fatal: true });
    expect(temporalSemantics(v('AMBIGUOUS_SUBMIT'))).toMatchObject({ type: 'AMBIGUOUS_SUBMIT', nonRetryable: false });
    expect(temporalSemantics(new Error('bug'))).toMatchObject({ type: 'VENUE_INTERNAL', nonRetryable: true });
  });

  it('treats timeouts, network errors, 5xx and garbled answers on submit as ambiguous, not 4xx/429', () => {
    for (const k of ['TIMEOUT', 'NETWORK', 'UNAVAILABLE', 'MALFORMED_RESPONSE'] as const) expect(isAmbiguousOnSubmit(v(k))).toBe(true);
    for (const k of ['AUTH', 'BAD_REQUEST', 'RATE_LIMITED', 'CIRCUIT_OPEN'] as const) expect(isAmbiguousOnSubmit(v(k))).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe('token bucket rate limiter', () => {
  it('spends weights and waits for refill instead of failing', async () => {
    const clock = new ManualClock();
    const rl = new TokenBucketRateLimiter({ capacity: 10, refillPerSecond: 10, weights: { placeOrder: 5 } }, clock);
    await rl.acquire('placeOrder');
    await rl.acquire('placeOrder');
    let done = false;
    const p = rl.acquire('getBalance').then(() => (done = true));
    await clock.advance(50);
    expect(done).toBe(false);
    await clock.advance(60);
    await p;
    expect(done).toBe(true);
    expect(rl.stats().acquired).toBe(3);
  });

  it('serves waiters first come, first served', async () => {
    const clock = new ManualClock();
    const rl = new TokenBucketRateLimiter({ capacity: 5, refillPerSecond: 5, weights: { heavy: 5 } }, clock);
    await rl.acquire('heavy');
    const order: string[] = [];
    const a = rl.acquire('heavy').then(() => order.push('heavy'));
    const b = rl.acquire('light').then(() => order.push('light'));
    await clock.advance(5_000);
    await Promise.all([a, b]);
    expect(order).toEqual(['heavy', 'light']);
  });

  it('holds every caller during a pause (429 Retry-After)', async () => {
    const clock = new ManualClock();
    const rl = new TokenBucketRateLimiter({ capacity: 100, refillPerSecond: 100 }, clock);
    rl.pause(1_000);
    let done = false;
    const p = rl.acquire('x').then(() => (done = true));
    await clock.advance(900);
    expect(done).toBe(false);
    await clock.advance(200);
    await p;
    expect(done).toBe(true);
  });

  it('reports every bad config field at once', () => {
    expect(() => new TokenBucketRateLimiter({ capacity: 0, refillPerSecond: -1, weights: { a: 0 } })).toThrow(/capacity.*refillPerSecond.*weights\.a/);
  });
});

describe('retry with full jitter', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

  it('grows exponentially, is capped, and never undercuts Retry-After', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(1, policy, () => 0.5, 2_000)).toBe(2_000);
  });

  it('retries transient errors up to maxAttempts and stops at once on fatal ones', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = withRetry(async () => {
      calls++;
      throw v('UNAVAILABLE');
    }, policy, { clock, random: () => 0.5 });
    const settled = p.catch((e: unknown) => e);
    await clock.advance(10_000);
    expect(await settled).toMatchObject({ kind: 'UNAVAILABLE' });
    expect(calls).toBe(4);

    let authCalls = 0;
    await expect(
      withRetry(async () => {
        authCalls++;
        throw v('AUTH');
      }, policy, { clock }),
    ).rejects.toMatchObject({ kind: 'AUTH' });
    expect(authCalls).toBe(1);
  });

  it('waits at least Retry-After and gives up when it exceeds the cap', async () => {
    const clock = new ManualClock();
    const delays: number[] = [];
    let calls = 0;
    const p = withRetry(async () => {
      if (++calls < 3) throw v('RATE_LIMITED', { retryAfterMs: 1_500 });
      return 'ok';
    }, policy, { clock, random: () => 0, onRetry: (i) => delays.push(i.delayMs) });
    await clock.advance(5_000);
    expect(await p).toBe('ok');
    expect(delays).toEqual([1_500, 1_500]);
    await expect(withRetry(async () => { throw v('RATE_LIMITED', { retryAfterMs: 60_000 }); }, policy, { clock })).rejects.toMatchObject({ kind: 'RATE_LIMITED' });
  });
});

describe('circuit breaker', () => {
  it('opens after 5 consecutive failures, fails fast, half-opens after the open time, closes on a good trial', async () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker('t', { failureThreshold: 5, openMs: 1_000, halfOpenTrials: 1 }, clock);
    for (let i = 0; i < 4; i++) {
      cb.admit('op');
      cb.failure();
    }
    cb.admit('op');
    cb.success();
    for (let i = 0; i < 5; i++) {
      cb.admit('op');
      cb.failure();
    }
    expect(cb.state).toBe('OPEN');
    expect(() => cb.admit('op')).toThrow(expect.objectContaining({ kind: 'CIRCUIT_OPEN' }));
    await clock.advance(1_000);
    expect(cb.state).toBe('HALF_OPEN');
    cb.admit('op');
    expect(() => cb.admit('op')).toThrow(expect.objectContaining({ kind: 'CIRCUIT_OPEN' }));
    cb.success();
    expect(cb.state).toBe('CLOSED');
    expect(cb.transitions.map((t) => t.to)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('re-opens when the half-open trial fails', async () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker('t', { failureThreshold: 1, openMs: 100, halfOpenTrials: 1 }, clock);
    cb.admit('op');
    cb.failure();
    await clock.advance(100);
    cb.admit('op');
    cb.failure();
    expect(cb.state).toBe('OPEN');
    expect(cb.remainingOpenMs()).toBe(100);
  });
});

describe('connection health', () => {
  it('reports the connection lost after N consecutive failures, from the first failure', async () => {
    const clock = new ManualClock(0);
    const h = new ConnectionHealth('t', 3, clock);
    h.recordFailure('NETWORK');
    await clock.advance(10_000);
    h.recordFailure('TIMEOUT');
    expect(h.report().connected).toBe(true);
    await clock.advance(10_000);
    h.recordFailure('UNAVAILABLE');
    expect(h.report()).toMatchObject({ connected: false, lostSince: 0, lostForMs: 20_000, consecutiveFailures: 3 });
    expect(h.isLostLongerThan(60_000)).toBe(false);
    await clock.advance(45_000);
    expect(h.isLostLongerThan(60_000)).toBe(true);
    h.recordFailure('BAD_REQUEST');
    expect(h.report()).toMatchObject({ connected: true, consecutiveFailures: 0, lostSince: null });
    // The outage is remembered once it ended, so the session can act on it afterwards (CONNECTION_LOST_POLICY).
    expect(h.report().lastOutage).toEqual({ since: 0, restoredAt: 65_000 });
  });

  it('a losing streak shorter than the lost threshold is no outage', async () => {
    const clock = new ManualClock(0);
    const h = new ConnectionHealth('t', 3, clock);
    h.recordFailure('NETWORK');
    h.recordFailure('NETWORK');
    await clock.advance(5_000);
    h.recordSuccess();
    expect(h.report().lastOutage).toBeNull();
  });
});
