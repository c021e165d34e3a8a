/**
 * What activity tests run against: the records on every back end (test/db/harness.ts: PGlite
 * always, PostgreSQL when TEST_DATABASE_URL is set), the paper exchange in-process with a
 * ResilientVenue on it, and an ActivityDeps built from them. Activities run inside
 * MockActivityEnvironment so attempt numbers, heartbeats and cancellation behave as in a worker.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';
import type { ActivityConfig, ActivityDeps, Mailer } from '../activities/deps';
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import type { PaperVenueOptions } from '../activities/venue/paper-venue';
import type { Db } from '../db';
import type { PaperExchange, PaperExchangeOptions } from '../exchange/server';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import type { Market } from '../domain/market';
import { MICROS, type Money, type Price, type Quantity } from '../domain/money';
import { CASE_STUDY_LIMITS, type RiskLimits } from '../domain/risk-limits';
import { EAGER_FILLS, paperClient, startPaper } from './venue-harness';

export { ADMIN_TOKEN, PAPER_KEY_ID, EAGER_FILLS } from './venue-harness';

/**
 * The case study's limits with a spread limit of 5 cents rather than one (CASE_STUDY_LIMITS
 * refuses anything wider). Written when the paper exchange quoted two ticks; its default markets
 * now quote one cent, which the case-study limit accepts too.
 */
export const TEST_LIMITS: RiskLimits = Object.freeze({ ...CASE_STUDY_LIMITS, maxSpread: 50_000 });

export function testConfig(overrides: Partial<ActivityConfig> = {}): ActivityConfig {
  return {
    account: 'paper',
    venueName: 'paper',
    limits: TEST_LIMITS,
    breakers: CASE_STUDY_BREAKERS,
    timeZone: 'UTC',
    alertCooldownMs: 300_000,
    maxQuoteAgeMs: 90_000,
    reconciliation: { policy: 'HALT_AND_ALERT', cashTolerance: 10_000 },
    ...overrides,
  };
}

/** Records what would have been emailed; `verifyError` makes the SMTP check fail. */
export class CapturingMailer implements Mailer {
  readonly sent: { subject: string; text: string }[] = [];
  verifyError: Error | null = null;

  async send(message: { subject: string; text: string }): Promise<{ messageId: string }> {
    this.sent.push(message);
    return { messageId: `<test-${this.sent.length}@local>` };
  }

  async verify(): Promise<void> {
    if (this.verifyError) throw this.verifyError;
  }
}

export interface TestExchange {
  exchange: PaperExchange;
  venue: ResilientVenue;
  /** A market on the cent grid that resolves in the future (the first such default market). */
  market: Market;
  /** A limit price that crosses the ask now, so an eager-fill exchange fills the buy at once. */
  crossingBuy(marketId?: string): Promise<Price>;
  /** A buy limit far below the market: rests without filling. */
  restingBuy(): Price;
  close(): Promise<void>;
}

export type VenueClientOptions = PaperVenueOptions;

/** A fresh exchange (fills certain and immediate, with fees) and a client with short timeouts for tests. */
export async function startTestExchange(options: PaperExchangeOptions = {}, client: VenueClientOptions = {}): Promise<TestExchange> {
  // Fees on (7% of qty x p x (1 - p), the prediction-market convention) so P&L tests see them.
  const exchange = await startPaper({ ...options, engine: { fillModel: { ...EAGER_FILLS, feeCoefficientPpm: 70_000 }, ...options.engine } });
  const venue = paperClient(exchange, {
    timeoutMs: 1_000,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 200 },
    ...client,
  });
  const markets = await venue.listMarkets();
  const market = markets.find((m) => m.tickSize === 10_000 && m.resolvesAt !== null) ?? markets[0]!;
  let closed: Promise<void> | null = null;
  return {
    exchange,
    venue,
    market,
    async crossingBuy(marketId = market.marketId) {
      const s = await venue.getMarketSnapshot(marketId);
      const tick = markets.find((m) => m.marketId === marketId)?.tickSize ?? 10_000;
      return Math.min(MICROS - tick, (s.ask ?? 500_000) + 2 * tick) as Price;
    },
    restingBuy: () => market.tickSize as Price,
    close: () => (closed ??= exchange.close()),
  };
}

export function makeDeps(input: { db: Db; venue: ResilientVenue; mailer?: Mailer | null; config?: Partial<ActivityConfig>; clock?: () => number }): ActivityDeps {
  return {
    db: input.db,
    venue: input.venue,
    mailer: input.mailer === undefined ? new CapturingMailer() : input.mailer,
    config: testConfig(input.config),
    clock: input.clock ?? (() => Date.now()),
  };
}

/** Runs one activity call in a fresh mock activity context (attempt, heartbeat details, ...). */
export function inActivity<R>(fn: () => Promise<R>, info: Partial<Info> = {}): Promise<R> {
  return new MockActivityEnvironment(info, { logger: quietLogger }).run(fn);
}

/** Failed activities are the point of several tests: keep the worker's failure logs out of the output. */
export const quietLogger: Logger = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export const contracts = (n: number): Quantity => n as Quantity;
export const micros = (n: number): Money => n as Money;
