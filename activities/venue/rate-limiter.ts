/**
 * Client-side token bucket (the reference's token-bucket rate limiter) with per-endpoint weights (the reference's note on rate limits: "an order
 * submission costs 5 points, a market data query 1"). One instance per venue, shared by every
 * call to it. `acquire` waits for capacity instead of failing; waiters are served first come,
 * first served so a heavy order submission is not starved by a stream of light reads.
 */
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { systemClock, type Clock } from './clock';

export interface TokenBudget {
  /** Bucket size: the largest burst, in points. */
  capacity: number;
  /** Points added per second. */
  refillPerSecond: number;
}

export interface RateLimitConfig extends TokenBudget {
  /** Cost per endpoint name; endpoints not listed cost `defaultWeight`. */
  weights?: Readonly<Record<string, number>>;
  defaultWeight?: number;
  /**
   * Budgets billed apart from the main one (Kalshi bills writes apart from reads): an endpoint
   * listed in one draws only on that bucket, and waits only behind callers of the same bucket.
   */
  budgets?: Readonly<Record<string, TokenBudget & { endpoints: readonly string[] }>>;
}

export function validateRateLimitConfig(c: RateLimitConfig): RateLimitConfig {
  const problems: FieldProblem[] = [];
  const checkBudget = (prefix: string, b: TokenBudget): void => {
    if (!(Number.isFinite(b.capacity) && b.capacity > 0)) problems.push({ field: `${prefix}capacity`, value: b.capacity, problem: 'must be a positive number of points' });
    if (!(Number.isFinite(b.refillPerSecond) && b.refillPerSecond > 0)) {
      problems.push({ field: `${prefix}refillPerSecond`, value: b.refillPerSecond, problem: 'must be a positive number of points per second' });
    }
  };
  checkBudget('', c);
  const capacityOf = new Map<string, number>();
  for (const [name, b] of Object.entries(c.budgets ?? {})) {
    checkBudget(`budgets.${name}.`, b);
    for (const e of b.endpoints) {
      if (capacityOf.has(e)) problems.push({ field: `budgets.${name}.endpoints`, value: e, problem: 'is already billed to another budget' });
      capacityOf.set(e, b.capacity);
    }
  }
  const dw = c.defaultWeight ?? 1;
  if (!(Number.isFinite(dw) && dw > 0 && dw <= c.capacity)) problems.push({ field: 'defaultWeight', value: dw, problem: 'must be positive and at most the capacity' });
  for (const [name, w] of Object.entries(c.weights ?? {})) {
    if (!(Number.isFinite(w) && w > 0 && w <= (capacityOf.get(name) ?? c.capacity))) problems.push({ field: `weights.${name}`, value: w, problem: 'must be positive and at most the capacity of its budget' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return c;
}

class Bucket {
  tokens: number;
  lastRefill: number;
  /** Tail of the FIFO of waiters. */
  queue: Promise<void> = Promise.resolve();

  constructor(
    readonly budget: TokenBudget,
    now: number,
  ) {
    this.tokens = budget.capacity;
    this.lastRefill = now;
  }
}

export class TokenBucketRateLimiter {
  private readonly main: Bucket;
  private readonly bucketOf = new Map<string, Bucket>();
  private readonly all: Bucket[];
  private pausedUntil = 0;
  private waitedMs = 0;
  private acquired = 0;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly clock: Clock = systemClock,
  ) {
    validateRateLimitConfig(config);
    this.main = new Bucket(config, clock.now());
    this.all = [this.main];
    for (const b of Object.values(config.budgets ?? {})) {
      const bucket = new Bucket(b, clock.now());
      this.all.push(bucket);
      for (const e of b.endpoints) this.bucketOf.set(e, bucket);
    }
  }

  weightOf(endpoint: string): number {
    return this.config.weights?.[endpoint] ?? this.config.defaultWeight ?? 1;
  }

  private bucketFor(endpoint: string): Bucket {
    return this.bucketOf.get(endpoint) ?? this.main;
  }

  /** Waits until `endpoint`'s weight is available in its budget, then spends it. */
  acquire(endpoint: string): Promise<void> {
    const weight = this.weightOf(endpoint);
    const bucket = this.bucketFor(endpoint);
    const turn = bucket.queue.then(() => this.take(bucket, weight));
    // A waiter's failure must not block the ones behind it.
    bucket.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The venue said "slow down" (429 with Retry-After): hold every caller for that long and
   * empty every bucket so the restart is gradual rather than a burst into the same wall.
   */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    for (const b of this.all) {
      b.tokens = 0;
      b.lastRefill = this.clock.now();
    }
  }

  /**
   * The venue refused `endpoint` for its rate without saying for how long (Kalshi's 429 carries no
   * Retry-After): its budget is spent, so later callers wait for the refill instead of piling on.
   */
  exhausted(endpoint: string): void {
    const b = this.bucketFor(endpoint);
    this.refill(b);
    b.tokens = 0;
  }

  stats(): { acquired: number; waitedMs: number; tokens: number } {
    this.refill(this.main);
    return { acquired: this.acquired, waitedMs: this.waitedMs, tokens: this.main.tokens };
  }

  private refill(b: Bucket): void {
    const now = this.clock.now();
    if (now < this.pausedUntil) {
      b.lastRefill = now;
      return;
    }
    const from = Math.max(b.lastRefill, this.pausedUntil);
    const elapsed = Math.max(0, now - from);
    b.tokens = Math.min(b.budget.capacity, b.tokens + (elapsed / 1000) * b.budget.refillPerSecond);
    b.lastRefill = now;
  }

  private async take(b: Bucket, weight: number): Promise<void> {
    const started = this.clock.now();
    for (;;) {
      this.refill(b);
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now);
        continue;
      }
      if (b.tokens >= weight) {
        b.tokens -= weight;
        this.acquired += 1;
        this.waitedMs += this.clock.now() - started;
        return;
      }
      const missing = weight - b.tokens;
      await this.clock.sleep(Math.max(1, Math.ceil((missing / b.budget.refillPerSecond) * 1000)));
    }
  }
}
