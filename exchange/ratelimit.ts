/** Per-key token buckets (the reference's token-bucket rate limiter): each request takes its endpoint's weight or is refused with a wait. */
import type { RateLimitConfig } from './config';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type TakeResult = { ok: true; remaining: number } | { ok: false; remaining: number; retryAfterSeconds: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(readonly config: RateLimitConfig) {}

  take(keyId: string, weight: number, nowMs: number): TakeResult {
    const { capacity, refillPerSecond } = this.config;
    let b = this.buckets.get(keyId);
    if (!b) {
      b = { tokens: capacity, updatedAt: nowMs };
      this.buckets.set(keyId, b);
    }
    const elapsed = Math.max(0, nowMs - b.updatedAt) / 1_000;
    b.tokens = Math.min(capacity, b.tokens + elapsed * refillPerSecond);
    b.updatedAt = nowMs;
    if (b.tokens >= weight) {
      b.tokens -= weight;
      return { ok: true, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, remaining: Math.floor(b.tokens), retryAfterSeconds: Math.max(1, Math.ceil((weight - b.tokens) / refillPerSecond)) };
  }
}
