/**
 * The live checks behind the alert table (the chapter's critical alerts) and the deployment
 * guide's monitoring thresholds, run by the market watch after each poll (and after a poll the
 * venue failed):
 *
 *   CRITICAL CONNECTION_LOST      the venue unreachable for more than connectionLostAlertMs (1 min)
 *   HIGH     FILL_RATE_LOW        fill rate < 50% (isFillRateLow)
 *   HIGH     SLIPPAGE_UNUSUAL     mean slippage per contract above the threshold (isSlippageUnusual)
 *   HIGH     REJECTION_RATE_HIGH  rejected orders > 1% of those submitted (deployment guide)
 *   HIGH     QUOTE_STALE          a quote older than 1 s when read (deployment guide)
 *   MEDIUM   RATE_LIMIT_HIT       the venue answered 429 (recorded, not emailed: MEDIUM)
 *
 * Each is raised through the alert activity (record first, then email, cooldown per level and
 * type): a connection outage once (its key is the instant it was lost), a condition that holds
 * once per cooldown window (AlertKey.monitor), so the email goes out at most once per 5 minutes.
 * A check that cannot read or an alert that cannot be sent is logged and counted: it never stops
 * the watch. The levels of the two deployment-guide rows are chosen here: both mean orders or
 * decisions are going wrong across the board, so they are emailed (HIGH).
 */
import type { ConnectionOutage } from '../contracts/activities';
import { listExecutions } from '../db';
import { FILL_RATE_ALERT_DEFAULTS, SLIPPAGE_ALERT_DEFAULTS, isFillRateLow, isSlippageUnusual, summarise } from '../domain/execution-quality';
import { AlertKey } from '../domain/ids';
import { formatDecimal } from '../domain/money';
import type { AlertLevel } from '../contracts/activities';
import type { ConnectionLostPolicy } from '../workflows/api';
import type { AlertActivities } from './alerts';
import { logEvent, type ActivityDeps, type MonitoringThresholds } from './deps';

export const MONITORING_DEFAULTS: MonitoringThresholds & { connectionLostPolicy: ConnectionLostPolicy } = Object.freeze({
  connectionLostPolicy: 'cancel',
  connectionLostAlertMs: 60_000,
  quoteStalenessAlertMs: 1_000,
  rejectionRateAlertPercent: 1,
  minOrdersForRejectionRate: 10,
  fillRate: FILL_RATE_ALERT_DEFAULTS,
  slippage: SLIPPAGE_ALERT_DEFAULTS,
  lookbackMs: 24 * 3_600_000,
  executionCheckEveryMs: 60_000,
});

export interface QuoteSeen {
  marketId: string;
  /** The quote's own time (venue clock), epoch ms. */
  ts: number;
}

/** One per worker (built with the watch activity): remembers what it has already counted. */
export class LiveMonitor {
  private rateLimitedCounted = 0;
  private lastExecutionCheck = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: ActivityDeps,
    private readonly alerts: AlertActivities,
  ) {}

  get thresholds(): MonitoringThresholds {
    return { ...MONITORING_DEFAULTS, ...this.deps.config.monitoring };
  }

  /** After a poll that read every quote. */
  async afterPoll(quotes: readonly QuoteSeen[], now: number): Promise<void> {
    await this.checkQuotes(quotes, now);
    await this.checkRateLimits(now);
    await this.checkConnection();
    if (now - this.lastExecutionCheck >= this.thresholds.executionCheckEveryMs) {
      this.lastExecutionCheck = now;
      await this.checkExecutions(now);
    }
  }

  /** After a poll the venue failed: the connection may be lost, or the venue may be throttling us. */
  async afterVenueFailure(now: number): Promise<void> {
    await this.checkRateLimits(now);
    await this.checkConnection();
  }

  /** The last outage that outlasted the alert threshold and ended at or after `from`; null if none. */
  outageEndedSince(from: number): ConnectionOutage | null {
    const outage = this.deps.venue.health()?.lastOutage ?? null;
    if (outage === null || outage.restoredAt < from || outage.restoredAt - outage.since < this.thresholds.connectionLostAlertMs) return null;
    return { since: outage.since, restoredAt: outage.restoredAt };
  }

  private async checkQuotes(quotes: readonly QuoteSeen[], now: number): Promise<void> {
    const ages: Record<string, number> = {};
    for (const q of quotes) ages[q.marketId] = Math.max(0, now - q.ts);
    this.deps.metrics?.monitoring?.({ quoteAgesMs: ages });
    const limit = this.thresholds.quoteStalenessAlertMs;
    const stale = Object.entries(ages).filter(([, age]) => age > limit);
    if (stale.length === 0) return;
    const list = stale.map(([m, age]) => `${m} ${(age / 1000).toFixed(1)} s`).join(', ');
    await this.raiseInWindow('HIGH', 'QUOTE_STALE', now, 'Market data is stale', `Quotes older than ${limit} ms when read: ${list}. Check the market data feed before trusting signals.`);
  }

  private async checkRateLimits(now: number): Promise<void> {
    const total = this.deps.venue.httpStats()?.failures.RATE_LIMITED ?? 0;
    const hits = total - this.rateLimitedCounted;
    if (hits <= 0) return;
    this.rateLimitedCounted = total;
    this.deps.metrics?.monitoring?.({ rateLimitHits: hits });
    await this.raiseInWindow('MEDIUM', 'RATE_LIMIT_HIT', now, 'API rate limit hit', `The venue answered 429 (rate limited) ${hits} time(s) since the last check (${total} since the worker started). Adjust the polling frequency.`);
  }

  private async checkConnection(): Promise<void> {
    const health = this.deps.venue.health();
    if (health === null) return;
    this.deps.metrics?.monitoring?.({ connectionLostMs: health.lostForMs });
    const limit = this.thresholds.connectionLostAlertMs;
    if (health.connected || health.lostSince === null || health.lostForMs < limit) return;
    await this.raise(
      'CRITICAL',
      'CONNECTION_LOST',
      AlertKey.connectionLost(health.venue, health.lostSince),
      `Venue connection lost for more than ${limit % 60_000 === 0 ? `${limit / 60_000} min` : `${limit / 1000} s`}`,
      `${health.venue} has not answered since ${new Date(health.lostSince).toISOString()} (${Math.round(health.lostForMs / 1000)} s, ${health.consecutiveFailures} failures in a row, last ${health.lastFailureKind ?? 'unknown'}). Check the infrastructure. When it comes back the session applies CONNECTION_LOST_POLICY to its working orders.`,
    );
  }

  private async checkExecutions(now: number): Promise<void> {
    const t = this.thresholds;
    let records;
    try {
      records = await listExecutions(this.deps.db, { since: now - t.lookbackMs, limit: 10_000 });
    } catch (e) {
      this.failed('executions', e);
      return;
    }
    const summary = summarise(records);
    const submitted = records.filter((r) => r.submittedAt !== null);
    const rejected = submitted.filter((r) => r.finalState === 'REJECTED').length;
    const rejectionRate = submitted.length === 0 ? null : rejected / submitted.length;
    this.deps.metrics?.monitoring?.({ rejectionRate, fillRate: summary.fillRate, meanSlippageMicros: summary.slippage.meanMicros });
    const hours = Math.round(t.lookbackMs / 3_600_000);
    if (isFillRateLow(summary, t.fillRate)) {
      await this.raiseInWindow(
        'HIGH',
        'FILL_RATE_LOW',
        now,
        `Fill rate under ${Math.round(t.fillRate.minFillRate * 100)}%`,
        `${summary.withFill} of ${summary.decided} decided orders filled in the last ${hours} h (${((summary.fillRate ?? 0) * 100).toFixed(1)}%). Check order pricing.`,
      );
    }
    if (isSlippageUnusual(summary, t.slippage)) {
      await this.raiseInWindow(
        'HIGH',
        'SLIPPAGE_UNUSUAL',
        now,
        'Unusual slippage',
        `Mean slippage ${formatDecimal(Math.round(summary.slippage.meanMicros ?? 0))} per contract over ${summary.filledQuantity} contracts in ${summary.withFill} orders in the last ${hours} h, above ${formatDecimal(t.slippage.maxMeanSlippageMicros)}. Check market conditions.`,
      );
    }
    // rejected / submitted > percent / 100, in integers.
    if (submitted.length >= t.minOrdersForRejectionRate && rejected * 100 > t.rejectionRateAlertPercent * submitted.length) {
      await this.raiseInWindow(
        'HIGH',
        'REJECTION_RATE_HIGH',
        now,
        `Order rejections over ${t.rejectionRateAlertPercent}%`,
        `${rejected} of ${submitted.length} orders sent in the last ${hours} h were rejected (${(((rejectionRate ?? 0) as number) * 100).toFixed(1)}%). Review order parameters.`,
      );
    }
  }

  /** A condition that holds: one alert per cooldown window. */
  private raiseInWindow(level: AlertLevel, type: string, now: number, title: string, body: string): Promise<void> {
    const window = Math.max(1, this.deps.config.alertCooldownMs);
    return this.raise(level, type, AlertKey.monitor(type, this.deps.config.account, Math.floor(now / window) * window), title, body);
  }

  private async raise(level: AlertLevel, type: string, dedupeKey: string, title: string, body: string): Promise<void> {
    try {
      await this.alerts.raiseAlert({ level, type, dedupeKey, title, body });
    } catch (e) {
      this.failed(`alert ${type}`, e);
    }
  }

  private failed(what: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.deps.metrics?.error('monitoring', what);
    logEvent(this.deps, 'alert', {}, { check: what, error: message.slice(0, 500) }, `live check: ${what} failed; the watch goes on`, 'warn');
    if (!this.deps.log) console.warn(`live check: ${what} failed; the watch goes on: ${message.slice(0, 500)}`);
  }
}
