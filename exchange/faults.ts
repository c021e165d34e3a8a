/**
 * Fault injection. One seeded draw sequence decides, per authenticated request, whether it
 * fails, is throttled, is delayed, hangs, or (for a new order) is accepted and then has its
 * response dropped; so a drill replays the same faults for the same request sequence.
 */
import { sampleLatencyMs } from '../domain/fill-model';
import { type FaultConfig, mergeFaults, NO_FAULTS } from './config';
import { CountingRandom, hash32 } from './prices';

export type PreFault =
  | { kind: 'none' }
  | { kind: 'error'; status: 500 | 502 | 503 }
  | { kind: 'rateLimitStorm'; retryAfterSeconds: number }
  | { kind: 'hang'; maxMs: number };

const ERROR_STATUSES = [500, 502, 503] as const;

export class FaultInjector {
  private current: FaultConfig;
  private rng: CountingRandom;
  private latencyRng: CountingRandom;

  constructor(
    initial: Partial<FaultConfig> = {},
    private readonly latencyMeanMs = 0,
  ) {
    this.current = mergeFaults(NO_FAULTS, initial);
    this.rng = new CountingRandom(this.current.seed);
    this.latencyRng = new CountingRandom(hash32(this.current.seed, 0x1a7));
  }

  get config(): FaultConfig {
    return { ...this.current };
  }

  /** Applies a partial update; a new seed restarts the draw sequence. */
  update(patch: unknown): FaultConfig {
    const next = mergeFaults(this.current, patch);
    if (next.seed !== this.current.seed) {
      this.rng = new CountingRandom(next.seed);
      this.latencyRng = new CountingRandom(hash32(next.seed, 0x1a7));
    }
    this.current = next;
    return this.config;
  }

  reset(): FaultConfig {
    return this.update({ ...NO_FAULTS, seed: this.current.seed });
  }

  /** Draws made before the request is processed: error, 429 storm or hang (none has a side effect). */
  beforeProcessing(): PreFault {
    const f = this.current;
    if (f.errorRate > 0 && this.rng.next() < f.errorRate) {
      return { kind: 'error', status: ERROR_STATUSES[Math.floor(this.rng.next() * ERROR_STATUSES.length)]! };
    }
    if (f.rateLimitStormRate > 0 && this.rng.next() < f.rateLimitStormRate) {
      return { kind: 'rateLimitStorm', retryAfterSeconds: f.rateLimitStormRetryAfterSeconds };
    }
    if (f.hangProbability > 0 && this.rng.next() < f.hangProbability) return { kind: 'hang', maxMs: f.hangMaxMs };
    return { kind: 'none' };
  }

  /** Milliseconds to hold the response: simulated latency plus any spike. */
  delayMs(): number {
    const f = this.current;
    let ms = this.latencyMeanMs > 0 ? sampleLatencyMs(this.latencyRng, this.latencyMeanMs) : 0;
    if (f.latencySpikeProbability > 0 && this.rng.next() < f.latencySpikeProbability) ms += f.latencySpikeMs;
    return Math.round(ms);
  }

  dropAfterAccept(): boolean {
    const p = this.current.dropAfterAcceptProbability;
    return p > 0 && this.rng.next() < p;
  }

  /**
   * With `missingFieldProbability`, deletes or nulls one field of the response's main object
   * (the order, the first list item, or the body itself). Returns the field touched, if any.
   */
  maybeDropField(body: Record<string, unknown>): string | null {
    const p = this.current.missingFieldProbability;
    if (p === 0 || this.rng.next() >= p) return null;
    let target: Record<string, unknown> = body;
    for (const key of ['order', 'orders', 'fills', 'positions', 'markets', 'settlements', 'history']) {
      const v = body[key];
      if (Array.isArray(v)) {
        if (v.length > 0 && typeof v[0] === 'object' && v[0] !== null) target = v[0] as Record<string, unknown>;
        break;
      }
      if (typeof v === 'object' && v !== null) {
        target = v as Record<string, unknown>;
        break;
      }
    }
    const keys = Object.keys(target);
    if (keys.length === 0) return null;
    const key = keys[Math.floor(this.rng.next() * keys.length)]!;
    // Nulling a field that is already null would change nothing: delete it instead.
    if (this.rng.next() < 0.5 || target[key] === null) delete target[key];
    else target[key] = null;
    return key;
  }
}
