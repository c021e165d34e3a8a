/**
 * Issue 14, "Backtest statistics" and the daily loss in the backtest: days are days of the
 * configured trading zone, Sharpe counts every calendar day (a day without quotes is a day of zero
 * P&L, not a day that did not happen), and the daily-loss rule measures each day from its open.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestConfig } from '../../domain/backtest';
import { computeBacktestStats, dailyPnl, sharpeFromDailyPnl } from '../../domain/backtest-stats';
import type { FillModelParams } from '../../domain/fill-model';
import type { Market, MarketSnapshot } from '../../domain/market';
import { usd, type Price, type Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import type { Signal, Strategy } from '../../domain/strategy';

const MIN = 60_000;
const DAY = 1_440;
const T0 = Date.UTC(2024, 2, 1);
const market: Market = { marketId: 'M1', category: 'economics', tickSize: 10_000, resolvesAt: null, outcome: null };
const EXACT: FillModelParams = { fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, feeCoefficientPpm: 0 };
const px = (cents: number) => (cents * 10_000) as Price;

function q(minute: number, bidCents: number, askCents = bidCents + 1): MarketSnapshot {
  return { marketId: 'M1', ts: T0 + minute * MIN, bid: px(bidCents), ask: px(askCents), last: null, averageDailyVolume: 100_000 as Quantity, intervalVolume: 10_000 as Quantity };
}

function scripted(plan: Record<number, Omit<Signal, 'marketId' | 'metadata'>>): Strategy<unknown> {
  return {
    name: 'scripted',
    params: {},
    initialState: () => null,
    onSnapshot(state, snapshot) {
      const s = plan[(snapshot.ts - T0) / MIN];
      return { state, signal: s ? { ...s, marketId: snapshot.marketId, metadata: {} } : null };
    },
  };
}

const config = (strategy: Strategy<unknown>, over: Partial<BacktestConfig> = {}): BacktestConfig => ({
  strategy,
  markets: [market],
  limits: CASE_STUDY_LIMITS,
  sizing: { kind: 'confidence', maxOrderSize: 10 },
  fillModel: EXACT,
  seed: 1,
  orderTtlMs: 10 * MIN,
  ...over,
});

describe('backtest days are days of the trading zone', () => {
  it('22:00 and 01:00 New York time are two trading days, although both fall on one UTC day', () => {
    // 2024-03-02 03:00Z is 2024-03-01 22:00 in New York; 06:00Z is 2024-03-02 01:00 there.
    const quotes = [q(DAY + 180, 40), q(DAY + 360, 40)];
    const utc = runBacktest(quotes, config(scripted({})));
    expect(utc.dailyEquity.map((d) => d.day)).toEqual(['2024-03-02']);
    const ny = runBacktest(quotes, config(scripted({}), { timeZone: 'America/New_York' }));
    expect(ny.dailyEquity.map((d) => d.day)).toEqual(['2024-03-01', '2024-03-02']);
  });

  it('refuses a time zone Intl does not know, naming the field', () => {
    expect(() => runBacktest([], config(scripted({}), { timeZone: 'Mars/Olympus' }))).toThrow(/timeZone.*Mars\/Olympus/);
  });
});

describe('Sharpe over calendar days', () => {
  it('a day without snapshots is a day of zero P&L', () => {
    // Equity 10 on the 1st, 30 on the 4th: the 2nd and 3rd earned nothing.
    expect(dailyPnl([
      { day: '2024-03-01', equity: 10 },
      { day: '2024-03-04', equity: 30 },
    ])).toEqual([10, 0, 0, 20]);
    const r = runBacktest([q(0, 40), q(3 * DAY, 40)], config(scripted({})));
    const s = computeBacktestStats(r);
    expect(s.days).toBe(4);
  });

  it('annualises the calendar-day series with √365', () => {
    const daily = [10, 0, 0, 20];
    const mean = 7.5;
    const sd = Math.sqrt(daily.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    expect(sharpeFromDailyPnl(dailyPnl([
      { day: '2024-03-01', equity: 10 },
      { day: '2024-03-04', equity: 30 },
    ]))).toBeCloseTo((mean / sd) * Math.sqrt(365), 12);
  });
});

describe('the backtest measures the daily loss from the day opening marks', () => {
  it('a loss carried over midnight does not refuse the next day orders, and never a reducing one', () => {
    const limits = { ...CASE_STUDY_LIMITS, maxDailyLoss: usd(1), maxSpread: 1_000_000, maxPriceDeviation: 1_000_000 };
    const strategy = scripted({
      0: { side: 'BUY', price: px(41), confidence: 1, intent: 'ENTER' },
      // Day 2 opens with the 10 held $2 under water: yesterday's loss is not today's.
      [DAY + 1]: { side: 'BUY', price: px(21), confidence: 0.3, intent: 'ENTER' },
      // Then today's own loss passes the limit (13 × 0.15 = $1.95): an exit must still go through.
      [DAY + 4]: { side: 'SELL', price: px(5), confidence: 1, intent: 'EXIT' },
    });
    const quotes = [q(0, 40), q(1, 40), q(2, 20), q(DAY, 20), q(DAY + 1, 20), q(DAY + 2, 20), q(DAY + 3, 5), q(DAY + 4, 5), q(DAY + 5, 5)];
    const r = runBacktest(quotes, config(strategy, { limits }));
    expect(r.rejectionsByRule.DAILY_LOSS).toBeUndefined();
    expect(r.fills.map((f) => [f.side, f.quantity, (f.ts - T0) / MIN])).toEqual([
      ['BUY', 10, 1],
      ['BUY', 3, DAY + 2],
      ['SELL', 10, DAY + 5],
    ]);
  });
});
