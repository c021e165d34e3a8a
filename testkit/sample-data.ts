/**
 * The deterministic sample market data (written to samples/ by `npm run sample-data`).
 *
 * Each market's mid is a slowly drifting fair value plus a mean-reverting deviation
 * (Ornstein-Uhlenbeck, half-life `reversionHalfLifeHours`), plus per-quote noise. News arrives
 * at random (Poisson, `newsPerDay`): it moves the fair value and the price overreacts by a
 * further share of the move, which then decays: the overshoot the case study's strategy trades.
 * Quotes sit on a one-cent grid, usually one tick wide, sometimes two or three (which the
 * case-study spread limit refuses). The model file holds hourly estimates of the fair value
 * with a little noise. Everything is drawn from one seeded generator: the same options give
 * byte-identical files.
 */
import type { Market, MarketSnapshot } from '../domain/market';
import type { Price, Quantity } from '../domain/money';
import { normal, seededRandom } from '../domain/random';

export interface SampleOptions {
  seed: number;
  markets: number;
  days: number;
  stepMs: number;
  /** Epoch ms of the first quote (UTC midnight). */
  start?: number;
  reversionHalfLifeHours?: number;
  /** Stationary standard deviation of the deviation from fair value, in probability points. */
  deviationSd?: number;
  newsPerDay?: number;
  /** Overreaction as a share of the news move. */
  overreaction?: number;
  /** Standard deviation of independent per-quote noise (bid-ask bounce), probability points. */
  quoteNoise?: number;
}

export interface ModelEstimate {
  ts: number;
  marketId: string;
  probability: number;
}

export interface SampleData {
  markets: Market[];
  snapshots: MarketSnapshot[];
  model: ModelEstimate[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TICK = 10_000;
const CATEGORIES = ['economics', 'politics', 'economics', 'sports', 'politics', 'weather'];
const NAMES = ['CPI-ABOVE-3', 'POLL-LEAD-A', 'JOBS-BEAT', 'FINAL-HOME', 'DEBATE-WIN', 'RAIN-NYC'];

export function generateSampleData(options: SampleOptions): SampleData {
  const start = options.start ?? Date.UTC(2024, 2, 1);
  const rng = seededRandom(options.seed);
  const halfLife = (options.reversionHalfLifeHours ?? 6) * HOUR;
  const theta = Math.LN2 / halfLife; // per ms
  const devSd = options.deviationSd ?? 0.02;
  const newsRate = (options.newsPerDay ?? 0.7) / DAY; // per ms
  const overreaction = options.overreaction ?? 0.6;
  const quoteNoise = options.quoteNoise ?? 0.004;
  const dt = options.stepMs;
  const decay = Math.exp(-theta * dt);
  const shockSd = devSd * Math.sqrt(1 - decay * decay);
  const driftSd = 0.01 * Math.sqrt(dt / DAY);
  const steps = Math.floor((options.days * DAY) / dt);
  const end = start + steps * dt;

  const markets: Market[] = [];
  const state: Array<{ fair: number; dev: number; adv: number }> = [];
  for (let i = 0; i < options.markets; i++) {
    const name = `${NAMES[i % NAMES.length]}${i >= NAMES.length ? `-${Math.floor(i / NAMES.length)}` : ''}`;
    // Market 0 resolves two days before the data ends (its last days are the blackout, then
    // settlement); market 1 resolves a day after the end; the rest 9 days after, inside the case
    // study's 3-14 day window (ema-mean-reversion.ts maxDaysToResolution) once warm.
    const resolvesAt = i === 0 ? end - 2 * DAY : i === 1 ? end + DAY : end + 9 * DAY;
    markets.push({ marketId: name, category: CATEGORIES[i % CATEGORIES.length] as string, tickSize: TICK, resolvesAt, outcome: null });
    state.push({ fair: 0.3 + 0.4 * rng.next(), dev: 0, adv: 40_000 + Math.floor(rng.next() * 120_000) });
  }

  const snapshots: MarketSnapshot[] = [];
  const model: ModelEstimate[] = [];
  for (let k = 0; k < steps; k++) {
    const ts = start + k * dt;
    for (let i = 0; i < markets.length; i++) {
      const s = state[i] as { fair: number; dev: number; adv: number };
      const m = markets[i] as Market;
      if (k > 0) {
        s.fair += driftSd * normal(rng);
        s.dev = s.dev * decay + shockSd * normal(rng);
        if (rng.next() < newsRate * dt) {
          const move = 0.06 * normal(rng);
          s.fair += move;
          s.dev += overreaction * move;
        }
        s.fair = Math.min(0.9, Math.max(0.1, s.fair));
      }
      const mid = Math.min(0.97, Math.max(0.03, s.fair + s.dev + quoteNoise * normal(rng)));
      const u = rng.next();
      const spreadTicks = u < 0.85 ? 1 : u < 0.97 ? 2 : 3;
      const bidTicks = Math.round(mid * 100 - spreadTicks / 2);
      const bid = Math.min(98, Math.max(1, bidTicks));
      const ask = Math.min(99, bid + spreadTicks);
      const volume = Math.floor(-Math.log(1 - rng.next()) * (s.adv / (DAY / dt)) * 1.0);
      const last = volume > 0 ? (rng.next() < 0.5 ? bid : ask) : null;
      snapshots.push({
        marketId: m.marketId,
        ts,
        bid: (bid * TICK) as Price,
        ask: (ask * TICK) as Price,
        last: last === null ? null : ((last * TICK) as Price),
        averageDailyVolume: s.adv as Quantity,
        intervalVolume: volume as Quantity,
      });
      if ((ts - start) % HOUR === 0) {
        const p = Math.min(0.99, Math.max(0.01, s.fair + 0.01 * normal(rng)));
        model.push({ ts, marketId: m.marketId, probability: Math.round(p * 1_000) / 1_000 });
      }
      if (i === 0 && ts === (m.resolvesAt as number)) {
        // Market 0 resolves by its fair value at that instant, drawn like the real event.
        markets[0] = { ...m, outcome: rng.next() < s.fair ? 'YES' : 'NO' };
      }
    }
  }
  // Quotes of a market after it resolved make no sense: drop them.
  const m0 = markets[0];
  const kept = m0 === undefined ? snapshots : snapshots.filter((q) => q.marketId !== m0.marketId || q.ts <= (m0.resolvesAt as number));
  const model0 = m0 === undefined ? model : model.filter((e) => e.marketId !== m0.marketId || e.ts <= (m0.resolvesAt as number));
  return { markets, snapshots: kept, model: model0 };
}

export const SAMPLE_OPTIONS: SampleOptions = { seed: 20240301, markets: 4, days: 8, stepMs: 60_000 };
