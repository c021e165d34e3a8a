/** What the activities need, opened from the config: the records, the stage's venue, SMTP, the alert webhook. */
import type { ActivityDeps } from '../activities/index';
import { createSmtpMailer, smtpSettingsFrom } from '../activities/mailer';
import { createWebhookSink } from '../activities/webhook';
import { createKalshiVenue, kalshiRateLimit, type KalshiVenueOptions } from '../activities/venue/kalshi/kalshi-venue';
import { loadKalshiCredentials } from '../activities/venue/kalshi/signing';
import { createPaperVenue, PAPER_RATE_LIMIT } from '../activities/venue/paper-venue';
import { validateRateLimitConfig, type RateLimitConfig, type TokenBudget } from '../activities/venue/rate-limiter';
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import type { VenueLogger } from '../activities/venue/http';
import type { OrderIdMap } from '../contracts/venue';
import { createOrderIdMap, type Database } from '../db';
import { InvalidInput } from '../domain/errors';
import type { RiskLimits } from '../domain/risk-limits';
import { ENV, type KalshiConfig, type WorkerConfig } from '../runtime/config';
import { locateRecords, openRecords } from '../runtime/records-socket';
import { observe, type Observability } from './observability';

/** Alert cooldown per level and type (reference: 5 minutes). */
export const ALERT_COOLDOWN_MS = 5 * 60_000;
/** Cash differences up to one cent are rounding, not a mismatch. */
export const CASH_TOLERANCE_MICROS = 10_000;

export interface OpenVenueOptions {
  /** Passed through to the Kalshi adapter's factory (e.g. the records' order-ID map). */
  kalshi?: KalshiVenueOptions;
  logger?: VenueLogger;
}

/** The venue orders go to, with the names the records keep it under. */
export interface TradingVenue {
  venue: ResilientVenue;
  /** Account name in the records: "paper", or "kalshi-demo" / "kalshi-production". */
  account: string;
  venueName: string;
}

/**
 * One worker's share of the venue's rate budget when `workers` processes trade on the account:
 * every bucket's capacity (the burst) and refill divided by `workers`, the endpoint weights kept,
 * so that the workers together never burst past the venue's bucket nor outrun its refill. The
 * limiter lives in each worker's memory (docs/workers.md); dividing it is what keeps N of them
 * inside one limit. A share too small for the dearest call is refused naming WORKER_COUNT.
 */
export function venueRateShare(budget: RateLimitConfig, workers: number): RateLimitConfig {
  if (!Number.isSafeInteger(workers) || workers < 1) throw InvalidInput.of(ENV.workerCount, workers, 'must be a whole number of worker processes, at least 1');
  if (workers === 1) return budget;
  const share = <B extends TokenBudget>(b: B): B => ({ ...b, capacity: b.capacity / workers, refillPerSecond: b.refillPerSecond / workers });
  const divided: RateLimitConfig = {
    ...share(budget),
    ...(budget.budgets ? { budgets: Object.fromEntries(Object.entries(budget.budgets).map(([name, b]) => [name, share(b)])) } : {}),
  };
  try {
    return validateRateLimitConfig(divided);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    throw InvalidInput.of(ENV.workerCount, workers, `divides the venue's rate budget too finely: one worker's share cannot admit a single call (${e.problems.map((p) => `${p.field} ${String(p.value)} ${p.problem}`).join('; ')})`);
  }
}

/** Kalshi through its public factory, credentials handed over as the adapter reads them; the rate budget is this worker's share. */
export function openKalshiVenue(kalshi: KalshiConfig, orderIds: OrderIdMap, options: OpenVenueOptions = {}, workers = 1): ResilientVenue {
  const credentials = loadKalshiCredentials({ KALSHI_API_KEY_ID: kalshi.keyId, KALSHI_PRIVATE_KEY_PEM: kalshi.privateKeyPem.reveal(), KALSHI_BASE_URL: kalshi.baseUrl });
  const rateLimit = venueRateShare(options.kalshi?.rateLimit ?? kalshiRateLimit(options.kalshi?.tier), workers);
  return createKalshiVenue(credentials, orderIds, { ...options.kalshi, rateLimit, ...(options.logger ? { logger: options.logger } : {}) });
}

/**
 * The venue the stage trades on: Kalshi for LIVE (the config admits LIVE with VENUE=kalshi
 * only), the paper exchange for every other stage. SHADOW never trades on Kalshi: its
 * market data venue is `openMarketDataVenue`. Nothing falls back to paper: a missing paper
 * exchange is an error naming the variables. `orderIds` is the records' venue-order-ID map, which
 * Kalshi's fills need (they name only the venue's order).
 */
export function openTradingVenue(config: WorkerConfig, orderIds: OrderIdMap, options: OpenVenueOptions = {}): TradingVenue {
  if (config.stage === 'LIVE') {
    if (config.venue.kind !== 'kalshi') throw InvalidInput.of(ENV.venue, config.venue.kind, 'must be kalshi when TRADING_STAGE=LIVE: LIVE trades on a real venue');
    return { venue: openKalshiVenue(config.venue.kalshi, orderIds, options, config.workerCount), account: `kalshi-${config.venue.kalshi.environment}`, venueName: 'kalshi' };
  }
  const paper = config.paperExchange;
  if (paper === null) {
    throw InvalidInput.of(ENV.paperUrl, null, `is required to trade in ${config.stage}: set ${ENV.paperUrl}, ${ENV.paperKeyId} and ${ENV.paperSecret} (npm run exchange starts a paper exchange)`);
  }
  const rateLimit = venueRateShare(PAPER_RATE_LIMIT, config.workerCount);
  return { venue: createPaperVenue({ baseUrl: paper.url, keyId: paper.keyId, secret: paper.secret }, { rateLimit, ...(options.logger ? { logger: options.logger } : {}) }), account: 'paper', venueName: 'paper' };
}

/** SHADOW with VENUE=kalshi: Kalshi for market data only (no order is ever sent to it); otherwise null. */
export function openMarketDataVenue(config: WorkerConfig, orderIds: OrderIdMap, options: OpenVenueOptions = {}): ResilientVenue | null {
  return config.stage === 'SHADOW' && config.venue.kind === 'kalshi' ? openKalshiVenue(config.venue.kalshi, orderIds, options, config.workerCount) : null;
}

/** The activities' deps with other risk limits (a LIVE ramp step's): the rest is shared. */
export function withLimits(deps: ActivityDeps, limits: RiskLimits): ActivityDeps {
  return { ...deps, config: { ...deps.config, limits, maxQuoteAgeMs: limits.maxQuoteAgeMs } };
}

/**
 * Opens what the activities need: the records (options.database, else where runtime/records-socket.ts
 * locates them: PostgreSQL, a running worker's served PGlite, or PGlite under dataDir), the stage's
 * venue, SMTP. Closing closes the records too.
 */
export async function openActivityDeps(
  config: WorkerConfig,
  observability?: Pick<Observability, 'log' | 'metrics'>,
  options: Pick<OpenVenueOptions, 'kalshi'> & { database?: Database } = {},
): Promise<{ deps: ActivityDeps; close(): Promise<void> }> {
  const venueLogger = observability ? observability.metrics.venueLogger(observability.log) : undefined;
  const database = options.database ?? (await openRecords(locateRecords(config)));
  let trading: TradingVenue;
  try {
    trading = openTradingVenue(config, createOrderIdMap(database.db), { ...(options.kalshi ? { kalshi: options.kalshi } : {}), ...(venueLogger ? { logger: venueLogger } : {}) });
  } catch (e) {
    await database.close();
    throw e;
  }
  const deps: ActivityDeps = {
    db: database.db,
    venue: trading.venue,
    mailer: config.smtp === null ? null : createSmtpMailer(smtpSettingsFrom(config.smtp)),
    webhook: config.alertWebhook === null ? null : createWebhookSink(config.alertWebhook),
    config: {
      account: trading.account,
      venueName: trading.venueName,
      limits: config.riskLimits,
      breakers: config.breakers,
      timeZone: config.timeZone,
      alertCooldownMs: ALERT_COOLDOWN_MS,
      alertEmailLevels: config.alertEmailLevels,
      ...(config.modelProbabilities !== null ? { modelProbabilities: { source: config.modelProbabilities } } : {}),
      maxQuoteAgeMs: config.riskLimits.maxQuoteAgeMs,
      reconciliation: { policy: config.reconciliation.policy, cashTolerance: CASH_TOLERANCE_MICROS },
      monitoring: {
        connectionLostAlertMs: config.monitoring.connectionLostAlertMs,
        quoteStalenessAlertMs: config.monitoring.quoteStalenessAlertMs,
        rejectionRateAlertPercent: config.monitoring.rejectionRateAlertPercent,
      },
    },
    clock: () => Date.now(),
  };
  return { deps: observability ? observe(deps, observability) : deps, close: () => database.close() };
}
