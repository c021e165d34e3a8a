import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestConfig } from '../../domain/backtest';
import { computeBacktestStats, formatStatsTable, sharpeFromDailyPnl, dailyPnl } from '../../domain/backtest-stats';
import { CASE_STUDY_FILL_MODEL, type FillModelParams } from '../../domain/fill-model';
import type { Market, MarketSnapshot } from '../../domain/market';
import type { Money, Price, Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import type { Signal, Strategy } from '../../domain/strategy';
import { emaMeanReversion } from '../../domain/strategies/ema-mean-reversion';
import { buildRiskContext, countOrdersInWindow } from '../../domain/trading-context';
import { applyFill, emptyLedger } from '../../domain/ledger';
import { generateSampleData } from '../../testkit/sample-data';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 1);
const market: Market = { marketId: 'M1', category: 'economics', tickSize: 10_000, resolvesAt: null, outcome: null };

/** Exact fills at the touch: the fill model without randomness. */
const EXACT: FillModelParams = { fillProbability: 1, partialFillProbability: 0, participationRate: 1, slippageStd: 0, feeCoefficientPpm: 0 };

function q(minute: number, bidCents: number, askCents = bidCents + 1, marketId = 'M1'): MarketSnapshot {
  return {
    marketId,
    ts: T0 + minute * MIN,
    bid: (bidCents * 10_000) as Price,
    ask: (askCents * 10_000) as Price,
    last: null,
    averageDailyVolume: 10_000 as Quantity,
    intervalVolume: 1_000 as Quantity,
  };
}

/** Emits a given signal at given minutes, whatever the quotes say. */
function scripted(plan: Record<number, Omit<Signal, 'marketId' | 'metadata'>>): Strategy<null> {
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

const px = (cents: number) => (cents * 10_000) as Price;

describe('runBacktest on a hand-checkable series', () => {
  it('fills a passive buy when the ask comes down to it, exits, and books the round trip', () => {
    const strategy = scripted({
      0: { side: 'BUY', price: px(40), confidence: 0.5, intent: 'ENTER' },
      3: { side: 'SELL', price: px(46), confidence: 1, intent: 'EXIT' },
    });
    // minute 1: ask 0.41 > 0.40, no fill; minute 2: ask 0.40, fill 5 at 0.40
    // minute 4: bid 0.45 < 0.46 no fill; minute 5: bid 0.46, fill 5 at 0.46: +$0.30
    const quotes = [q(0, 40), q(1, 40), q(2, 39, 40), q(3, 45), q(4, 45), q(5, 46), q(6, 46)];
    const r = runBacktest(quotes, config(strategy as Strategy<unknown>));
    expect(r.fills.map((f) => [f.side, f.quantity, f.price, (f.ts - T0) / MIN])).toEqual([
      ['BUY', 5, 400_000, 2],
      ['SELL', 5, 460_000, 5],
    ]);
    expect(r.fills[0]!.clientOrderId).toBe('scripted-20240301-000001');
    expect(r.trades).toEqual([
      { marketId: 'M1', direction: 'LONG', openedAt: T0 + 2 * MIN, closedAt: T0 + 5 * MIN, maxContracts: 5, pnl: 300_000, closedBy: 'trade' },
    ]);
    expect(r.totalPnl).toBe(300_000);
    expect(r.realizedPnl).toBe(300_000);
    expect(r.ordersPlaced).toBe(2);
    expect(r.ordersFilled).toBe(2);
    const s = computeBacktestStats(r);
    expect(s).toMatchObject({ totalTrades: 1, wins: 1, winRate: 1, averageWin: 300_000, averageLoss: null, profitFactor: null, fillRate: 1 });
    expect(s.averageHoldingMs).toBe(3 * MIN);
    expect(formatStatsTable(s)).toMatch(/Average win\s+\$0\.30/);
  });

  it('cancels an order that has not filled within its time-to-live, and drops signals while it works', () => {
    const strategy = scripted({
      0: { side: 'BUY', price: px(35), confidence: 1, intent: 'ENTER' },
      5: { side: 'BUY', price: px(35), confidence: 1, intent: 'ENTER' },
      11: { side: 'BUY', price: px(40), confidence: 1, intent: 'ENTER' },
    });
    const quotes = Array.from({ length: 13 }, (_, i) => q(i, 40));
    quotes.push(q(13, 39, 40));
    const r = runBacktest(quotes, config(strategy as Strategy<unknown>));
    expect(r.ordersPlaced).toBe(2); // minute 0 and minute 11 (the minute-5 signal met a working order)
    expect(r.signalsWhileWorking).toBe(1);
    expect(r.ordersCanceled).toBe(1); // canceled at minute 10, the first quote at its deadline
    expect(r.fills.map((f) => (f.ts - T0) / MIN)).toEqual([13]);
    // the open position is valued at the last mid (0.395) and counted as a trip closed by the mark
    expect(r.trades).toEqual([expect.objectContaining({ closedBy: 'end-mark', pnl: 10 * (395_000 - 400_000) })]);
    expect(r.unrealizedPnl).toBe(-50_000);
    expect(computeBacktestStats(r).fillRate).toBe(0.5);
  });

  it('asks pre-trade risk and counts refusals by rule', () => {
    const strategy = scripted({ 0: { side: 'BUY', price: px(40), confidence: 1, intent: 'ENTER' } });
    const wide = runBacktest([q(0, 40, 43)], config(strategy as Strategy<unknown>));
    expect(wide.ordersPlaced).toBe(0);
    expect(wide.riskRejections).toBe(1);
    expect(wide.rejectionsByRule).toEqual({ SPREAD: 1 });
    const big = runBacktest([q(0, 40)], config(strategy as Strategy<unknown>, { sizing: { kind: 'confidence', maxOrderSize: 80 } }));
    expect(big.rejectionsByRule).toEqual({ ORDER_QUANTITY: 1, FAT_FINGER: 1 });
  });

  it('settles a position when its market resolves and hides the outcome from the strategy before', () => {
    const resolved: Market = { ...market, resolvesAt: T0 + 4 * MIN, outcome: 'YES' };
    const seen: Array<string | null> = [];
    const base = scripted({ 0: { side: 'BUY', price: px(40), confidence: 1, intent: 'ENTER' } });
    const spy: Strategy<null> = {
      ...base,
      onSnapshot(state, snapshot, ctx) {
        seen.push(ctx.market.outcome);
        return base.onSnapshot(state, snapshot, ctx);
      },
    };
    const r = runBacktest([q(0, 40), q(1, 39, 40), q(2, 40), q(4, 60), q(5, 60)], config(spy as Strategy<unknown>, { markets: [resolved] }));
    expect(seen).toEqual([null, null, null, 'YES', 'YES']);
    // 10 bought at 0.40, settled at 1.00: +$6.00
    expect(r.trades).toEqual([expect.objectContaining({ closedBy: 'resolution', pnl: 6_000_000, closedAt: T0 + 4 * MIN })]);
    expect(r.totalPnl).toBe(6_000_000);
    // marked at the 0.395 mid right after the fill, before the rally
    expect(r.maxDrawdown).toBe(50_000);
  });

  it('tracks the drawdown of the equity curve at every snapshot', () => {
    const strategy = scripted({ 0: { side: 'BUY', price: px(40), confidence: 1, intent: 'ENTER' } });
    // long 10 from 0.40 (mid 0.405 then): up to mid 0.455, down to 0.355, back to 0.385
    const r = runBacktest([q(0, 40), q(1, 39, 40), q(2, 45), q(3, 35), q(4, 38)], config(strategy as Strategy<unknown>));
    expect(r.fills).toHaveLength(1);
    expect(r.maxDrawdown).toBe(10 * (455_000 - 355_000));
    expect(r.totalPnl).toBe(10 * (385_000 - 400_000));
  });

  it('rejects data that goes back in time or names an unknown market', () => {
    const strategy = scripted({}) as Strategy<unknown>;
    expect(() => runBacktest([q(1, 40), q(0, 40)], config(strategy))).toThrow(/snapshot\.ts/);
    expect(() => runBacktest([q(0, 40, 41, 'M2')], config(strategy))).toThrow(/unknown market/);
    expect(() => runBacktest([], config(strategy, { orderTtlMs: 0, seed: 1.5 }))).toThrow(/orderTtlMs.*seed|seed.*orderTtlMs/);
  });
});

describe('runBacktest on generated data', () => {
  const data = generateSampleData({ seed: 7, markets: 3, days: 6, stepMs: MIN });
  const ema = emaMeanReversion.create(emaMeanReversion.params({ minHistoryHours: 24, emaSpanHours: 12, deviationSpanHours: 24 })) as Strategy<unknown>;
  const cfg = (seed: number): BacktestConfig => ({ ...config(ema), markets: data.markets, fillModel: CASE_STUDY_FILL_MODEL, seed, sizing: { kind: 'confidence', maxOrderSize: 50 } });

  it('is deterministic by seed, and the seed matters', () => {
    const a = runBacktest(data.snapshots, cfg(42));
    const b = runBacktest(data.snapshots, cfg(42));
    expect(b).toEqual(a);
    expect(a.ordersPlaced).toBeGreaterThan(5);
    expect(a.fills.length).toBeGreaterThan(0);
    const c = runBacktest(data.snapshots, cfg(43));
    expect(c.fills).not.toEqual(a.fills);
  });

  it('keeps the ledger, the trips and the equity curve consistent', () => {
    const r = runBacktest(data.snapshots, cfg(42));
    const settledOrClosed = r.trades.reduce((sum, t) => sum + t.pnl, 0);
    expect(settledOrClosed).toBe(r.totalPnl);
    expect(r.dailyEquity.at(-1)!.equity).toBe(r.totalPnl);
    expect(r.dailyEquity).toHaveLength(6);
    // every position ends flat or settled when outcomes are known
    for (const m of data.markets) if (m.outcome !== null) expect(r.ledger.positions[m.marketId]?.quantity ?? 0).toBe(0);
    const s = computeBacktestStats(r);
    expect(s.wins + s.losses).toBeLessThanOrEqual(s.totalTrades);
    expect(s.fillRate).toBeGreaterThan(0);
    expect(s.fillRate).toBeLessThanOrEqual(1);
  });
});

describe('stats helpers', () => {
  it('computes Sharpe from daily P&L, annualised with sqrt(365)', () => {
    expect(dailyPnl([{ day: '2024-03-01', equity: 10 }, { day: '2024-03-02', equity: 30 }, { day: '2024-03-03', equity: 20 }])).toEqual([10, 20, -10]);
    const d = [10, 20, -10];
    const mean = 20 / 3;
    const sd = Math.sqrt(((10 - mean) ** 2 + (20 - mean) ** 2 + (-10 - mean) ** 2) / 2);
    expect(sharpeFromDailyPnl(d)).toBeCloseTo((mean / sd) * Math.sqrt(365), 12);
    expect(sharpeFromDailyPnl([5])).toBeNull();
    expect(sharpeFromDailyPnl([5, 5])).toBeNull();
  });
});

describe('buildRiskContext', () => {
  it('turns the ledger into exposure, P&L net of fees and the order rate', () => {
    const fill = { tradeId: 't1', clientOrderId: 'c1', marketId: 'M1', side: 'BUY' as const, quantity: 10 as Quantity, price: px(40), fee: 20_000 as never, ts: T0 };
    const { ledger } = applyFill(emptyLedger(), fill);
    const ctx = buildRiskContext({
      ledger,
      markets: { M1: { category: 'economics' }, M2: { category: 'politics' } },
      marks: { M1: px(45) },
      market: { ...market, marketId: 'M2', category: 'politics' },
      snapshot: q(0, 40, 41, 'M2'),
      now: T0 + MIN,
      halted: null,
      recentOrderTimes: [T0, T0 + 1, T0 - MIN],
      openingUnrealizedPnl: 0 as Money,
    });
    expect(ctx).toMatchObject({
      currentPosition: 0,
      openPositionCount: 1,
      portfolioExposure: 4_500_000,
      categoryExposure: 0,
      dailyRealizedPnl: -20_000,
      unrealizedPnl: 500_000,
      ordersInLastMinute: 1,
    });
    expect(countOrdersInWindow([0, 1, 60_000, 60_001], 60_000)).toBe(2);
  });
});
