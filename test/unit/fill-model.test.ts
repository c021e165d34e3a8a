import { describe, expect, it } from 'vitest';
import {
  CASE_STUDY_FILL_MODEL,
  FILL_MODEL_PRESET_NAMES,
  FILL_MODEL_PRESETS,
  orderLatencyMs,
  parseFillModel,
  isCrossable,
  predictionMarketFee,
  sampleLatencyMs,
  simulateFill,
  validateFillModelParams,
  type FillModelParams,
} from '../../domain/fill-model';
import { InvalidInput } from '../../domain/errors';
import { px, type Quantity } from '../../domain/money';
import { seededRandom } from '../../domain/random';

const q = (n: number) => n as Quantity;
const certain: FillModelParams = { fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, feeCoefficientPpm: 0 };

describe('paper fill model (as the reference describes it)', () => {
  it('a buy limit fills only when the ask reaches it; a sell when the bid does', () => {
    const quote = { bid: px(0.42), ask: px(0.44), intervalVolume: q(1000) };
    expect(isCrossable({ side: 'BUY', limitPrice: px(0.43), remaining: q(10) }, quote)).toBe(false);
    expect(isCrossable({ side: 'BUY', limitPrice: px(0.44), remaining: q(10) }, quote)).toBe(true);
    expect(isCrossable({ side: 'SELL', limitPrice: px(0.43), remaining: q(10) }, quote)).toBe(false);
    expect(isCrossable({ side: 'SELL', limitPrice: px(0.42), remaining: q(10) }, quote)).toBe(true);
    expect(isCrossable({ side: 'BUY', limitPrice: null, remaining: q(10) }, { ...quote, ask: null })).toBe(false);
  });

  it('without noise a limit fills fully at the better of its price and the touch, a market order at the touch', () => {
    const quote = { bid: px(0.42), ask: px(0.44), intervalVolume: q(1000) };
    expect(simulateFill({ side: 'BUY', limitPrice: px(0.45), remaining: q(10) }, quote, certain, 10_000, seededRandom(1))).toEqual({ quantity: 10, price: 440_000, fee: 0 });
    expect(simulateFill({ side: 'BUY', limitPrice: px(0.44), remaining: q(10) }, quote, certain, 10_000, seededRandom(1))).toEqual({ quantity: 10, price: 440_000, fee: 0 });
    expect(simulateFill({ side: 'SELL', limitPrice: null, remaining: q(10) }, quote, certain, 10_000, seededRandom(1))).toEqual({ quantity: 10, price: 420_000, fee: 0 });
  });

  it('caps the fill by the participation rate of interval volume', () => {
    const params = { ...certain, participationRate: 0.05 };
    const fill = simulateFill({ side: 'SELL', limitPrice: px(0.4), remaining: q(50) }, { bid: px(0.42), ask: px(0.44), intervalVolume: q(200) }, params, 10_000, seededRandom(1));
    expect(fill?.quantity).toBe(10);
    expect(simulateFill({ side: 'SELL', limitPrice: px(0.4), remaining: q(50) }, { bid: px(0.42), ask: px(0.44), intervalVolume: q(10) }, params, 10_000, seededRandom(1))).toBeNull();
  });

  it("slippage is the chapter's: limit + |ε| for a buy, limit − |ε| for a sell, ε ~ N(0, slippageStd), in micros off the tick grid", () => {
    const noisy = { ...certain, slippageStd: 2_000 };
    const quote = { bid: px(0.43), ask: px(0.45), intervalVolume: q(1000) };
    for (const side of ['BUY', 'SELL'] as const) {
      const rng = seededRandom(7);
      let sum = 0;
      let offGrid = 0;
      for (let i = 0; i < 4_000; i++) {
        const fill = simulateFill({ side, limitPrice: side === 'BUY' ? px(0.45) : px(0.43), remaining: q(10) }, quote, noisy, 10_000, rng)!;
        const slip = side === 'BUY' ? fill.price - 450_000 : 430_000 - fill.price;
        expect(slip).toBeGreaterThanOrEqual(0);
        expect(Number.isSafeInteger(fill.price)).toBe(true);
        if (fill.price % 10_000 !== 0) offGrid += 1;
        sum += slip;
      }
      // E|ε| = σ·√(2/π) ≈ 1596 micros for σ = 2000.
      expect(sum / 4_000).toBeGreaterThan(1_500);
      expect(sum / 4_000).toBeLessThan(1_700);
      expect(offGrid).toBeGreaterThan(3_900);
    }
  });

  it('clamps the slipped price inside [tick, 1 − tick]', () => {
    const wild = { ...certain, slippageStd: 500_000 };
    const rng = seededRandom(3);
    for (let i = 0; i < 500; i++) {
      const b = simulateFill({ side: 'BUY', limitPrice: px(0.98), remaining: q(1) }, { bid: px(0.97), ask: px(0.98), intervalVolume: q(10) }, wild, 10_000, rng)!;
      const s = simulateFill({ side: 'SELL', limitPrice: px(0.02), remaining: q(1) }, { bid: px(0.02), ask: px(0.03), intervalVolume: q(10) }, wild, 10_000, rng)!;
      expect(b.price).toBeLessThanOrEqual(990_000);
      expect(s.price).toBeGreaterThanOrEqual(10_000);
    }
  });

  it('a partial fill takes 30-80% of the order, in whole contracts, deterministically per seed', () => {
    const always = { ...certain, partialFillProbability: 1 };
    const quote = { bid: px(0.42), ask: px(0.44), intervalVolume: q(1000) };
    const draw = (seed: number) => {
      const rng = seededRandom(seed);
      return Array.from({ length: 2_000 }, () => simulateFill({ side: 'BUY', limitPrice: px(0.44), remaining: q(50) }, quote, always, 10_000, rng)!.quantity);
    };
    const a = draw(11);
    expect(draw(11)).toEqual(a);
    expect(draw(12)).not.toEqual(a);
    expect(Math.min(...a)).toBe(15);
    expect(Math.max(...a)).toBe(40);
    for (const x of a) expect(Number.isInteger(x)).toBe(true);
    // One contract cannot be split; two split into one and one.
    expect(simulateFill({ side: 'BUY', limitPrice: px(0.44), remaining: q(1) }, quote, always, 10_000, seededRandom(1))!.quantity).toBe(1);
    expect(simulateFill({ side: 'BUY', limitPrice: px(0.44), remaining: q(2) }, quote, always, 10_000, seededRandom(1))!.quantity).toBe(1);
  });

  it('fills with about the configured probability and partial-fill rate, reproducibly by seed', () => {
    const run = (seed: number) => {
      const rng = seededRandom(seed);
      let fills = 0;
      let partial = 0;
      for (let i = 0; i < 10_000; i++) {
        const f = simulateFill({ side: 'BUY', limitPrice: px(0.44), remaining: q(20) }, { bid: px(0.42), ask: px(0.44), intervalVolume: q(1000) }, CASE_STUDY_FILL_MODEL, 10_000, rng);
        if (f) {
          fills++;
          if (f.quantity < 20) partial++;
        }
      }
      return { fills, partial };
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    expect(a.fills / 10_000).toBeGreaterThan(0.77);
    expect(a.fills / 10_000).toBeLessThan(0.83);
    expect(a.partial / a.fills).toBeGreaterThan(0.17);
    expect(a.partial / a.fills).toBeLessThan(0.23);
  });

  it('charges the prediction-market fee rounded up to a cent', () => {
    // 0.07 x 100 x 0.5 x 0.5 = 1.75 exactly; 0.07 x 1 x 0.43 x 0.57 = 0.017157 -> 0.02
    expect(predictionMarketFee(70_000, 100, 500_000)).toBe(1_750_000);
    expect(predictionMarketFee(70_000, 1, 430_000)).toBe(20_000);
    expect(predictionMarketFee(0, 100, 500_000)).toBe(0);
  });

  it('samples log-normal latency around its mean', () => {
    const rng = seededRandom(3);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += sampleLatencyMs(rng, 150);
    expect(sum / 20_000).toBeGreaterThan(140);
    expect(sum / 20_000).toBeLessThan(160);
  });

  it('latency is on in every preset (100 ms chapter, 150 ms case study) and draws nothing when off', () => {
    expect(FILL_MODEL_PRESETS.chapter.latencyMeanMs).toBe(100);
    expect(FILL_MODEL_PRESETS['pre-live'].latencyMeanMs).toBe(150);
    expect(FILL_MODEL_PRESETS['post-live'].latencyMeanMs).toBe(150);
    expect(CASE_STUDY_FILL_MODEL).toBe(FILL_MODEL_PRESETS['pre-live']);
    const rng = seededRandom(5);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const ms = orderLatencyMs(CASE_STUDY_FILL_MODEL, rng);
      expect(Number.isInteger(ms)).toBe(true);
      sum += ms;
    }
    expect(sum / 10_000).toBeGreaterThan(140);
    expect(sum / 10_000).toBeLessThan(160);
    const counting = { draws: 0, next: () => ((counting.draws += 1), 0.5) };
    expect(orderLatencyMs(certain, counting)).toBe(0);
    expect(orderLatencyMs({ ...certain, latencyMeanMs: 0 }, counting)).toBe(0);
    expect(counting.draws).toBe(0);
  });

  it('the case study calibrations: pre-live 0.8 / 0.2 cents, post-live 0.7 / 0.5 cents', () => {
    expect(FILL_MODEL_PRESETS['pre-live']).toMatchObject({ fillProbability: 0.8, slippageStd: 2_000, partialFillProbability: 0.2 });
    expect(FILL_MODEL_PRESETS['post-live']).toMatchObject({ fillProbability: 0.7, slippageStd: 5_000, partialFillProbability: 0.2 });
    for (const name of FILL_MODEL_PRESET_NAMES) expect(validateFillModelParams({ ...FILL_MODEL_PRESETS[name] })).toBeTruthy();
  });

  it('parses a preset name, or a preset with overrides, from configuration', () => {
    expect(parseFillModel('post-live')).toEqual(FILL_MODEL_PRESETS['post-live']);
    expect(parseFillModel({ preset: 'chapter', latencyMeanMs: 0 })).toEqual({ ...FILL_MODEL_PRESETS.chapter, latencyMeanMs: 0 });
    expect(parseFillModel({ fillProbability: 0.5 })).toEqual({ ...CASE_STUDY_FILL_MODEL, fillProbability: 0.5 });
  });

  it('refuses a bad fill model configuration naming every field and value', () => {
    expect(() => parseFillModel('optimistic', 'engine.fillModel')).toThrow(/engine\.fillModel.*optimistic/);
    try {
      parseFillModel({ preset: 'live', fillProbability: 2, latencyMeanMs: -5, slipage: 1 }, 'fillModel');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => [p.field, p.value])).toEqual([
        ['fillModel.preset', 'live'],
        ['fillModel.slipage', 1],
        ['fillModel.fillProbability', 2],
        ['fillModel.latencyMeanMs', -5],
      ]);
    }
    expect(() => parseFillModel(42)).toThrow(/fillModel/);
  });

  it('validates its parameters, every bad field at once', () => {
    try {
      validateFillModelParams({ fillProbability: 1.5, partialFillProbability: -1, participationRate: 0.1, slippageStd: 0.5, feeCoefficientPpm: 0 });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['fillProbability', 'partialFillProbability', 'slippageStd']);
    }
  });
});
