/**
 * The exchange's default markets as a trader would judge them: quoted at a spread the case-study
 * risk limits accept, with a touch that moves tick by tick within a minute, and prices whose
 * overreactions the case-study strategy can find (it wants a position some of the time, not never
 * and not always, and its entries are followed by reversion more often than not).
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, defaultEngineConfig, defaultMarkets, validateEngineConfig } from '../../exchange/config';
import { PaperEngine } from '../../exchange/engine';
import { InvalidInput } from '../../domain/errors';
import type { MarketSnapshot } from '../../domain/market';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { emaMeanReversion } from '../../domain/strategies/ema-mean-reversion';

const T0 = 1_767_225_600_000;

describe('default markets', () => {
  it('quote a one-cent spread, which the case-study spread limit accepts', () => {
    const e = new PaperEngine(defaultEngineConfig(1, T0), T0);
    for (const m of e.listMarkets()) {
      const s = e.snapshot(m.marketId, 1);
      expect(s.ask! - s.bid!, m.marketId).toBe(10_000);
      expect(s.ask! - s.bid!).toBeLessThanOrEqual(CASE_STUDY_LIMITS.maxSpread);
    }
  });

  it('move the touch by a tick within a minute (order flow), reproducibly', () => {
    const run = () => {
      const e = new PaperEngine({ ...defaultEngineConfig(2, T0), preRollMs: 0 }, T0);
      const bids: number[] = [];
      for (let i = 1; i <= 600; i++) {
        e.advanceTo(T0 + i * 1_000);
        bids.push(e.snapshot('PX-POL-1', 1).bid!);
      }
      return bids;
    };
    const bids = run();
    expect(run()).toEqual(bids);
    const changes = bids.filter((b, i) => i > 0 && b !== bids[i - 1]).length;
    // Ten minutes of one-second steps: the bid changes many times, by a tick or two at a time.
    expect(changes).toBeGreaterThan(10);
    expect(Math.max(...bids.map((b, i) => (i > 0 ? Math.abs(b - bids[i - 1]!) : 0)))).toBeLessThanOrEqual(30_000);
  });

  it('order-flow noise needs a reversion speed', () => {
    const [m] = defaultMarkets(1, T0);
    try {
      validateEngineConfig({ ...defaultEngineConfig(1, T0), markets: [{ ...m!, flowNoiseMicros: 5_000, flowNoiseReversionPerDay: 0 }, { ...m!, marketId: 'X-2', flowNoiseMicros: -1 }] });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['markets[0].flowNoiseReversionPerDay', 'markets[1].flowNoiseMicros']);
    }
  });

  it('revert after the case-study signal more often than not, which it sees some of the time', () => {
    const strategy = emaMeanReversion.create(emaMeanReversion.params({}));
    const forward = 12 * 12; // 12 hours of five-minute points
    let polls = 0;
    let signalled = 0;
    let entries = 0;
    let reverted = 0;
    for (const seed of [1, 2]) {
      const markets = defaultMarkets(seed, T0).map((m) => ({ ...m, resolvesAt: null }));
      const e = new PaperEngine({ ...defaultEngineConfig(seed, T0), markets, historyWindowMs: 30 * DAY_MS, preRollMs: 30 * DAY_MS }, T0);
      for (const m of markets) {
        const market = { marketId: m.marketId, category: m.category, tickSize: m.tickSize, resolvesAt: null, outcome: null };
        const points = e.history(m.marketId, 0);
        let state = strategy.initialState();
        let lastEntry = -Infinity;
        points.forEach((p, i) => {
          const snapshot: MarketSnapshot = { marketId: m.marketId, ts: p.ts, bid: p.bid, ask: p.ask, last: p.last, averageDailyVolume: m.averageDailyVolume, intervalVolume: p.volume } as MarketSnapshot;
          const step = strategy.onSnapshot(state, snapshot, { market, position: 0 });
          state = step.state;
          if (state.n < 1_000) return;
          polls += 1;
          if (step.signal === null) return;
          signalled += 1;
          // One entry per episode: the next one at least the forward horizon later.
          if (i + forward >= points.length || i - lastEntry < forward) return;
          lastEntry = i;
          const mid = (x: typeof p) => (x.bid! + x.ask!) / 2;
          const move = mid(points[i + forward]!) - mid(p);
          entries += 1;
          if (step.signal.side === 'BUY' ? move > 0 : move < 0) reverted += 1;
        });
      }
    }
    expect(signalled / polls).toBeGreaterThan(0.05);
    expect(signalled / polls).toBeLessThan(0.3);
    expect(entries).toBeGreaterThan(200);
    expect(reverted / entries).toBeGreaterThan(0.55);
  });
});
