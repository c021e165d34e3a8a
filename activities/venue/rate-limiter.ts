/**
 * Client-side token bucket (the reference's token-bucket rate limiter) with per-endpoint weights (the reference's note on rate limits: "an order
 * submission costs 5 points, a market data query 1"). One instance per venue, shared by every
 * call to it. `acquire` waits for capacity instead of failing; waiters are served first come,
 * first served so a heavy order submission is not starved by a stream of light reads.
 */
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { systemClock, type Clock } from './clock';

export interface RateLimitConfig {
  /** Bucket size: the largest burst, in points. */
  capacity: number;
  /** Points added per second. */
  refillPerSecond: number;
  /** Cost per endpoint name; endpoints not listed cost `defaultWeight`. */
  weights?: Readonly<Record<string, number>>;
  defaultWeight?: number;
}

export function validateRateLimitConfig(c: RateLimitConfig): RateLimitConfig {
  const problems: FieldProblem[] = [];
  if (!(Number.isFinite(c.capacity) && c.capacity > 0)) problems.push({ field: 'capacity', value: c.capacity, problem: 'must be a positive number of points' });
  if (!(Number.isFinite(c.refillPerSecond) && c.refillPerSecond > 0)) {
    problems.push({ field: 'refillPerSecond', value: c.refillPerSecond, problem: 'must be a positive number of points per second' });
  }
  const dw = c.defaultWeight ?? 1;
  if (!(Number.isFinite(dw) && dw > 0 && dw <= c.capacity)) problems.push({ field: 'defaultWeight', value: dw, problem: 'must be positive and at most the capacity' });
  for (const [name, w] of Object.entries(c.weights ?? {})) {
    if (!(Number.isFinite(w) && w > 0 && w <= c.capacity)) problems.push({ field: `weights.${name}`, value: w, problem: 'must be positive and at most the capacity' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return c;
}

export class TokenBucketRateLimiter {
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  /** Tail of the FIFO of waiters. */
  private queue: Promise<void> = Promise.resolve();
  private waitedMs = 0;
  private acquired = 0;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly clock: Clock = systemClock,
  ) {
    validateRateLimitConfig(config);
    this.tokens = config.capacity;
    this.lastRefill = clock.now();
  }

  weightOf(endpoint: string): number {
    return this.config.weights?.[endpoint] ?? this.config.defaultWeight ?? 1;
  }

  /** Waits until `endpoint`'s weight is available, then spends it. */
  acquire(endpoint: string): Promise<void> {
    const weight = this.weightOf(endpoint);
    const turn = this.queue.then(() => this.take(weight));
    // A waiter's failure must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The venue said "slow down" (429 with Retry-After): hold every caller for that long and
   * empty the bucket so the restart is gradual rather than a burst into the same wall.
   */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    this.tokens = 0;
    this.lastRefill = this.clock.now();
  }

  stats(): { acquired: number; waitedMs: number; tokens: number } {
    this.refill();
    return { acquired: this.acquired, waitedMs: this.waitedMs, tokens: this.tokens };
  }

  private refill(): void {
    const now = this.clock.now();
    if (now < this.pausedUntil) {
      this.lastRefill = now;
      return;
    }
    const from = Math.max(this.lastRefill, this.pausedUntil);
    const elapsed = Math.max(0, now - from);
    this.tokens = Math.min(this.config.capacity, this.tokens + (elapsed / 1000) * this.config.refillPerSecond);
    this.lastRefill = now;
  }

  private async take(weight: number): Promise<void> {
    const started = this.clock.now();
    for (;;) {
      this.refill();
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now);
        continue;
      }
      if (this.tokens >= weight) {
        this.tokens -= weight;
        this.acquired += 1;
        this.waitedMs += this.clock.now() - started;
        return;
      }
      const missing = weight - this.tokens;
      await this.clock.sleep(Math.max(1, Math.ceil((missing / this.config.refillPerSecond) * 1000)));
    }
  }
}
