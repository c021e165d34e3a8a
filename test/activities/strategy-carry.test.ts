/** Which recorded strategy states a new session carries on from, and the log line it writes for each market. */
import { describe, expect, it } from 'vitest';
import { CARRY_MAX_AGE_MS, canonicalJson, carriedStates, warmthText } from '../../activities/warmup';
import type { StoredStrategyState } from '../../db';
import { createStrategy } from '../../domain/strategies';
import { DAY_MS, HOUR_MS } from '../../domain/strategy';

const strategy = createStrategy('ema-mean-reversion');
const now = 10 * DAY_MS;
const state = { n: 150, firstTs: now - 80 * HOUR_MS, lastTs: now - HOUR_MS, ema: 500_000, devMean: 0, devVar: 1e8, devWeight: 0.5 };
const row = (over: Partial<StoredStrategyState> = {}): StoredStrategyState => ({
  account: 'paper',
  strategy: 'ema',
  marketId: 'PX-A',
  strategyName: 'ema-mean-reversion',
  params: JSON.parse(JSON.stringify(strategy.params)) as Record<string, unknown>,
  state,
  quotedAt: now - HOUR_MS,
  tradingDay: '2026-11-20',
  sessionId: 'session-ema-2026-11-20',
  ...over,
});

describe('carrying the strategy state over', () => {
  it('carries a state of the same strategy and params, with its warmth and the day it came from', () => {
    const [c] = carriedStates(strategy, [row()], ['PX-A'], now);
    expect(c).toMatchObject({ marketId: 'PX-A', refused: null, state, warmth: { observations: 150, hours: 79, neededObservations: 100, neededHours: 72, warm: true, carriedFrom: '2026-11-20' } });
    expect(warmthText(c!)).toBe('PX-A: carried on from 2026-11-20: 150 of 100 observations over 79 of 72 h, warm');
  });

  it('compares params by value, whatever the key order', () => {
    const reordered = Object.fromEntries(Object.entries(row().params).reverse());
    expect(canonicalJson(reordered)).toBe(canonicalJson(strategy.params));
    expect(carriedStates(strategy, [row({ params: reordered })], ['PX-A'], now)[0]!.refused).toBeNull();
  });

  it('starts a market cold, and says why, when nothing fits', () => {
    const cases: [StoredStrategyState[], string][] = [
      [[], 'NONE_RECORDED'],
      [[row({ strategyName: 'ma-crossover' })], 'OTHER_STRATEGY'],
      [[row({ params: { ...row().params, emaSpanHours: 24 } })], 'PARAMS_CHANGED'],
      [[row({ state: { watched: 3 } })], 'NOT_A_STATE'],
      [[row({ quotedAt: now - CARRY_MAX_AGE_MS - 1 })], 'TOO_OLD'],
    ];
    for (const [rows, refused] of cases) {
      const [c] = carriedStates(strategy, rows, ['PX-A'], now);
      expect(c).toMatchObject({ refused, state: undefined, warmth: null });
      expect(warmthText(c!)).toMatch(/^PX-A: starts cold \(.+\); warms up from venue history or live quotes$/);
    }
    expect(carriedStates(strategy, [row({ quotedAt: now - CARRY_MAX_AGE_MS })], ['PX-A'], now)[0]!.refused).toBeNull();
  });
});
