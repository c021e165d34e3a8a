/**
 * Warm-up from venue history (activities/warmup.ts) on a fake history whose shape the test
 * chooses, and once through the market watch against the paper exchange's own history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { createActivities } from '../../activities';
import type { Venue } from '../../contracts/venue';
import { VenueError } from '../../activities/venue/errors';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import { WARM_UP_LOOKBACK_MS, warmUpFromHistory, warmUpMarket } from '../../activities/warmup';
import type { Market, MarketSnapshot } from '../../domain/market';
import type { Price, Quantity } from '../../domain/money';
import { emaMeanReversion, type EmaMeanReversionState } from '../../domain/strategies/ema-mean-reversion';
import { inActivity, makeDeps, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

const HOUR = 3_600_000;
const NOW = 1_767_225_600_000;
const MARKET: Market = { marketId: 'PX-T', category: 'politics', tickSize: 10_000, resolvesAt: NOW + 10 * 24 * HOUR, outcome: null };
const strategy = emaMeanReversion.create(emaMeanReversion.params({}));

/** Five-minute quotes around 0.50 that swing ±2 cents over the day, a cent wide, ending just before `end`. */
function fakeHistory(hours: number, end = NOW): MarketSnapshot[] {
  const n = hours * 12;
  return Array.from({ length: n }, (_, i) => {
    const ts = end - (n - i) * 300_000;
    const mid = 500_000 + Math.round((20_000 * Math.sin((2 * Math.PI * i) / 288)) / 10_000) * 10_000;
    return { marketId: MARKET.marketId, ts, bid: (mid - 5_000) as Price, ask: (mid + 5_000) as Price, last: mid as Price, averageDailyVolume: 1_000_000 as Quantity, intervalVolume: 3_000 as Quantity };
  });
}

/** A venue that serves `history` (filtered by `since`) and remembers what it was asked. */
function historyVenue(history: MarketSnapshot[] | null) {
  const asked: { marketId: string; sinceMs: number }[] = [];
  const venue: Pick<Venue, 'name' | 'getPriceHistory'> = {
    name: 'fake',
    ...(history === null
      ? {}
      : {
          getPriceHistory: async (marketId: string, sinceMs: number) => {
            asked.push({ marketId, sinceMs });
            return history.filter((s) => s.ts > sinceMs);
          },
        }),
  };
  return { venue, asked };
}

/** A live quote 6 cents under the fake history's level: far below fair value for a warm strategy. */
const cheapQuote: MarketSnapshot = { marketId: MARKET.marketId, ts: NOW + 30_000, bid: 430_000 as Price, ask: 440_000 as Price, last: 440_000 as Price, averageDailyVolume: 1_000_000 as Quantity, intervalVolume: 10 as Quantity };

describe('warmUpFromHistory', () => {
  it('steps a new state through the history before `until`, exactly as live polls would, and says how warm it is', async () => {
    const history = fakeHistory(96);
    const { venue, asked } = historyVenue([...history, { ...history.at(-1)!, ts: NOW }, { ...history.at(-1)!, ts: NOW + 60_000 }]);
    const r = await warmUpFromHistory({ venue, strategy, market: MARKET, state: undefined, untilMs: NOW });
    expect(asked).toEqual([{ marketId: 'PX-T', sinceMs: NOW - WARM_UP_LOOKBACK_MS }]);
    let expected = strategy.initialState();
    for (const s of history) expected = strategy.onSnapshot(expected, s, { market: MARKET, position: 0 }).state;
    expect(r.state).toEqual(expected);
    expect(r).toMatchObject({ observations: 96 * 12, hours: 95.9, skipped: null });
    // Points at or after `until` are left to the live poll.
    expect((r.state as EmaMeanReversionState).lastTs).toBe(history.at(-1)!.ts);
  });

  it('makes the strategy ready: the first live quote far from fair value signals, where a cold state stays silent', async () => {
    const { venue } = historyVenue(fakeHistory(96));
    const warm = await warmUpFromHistory({ venue, strategy, market: MARKET, state: undefined, untilMs: cheapQuote.ts });
    const live = strategy.onSnapshot(warm.state, cheapQuote, { market: MARKET, position: 0 });
    expect(live.signal).toMatchObject({ side: 'BUY', intent: 'ENTER' });
    expect(strategy.onSnapshot(strategy.initialState(), cheapQuote, { market: MARKET, position: 0 }).signal).toBeNull();
  });

  it('leaves the readiness rules to the strategy: 24 hours of history is not the 72 it needs', async () => {
    const { venue } = historyVenue(fakeHistory(24));
    const r = await warmUpFromHistory({ venue, strategy, market: MARKET, state: undefined, untilMs: cheapQuote.ts });
    expect(r.observations).toBe(288);
    expect(strategy.onSnapshot(r.state, cheapQuote, { market: MARKET, position: 0 }).signal).toBeNull();
  });

  it('signals met during the warm-up are dropped, not traded', async () => {
    // A history that dives at the end: the strategy would signal on its last points.
    const history = fakeHistory(96).map((s, i, all) => (i >= all.length - 3 ? { ...s, bid: 400_000 as Price, ask: 410_000 as Price } : s));
    const { venue } = historyVenue(history);
    let signalled = 0;
    const spy = { ...strategy, onSnapshot: (st: EmaMeanReversionState, s: MarketSnapshot, c: Parameters<typeof strategy.onSnapshot>[2]) => {
      const step = strategy.onSnapshot(st, s, c);
      if (step.signal) signalled += 1;
      return step;
    } };
    const r = await warmUpFromHistory({ venue, strategy: spy, market: MARKET, state: undefined, untilMs: NOW });
    expect(signalled).toBeGreaterThan(0);
    expect(r).not.toHaveProperty('signal');
  });

  it('an existing state is left alone and the venue is not asked', async () => {
    const { venue, asked } = historyVenue(fakeHistory(96));
    const state = { ...strategy.initialState(), n: 7 };
    expect(await warmUpFromHistory({ venue, strategy, market: MARKET, state, untilMs: NOW })).toEqual({ state, observations: 0, hours: 0, skipped: 'ALREADY_WARM' });
    expect(asked).toEqual([]);
  });

  it('a venue without price history gives the initial state', async () => {
    const { venue } = historyVenue(null);
    expect(await warmUpFromHistory({ venue, strategy, market: MARKET, state: undefined, untilMs: NOW })).toEqual({
      state: strategy.initialState(),
      observations: 0,
      hours: 0,
      skipped: 'NO_HISTORY_AT_VENUE',
    });
  });
});

describe('warmUpMarket (the market watch hook)', () => {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const log = (['info', 'warn', 'error'] as const).reduce(
    (l, level) => ({ ...l, [level]: (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message }) }),
    {} as Record<string, unknown>,
  ) as unknown as Logger;
  const failing = (e: Error) => ({ name: 'fake', getPriceHistory: () => Promise.reject(e) }) as unknown as ResilientVenue;

  it('logs how warm the market is', async () => {
    lines.length = 0;
    const { venue } = historyVenue(fakeHistory(96));
    await warmUpMarket({ venue: venue as ResilientVenue, log }, strategy, MARKET, NOW);
    expect(lines).toEqual([expect.objectContaining({ level: 'info', fields: expect.objectContaining({ event: 'warm_up', marketId: 'PX-T', observations: 1152, hours: 95.9 }) })]);
  });

  it('a venue that refuses the request (BAD_REQUEST) leaves the market cold, with a warning', async () => {
    lines.length = 0;
    const refused = new VenueError('BAD_REQUEST', 'no route GET /v1/markets/PX-T/history', { venue: 'paper', operation: 'getPriceHistory', status: 404 });
    expect(await warmUpMarket({ venue: failing(refused), log }, strategy, MARKET, NOW)).toEqual(strategy.initialState());
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('any other venue error is thrown, so the watch retries as it does for a failed quote', async () => {
    const down = new VenueError('UNAVAILABLE', '503', { venue: 'paper', operation: 'getPriceHistory', status: 503 });
    await expect(warmUpMarket({ venue: failing(down), log }, strategy, MARKET, NOW)).rejects.toBe(down);
    const garbled = new VenueError('MALFORMED_RESPONSE', 'field body.history[0].ts', { venue: 'paper', operation: 'getPriceHistory' });
    await expect(warmUpMarket({ venue: failing(garbled), log }, strategy, MARKET, NOW)).rejects.toBe(garbled);
  });

  it('the resilient client offers price history exactly when its adapter does', () => {
    const { venue: withHistory } = historyVenue([]);
    expect(new ResilientVenue(withHistory as unknown as Venue, null).getPriceHistory).toBeTypeOf('function');
    expect(new ResilientVenue({ name: 'bare' } as unknown as Venue, null).getPriceHistory).toBeUndefined();
  });
});

forEachBackend('market watch on the paper exchange', (backend) => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await startTestExchange();
  });
  afterAll(() => ex?.close());

  it('a new market state is warmed on the exchange history at the first poll, and not again', async () => {
    const acts = createActivities(makeDeps({ db: backend.db, venue: ex.venue }));
    const marketId = ex.market.marketId;
    const input = { strategy: 'ema-mr', strategyName: 'ema-mean-reversion', strategyParams: {}, strategyState: {}, marketIds: [marketId], untilMs: Date.now() + 50, pollIntervalMs: 20 };
    const first = await inActivity(() => acts.watchForSignal(input));
    const n = (first.strategyState[marketId] as EmaMeanReversionState).n;
    // 96 h of five-minute points, then the live quote(s).
    expect(n).toBeGreaterThan(96 * 12);
    const second = await inActivity(() => acts.watchForSignal({ ...input, strategyState: first.strategyState, untilMs: Date.now() + 50 }));
    expect((second.strategyState[marketId] as EmaMeanReversionState).n - n).toBeLessThan(10);
  });
});
