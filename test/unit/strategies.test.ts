import { describe, expect, it } from 'vitest';
import type { Market, MarketSnapshot } from '../../domain/market';
import type { Price, Quantity } from '../../domain/money';
import { InvalidInput } from '../../domain/errors';
import { HOUR_MS, DAY_MS, emaWeight, passivePrice, type Signal, type Strategy } from '../../domain/strategy';
import { emaMeanReversion, EMA_CASE_STUDY_PARAMS } from '../../domain/strategies/ema-mean-reversion';
import { maCrossover } from '../../domain/strategies/ma-crossover';
import { modelEdge } from '../../domain/strategies/model-edge';
import { createStrategy } from '../../domain/strategies';

const TICK = 10_000;
const market = (over: Partial<Market> = {}): Market => ({
  marketId: 'M1',
  category: 'politics',
  tickSize: TICK,
  resolvesAt: null,
  outcome: null,
  ...over,
});

/** A quote with a one-cent spread around `midCents` + 0.5 cent (bid = mid cents, ask = +1 cent). */
function snap(ts: number, bidCents: number, spreadCents = 1): MarketSnapshot {
  return {
    marketId: 'M1',
    ts,
    bid: (bidCents * TICK) as Price,
    ask: ((bidCents + spreadCents) * TICK) as Price,
    last: null,
    averageDailyVolume: 10_000 as Quantity,
    intervalVolume: 100 as Quantity,
  };
}

/** Runs a series; `position` is constant or per snapshot index. */
function run<S>(strategy: Strategy<S>, snaps: MarketSnapshot[], m: Market, position: number | ((i: number) => number) = 0): { state: S; signals: Array<[number, Signal]> } {
  let state = strategy.initialState();
  const signals: Array<[number, Signal]> = [];
  snaps.forEach((s, i) => {
    const step = strategy.onSnapshot(state, s, { market: m, position: typeof position === 'number' ? position : position(i) });
    state = step.state;
    if (step.signal) signals.push([i, step.signal]);
  });
  return { state, signals };
}

/** Hourly quotes alternating 49/51 cents bid for `hours`, the noise the variance learns. */
function noisy(hours: number, start = 0): MarketSnapshot[] {
  return Array.from({ length: hours }, (_, i) => snap(start + i * HOUR_MS, i % 2 === 0 ? 49 : 51));
}

const fastEma = emaMeanReversion.create(emaMeanReversion.params({ minObservations: 10, minHistoryHours: 24, emaSpanHours: 12, deviationSpanHours: 48 }));

describe('passivePrice', () => {
  const s = snap(0, 40, 3); // 0.40 / 0.43
  it("prices at the touch or one tick inside the book (the case study's 'inside': behind the touch)", () => {
    expect(passivePrice('BUY', s, TICK, 'touch')).toBe(400_000);
    expect(passivePrice('SELL', s, TICK, 'touch')).toBe(430_000);
    expect(passivePrice('BUY', s, TICK, 'inside')).toBe(390_000);
    expect(passivePrice('SELL', s, TICK, 'inside')).toBe(440_000);
  });
  it('never crosses on a one-tick spread', () => {
    const tight = snap(0, 40, 1);
    expect(passivePrice('BUY', tight, TICK, 'inside')).toBe(390_000);
    expect(passivePrice('SELL', tight, TICK, 'inside')).toBe(420_000);
    expect(passivePrice('BUY', tight, TICK, 'touch')).toBe(400_000);
    expect(passivePrice('SELL', tight, TICK, 'touch')).toBe(410_000);
  });
  it('falls back to the other side or last, rounded away from crossing', () => {
    const noBid = { ...s, bid: null };
    expect(passivePrice('BUY', noBid, TICK, 'touch')).toBe(420_000);
    const lastOnly = { ...s, bid: null, ask: null, last: 455_000 as Price };
    expect(passivePrice('BUY', lastOnly, TICK, 'touch')).toBe(450_000);
    expect(passivePrice('SELL', lastOnly, TICK, 'touch')).toBe(460_000);
    expect(passivePrice('BUY', { ...lastOnly, last: null }, TICK, 'touch')).toBeNull();
  });
});

describe('emaWeight', () => {
  it('matches the sample EMA alpha of the case study at 30 s spacing', () => {
    const alpha = 2 / (48 * 120 + 1);
    expect(emaWeight(30_000, 48 * HOUR_MS)).toBeCloseTo(alpha, 7);
    expect(emaWeight(0, HOUR_MS)).toBe(0);
  });
  it('compounds: two half-steps equal one full step', () => {
    const w1 = emaWeight(60_000, HOUR_MS);
    const w2 = emaWeight(30_000, HOUR_MS);
    expect(1 - w1).toBeCloseTo((1 - w2) * (1 - w2), 12);
  });
});

describe('ema mean reversion', () => {
  it('validates params and reports every bad field at once', () => {
    try {
      emaMeanReversion.params({ emaSpanHours: -1, entryThreshold: Number.NaN, pricing: 'mid' as never, minObservations: 1.5 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      const fields = (e as InvalidInput).problems.map((p) => p.field).sort();
      expect(fields).toEqual(['emaSpanHours', 'entryThreshold', 'minObservations', 'pricing']);
    }
    expect(() => emaMeanReversion.params({ entryThreshold: 1, exitThreshold: 1 })).toThrow(/exitThreshold/);
  });

  it('respects the warm-up by hours and by count', () => {
    const drop = [...noisy(30), snap(30 * HOUR_MS, 30)];
    // 30 hours of history >= 24 and 31 >= 10 snapshots: the drop is a buy
    expect(run(fastEma, drop, market()).signals.map(([, s]) => s.side)).toEqual(['BUY']);
    // same drop after only 20 hours: warm-up by hours not met
    const early = [...noisy(20), snap(20 * HOUR_MS, 30)];
    expect(run(fastEma, early, market()).signals).toEqual([]);
    // enough hours but too few snapshots (every 4 h, 8 snapshots)
    const sparse = [...Array.from({ length: 8 }, (_, i) => snap(i * 4 * HOUR_MS, i % 2 === 0 ? 49 : 51)), snap(32 * HOUR_MS, 30)];
    expect(run(fastEma, sparse, market()).signals).toEqual([]);
  });

  it('enters below fair value with a BUY one tick inside the book (behind the bid), confidence min(|z|/3, 1)', () => {
    const { signals } = run(fastEma, [...noisy(30), snap(30 * HOUR_MS, 30, 3)], market());
    const [, sig] = signals[0]!;
    expect(sig).toMatchObject({ marketId: 'M1', side: 'BUY', intent: 'ENTER', price: 290_000 });
    expect(sig.confidence).toBe(1);
    expect(sig.metadata.z).toBeLessThan(-3);
    expect(sig.metadata.reason).toBe('entry');
  });

  it('enters above fair value with a SELL and scales confidence with |z|', () => {
    const { signals } = run(fastEma, [...noisy(30), snap(30 * HOUR_MS, 51)], market());
    // a small move stays under the 1.5 sd threshold? 51 is part of the noise: no signal
    expect(signals).toEqual([]);
    const big = run(fastEma, [...noisy(30), snap(30 * HOUR_MS, 53)], market()).signals;
    expect(big).toHaveLength(1);
    const [, sig] = big[0]!;
    expect(sig.side).toBe('SELL');
    expect(sig.confidence).toBeCloseTo(Math.min(Math.abs(sig.metadata.z as number) / 3, 1), 3);
    expect(sig.confidence).toBeGreaterThan(0.5);
  });

  it('exits a long when the price returns to fair value, not before', () => {
    const series = [...noisy(30), snap(30 * HOUR_MS, 45), snap(31 * HOUR_MS, 50)];
    const held = run(fastEma, series, market(), (i) => (i >= 30 ? 10 : 0)).signals;
    // the first snapshot still cheap: hold; back to fair: sell to exit
    expect(held.map(([i, s]) => [i, s.side, s.intent])).toEqual([[31, 'SELL', 'EXIT']]);
    // a short is closed by a BUY at the drop
    const short = run(fastEma, series, market(), (i) => (i >= 30 ? -10 : 0)).signals;
    expect(short.map(([i, s]) => [i, s.side, s.intent])).toEqual([[30, 'BUY', 'EXIT']]);
  });

  it('a negative exit threshold holds the long until the price overshoots fair value by that many sd', () => {
    const series = [...noisy(30), snap(30 * HOUR_MS, 45), snap(31 * HOUR_MS, 50)];
    const longFrom30 = (i: number) => (i >= 30 ? 10 : 0);
    const z = run(fastEma, series, market(), longFrom30).signals[0]![1].metadata.z as number;
    expect(z).toBeGreaterThan(0.1);
    const withExit = (exitThreshold: number) =>
      run(emaMeanReversion.create({ ...(fastEma.params as typeof EMA_CASE_STUDY_PARAMS), exitThreshold }), series, market(), longFrom30).signals;
    expect(withExit(-(z + 0.05))).toEqual([]);
    expect(withExit(-(z - 0.05)).map(([i]) => i)).toEqual([31]);
  });

  it('makes no new entries inside the blackout, and flattens when it starts', () => {
    const resolvesAt = 30 * HOUR_MS + 3 * DAY_MS - 1; // the drop lands inside the 3-day blackout
    const series = [...noisy(30), snap(30 * HOUR_MS, 30)];
    expect(run(fastEma, series, market({ resolvesAt })).signals).toEqual([]);
    expect(run(fastEma, series, market({ resolvesAt: resolvesAt + 2 })).signals).toHaveLength(1);
    const flat = run(fastEma, series, market({ resolvesAt }), (i) => (i === 30 ? 5 : 0)).signals;
    expect(flat[0]![1]).toMatchObject({ intent: 'EXIT', side: 'SELL', metadata: { reason: 'blackout' } });
    // even before warm-up, the blackout exit fires
    expect(run(fastEma, [snap(0, 50)], market({ resolvesAt: 1 }), 5).signals).toHaveLength(1);
  });

  it('makes no new entries more than 14 days before resolution (the 3-14 day window), exits still go out, and 0 lifts the bound', () => {
    const series = [...noisy(30), snap(30 * HOUR_MS, 30)];
    const at = 30 * HOUR_MS;
    expect(EMA_CASE_STUDY_PARAMS.maxDaysToResolution).toBe(14);
    expect(run(fastEma, series, market({ resolvesAt: at + 14 * DAY_MS + 1 })).signals).toEqual([]);
    expect(run(fastEma, series, market({ resolvesAt: at + 14 * DAY_MS })).signals).toHaveLength(1);
    // A short held in a market 20 days out is still closed when the price drops back.
    const short = run(fastEma, series, market({ resolvesAt: at + 20 * DAY_MS }), (i) => (i >= 30 ? -10 : 0)).signals;
    expect(short.map(([, sig]) => [sig.side, sig.intent])).toEqual([['BUY', 'EXIT']]);
    const unbounded = emaMeanReversion.create({ ...(fastEma.params as typeof EMA_CASE_STUDY_PARAMS), maxDaysToResolution: 0 });
    expect(run(unbounded, series, market({ resolvesAt: at + 60 * DAY_MS })).signals).toHaveLength(1);
  });

  it('refuses an outer bound inside the blackout, naming the field and value', () => {
    expect(() => emaMeanReversion.params({ maxDaysToResolution: 2 })).toThrow(/maxDaysToResolution.*above blackoutDays \(3\).*2/);
    expect(() => emaMeanReversion.params({ maxDaysToResolution: -1 })).toThrow(/maxDaysToResolution/);
  });

  it('says how warm a market is against the 100 observations and 72 hours it needs, and recognises only its own states', () => {
    const ema = emaMeanReversion.create(EMA_CASE_STUDY_PARAMS);
    const hourly = (n: number) => run(ema, Array.from({ length: n }, (_, i) => snap(i * HOUR_MS, i % 2 === 0 ? 49 : 51)), market()).state;
    expect(ema.warmth!(ema.initialState())).toEqual({ observations: 0, hours: 0, neededObservations: 100, neededHours: 72, warm: false });
    expect(ema.warmth!(hourly(73))).toEqual({ observations: 73, hours: 72, neededObservations: 100, neededHours: 72, warm: false });
    expect(ema.warmth!(hourly(101))).toMatchObject({ observations: 101, hours: 100, warm: true });
    expect(ema.warmth!({ watched: 3 })).toBeNull();
    expect(ema.warmth!({ ...hourly(5), n: 2.5 })).toBeNull();
    expect(ema.warmth!(null)).toBeNull();
  });

  it('stays silent on a resolved market and on a flat series', () => {
    expect(run(fastEma, [...noisy(30), snap(30 * HOUR_MS, 30)], market({ outcome: 'YES' })).signals).toEqual([]);
    expect(run(fastEma, Array.from({ length: 50 }, (_, i) => snap(i * HOUR_MS, 50)), market()).signals).toEqual([]);
  });

  it('is deterministic and keeps a small JSON state', () => {
    const series = [...noisy(40), snap(40 * HOUR_MS, 30), snap(41 * HOUR_MS, 60)];
    const a = run(fastEma, series, market());
    const b = run(emaMeanReversion.create(fastEma.params as typeof EMA_CASE_STUDY_PARAMS), series, market());
    expect(b).toEqual(a);
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
    expect(Object.keys(a.state as object)).toHaveLength(7);
  });

  it('handles irregular spacing: a gap moves the EMA as much as the same time in steps', () => {
    const s0 = fastEma.initialState();
    const m = market();
    const a = fastEma.onSnapshot(s0, snap(0, 50), { market: m, position: 0 }).state;
    const oneGap = fastEma.onSnapshot(a, snap(2 * HOUR_MS, 60), { market: m, position: 0 }).state;
    const twoSteps = fastEma.onSnapshot(fastEma.onSnapshot(a, snap(HOUR_MS, 60), { market: m, position: 0 }).state, snap(2 * HOUR_MS, 60), { market: m, position: 0 }).state;
    expect(oneGap.ema).toBeCloseTo(twoSteps.ema, 6);
    // an out-of-order snapshot is ignored
    expect(fastEma.onSnapshot(oneGap, snap(HOUR_MS, 10), { market: m, position: 0 }).state).toBe(oneGap);
  });

  it('matches the reference O(n) statistics in the limit of a long window', () => {
    // with a huge deviation span the EW variance tends to the plain variance of the deviations
    const strat = emaMeanReversion.create({ ...EMA_CASE_STUDY_PARAMS, emaSpanHours: 2, deviationSpanHours: 1e4 });
    const series = Array.from({ length: 500 }, (_, i) => snap(i * 60_000, 50 + ((i * 7) % 5) - 2));
    const { state } = run(strat, series, market());
    const alpha = emaWeight(60_000, 2 * HOUR_MS);
    let ema = 0;
    const devs: number[] = [];
    series.forEach((s, i) => {
      const mid = (s.bid! + s.ask!) / 2;
      ema = i === 0 ? mid : ema + alpha * (mid - ema);
      devs.push(mid - ema);
    });
    const mean = devs.reduce((x, y) => x + y, 0) / devs.length;
    const sd = Math.sqrt(devs.reduce((x, y) => x + (y - mean) ** 2, 0) / devs.length);
    expect((state as { ema: number }).ema).toBeCloseTo(ema, 6);
    expect(Math.sqrt((state as { devVar: number }).devVar) / sd).toBeGreaterThan(0.9);
    expect(Math.sqrt((state as { devVar: number }).devVar) / sd).toBeLessThan(1.1);
  });
});

describe('ma crossover', () => {
  const ma = maCrossover.create(maCrossover.params({ fastSpanHours: 2, slowSpanHours: 10, minHistoryHours: 5, minObservations: 5, bandMicros: 10_000 }));
  const up = [...Array.from({ length: 10 }, (_, i) => snap(i * HOUR_MS, 40)), ...Array.from({ length: 10 }, (_, i) => snap((10 + i) * HOUR_MS, 40 + 2 * (i + 1)))];

  it('enters long once the fast average clears the slow one by the band', () => {
    const { signals } = run(ma, up, market());
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every(([, s]) => s.side === 'BUY' && s.intent === 'ENTER')).toBe(true);
    expect(signals[0]![0]).toBeGreaterThan(10);
    expect(signals[0]![1].metadata.gap).toBeGreaterThan(10_000);
  });

  it('exits a long when the averages cross back and ignores a flat market', () => {
    const down = Array.from({ length: 10 }, (_, i) => snap((20 + i) * HOUR_MS, 60 - 3 * (i + 1)));
    const exits = run(ma, [...up, ...down], market(), 7).signals.map(([, s]) => s);
    expect(exits.length).toBeGreaterThan(0);
    expect(exits.every((s) => s.intent === 'EXIT' && s.side === 'SELL')).toBe(true);
    expect(run(ma, up.slice(0, 10), market()).signals).toEqual([]);
  });

  it('rejects a fast span not shorter than the slow one', () => {
    expect(() => maCrossover.params({ fastSpanHours: 10, slowSpanHours: 10 })).toThrow(/fastSpanHours/);
  });
});

describe('model edge', () => {
  const edge = modelEdge.create(modelEdge.params({ minEdge: 0.05 }));
  const m = market();
  const at = (q: number | null, position = 0, bid = 40) => edge.onSnapshot(edge.initialState(), snap(0, bid, 2), { market: m, position, modelProbability: q }).signal;

  it('buys when the model is above the bid by the minimum edge', () => {
    expect(at(0.46)).toMatchObject({ side: 'BUY', price: 400_000, intent: 'ENTER' });
    expect(at(0.46)!.confidence).toBeCloseTo(0.06 / 0.15, 9);
    expect(at(0.449)).toBeNull();
  });
  it('sells when the model is below the ask by the minimum edge', () => {
    expect(at(0.36)).toMatchObject({ side: 'SELL', price: 420_000, intent: 'ENTER', metadata: { modelProbability: 0.36 } });
    expect(at(0.38)).toBeNull();
  });
  it('exits when the market reaches the model, and is silent without a model', () => {
    expect(at(0.41, 5)).toMatchObject({ side: 'SELL', intent: 'EXIT' });
    expect(at(0.5, 5)).toBeNull();
    expect(at(0.35, -5)).toBeNull();
    expect(at(0.45, -5)).toMatchObject({ side: 'BUY', intent: 'EXIT' });
    expect(at(null)).toBeNull();
  });
});

describe('registry', () => {
  it('builds each strategy by name and rejects unknown names and bad params', () => {
    expect(createStrategy('ema-mean-reversion').name).toBe('ema-mean-reversion');
    expect(createStrategy('ma-crossover').name).toBe('ma-crossover');
    expect(createStrategy('model-edge', { minEdge: 0.1 }).params).toMatchObject({ minEdge: 0.1 });
    expect(() => createStrategy('nope' as never)).toThrow(/strategy/);
    expect(() => createStrategy('model-edge', { minEdge: 2 })).toThrow(/minEdge/);
  });
});
