/**
 * One drill's world: the records (backend.ts), the paper exchange in this process with a venue
 * client on it (testkit/activities-harness.ts startTestExchange), and the activity dependencies
 * built the way the activity tests build them (makeDeps), with risk limits wide enough that the
 * drills' scripted orders are judged on the fault, not on position size.
 */
import type { ActivityConfig, ActivityDeps } from '../activities/deps';
import { createActivities } from '../activities/index';
import { createPaperVenue } from '../activities/venue/paper-venue';
import { Secret } from '../activities/venue/credentials';
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import type { PaperExchange, PaperExchangeOptions } from '../exchange/server';
import type { Market } from '../domain/market';
import { MICROS, type Money, type Price } from '../domain/money';
import type { RiskLimits } from '../domain/risk-limits';
import { CapturingMailer, makeDeps, startTestExchange, TEST_LIMITS, type TestExchange } from '../testkit/activities-harness';
import { PAPER_KEY_ID, PAPER_SECRET, startPaper } from '../testkit/venue-harness';
import { openDrillBackend, type DrillBackend } from './backend';

export { PAPER_KEY_ID, PAPER_SECRET };

/** The test limits with room for many scripted orders in a few markets. */
export const DRILL_LIMITS: RiskLimits = Object.freeze({
  ...TEST_LIMITS,
  maxPositionSize: 1_000_000,
  maxPositionValue: (1_000_000 * MICROS) as Money,
  maxPortfolioExposure: (10_000_000 * MICROS) as Money,
  maxCategoryExposure: (10_000_000 * MICROS) as Money,
  maxOpenPositions: 100,
  maxOrdersPerMinute: 10_000,
  maxVolumeFraction: 1,
});

/**
 * The client's timeouts and retries as the activity tests set them (startTestExchange), with the
 * circuit breaker's open time scaled down like the retry intervals (controllers.ts TIME_SCALE).
 */
export const CLIENT_OPTIONS = {
  circuitBreaker: { failureThreshold: 5, openMs: 3_000, halfOpenTrials: 1 },
  timeoutMs: 1_000,
  retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 200 },
  rateLimit: { capacity: 100_000, refillPerSecond: 100_000 },
};

/** A venue client on an exchange URL, as a separate process would build it. */
export function venueAt(url: string, overrides: { timeoutMs?: number } = {}): ResilientVenue {
  return createPaperVenue({ baseUrl: url, keyId: PAPER_KEY_ID, secret: new Secret(PAPER_SECRET) }, { ...CLIENT_OPTIONS, ...overrides });
}

export interface WorldOptions {
  exchange?: PaperExchangeOptions;
  config?: Partial<ActivityConfig>;
  clock?: () => number;
}

export class DrillWorld {
  private constructor(
    readonly backend: DrillBackend,
    private test: TestExchange,
    readonly venue: ResilientVenue,
    readonly deps: ActivityDeps,
    readonly mailer: CapturingMailer,
    readonly markets: Market[],
    private readonly exchangeOptions: PaperExchangeOptions,
  ) {}

  static async open(prefix: string, options: WorldOptions = {}): Promise<DrillWorld> {
    const backend = await openDrillBackend(prefix);
    try {
      const exchangeOptions: PaperExchangeOptions = { rateLimit: { capacity: 100_000, refillPerSecond: 100_000 }, ...options.exchange };
      const test = await startTestExchange(exchangeOptions);
      const venue = venueAt(test.exchange.url);
      const mailer = new CapturingMailer();
      const deps = makeDeps({ db: backend.db, venue, mailer, config: { limits: DRILL_LIMITS, ...options.config }, clock: options.clock });
      const markets = (await venue.listMarkets()).filter((m) => m.tickSize === 10_000 && m.resolvesAt !== null);
      return new DrillWorld(backend, test, venue, deps, mailer, markets, { ...exchangeOptions, port: test.exchange.port });
    } catch (e) {
      await backend.close();
      throw e;
    }
  }

  get exchange(): PaperExchange {
    return this.test.exchange;
  }

  get db() {
    return this.backend.db;
  }

  /** A new client (its own retry and circuit-breaker state) for the drill's end-of-trial checks. */
  freshVenue(): ResilientVenue {
    return venueAt(this.exchange.url);
  }

  activities() {
    return createActivities(this.deps);
  }

  /** A limit that crosses the ask now (the buy fills at once on an eager exchange). */
  crossingBuy(marketId: string): Promise<Price> {
    return this.test.crossingBuy(marketId);
  }

  /** A sell limit below the bid now. */
  async crossingSell(marketId: string): Promise<Price> {
    const s = await this.venue.getMarketSnapshot(marketId);
    return Math.max(10_000, (s.bid ?? 500_000) - 20_000) as Price;
  }

  /**
   * Venue restart: closes the exchange (its state is flushed to its data dir) and starts it again
   * on the same port and data dir, with the same keys; the venue client keeps its URL.
   */
  async restartExchange(downMs: number): Promise<void> {
    if (!this.exchangeOptions.dataDir) throw new Error('a venue restart needs the exchange to keep its state in a data dir');
    const { seed: _seed, ...engine } = this.test.exchange.engine.config;
    await this.test.exchange.close();
    await new Promise((r) => setTimeout(r, downMs));
    const exchange = await startPaper({ ...this.exchangeOptions, engine });
    this.test = { ...this.test, exchange, close: () => exchange.close() };
  }

  async close(): Promise<void> {
    await this.test.close();
    await this.backend.close();
  }
}
