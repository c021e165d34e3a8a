/** Time for the venue client, injectable so limiter, backoff and breaker tests run without real waits. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** Uniform draw in [0, 1); injectable for deterministic jitter in tests. */
export type RandomSource = () => number;
