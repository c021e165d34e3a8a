/**
 * Per-venue circuit breaker (the reference's circuit breakers). CLOSED counts consecutive failures; at the
 * threshold (5, as in the case study) it OPENs and calls fail fast with CIRCUIT_OPEN without
 * reaching the venue. After `openMs` one trial call is let through (HALF_OPEN): success closes
 * the circuit, failure re-opens it for another `openMs`.
 */
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { systemClock, type Clock } from './clock';
import { VenueError } from './errors';

export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitBreakerConfig {
  failureThreshold: number;
  openMs: number;
  /** Trial calls allowed at once while half-open. */
  halfOpenTrials: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerConfig = { failureThreshold: 5, openMs: 30_000, halfOpenTrials: 1 };

export function validateCircuitBreakerConfig(c: CircuitBreakerConfig): CircuitBreakerConfig {
  const problems: FieldProblem[] = [];
  if (!Number.isSafeInteger(c.failureThreshold) || c.failureThreshold < 1) problems.push({ field: 'failureThreshold', value: c.failureThreshold, problem: 'must be a positive integer' });
  if (!(Number.isFinite(c.openMs) && c.openMs > 0)) problems.push({ field: 'openMs', value: c.openMs, problem: 'must be a positive number of milliseconds' });
  if (!Number.isSafeInteger(c.halfOpenTrials) || c.halfOpenTrials < 1) problems.push({ field: 'halfOpenTrials', value: c.halfOpenTrials, problem: 'must be a positive integer' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return c;
}

export interface CircuitTransition {
  from: CircuitState;
  to: CircuitState;
  at: number;
  consecutiveFailures: number;
}

export class CircuitBreaker {
  private current: CircuitState = 'CLOSED';
  private failures = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  /** The most recent transitions (at most 100), for the health page and tests. */
  readonly transitions: CircuitTransition[] = [];

  constructor(
    readonly venue: string,
    private readonly config: CircuitBreakerConfig = DEFAULT_CIRCUIT_BREAKER,
    private readonly clock: Clock = systemClock,
    private readonly onTransition?: (t: CircuitTransition) => void,
  ) {
    validateCircuitBreakerConfig(config);
  }

  get state(): CircuitState {
    if (this.current === 'OPEN' && this.clock.now() - this.openedAt >= this.config.openMs) this.move('HALF_OPEN');
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until an open circuit lets a trial through; 0 when not open. */
  remainingOpenMs(): number {
    return this.state === 'OPEN' ? Math.max(0, this.openedAt + this.config.openMs - this.clock.now()) : 0;
  }

  /** Admits a call or throws CIRCUIT_OPEN. Pair every admitted call with `success()` or `failure()`. */
  admit(operation: string): void {
    const s = this.state;
    if (s === 'CLOSED') return;
    if (s === 'HALF_OPEN' && this.trialsInFlight < this.config.halfOpenTrials) {
      this.trialsInFlight += 1;
      return;
    }
    const wait = s === 'OPEN' ? this.remainingOpenMs() : Math.min(this.config.openMs, 100);
    throw new VenueError('CIRCUIT_OPEN', `circuit ${s.toLowerCase()} after ${this.failures} consecutive failures`, {
      venue: this.venue,
      operation,
      retryAfterMs: Math.max(1, wait),
    });
  }

  success(): void {
    this.failures = 0;
    if (this.current === 'HALF_OPEN') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.move('CLOSED');
    }
  }

  failure(): void {
    this.failures += 1;
    if (this.current === 'HALF_OPEN') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.open();
    } else if (this.current === 'CLOSED' && this.failures >= this.config.failureThreshold) {
      this.open();
    }
  }

  /** A call that ended without telling us anything about venue health (e.g. a 400). */
  neutral(): void {
    if (this.current === 'HALF_OPEN') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.move('CLOSED');
    }
    this.failures = 0;
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.move('OPEN');
  }

  private move(to: CircuitState): void {
    if (to === this.current) return;
    const t: CircuitTransition = { from: this.current, to, at: this.clock.now(), consecutiveFailures: this.failures };
    this.current = to;
    if (to !== 'HALF_OPEN') this.trialsInFlight = 0;
    this.transitions.push(t);
    if (this.transitions.length > 100) this.transitions.shift();
    this.onTransition?.(t);
  }
}
