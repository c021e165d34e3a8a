/** The pure shadow rules: the book walk, decision alignment, the misalignment streak, run figures. */
import { describe, expect, it } from 'vitest';
import type { Price, Quantity } from '../../domain/money';
import { decisionAligned, noteAlignment, NO_STREAK, paperFillOf, shadowRunStats, walkBook } from '../../domain/shadow';
import { CASE_STUDY_FILL_MODEL } from '../../domain/fill-model';
import { compareStages } from '../../domain/stages';

const lvl = (price: number, quantity: number) => ({ price: price as Price, quantity: quantity as Quantity });

describe('walkBook', () => {
  it('a buy takes the asks from the lowest, level by level, at the volume-weighted price', () => {
    const w = walkBook('BUY', 15 as Quantity, [lvl(420_000, 10), lvl(410_000, 10)]);
    expect(w).toEqual({ filled: 15, averagePrice: Math.round((10 * 410_000 + 5 * 420_000) / 15), complete: true });
  });
  it('a sell takes the bids from the highest; a thin book takes what is there', () => {
    expect(walkBook('SELL', 30 as Quantity, [lvl(390_000, 10), lvl(400_000, 5)])).toEqual({ filled: 15, averagePrice: Math.round((5 * 400_000 + 10 * 390_000) / 15), complete: false });
    expect(walkBook('SELL', 1 as Quantity, [])).toEqual({ filled: 0, averagePrice: null, complete: false });
  });
  it('fractional contracts are summed exactly in hundredths', () => {
    expect(walkBook('BUY', 0.3 as Quantity, [lvl(500_000, 0.1), lvl(600_000, 0.25)])).toEqual({ filled: 0.3, averagePrice: Math.round((10 * 500_000 + 20 * 600_000) / 30), complete: true });
  });
  it('a malformed level or quantity is a typed error naming it', () => {
    expect(() => walkBook('BUY', 0 as Quantity, [])).toThrow(/quantity/);
    expect(() => walkBook('BUY', 1 as Quantity, [lvl(1_200_000, 1)])).toThrow(/levels\[0\]\.price/);
    expect(() => walkBook('BUY', 1 as Quantity, [lvl(500_000, 0.123)])).toThrow(/levels\[0\]\.quantity/);
  });
});

describe('decision alignment and the streak', () => {
  const d = { marketId: 'M', side: 'BUY' as const, at: 1_000 };
  it('agrees only with a replayed signal of the same market and side within the tolerance', () => {
    expect(decisionAligned(d, [{ ...d, at: 1_050 }], 100)).toBe(true);
    expect(decisionAligned(d, [{ ...d, at: 1_200 }], 100)).toBe(false);
    expect(decisionAligned(d, [{ ...d, side: 'SELL' }], 100)).toBe(false);
    expect(decisionAligned(d, [{ ...d, marketId: 'N' }], 100)).toBe(false);
    expect(decisionAligned(d, [], 100)).toBe(false);
  });
  it('three misalignments in a row halt; an aligned decision between them resets the count', () => {
    let s = NO_STREAK;
    const halts: boolean[] = [];
    for (const aligned of [false, false, true, false, false, false]) {
      const n = noteAlignment(s, aligned);
      s = n.streak;
      halts.push(n.halt);
    }
    expect(halts).toEqual([false, false, false, false, false, true]);
    expect(s).toEqual({ misalignedInARow: 3, decisions: 6, aligned: 1 });
  });
});

describe('paper fill and run figures', () => {
  it('the paper fill of a decision is the same for the same key', () => {
    const order = { side: 'BUY' as const, quantity: 5 as Quantity, limitPrice: 420_000 as Price };
    const quote = { bid: 400_000 as Price, ask: 410_000 as Price, intervalVolume: 0 as Quantity };
    expect(paperFillOf('k#1', order, quote, CASE_STUDY_FILL_MODEL, 10_000)).toEqual(paperFillOf('k#1', order, quote, CASE_STUDY_FILL_MODEL, 10_000));
  });
  it('a shadow run gives alignment, fill rate and both slippages to the stage report', () => {
    const row = (aligned: boolean, paperFilled: number, modelled: number | null, observed: number | null) => ({ aligned, riskApproved: true, quantity: 10 as Quantity, paperFilled: paperFilled as Quantity, modelledSlippage: modelled, observedSlippage: observed, decidedAt: 0 });
    const stats = shadowRunStats([row(true, 10, 1_000, 2_000), row(true, 0, null, 4_000), row(false, 10, 3_000, 6_000)]);
    expect(stats.signalAlignment).toBeCloseTo(2 / 3);
    expect(stats.fillRate).toBeCloseTo(2 / 3);
    expect(stats.averageSlippage).toBe(4_000);
    expect(stats.modelledSlippage).toBe(2_000);
    const report = compareStages(stats, { stage: 'PAPER', days: 14, totalTrades: 1, winRate: 0.5, totalPnl: 1 as never, maxDrawdown: 0 as never, fillRate: 1, averageSlippage: 2_000 as never, systemErrors: 0 });
    expect(report.criteria.find((c) => c.criterion === 'SIGNAL_ALIGNMENT')?.status).toBe('FAIL');
    expect(report.criteria.find((c) => c.criterion === 'SLIPPAGE_MODELLED')?.status).toBe('PASS');
  });
});
