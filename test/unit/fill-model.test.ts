import { describe, expect, it } from 'vitest';
import {
  CASE_STUDY_FILL_MODEL,
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

  it('without noise a crossing limit fills fully at the touch', () => {
    const fill = simulateFill({ side: 'BUY', limitPrice: px(0.45), remaining: q(10) }, { bid: px(0.42), ask: px(0.44), intervalVolume: q(1000) }, certain, 10_000, seededRandom(1));
    expect(fill).toEqual({ quantity: 10, price: 440_000, fee: 0 });
  });

  it('caps the fill by the participation rate of interval volume', () => {
    const params = { ...certain, participationRate: 0.05 };
    const fill = simulateFill({ side: 'SELL', limitPrice: px(0.4), remaining: q(50) }, { bid: px(0.42), ask: px(0.44), intervalVolume: q(200) }, params, 10_000, seededRandom(1));
    expect(fill?.quantity).toBe(10);
    expect(simulateFill({ side: 'SELL', limitPrice: px(0.4), remaining: q(50) }, { bid: px(0.42), ask: px(0.44), intervalVolume: q(10) }, params, 10_000, seededRandom(1))).toBeNull();
  });

  it('never fills a limit at a worse price than the limit, whatever the noise', () => {
    const noisy = { ...certain, slippageStd: 50_000 };
    const rng = seededRandom(7);
    for (let i = 0; i < 2_000; i++) {
      const fill = simulateFill({ side: 'BUY', limitPrice: px(0.45), remaining: q(10) }, { bid: px(0.43), ask: px(0.45), intervalVolume: q(1000) }, noisy, 10_000, rng);
      expect(fill).not.toBeNull();
      expect(fill!.price).toBeLessThanOrEqual(450_000);
      expect(fill!.price % 10_000).toBe(0);
      expect(fill!.price).toBeGreaterThan(0);
    }
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

  it('validates its parameters, every bad field at once', () => {
    try {
      validateFillModelParams({ fillProbability: 1.5, partialFillProbability: -1, participationRate: 0.1, slippageStd: 0.5, feeCoefficientPpm: 0 });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['fillProbability', 'partialFillProbability', 'slippageStd']);
    }
  });
});
