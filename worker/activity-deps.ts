/** What the activities need, opened from the config: the records, the paper venue, SMTP. */
import { join } from 'node:path';
import type { ActivityDeps } from '../activities/index';
import { createSmtpMailer, smtpSettingsFrom } from '../activities/mailer';
import { createPaperVenue } from '../activities/venue/paper-venue';
import { openDatabase } from '../db';
import { InvalidInput } from '../domain/errors';
import { ENV, type WorkerConfig } from '../runtime/config';
import { observe, type Observability } from './observability';

/** Alert cooldown per level and type (reference: 5 minutes). */
export const ALERT_COOLDOWN_MS = 5 * 60_000;
/** Cash differences up to one cent are rounding, not a mismatch. */
export const CASH_TOLERANCE_MICROS = 10_000;

/** Opens what the activities need: the records (PostgreSQL, or PGlite under dataDir), the paper venue, SMTP. */
export async function openActivityDeps(config: WorkerConfig, observability?: Pick<Observability, 'log' | 'metrics'>): Promise<{ deps: ActivityDeps; close(): Promise<void> }> {
  const paper = config.paperExchange;
  if (paper === null) {
    throw InvalidInput.of(ENV.paperUrl, null, `is required to trade: set ${ENV.paperUrl}, ${ENV.paperKeyId} and ${ENV.paperSecret} (npm run exchange starts a paper exchange)`);
  }
  const database = await openDatabase(config.database.url !== null ? { kind: 'postgres', url: config.database.url } : { kind: 'pglite', dataDir: join(config.dataDir, 'pglite') });
  const venueLogger = observability ? observability.metrics.venueLogger(observability.log) : undefined;
  const deps: ActivityDeps = {
    db: database.db,
    venue: createPaperVenue({ baseUrl: paper.url, keyId: paper.keyId, secret: paper.secret }, venueLogger ? { logger: venueLogger } : {}),
    mailer: config.smtp === null ? null : createSmtpMailer(smtpSettingsFrom(config.smtp)),
    config: {
      account: 'paper',
      venueName: 'paper',
      limits: config.riskLimits,
      breakers: config.breakers,
      timeZone: config.timeZone,
      alertCooldownMs: ALERT_COOLDOWN_MS,
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
