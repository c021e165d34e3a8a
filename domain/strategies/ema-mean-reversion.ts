/**
 * EMA mean reversion, the case study's strategy (reference 001, "Formalizing the Signal"):
 *
 *   fair value  = EMA of the mid (span 48 h)
 *   z           = (mid - fair value) / sd(deviations)
 *   signal s    = -z   (positive when the price is cheap against fair value)
 *   enter long  when s >  entryThreshold (1.5; 1.3 after paper trading)
 *   enter short when s < -entryThreshold
 *   exit long   when s <= exitThreshold  (0 = zero crossing; -0.3 after paper trading, which
 *               holds until the price has overshot fair value by 0.3 sd)
 *   exit short  when -s <= exitThreshold
 *
 * Warm-up: no signal until the market has both `minObservations` snapshots (the reference's 100)
 * and `minHistoryHours` of history (72 h). Window: the thesis holds "in the 3-14 day window before
 * an event" (reference 001): no new entries within `blackoutDays` (3) of `market.resolvesAt`, nor
 * more than `maxDaysToResolution` (14; 0 = no outer bound) before it; exits are never held back
 * by the window. With `exitInBlackout` an open position is closed when the blackout starts,
 * since the thesis says the edge is gone inside 3 days. Confidence = min(|z| / 3, 1).
 *
 * Incremental statistics, O(1) per snapshot (a deliberate departure from the reference, which
 * recomputes the EMA and np.std over up to 10,000 stored prices on every update, O(n)):
 * - the EMA decays with elapsed time (`emaWeight`), so irregular spacing and gaps are handled;
 * - the standard deviation of the deviations is an exponentially weighted variance (West's
 *   weighted incremental update) with its own span `deviationSpanHours`, 96 h by default: about
 *   the reference's 10,000-point window at 30 s (83 h), weighted toward recent behaviour. The
 *   accumulated weight is kept so that early estimates are normalised rather than biased toward
 *   zero (an EW variance started at 0 would understate the sd by ~12% at the 72 h warm-up and
 *   inflate z accordingly).
 * The state is seven numbers and is JSON-serialisable.
 */
import type { MarketSnapshot } from '../market';
import {
  DAY_MS,
  HOUR_MS,
  PASSIVE_PRICINGS,
  ParamProblems,
  type PassivePricing,
  type Signal,
  type Strategy,
  type StrategyContext,
  type StrategyFactory,
  type StrategyStep,
  emaWeight,
  midFloat,
  passivePrice,
} from '../strategy';

export interface EmaMeanReversionParams {
  emaSpanHours: number;
  /** Span of the exponentially weighted variance of the deviations. */
  deviationSpanHours: number;
  entryThreshold: number;
  exitThreshold: number;
  minHistoryHours: number;
  minObservations: number;
  blackoutDays: number;
  /** No new entries in a market resolving more than this many days out (the window's outer bound); 0: none. */
  maxDaysToResolution: number;
  exitInBlackout: boolean;
  /** Below this standard deviation (micros) the z-score is noise: no signal (reference: 0.001). */
  minStdMicros: number;
  pricing: PassivePricing;
}

/** The case study as first backtested and paper traded. */
export const EMA_CASE_STUDY_PARAMS: Readonly<EmaMeanReversionParams> = {
  emaSpanHours: 48,
  deviationSpanHours: 96,
  entryThreshold: 1.5,
  exitThreshold: 0,
  minHistoryHours: 72,
  minObservations: 100,
  blackoutDays: 3,
  maxDaysToResolution: 14,
  exitInBlackout: true,
  minStdMicros: 1_000,
  pricing: 'inside',
};

/** The case study's adjustments before going live: threshold 1.3, exit at -0.3 sd, price at the touch. */
export const EMA_CASE_STUDY_LIVE_PARAMS: Readonly<EmaMeanReversionParams> = {
  ...EMA_CASE_STUDY_PARAMS,
  entryThreshold: 1.3,
  exitThreshold: -0.3,
  pricing: 'touch',
};

export interface EmaMeanReversionState {
  /** Snapshots seen with a usable price. */
  n: number;
  firstTs: number;
  lastTs: number;
  /** Fair value, micros (float). */
  ema: number;
  /** Exponentially weighted mean and variance of mid - ema, micros and micros², normalised by devWeight. */
  devMean: number;
  devVar: number;
  /** Total decayed weight of the deviations seen, in (0, 1]; 0 before the second snapshot. */
  devWeight: number;
}

const STATE_FIELDS = ['n', 'firstTs', 'lastTs', 'ema', 'devMean', 'devVar', 'devWeight'] as const;

/** A state of this strategy (as carried from the records): the seven finite numbers, a whole count and ordered times. */
export function isEmaState(s: unknown): s is EmaMeanReversionState {
  if (typeof s !== 'object' || s === null) return false;
  const r = s as Record<string, unknown>;
  if (!STATE_FIELDS.every((f) => typeof r[f] === 'number' && Number.isFinite(r[f]))) return false;
  const st = s as EmaMeanReversionState;
  return Number.isSafeInteger(st.n) && st.n >= 0 && st.lastTs >= st.firstTs && st.devVar >= 0 && st.devWeight >= 0 && st.devWeight <= 1;
}

function validate(p: EmaMeanReversionParams): EmaMeanReversionParams {
  const c = new ParamProblems(p);
  c.number('emaSpanHours', 0, 10_000, 'min');
  c.number('deviationSpanHours', 0, 10_000, 'min');
  c.number('entryThreshold', 0, 100, 'min');
  c.number('exitThreshold', -100, 100);
  c.number('minHistoryHours', 0, 10_000);
  c.integer('minObservations', 2, 10_000_000);
  c.number('blackoutDays', 0, 3_650);
  c.number('maxDaysToResolution', 0, 3_650);
  if (typeof p.maxDaysToResolution === 'number' && typeof p.blackoutDays === 'number' && p.maxDaysToResolution > 0 && p.maxDaysToResolution <= p.blackoutDays) {
    c.add('maxDaysToResolution', p.maxDaysToResolution, `must be above blackoutDays (${p.blackoutDays}), or 0 for no outer bound`);
  }
  c.boolean('exitInBlackout');
  c.integer('minStdMicros', 0, 1_000_000);
  c.oneOf('pricing', PASSIVE_PRICINGS);
  if (typeof p.entryThreshold === 'number' && typeof p.exitThreshold === 'number' && p.exitThreshold >= p.entryThreshold) {
    c.add('exitThreshold', p.exitThreshold, `must be below entryThreshold (${p.entryThreshold})`);
  }
  c.throwIfAny();
  return p;
}

function create(params: EmaMeanReversionParams): Strategy<EmaMeanReversionState> {
  const p = validate({ ...params });
  const spanMs = p.emaSpanHours * HOUR_MS;
  const devSpanMs = p.deviationSpanHours * HOUR_MS;
  const minHistoryMs = p.minHistoryHours * HOUR_MS;
  const blackoutMs = p.blackoutDays * DAY_MS;
  const windowMs = p.maxDaysToResolution * DAY_MS;
  const minVar = p.minStdMicros * p.minStdMicros;
  // Memo of the last weights: snapshots usually come at a fixed spacing, so exp() is rarely needed.
  let memoDt = -1;
  let memoA = 0;
  let memoB = 0;

  const signal = (
    snapshot: MarketSnapshot,
    ctx: StrategyContext,
    side: Signal['side'],
    intent: Signal['intent'],
    confidence: number,
    reason: string,
    s: EmaMeanReversionState,
    z: number,
    sd: number,
  ): Signal | null => {
    const price = passivePrice(side, snapshot, ctx.market.tickSize, p.pricing);
    if (price === null) return null;
    return {
      marketId: snapshot.marketId,
      side,
      price,
      confidence,
      intent,
      metadata: { reason, z: Math.round(z * 1_000) / 1_000, fairValue: Math.round(s.ema), sd: Math.round(sd) },
    };
  };

  return {
    name: 'ema-mean-reversion',
    params: p,
    initialState: () => ({ n: 0, firstTs: 0, lastTs: 0, ema: 0, devMean: 0, devVar: 0, devWeight: 0 }),

    warmth(state) {
      if (!isEmaState(state)) return null;
      const hoursMs = state.n > 0 ? state.lastTs - state.firstTs : 0;
      return {
        observations: state.n,
        hours: Math.floor((hoursMs / HOUR_MS) * 10) / 10,
        neededObservations: p.minObservations,
        neededHours: p.minHistoryHours,
        warm: state.n >= p.minObservations && hoursMs >= minHistoryMs,
      };
    },

    onSnapshot(state, snapshot, ctx): StrategyStep<EmaMeanReversionState> {
      const mid = midFloat(snapshot);
      if (Number.isNaN(mid) || (state.n > 0 && snapshot.ts < state.lastTs)) return { state, signal: null };

      let next: EmaMeanReversionState;
      if (state.n === 0) {
        next = { n: 1, firstTs: snapshot.ts, lastTs: snapshot.ts, ema: mid, devMean: 0, devVar: 0, devWeight: 0 };
      } else {
        const dt = snapshot.ts - state.lastTs;
        if (dt !== memoDt) {
          memoDt = dt;
          memoA = emaWeight(dt, spanMs);
          memoB = emaWeight(dt, devSpanMs);
        }
        const ema = state.ema + memoA * (mid - state.ema);
        const diff = mid - ema - state.devMean;
        const devWeight = (1 - memoB) * state.devWeight + memoB;
        const r = devWeight > 0 ? memoB / devWeight : 0;
        next = {
          n: state.n + 1,
          firstTs: state.firstTs,
          lastTs: snapshot.ts,
          ema,
          devMean: state.devMean + r * diff,
          devVar: (1 - r) * (state.devVar + r * diff * diff),
          devWeight,
        };
      }

      const { market, position } = ctx;
      if (market.outcome !== null) return { state: next, signal: null };
      const inBlackout = market.resolvesAt !== null && snapshot.ts >= market.resolvesAt - blackoutMs;
      const sd = Math.sqrt(next.devVar);
      const z = sd > 0 ? (mid - next.ema) / sd : 0;

      if (inBlackout && p.exitInBlackout && position !== 0) {
        return { state: next, signal: signal(snapshot, ctx, position > 0 ? 'SELL' : 'BUY', 'EXIT', 1, 'blackout', next, z, sd) };
      }
      const warm = next.n >= p.minObservations && snapshot.ts - next.firstTs >= minHistoryMs;
      if (!warm || next.devVar < minVar || next.devVar === 0) return { state: next, signal: null };

      const s = -z;
      if (position > 0) {
        if (s <= p.exitThreshold) return { state: next, signal: signal(snapshot, ctx, 'SELL', 'EXIT', 1, 'exit-threshold', next, z, sd) };
        return { state: next, signal: null };
      }
      if (position < 0) {
        if (-s <= p.exitThreshold) return { state: next, signal: signal(snapshot, ctx, 'BUY', 'EXIT', 1, 'exit-threshold', next, z, sd) };
        return { state: next, signal: null };
      }
      if (inBlackout) return { state: next, signal: null };
      if (windowMs > 0 && market.resolvesAt !== null && market.resolvesAt - snapshot.ts > windowMs) return { state: next, signal: null };
      const confidence = Math.min(Math.abs(z) / 3, 1);
      if (s > p.entryThreshold) return { state: next, signal: signal(snapshot, ctx, 'BUY', 'ENTER', confidence, 'entry', next, z, sd) };
      if (s < -p.entryThreshold) return { state: next, signal: signal(snapshot, ctx, 'SELL', 'ENTER', confidence, 'entry', next, z, sd) };
      return { state: next, signal: null };
    },
  };
}

export const emaMeanReversion: StrategyFactory<EmaMeanReversionParams, EmaMeanReversionState> = {
  name: 'ema-mean-reversion',
  defaults: EMA_CASE_STUDY_PARAMS,
  params: (overrides = {}) => validate({ ...EMA_CASE_STUDY_PARAMS, ...overrides }),
  create,
};
