/**
 * Synthetic prediction-market prices. The mid follows an Ornstein-Uhlenbeck process in logit
 * space around a fair value that itself drifts as a slow random walk and takes occasional news
 * jumps (Poisson arrivals, normal sizes): the price overreacts and reverts to a slowly changing
 * baseline. On top of it, when the spec asks for it, sits order-flow noise: a second, fast OU
 * component in price units (a book moves in ticks whatever the price level) that moves the
 * touch by about a tick as resting liquidity is taken and refilled. The exact OU transition is used for both, so a step of any length is correct.
 * Quotes sit on the tick grid around the mid; displayed depth is derived from a hash of
 * (seed, step, level) so reading a book never consumes random draws.
 */
import { MICROS, type Price, type Quantity, roundToTick } from '../domain/money';
import { normal, type RandomSource, seededRandom } from '../domain/random';
import { DAY_MS, type MarketSpec } from './config';

/** A seeded source that counts its draws, so its position can be saved and restored. */
export class CountingRandom implements RandomSource {
  private inner: RandomSource;
  draws = 0;
  constructor(
    readonly seed: number,
    skip = 0,
  ) {
    this.inner = seededRandom(seed);
    for (let i = 0; i < skip; i++) this.inner.next();
    this.draws = skip;
  }
  next(): number {
    this.draws++;
    return this.inner.next();
  }
}

const LOGIT_BOUND = 6;
const clampLogit = (x: number): number => Math.min(LOGIT_BOUND, Math.max(-LOGIT_BOUND, x));
export const logit = (p: number): number => Math.log(p / (1 - p));
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Mixes integers into a 32-bit hash (a small avalanche mix; simulation only). */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(part / 4294967296), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

export interface ProcessState {
  /** Logit of the mid. */
  x: number;
  /** Logit of the fair value. */
  fair: number;
  /** Order-flow noise added to the mid, micros (float); absent in state saved before it existed (0). */
  flow?: number;
  stepIndex: number;
  last: number | null;
  intervalVolume: number;
  /** Contracts traded per hour bucket: [hourIndex, quantity], newest last, at most 24. */
  hourly: [number, number][];
  rngDraws: number;
}

export interface Quote {
  bid: Price | null;
  ask: Price | null;
}

export class PriceProcess {
  readonly rng: CountingRandom;

  constructor(
    readonly spec: MarketSpec,
    readonly seed: number,
    readonly state: ProcessState,
  ) {
    this.rng = new CountingRandom(seed, state.rngDraws);
  }

  static create(spec: MarketSpec, seed: number): PriceProcess {
    const x = clampLogit(logit(spec.initialPrice / MICROS));
    return new PriceProcess(spec, seed, { x, fair: x, stepIndex: 0, last: null, intervalVolume: 0, hourly: [], rngDraws: 0 });
  }

  /** Advances the process by `dtMs` ending at `at`; returns the contracts traded in the step. */
  step(dtMs: number, at: number): number {
    const s = this.spec;
    const st = this.state;
    const dt = dtMs / DAY_MS;
    st.fair = clampLogit(st.fair + s.fairDriftPerSqrtDay * Math.sqrt(dt) * normal(this.rng));
    const jumpChance = 1 - Math.exp(-s.jumpsPerDay * dt);
    if (this.rng.next() < jumpChance) {
      const jump = s.jumpStd * normal(this.rng);
      st.fair = clampLogit(st.fair + jump);
      st.x = clampLogit(st.x + jump);
    }
    const k = s.meanReversionPerDay;
    const decay = Math.exp(-k * dt);
    const sd = k > 0 ? s.volatilityPerSqrtDay * Math.sqrt((1 - decay * decay) / (2 * k)) : s.volatilityPerSqrtDay * Math.sqrt(dt);
    st.x = clampLogit(st.fair + (st.x - st.fair) * decay + sd * normal(this.rng));
    const flowStd = s.flowNoiseMicros ?? 0;
    if (flowStd > 0) {
      // Exact OU transition with stationary sd flowStd: the noise forgets itself within seconds.
      const flowDecay = Math.exp(-(s.flowNoiseReversionPerDay ?? 0) * dt);
      st.flow = (st.flow ?? 0) * flowDecay + flowStd * Math.sqrt(1 - flowDecay * flowDecay) * normal(this.rng);
    }

    // Log-normal volume with mean ADV * dt: bursty like real flow, never negative.
    const mean = s.averageDailyVolume * dt;
    const volume = Math.max(0, Math.round(mean * Math.exp(0.8 * normal(this.rng) - 0.32)));
    st.intervalVolume = volume;
    st.stepIndex++;
    if (volume > 0) {
      const q = this.quote();
      const touch = this.rng.next() < 0.5 ? q.bid : q.ask;
      if (touch !== null) st.last = touch;
      this.recordVolume(at, volume);
    }
    st.rngDraws = this.rng.draws;
    return volume;
  }

  recordVolume(at: number, qty: number): void {
    const hour = Math.floor(at / 3_600_000);
    const buckets = this.state.hourly;
    const lastBucket = buckets[buckets.length - 1];
    if (lastBucket && lastBucket[0] === hour) lastBucket[1] += qty;
    else buckets.push([hour, qty]);
    while (buckets.length > 0 && buckets[0]![0] <= hour - 24) buckets.shift();
  }

  volume24h(at: number): number {
    const hour = Math.floor(at / 3_600_000);
    let total = 0;
    for (const [h, q] of this.state.hourly) if (h > hour - 24) total += q;
    return total;
  }

  mid(): number {
    return sigmoid(this.state.x) * MICROS + (this.state.flow ?? 0);
  }

  /** Probability of YES at resolution: the fair value. */
  fairProbability(): number {
    return sigmoid(this.state.fair);
  }

  quote(): Quote {
    const tick = this.spec.tickSize;
    const width = this.spec.spreadTicks * tick;
    let bid = roundToTick(Math.round(this.mid() - width / 2), tick, 'nearest');
    bid = Math.min(Math.max(bid, tick), MICROS - tick - width);
    if (bid < tick) return { bid: null, ask: null };
    return { bid: bid as Price, ask: (bid + width) as Price };
  }

  depth(levels: number): { bids: { price: Price; quantity: Quantity }[]; asks: { price: Price; quantity: Quantity }[] } {
    const q = this.quote();
    const tick = this.spec.tickSize;
    const base = this.spec.depthBaseQuantity;
    const bids: { price: Price; quantity: Quantity }[] = [];
    const asks: { price: Price; quantity: Quantity }[] = [];
    for (let i = 0; i < levels; i++) {
      const size = (side: number) => {
        const u = hash32(this.seed, this.state.stepIndex, i, side) / 4294967296;
        return Math.max(1, Math.round(base * (1 + 0.5 * i) * (0.5 + u))) as Quantity;
      };
      if (q.bid !== null && q.bid - i * tick >= tick) bids.push({ price: (q.bid - i * tick) as Price, quantity: size(0) });
      if (q.ask !== null && q.ask + i * tick <= MICROS - tick) asks.push({ price: (q.ask + i * tick) as Price, quantity: size(1) });
    }
    return { bids, asks };
  }
}
