/** The pure shadow rules: the book walk, decision alignment, the misalignment streak, working paper orders, run figures. */
import { describe, expect, it } from 'vitest';
import type { Price, Quantity } from '../../domain/money';
import { decisionAligned, noteAlignment, NO_STREAK, paperFillOf, paperStepSeed, shadowRunStats, walkBook, workPaperOrder, type PaperOrderQuote } from '../../domain/shadow';
import { ShadowSession, SHADOW_PATCHES, type ShadowEnv } from '../../workflows/shadow-session';
import type { ShadowDecisionInput, ShadowWatchResult } from '../../contracts/activities';
import type { ShadowSessionInput } from '../../workflows/shadow-api';
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

describe('a paper order working over the quotes after its decision', () => {
  const TICK = 10_000;
  /** No randomness in whether a crossable limit fills; no partial fills; 2 cents of slippage spread. */
  const SURE = { ...CASE_STUDY_FILL_MODEL, fillProbability: 1, partialFillProbability: 0, participationRate: 1 };
  const quote = (quotedAt: number, bid: number, ask: number, askSize = 100): PaperOrderQuote => ({
    quotedAt,
    bid: bid as Price,
    ask: ask as Price,
    intervalVolume: 0 as Quantity,
    levels: [lvl(ask, askSize), lvl(ask + TICK, 100)],
  });
  const buyAtBid = { side: 'BUY' as const, quantity: 5 as Quantity, limitPrice: 420_000 as Price };

  it('a buy at the bid does not fill on its decision quote, and fills once a later ask comes down to it; slippage from that quote\'s touch', () => {
    const quotes = [quote(1_000, 420_000, 440_000), quote(2_000, 420_000, 430_000), quote(3_000, 410_000, 420_000, 2)];
    expect(workPaperOrder('run#1', buyAtBid, quotes.slice(0, 1), SURE, TICK, 600_000, 1_000)).toMatchObject({ status: 'WORKING', filled: 0, fills: [], modelledSlippage: null, workedThrough: 1_000 });
    const w = workPaperOrder('run#1', buyAtBid, quotes, SURE, TICK, 600_000, 3_000);
    expect(w.status).toBe('FILLED');
    expect(w.fills).toHaveLength(1);
    const [fill] = w.fills;
    expect(fill).toMatchObject({ quotedAt: 3_000, quantity: 5, touch: 420_000 });
    // The model: the limit plus |ε|; the book: 2 at 0.42 and 3 at 0.43 for the same 5 contracts.
    expect(fill!.price).toBeGreaterThanOrEqual(420_000);
    expect(w.modelledSlippage).toBe(fill!.price - 420_000);
    expect(fill!.bookPrice).toBe(Math.round((2 * 420_000 + 3 * 430_000) / 5));
    expect(w.observedSlippage).toBe(fill!.bookPrice! - 420_000);
    expect(w.averagePrice).toBe(fill!.price);
  });

  it('is deterministic: the same key over the same quotes gives the same fills, a longer run keeps the fills of the shorter, and each quote step draws from key + quote time', () => {
    const params = { ...CASE_STUDY_FILL_MODEL, participationRate: 1 };
    const quotes = Array.from({ length: 30 }, (_, i) => quote(1_000 * (i + 1), 400_000, i === 0 ? 430_000 : 410_000));
    const order = { side: 'BUY' as const, quantity: 40 as Quantity, limitPrice: 410_000 as Price };
    const all = workPaperOrder('run#7', order, quotes, params, TICK, 10_000_000, 0);
    expect(workPaperOrder('run#7', order, quotes, params, TICK, 10_000_000, 0)).toEqual(all);
    const early = workPaperOrder('run#7', order, quotes.slice(0, 12), params, TICK, 10_000_000, 0);
    expect(all.fills.slice(0, early.fills.length)).toEqual(early.fills);
    expect(all.fills.length).toBeGreaterThan(1);
    expect(all.fills.reduce((n, f) => n + f.quantity, 0)).toBe(all.filled);
    // Another decision key draws differently on the same quotes.
    expect(workPaperOrder('run#8', order, quotes, params, TICK, 10_000_000, 0).fills).not.toEqual(all.fills);
    expect(paperStepSeed('run#7', 1_000, 1_000)).not.toBe(paperStepSeed('run#7', 2_000, 1_000));
  });

  it('on its decision quote it is exactly the decision-instant paper fill', () => {
    const order = { side: 'BUY' as const, quantity: 5 as Quantity, limitPrice: 450_000 as Price };
    const q = quote(1_000, 420_000, 440_000);
    const instant = paperFillOf('run#3', order, { bid: q.bid, ask: q.ask, intervalVolume: q.intervalVolume }, CASE_STUDY_FILL_MODEL, TICK);
    const worked = workPaperOrder('run#3', order, [q], CASE_STUDY_FILL_MODEL, TICK, 600_000, 1_000);
    expect(worked.fills.map((f) => [f.quantity, f.price, f.fee])).toEqual(instant ? [[instant.quantity, instant.price, instant.fee]] : []);
  });

  it('stops at its time-to-live: a quote after it is not worked and expires the order, as does the clock passing it', () => {
    const quotes = [quote(1_000, 420_000, 440_000), quote(700_000, 410_000, 420_000)];
    expect(workPaperOrder('run#1', buyAtBid, quotes, SURE, TICK, 601_000, 700_000)).toMatchObject({ status: 'EXPIRED', filled: 0, workedThrough: 1_000 });
    expect(workPaperOrder('run#1', buyAtBid, quotes.slice(0, 1), SURE, TICK, 601_000, 601_001)).toMatchObject({ status: 'EXPIRED', filled: 0 });
  });

  it('refuses quotes out of order or a missing decision quote, naming the field', () => {
    expect(() => workPaperOrder('run#1', buyAtBid, [], SURE, TICK, 1, 0)).toThrow(/quotes/);
    expect(() => workPaperOrder('run#1', buyAtBid, [quote(2_000, 1, 2), quote(1_000, 1, 2)].map((q) => ({ ...q, bid: 400_000 as Price, ask: 440_000 as Price })), SURE, TICK, 10_000, 0)).toThrow(/quotes\[1\]\.quotedAt/);
  });
});

describe('the shadow session gives each decision LIVE\'s order TTL, behind shadow-working-orders', () => {
  const input: ShadowSessionInput = {
    strategy: 'shd',
    strategyName: 'ema-mean-reversion',
    strategyParams: {},
    tradingDay: '2026-03-02',
    marketIds: ['M-1'],
    endOfDayAt: 10_000,
    watchPeriodMs: 1_000,
    pollIntervalMs: 100,
    fillModel: CASE_STUDY_FILL_MODEL,
    orderTtlMs: 90_000,
  };
  async function decisionInputs(patched: ShadowEnv['patched'], over: Partial<ShadowSessionInput> = {}): Promise<ShadowDecisionInput[]> {
    const seen: ShadowDecisionInput[] = [];
    let at = 0;
    const env: ShadowEnv = {
      shadowRun: 'shadow-shd-2026-03-02/run',
      continueAsNewSuggested: () => false,
      continueAsNew: () => Promise.reject(new Error('not expected')),
      ...(patched ? { patched } : {}),
      acts: {
        watchShadow: (): Promise<ShadowWatchResult> => {
          at += 5_000;
          return Promise.resolve({ strategyState: {}, at, quotedAt: at, quoteTimes: {}, signal: { marketId: 'M-1', side: 'BUY', price: 420_000 as Price, confidence: 1, intent: 'ENTER', quantity: 1 as Quantity, metadata: {} } });
        },
        compareShadowDecision: (i) => {
          seen.push(i);
          return Promise.resolve({ aligned: true, riskApproved: true, violations: [], paperFilled: 0 as Quantity, modelledSlippage: null, observedSlippage: 0, at: i.decidedAt });
        },
        recordOperatorAction: () => Promise.resolve(),
        raiseAlert: () => Promise.reject(new Error('not expected')),
      },
    };
    await new ShadowSession({ ...input, ...over }, env).run();
    return seen;
  }

  it('passes the session\'s TTL (or LIVE\'s default) with each decision; a history from before the patch passes none', async () => {
    const asked: string[] = [];
    expect((await decisionInputs((id) => (asked.push(id), true))).map((i) => i.orderTtlMs)).toEqual([90_000, 90_000]);
    expect(asked).toEqual([SHADOW_PATCHES.workingOrders, SHADOW_PATCHES.workingOrders]);
    expect((await decisionInputs(undefined, { orderTtlMs: undefined })).map((i) => i.orderTtlMs)).toEqual([600_000, 600_000]);
    expect((await decisionInputs(() => false)).map((i) => 'orderTtlMs' in i)).toEqual([false, false]);
  });
});
