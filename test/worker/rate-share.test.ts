/**
 * The venue's rate budget split between the workers trading on one account (WORKER_COUNT,
 * worker/activity-deps.ts venueRateShare): the setting is validated, each worker's limiter gets
 * 1/N of every bucket, N limiters hammering at once together admit no more than the venue's one
 * budget (and undivided they would), and the worker's real venue client waits on its share.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kalshiRateLimit } from '../../activities/venue/kalshi/kalshi-venue';
import { PAPER_RATE_LIMIT } from '../../activities/venue/paper-venue';
import { TokenBucketRateLimiter, type RateLimitConfig } from '../../activities/venue/rate-limiter';
import type { OrderIdMap } from '../../contracts/venue';
import { InvalidInput } from '../../domain/errors';
import { buildConfig, ENV, MAX_WORKER_COUNT } from '../../runtime/config';
import { startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { PAPER_KEY_ID, PAPER_SECRET } from '../../testkit/venue-harness';
import { openTradingVenue, venueRateShare } from '../../worker/activity-deps';
import { ManualClock } from '../venue/manual-clock';

function problemsOf(fn: () => unknown): { field: string; value: unknown; problem: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  throw new Error('expected InvalidInput');
}

describe('WORKER_COUNT', () => {
  it('defaults to one worker and reads a whole number from the environment or the file', () => {
    expect(buildConfig({}).workerCount).toBe(1);
    expect(buildConfig({ [ENV.workerCount]: '3' }).workerCount).toBe(3);
    expect(buildConfig({}, { workerCount: 4 }).workerCount).toBe(4);
    expect(buildConfig({ [ENV.workerCount]: '2' }, { workerCount: 4 }).workerCount).toBe(2);
  });

  it('refuses anything else, naming the variable and the value', () => {
    for (const bad of ['0', '-1', '2.5', 'three', String(MAX_WORKER_COUNT + 1)]) {
      expect(problemsOf(() => buildConfig({ [ENV.workerCount]: bad })), bad).toEqual([expect.objectContaining({ field: ENV.workerCount, value: bad })]);
    }
    expect(problemsOf(() => buildConfig({}, { workerCount: 'x' }))).toEqual([expect.objectContaining({ field: 'config file workerCount', value: 'x' })]);
  });
});

describe('venueRateShare', () => {
  it('gives one worker the whole budget', () => {
    expect(venueRateShare(PAPER_RATE_LIMIT, 1)).toBe(PAPER_RATE_LIMIT);
  });

  it('divides every bucket, capacity and refill, and keeps the weights', () => {
    const paper = venueRateShare(PAPER_RATE_LIMIT, 4);
    expect(paper).toMatchObject({ capacity: PAPER_RATE_LIMIT.capacity / 4, refillPerSecond: PAPER_RATE_LIMIT.refillPerSecond / 4, weights: PAPER_RATE_LIMIT.weights });
    const kalshi = kalshiRateLimit('basic');
    const share = venueRateShare(kalshi, 3);
    expect(share.capacity).toBeCloseTo(kalshi.capacity / 3);
    expect(share.refillPerSecond).toBeCloseTo(kalshi.refillPerSecond / 3);
    expect(share.budgets?.write?.capacity).toBeCloseTo(kalshi.budgets!.write!.capacity / 3);
    expect(share.budgets?.write?.refillPerSecond).toBeCloseTo(kalshi.budgets!.write!.refillPerSecond / 3);
    expect(share.budgets?.write?.endpoints).toEqual(kalshi.budgets!.write!.endpoints);
    expect(share.weights).toEqual(kalshi.weights);
  });

  it('refuses a share too small for one submission, naming WORKER_COUNT', () => {
    // The paper client's 100 points over 60 workers is 1.7 each: a submission costs 2.
    const problems = problemsOf(() => venueRateShare(PAPER_RATE_LIMIT, 60));
    expect(problems).toEqual([expect.objectContaining({ field: ENV.workerCount, value: 60 })]);
    expect(problems[0]!.problem).toContain('weights.placeOrder');
    expect(problemsOf(() => venueRateShare(PAPER_RATE_LIMIT, 0))).toEqual([expect.objectContaining({ field: ENV.workerCount, value: 0 })]);
  });

  /** Points N limiters admit in `ms` when every one of them has far more callers than budget. */
  async function admittedTogether(budget: RateLimitConfig, limiters: number, ms: number): Promise<number> {
    const clock = new ManualClock();
    let points = 0;
    for (let i = 0; i < limiters; i++) {
      const rl = new TokenBucketRateLimiter(budget, clock);
      for (let k = 0; k < 400; k++) {
        const endpoint = k % 3 === 0 ? 'placeOrder' : 'getBalance';
        void rl.acquire(endpoint).then(() => (points += rl.weightOf(endpoint)));
      }
    }
    for (let t = 0; t < ms; t += 10) await clock.advance(10);
    return points;
  }

  it('N workers each on their share together stay inside the venue budget; undivided they do not', async () => {
    const workers = 3;
    const seconds = 5;
    const venueLimit = PAPER_RATE_LIMIT.capacity + PAPER_RATE_LIMIT.refillPerSecond * seconds;
    const shared = await admittedTogether(venueRateShare(PAPER_RATE_LIMIT, workers), workers, seconds * 1_000);
    expect(shared).toBeLessThanOrEqual(venueLimit);
    // And the share is used, not wasted: within two submissions of the venue's budget.
    expect(shared).toBeGreaterThanOrEqual(venueLimit - workers * 2 * 2);
    const undivided = await admittedTogether(PAPER_RATE_LIMIT, workers, seconds * 1_000);
    expect(undivided).toBeGreaterThan(venueLimit * 2);
  });
});

describe("the worker's venue client on its share (paper exchange)", () => {
  let test: TestExchange;
  // The paper adapter never maps venue order IDs (Kalshi's fills need it).
  const noOrderIds: OrderIdMap = { clientOrderIdFor: async () => null, remember: async () => undefined };

  beforeAll(async () => {
    test = await startTestExchange();
  });

  afterAll(async () => {
    await test?.close();
  });

  /** How long callers waited on the limiter for `calls` reads fired at once through openTradingVenue. */
  async function waitedFor(workerCount: number, calls: number): Promise<number> {
    const config = { ...buildConfig({ [ENV.paperUrl]: test.exchange.url, [ENV.paperKeyId]: PAPER_KEY_ID, [ENV.paperSecret]: PAPER_SECRET }), workerCount };
    const { venue } = openTradingVenue(config, noOrderIds);
    await Promise.all(Array.from({ length: calls }, () => venue.getBalance()));
    return venue.limiterStats()!.waitedMs;
  }

  it('one worker takes 60 reads in its burst; one of three waits for its refill', async () => {
    // Within the burst nobody waits (a busy machine may tick a millisecond inside the limiter's bookkeeping).
    expect(await waitedFor(1, 60)).toBeLessThan(100);
    // 100 / 3 = 33 points at once, then 80 / 3 = 27 a second: the 27 reads past the burst wait
    // their turn in line, then 1/27 s each for a point to refill, about a second in all.
    expect(await waitedFor(3, 60)).toBeGreaterThan(500);
  });
});
