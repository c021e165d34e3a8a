/**
 * Moving-average crossover (momentum; reference 002, "common automated strategies"): a fast and a
 * slow time-decayed EMA of the mid. Long while the fast average is above the slow one by more
 * than `bandMicros`, short while it is below by more than the band; a position is closed when the
 * averages cross back (fast on the other side of slow), so the band is a hysteresis against
 * whipsaw. EMAs rather than simple windows keep the state at a few numbers and O(1) per snapshot.
 * Confidence = min(|fast - slow| / (confidenceScaleMicros), 1).
 */
import {
  HOUR_MS,
  PASSIVE_PRICINGS,
  ParamProblems,
  type PassivePricing,
  type Signal,
  type Strategy,
  type StrategyFactory,
  type StrategyStep,
  emaWeight,
  midFloat,
  passivePrice,
} from '../strategy';

export interface MaCrossoverParams {
  fastSpanHours: number;
  slowSpanHours: number;
  /** Minimum gap between the averages before entering, micros. */
  bandMicros: number;
  /** Gap (micros) at which confidence reaches 1. */
  confidenceScaleMicros: number;
  minHistoryHours: number;
  minObservations: number;
  pricing: PassivePricing;
}

export const MA_CROSSOVER_DEFAULTS: Readonly<MaCrossoverParams> = {
  fastSpanHours: 4,
  slowSpanHours: 24,
  bandMicros: 5_000,
  confidenceScaleMicros: 30_000,
  minHistoryHours: 24,
  minObservations: 100,
  pricing: 'touch',
};

export interface MaCrossoverState {
  n: number;
  firstTs: number;
  lastTs: number;
  fast: number;
  slow: number;
}

function validate(p: MaCrossoverParams): MaCrossoverParams {
  const c = new ParamProblems(p);
  c.number('fastSpanHours', 0, 10_000, 'min');
  c.number('slowSpanHours', 0, 10_000, 'min');
  c.integer('bandMicros', 0, 1_000_000);
  c.integer('confidenceScaleMicros', 1, 1_000_000);
  c.number('minHistoryHours', 0, 10_000);
  c.integer('minObservations', 1, 10_000_000);
  c.oneOf('pricing', PASSIVE_PRICINGS);
  if (typeof p.fastSpanHours === 'number' && typeof p.slowSpanHours === 'number' && p.fastSpanHours >= p.slowSpanHours) {
    c.add('fastSpanHours', p.fastSpanHours, `must be shorter than slowSpanHours (${p.slowSpanHours})`);
  }
  c.throwIfAny();
  return p;
}

function create(params: MaCrossoverParams): Strategy<MaCrossoverState> {
  const p = validate({ ...params });
  const fastMs = p.fastSpanHours * HOUR_MS;
  const slowMs = p.slowSpanHours * HOUR_MS;
  const minHistoryMs = p.minHistoryHours * HOUR_MS;

  return {
    name: 'ma-crossover',
    params: p,
    initialState: () => ({ n: 0, firstTs: 0, lastTs: 0, fast: 0, slow: 0 }),

    onSnapshot(state, snapshot, ctx): StrategyStep<MaCrossoverState> {
      const mid = midFloat(snapshot);
      if (Number.isNaN(mid) || (state.n > 0 && snapshot.ts < state.lastTs)) return { state, signal: null };
      let next: MaCrossoverState;
      if (state.n === 0) {
        next = { n: 1, firstTs: snapshot.ts, lastTs: snapshot.ts, fast: mid, slow: mid };
      } else {
        const dt = snapshot.ts - state.lastTs;
        next = {
          n: state.n + 1,
          firstTs: state.firstTs,
          lastTs: snapshot.ts,
          fast: state.fast + emaWeight(dt, fastMs) * (mid - state.fast),
          slow: state.slow + emaWeight(dt, slowMs) * (mid - state.slow),
        };
      }
      if (ctx.market.outcome !== null) return { state: next, signal: null };
      if (next.n < p.minObservations || snapshot.ts - next.firstTs < minHistoryMs) return { state: next, signal: null };

      const gap = next.fast - next.slow;
      const make = (side: Signal['side'], intent: Signal['intent'], confidence: number): StrategyStep<MaCrossoverState> => {
        const price = passivePrice(side, snapshot, ctx.market.tickSize, p.pricing);
        if (price === null) return { state: next, signal: null };
        const metadata = { fast: Math.round(next.fast), slow: Math.round(next.slow), gap: Math.round(gap) };
        return { state: next, signal: { marketId: snapshot.marketId, side, price, confidence, intent, metadata } };
      };

      if (ctx.position > 0) return gap < 0 ? make('SELL', 'EXIT', 1) : { state: next, signal: null };
      if (ctx.position < 0) return gap > 0 ? make('BUY', 'EXIT', 1) : { state: next, signal: null };
      const confidence = Math.min(Math.abs(gap) / p.confidenceScaleMicros, 1);
      if (gap > p.bandMicros) return make('BUY', 'ENTER', confidence);
      if (gap < -p.bandMicros) return make('SELL', 'ENTER', confidence);
      return { state: next, signal: null };
    },
  };
}

export const maCrossover: StrategyFactory<MaCrossoverParams, MaCrossoverState> = {
  name: 'ma-crossover',
  defaults: MA_CROSSOVER_DEFAULTS,
  params: (overrides = {}) => validate({ ...MA_CROSSOVER_DEFAULTS, ...overrides }),
  create,
};
