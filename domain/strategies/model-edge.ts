/**
 * Model-edge trading (reference 002, "prediction market automation"): compare a probability model
 * with the market price and trade when the edge exceeds a minimum.
 *
 * The model probability q is not part of the quote stream: the caller passes it in
 * `ctx.modelProbability` for the snapshot's instant (a per-market model, a forecast feed, a
 * file of estimates in the backtester). Without it the strategy stays silent.
 *
 * Edge is measured against the price the order would actually rest at (passive pricing):
 *   buy YES  when q - buyPrice  >= minEdge
 *   sell YES when sellPrice - q >= minEdge
 *   exit long when q - mid <= exitEdge; exit short when mid - q <= exitEdge.
 * Confidence = min(edge / fullConfidenceEdge, 1); Kelly sizing (`sizing.ts`) can use q directly,
 * which the signal carries in its metadata as `modelProbability`.
 */
import {
  PASSIVE_PRICINGS,
  ParamProblems,
  type PassivePricing,
  type Strategy,
  type StrategyFactory,
  type StrategyStep,
  midFloat,
  passivePrice,
} from '../strategy';
import { MICROS } from '../money';

export interface ModelEdgeParams {
  /** Minimum edge in probability points, e.g. 0.05 (reference 002's min_edge). */
  minEdge: number;
  /** Edge at or below which an open position is closed (0: when the market reaches the model). */
  exitEdge: number;
  fullConfidenceEdge: number;
  pricing: PassivePricing;
}

export const MODEL_EDGE_DEFAULTS: Readonly<ModelEdgeParams> = {
  minEdge: 0.05,
  exitEdge: 0,
  fullConfidenceEdge: 0.15,
  pricing: 'touch',
};

export interface ModelEdgeState {
  lastTs: number;
}

function validate(p: ModelEdgeParams): ModelEdgeParams {
  const c = new ParamProblems(p);
  c.number('minEdge', 0, 1, 'min');
  c.number('exitEdge', -1, 1);
  c.number('fullConfidenceEdge', 0, 1, 'min');
  c.oneOf('pricing', PASSIVE_PRICINGS);
  if (typeof p.minEdge === 'number' && typeof p.exitEdge === 'number' && p.exitEdge >= p.minEdge) {
    c.add('exitEdge', p.exitEdge, `must be below minEdge (${p.minEdge})`);
  }
  c.throwIfAny();
  return p;
}

function create(params: ModelEdgeParams): Strategy<ModelEdgeState> {
  const p = validate({ ...params });
  return {
    name: 'model-edge',
    params: p,
    initialState: () => ({ lastTs: -1 }),

    onSnapshot(state, snapshot, ctx): StrategyStep<ModelEdgeState> {
      if (snapshot.ts < state.lastTs) return { state, signal: null };
      const next = { lastTs: snapshot.ts };
      const q = ctx.modelProbability;
      const { market, position } = ctx;
      if (q === null || q === undefined || !(q >= 0 && q <= 1) || market.outcome !== null) return { state: next, signal: null };

      const mid = midFloat(snapshot) / MICROS;
      if (position !== 0) {
        if (Number.isNaN(mid)) return { state: next, signal: null };
        const remaining = position > 0 ? q - mid : mid - q;
        if (remaining > p.exitEdge) return { state: next, signal: null };
        const side = position > 0 ? 'SELL' : 'BUY';
        const price = passivePrice(side, snapshot, market.tickSize, p.pricing);
        if (price === null) return { state: next, signal: null };
        const metadata = { reason: 'edge-gone', modelProbability: q, edge: Math.round(remaining * 1e6) / 1e6 };
        return { state: next, signal: { marketId: snapshot.marketId, side, price, confidence: 1, intent: 'EXIT', metadata } };
      }

      const buy = passivePrice('BUY', snapshot, market.tickSize, p.pricing);
      const sell = passivePrice('SELL', snapshot, market.tickSize, p.pricing);
      const buyEdge = buy === null ? -1 : q - buy / MICROS;
      const sellEdge = sell === null ? -1 : sell / MICROS - q;
      const side = buyEdge >= sellEdge ? 'BUY' : 'SELL';
      const edge = side === 'BUY' ? buyEdge : sellEdge;
      const price = side === 'BUY' ? buy : sell;
      if (price === null || edge < p.minEdge) return { state: next, signal: null };
      const metadata = { reason: 'edge', modelProbability: q, edge: Math.round(edge * 1e6) / 1e6 };
      const confidence = Math.min(edge / p.fullConfidenceEdge, 1);
      return { state: next, signal: { marketId: snapshot.marketId, side, price, confidence, intent: 'ENTER', metadata } };
    },
  };
}

export const modelEdge: StrategyFactory<ModelEdgeParams, ModelEdgeState> = {
  name: 'model-edge',
  defaults: MODEL_EDGE_DEFAULTS,
  params: (overrides = {}) => validate({ ...MODEL_EDGE_DEFAULTS, ...overrides }),
  create,
};
