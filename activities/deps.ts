/**
 * What every activity factory receives (STYLE.md: activities come from a factory that receives
 * its dependencies). Built once in worker/, passed down; activities never read the environment.
 */
import type { Db } from '../db';
import type { BreakerConfig } from '../workflows/domain/breakers';
import type { ReconciliationPolicy } from '../workflows/domain/reconciliation';
import type { RiskLimits } from '../workflows/domain/risk-limits';
import type { ResilientVenue } from './venue/resilient-venue';

/** Sends one email; nodemailer's transport in production, a capturing fake or a local SMTP server in tests. */
export interface Mailer {
  /**
   * `messageId` (optional) sets the Message-ID header: alerts derive it from the dedupe key, so a
   * resend after an SMTP reply was lost carries the same ID and mail clients can fold the copies.
   */
  send(message: { subject: string; text: string; messageId?: string }): Promise<{ messageId: string }>;
  /** Checks the SMTP server answers (pre-flight "alerting reachable"). */
  verify(): Promise<void>;
}

export interface ActivityConfig {
  /** Account name in the records (positions, fills); 'paper' on the paper venue. */
  account: string;
  venueName: string;
  limits: RiskLimits;
  breakers: BreakerConfig;
  /** IANA time zone of the trading day (daily reset, reports). */
  timeZone: string;
  /** Alert cooldown per level and type (reference: 5 minutes). */
  alertCooldownMs: number;
  /** A quote older than this fails the MARKET_DATA_FRESH pre-flight check and the STALE_QUOTE rule. */
  maxQuoteAgeMs: number;
  reconciliation: { policy: ReconciliationPolicy; cashTolerance: number };
}

export interface ActivityDeps {
  db: Db;
  venue: ResilientVenue;
  /** Null when SMTP is not configured: alerts are recorded but not emailed (and pre-flight says so). */
  mailer: Mailer | null;
  config: ActivityConfig;
  /** Epoch milliseconds; injectable for tests. */
  clock: () => number;
}
