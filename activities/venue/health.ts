/**
 * Connection health per venue (the reference's connection-loss recovery). Every call through the client reports here;
 * after `lostAfterFailures` consecutive connection-level failures the venue is "lost" and the
 * instant of the first of those failures is kept, so the monitor can raise the CRITICAL
 * "connection lost for more than a minute" alert (alert table, the reference's monitoring and alerts) from `lostForMs`.
 * Only failures that say the venue is unreachable or broken count: a 400 or a 401 is an
 * answer, so it proves the connection is up.
 */
import { InvalidInput } from '../../domain/errors';
import { systemClock, type Clock } from './clock';
import type { VenueErrorKind } from './errors';

const CONNECTION_FAILURES: ReadonlySet<VenueErrorKind> = new Set<VenueErrorKind>(['NETWORK', 'TIMEOUT', 'UNAVAILABLE']);

export const countsAsConnectionFailure = (kind: VenueErrorKind): boolean => CONNECTION_FAILURES.has(kind);

export interface HealthReport {
  venue: string;
  connected: boolean;
  consecutiveFailures: number;
  /** Epoch ms of the first failure of the current losing streak, once declared lost; else null. */
  lostSince: number | null;
  /** How long the connection has been lost; 0 while connected. */
  lostForMs: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastFailureKind: VenueErrorKind | null;
  /** The last outage that has ended (declared lost, then a call succeeded); null before the first. */
  lastOutage: { since: number; restoredAt: number } | null;
}

export class ConnectionHealth {
  private failures = 0;
  private streakStartedAt: number | null = null;
  private lostSince: number | null = null;
  private lastSuccessAt: number | null = null;
  private lastFailureAt: number | null = null;
  private lastFailureKind: VenueErrorKind | null = null;
  private lastOutage: { since: number; restoredAt: number } | null = null;

  constructor(
    readonly venue: string,
    private readonly lostAfterFailures = 3,
    private readonly clock: Clock = systemClock,
  ) {
    if (!Number.isSafeInteger(lostAfterFailures) || lostAfterFailures < 1) {
      throw InvalidInput.of('lostAfterFailures', lostAfterFailures, 'must be a positive integer');
    }
  }

  recordSuccess(): void {
    const now = this.clock.now();
    // Kept so that whoever acts on an outage (the session's CONNECTION_LOST_POLICY) hears of it after it ended.
    if (this.lostSince !== null) this.lastOutage = { since: this.lostSince, restoredAt: now };
    this.failures = 0;
    this.streakStartedAt = null;
    this.lostSince = null;
    this.lastSuccessAt = now;
  }

  recordFailure(kind: VenueErrorKind): void {
    if (!countsAsConnectionFailure(kind)) {
      // The venue answered: the connection itself is fine.
      this.recordSuccess();
      return;
    }
    const now = this.clock.now();
    this.failures += 1;
    this.streakStartedAt ??= now;
    this.lastFailureAt = now;
    this.lastFailureKind = kind;
    if (this.failures >= this.lostAfterFailures && this.lostSince === null) this.lostSince = this.streakStartedAt;
  }

  report(): HealthReport {
    const now = this.clock.now();
    return {
      venue: this.venue,
      connected: this.lostSince === null,
      consecutiveFailures: this.failures,
      lostSince: this.lostSince,
      lostForMs: this.lostSince === null ? 0 : now - this.lostSince,
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
      lastFailureKind: this.lastFailureKind,
      lastOutage: this.lastOutage,
    };
  }

  /** True once the connection has been lost for at least `thresholdMs` (default one minute). */
  isLostLongerThan(thresholdMs = 60_000): boolean {
    const r = this.report();
    return !r.connected && r.lostForMs >= thresholdMs;
  }
}

/**
 * One health probe: runs a cheap authenticated call (e.g. getBalance) through the venue client,
 * which records the outcome in `health`, and returns the resulting report with the error if any.
 */
export async function probeConnection(check: () => Promise<unknown>, health: ConnectionHealth): Promise<{ report: HealthReport; error: unknown }> {
  let error: unknown = null;
  try {
    await check();
  } catch (e) {
    error = e;
  }
  return { report: health.report(), error };
}
