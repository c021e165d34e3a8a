import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Money, Price } from '../../domain/money';
import { exitQuantity, kellyContracts, kellyFraction, sizeByConfidence, sizeSignal } from '../../domain/sizing';

const p = (micros: number) => micros as Price;

describe('confidence sizing', () => {
  it('floors confidence × max to whole contracts', () => {
    expect(sizeByConfidence(1, 50)).toBe(50);
    expect(sizeByConfidence(0.5, 50)).toBe(25);
    expect(sizeByConfidence(0.51, 50)).toBe(25);
    expect(sizeByConfidence(0.3, 10)).toBe(3); // 0.3 × 10 is 2.9999999999999996 in floats
    expect(sizeByConfidence(0.019, 50)).toBe(0);
    expect(sizeByConfidence(0, 50)).toBe(0);
  });
  it('rejects bad inputs by name', () => {
    expect(() => sizeByConfidence(1.2, 50)).toThrow(/confidence/);
    expect(() => sizeByConfidence(Number.NaN, 50)).toThrow(/confidence/);
    expect(() => sizeByConfidence(0.5, -1)).toThrow(/maxOrderSize/);
    expect(() => sizeByConfidence(0.5, 2.5)).toThrow(/maxOrderSize/);
  });
  it('never exceeds the maximum (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 10_000 }), (c, max) => {
        const q = sizeByConfidence(c, max);
        return Number.isInteger(q) && q >= 0 && q <= max;
      }),
    );
  });
});

describe('Kelly', () => {
  it('buy YES: f* = (q - p) / (1 - p)', () => {
    expect(kellyFraction('BUY', p(400_000), 0.55)).toBeCloseTo(0.25, 12);
    expect(kellyFraction('BUY', p(600_000), 0.7)).toBeCloseTo(0.25, 12);
    expect(kellyFraction('BUY', p(500_000), 0.5)).toBe(0);
    expect(kellyFraction('BUY', p(500_000), 0.4)).toBe(0);
  });
  it('sell YES (buy NO): f* = (p - q) / p', () => {
    expect(kellyFraction('SELL', p(600_000), 0.45)).toBeCloseTo(0.25, 12);
    expect(kellyFraction('SELL', p(600_000), 0.7)).toBe(0);
  });
  it('is symmetric: selling YES at p with q equals buying YES at 1 - p with 1 - q', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.double({ min: 0, max: 1, noNaN: true }), (pm, q) => {
        const a = kellyFraction('SELL', p(pm), q);
        const b = kellyFraction('BUY', p(1_000_000 - pm), 1 - q);
        return Math.abs(a - b) < 1e-9;
      }),
    );
  });
  it('contracts = floor(fraction × f* × bankroll / cost), capped', () => {
    // half Kelly, f* = 0.25, bankroll $1,000, price 0.40: 0.5 × 0.25 × 1000 / 0.40 = 312.5 -> 312
    const base = { side: 'BUY' as const, price: p(400_000), probability: 0.55, bankroll: 1_000_000_000 as Money, kellyMultiplier: 0.5, maxOrderSize: 1_000 };
    expect(kellyContracts(base)).toBe(312);
    expect(kellyContracts({ ...base, maxOrderSize: 50 })).toBe(50);
    expect(kellyContracts({ ...base, probability: 0.4 })).toBe(0);
    // sell at 0.60 with q 0.45: f* 0.25, cost per contract 0.40 -> the same 312
    expect(kellyContracts({ ...base, side: 'SELL', price: p(600_000), probability: 0.45 })).toBe(312);
    // quarter Kelly on $500 (the case study's first live capital) at 0.43 with q 0.50: f* = 0.07/0.57
    expect(kellyContracts({ ...base, price: p(430_000), probability: 0.5, bankroll: 500_000_000 as Money, kellyMultiplier: 0.25 })).toBe(
      Math.floor((0.25 * (0.07 / 0.57) * 500) / 0.43),
    );
  });
  it('rejects bad inputs by name', () => {
    const base = { side: 'BUY' as const, price: p(400_000), probability: 0.55, bankroll: 1_000_000 as Money, kellyMultiplier: 0.5, maxOrderSize: 10 };
    expect(() => kellyContracts({ ...base, probability: 1.5 })).toThrow(/probability/);
    expect(() => kellyContracts({ ...base, kellyMultiplier: 2 })).toThrow(/kellyMultiplier/);
    expect(() => kellyContracts({ ...base, bankroll: -1 as Money })).toThrow(/bankroll/);
    expect(() => kellyContracts({ ...base, price: p(1_000_000) })).toThrow(/price/);
  });
});

describe('sizeSignal', () => {
  const sig = { side: 'BUY' as const, price: p(400_000), confidence: 0.8, intent: 'ENTER' as const, metadata: {} };
  it('exits the whole position in pieces of at most maxOrderSize', () => {
    expect(exitQuantity(-30, 50)).toBe(30);
    expect(exitQuantity(80, 50)).toBe(50);
    expect(sizeSignal({ ...sig, intent: 'EXIT' }, 12, { kind: 'confidence', maxOrderSize: 50 })).toBe(12);
  });
  it('uses confidence, or Kelly when the signal carries a model probability', () => {
    expect(sizeSignal(sig, 0, { kind: 'confidence', maxOrderSize: 50 })).toBe(40);
    const kelly = { kind: 'kelly' as const, maxOrderSize: 1_000, kellyMultiplier: 0.5, bankroll: 1_000_000_000 as Money };
    expect(sizeSignal({ ...sig, metadata: { modelProbability: 0.55 } }, 0, kelly)).toBe(312);
    expect(sizeSignal(sig, 0, { ...kelly, maxOrderSize: 50 })).toBe(40);
  });
});
