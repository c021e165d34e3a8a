/**
 * Seeded randomness for the fill model and the backtester. The core never calls Math.random:
 * callers pass a RandomSource, so a run is reproducible from its seed (and replay-safe).
 */
export interface RandomSource {
  /** Uniform draw in [0, 1). */
  next(): number;
}

/** mulberry32: small, fast, good enough for simulation noise; not for anything secret. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Standard normal draw (Box-Muller). */
export function normal(rng: RandomSource): number {
  let u = rng.next();
  while (u <= Number.EPSILON) u = rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
