import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { CASE_STUDY_FILL_MODEL } from '../../domain/fill-model';
import type { Market, MarketSnapshot } from '../../domain/market';
import { usd, type Money, type Price, type Quantity } from '../../domain/money';
import {
  alignSignals,
  compareSlippage,
  compareStages,
  decideRamp,
  DEFAULT_RAMP_STEPS,
  evaluateGoNoGo,
  formatGoNoGo,
  formatStageReport,
  nextStage,
  parseStage,
  previousStage,
  replaySignals,
  type GoNoGoInput,
  type RunStats,
  type ShadowExecution,
} from '../../domain/stages';
import type { Strategy } from '../../domain/strategy';

/** Reference 001, "Paper Trading Results": the backtest over the same 21 days and the paper run. */
const CASE_BACKTEST: RunStats = {
  stage: 'BACKTEST',
  days: 21,
  totalTrades: 68,
  winRate: 0.603,
  totalPnl: usd(187),
  maxDrawdown: usd(145),
  fillRate: 1,
  averageSlippage: usd(0),
  systemErrors: 0,
};
const CASE_PAPER: RunStats = {
  stage: 'PAPER',
  days: 21,
  totalTrades: 54,
  winRate: 0.574,
  totalPnl: usd(98),
  maxDrawdown: usd(178),
  fillRate: 0.78,
  averageSlippage: usd(0.003),
  systemErrors: 0,
};

const byName = (r: ReturnType<typeof compareStages>, name: string) => r.criteria.find((c) => c.criterion === name);

describe('stage order', () => {
  it('runs backtest, paper, shadow, live', () => {
    expect(nextStage('BACKTEST')).toBe('PAPER');
    expect(nextStage('PAPER')).toBe('SHADOW');
    expect(nextStage('SHADOW')).toBe('LIVE');
    expect(nextStage('LIVE')).toBeNull();
    expect(previousStage('BACKTEST')).toBeNull();
    expect(previousStage('LIVE')).toBe('SHADOW');
    expect(parseStage(' shadow ')).toBe('SHADOW');
    expect(() => parseStage('PROD')).toThrow(/must be one of BACKTEST, PAPER, SHADOW, LIVE/);
  });
});

describe('go/no-go', () => {
  const passing = [
    { name: 'VENUE_REACHABLE', ok: true, detail: 'answered' },
    { name: 'MARKET_DATA_FRESH', ok: true, detail: 'ages 100 ms' },
  ];
  const ramp = decideRamp({ steps: DEFAULT_RAMP_STEPS, recorded: null, report: null, now: Date.UTC(2026, 0, 5) });
  const live: GoNoGoInput = { stage: 'LIVE', confirmed: true, capitalCap: usd(2000), maxPortfolioExposure: usd(2000), preflight: passing, alertSinks: ['email'], ramp, balance: usd(600) };

  it('is GO for a confirmed, capped live start whose pre-flight passes', () => {
    const g = evaluateGoNoGo(live);
    expect(g.go).toBe(true);
    expect(g.refusals).toEqual([]);
    expect(formatGoNoGo(g)).toMatch(/GO: LIVE may start/);
  });

  it('refuses live without the flag, without a cap, or with a failed pre-flight check, naming each', () => {
    expect(evaluateGoNoGo({ ...live, confirmed: false }).refusals).toEqual([expect.stringMatching(/^LIVE_CONFIRMED: LIVE_CONFIRM is not true/)]);
    const noCap = evaluateGoNoGo({ ...live, capitalCap: null });
    expect(noCap.go).toBe(false);
    expect(noCap.refusals.join('\n')).toMatch(/CAPITAL_CAP_SET: LIVE_CAPITAL_CAP is not set/);
    const stale = evaluateGoNoGo({ ...live, preflight: [passing[0]!, { name: 'MARKET_DATA_FRESH', ok: false, detail: 'quotes older than 90000 ms: X 120000 ms' }] });
    expect(stale.go).toBe(false);
    expect(stale.refusals).toEqual(['PREFLIGHT MARKET_DATA_FRESH: quotes older than 90000 ms: X 120000 ms']);
    const table = formatGoNoGo(stale);
    expect(table).toMatch(/PREFLIGHT MARKET_DATA_FRESH\s+FAIL/);
    expect(table).toMatch(/PREFLIGHT VENUE_REACHABLE\s+PASS/);
    expect(table).toMatch(/NO-GO: LIVE refused \(1 failed check\)/);
    expect(evaluateGoNoGo({ ...live, preflight: null }).refusals).toEqual(['PREFLIGHT: pre-flight checks did not run']);
  });

  it('refuses a cap below the exposure limit and live without alert email', () => {
    const g = evaluateGoNoGo({ ...live, capitalCap: usd(500), alertSinks: [] });
    expect(g.refusals).toEqual([expect.stringMatching(/^EXPOSURE_WITHIN_CAP: max portfolio exposure 2000.00 exceeds the capital cap 500.00/), expect.stringMatching(/^ALERTS_DELIVERED/)]);
  });

  it('counts a webhook as a way alerts reach a person, alone or beside email', () => {
    const hookOnly = evaluateGoNoGo({ ...live, alertSinks: ['webhook'] });
    expect(hookOnly.go).toBe(true);
    expect(hookOnly.rows.find((r) => r.check === 'ALERTS_DELIVERED')?.detail).toBe('CRITICAL and HIGH alerts are sent by webhook');
    expect(evaluateGoNoGo({ ...live, alertSinks: ['email', 'webhook'] }).rows.find((r) => r.check === 'ALERTS_DELIVERED')?.detail).toBe('CRITICAL and HIGH alerts are sent by email and webhook');
    expect(evaluateGoNoGo({ ...live, alertSinks: [] }).refusals).toEqual([expect.stringMatching(/^ALERTS_DELIVERED: neither SMTP nor ALERT_WEBHOOK_URL/)]);
  });

  it('does not require the live guards on paper, and needs no pre-flight for a backtest', () => {
    const paper = evaluateGoNoGo({ ...live, stage: 'PAPER', confirmed: false, capitalCap: null, alertSinks: [] });
    expect(paper.go).toBe(true);
    expect(formatGoNoGo(paper)).toMatch(/LIVE_CONFIRMED\s+n\/a .*\(not required\)/);
    expect(evaluateGoNoGo({ ...live, stage: 'PAPER', preflight: [{ name: 'VENUE_REACHABLE', ok: false, detail: 'down' }] }).go).toBe(false);
    expect(evaluateGoNoGo({ ...live, stage: 'BACKTEST', preflight: null, confirmed: false }).go).toBe(true);
  });
});

describe('stage report', () => {
  it('case study: paper (+$98) is not within 10% of the backtest (+$187), so shadow is not justified', () => {
    const r = compareStages(CASE_PAPER, CASE_BACKTEST);
    expect(r.next).toBe('SHADOW');
    expect(r.justified).toBe(false);
    const pnl = byName(r, 'PNL_WITHIN_TOLERANCE')!;
    expect(pnl.status).toBe('FAIL');
    // |98 - 187| / 187 = 47.6%
    expect(pnl.detail).toMatch(/47\.6% below BACKTEST \(allowed 10\.0%\)/);
    expect(byName(r, 'FILL_RATE')).toMatchObject({ status: 'FAIL', current: '78.0%', reference: '>= 80.0%' });
    // 178 vs 145: 22.8% deeper
    expect(byName(r, 'MAX_DRAWDOWN')).toMatchObject({ status: 'FAIL' });
    expect(byName(r, 'MAX_DRAWDOWN')!.detail).toMatch(/22\.8% deeper/);
    // 57.4% vs 60.3%: 4.8% lower, within 10%
    expect(byName(r, 'WIN_RATE')).toMatchObject({ status: 'PASS' });
    // $0.003 against a zero-slippage backtest: under the one-cent floor
    expect(byName(r, 'SLIPPAGE')).toMatchObject({ status: 'PASS' });
    expect(byName(r, 'PNL_POSITIVE')).toMatchObject({ status: 'PASS' });
    expect(byName(r, 'DURATION')).toMatchObject({ status: 'PASS' });
    expect(byName(r, 'NO_SYSTEM_ERRORS')).toMatchObject({ status: 'PASS' });
    expect(r.reasons).toHaveLength(3);
    expect(formatStageReport(r)).toMatch(/Verdict: SHADOW is NOT justified/);
  });

  it('justifies the next stage when every criterion passes', () => {
    const close: RunStats = { ...CASE_PAPER, totalPnl: usd(180), maxDrawdown: usd(150), fillRate: 0.85 };
    const r = compareStages(close, CASE_BACKTEST);
    expect(r.criteria.every((c) => c.status === 'PASS')).toBe(true);
    expect(r.justified).toBe(true);
    expect(formatStageReport(r)).toMatch(/Verdict: SHADOW is justified/);
  });

  it('counts "within 10%" both ways: a paper run far above its backtest also fails', () => {
    expect(byName(compareStages({ ...CASE_PAPER, totalPnl: usd(240) }, CASE_BACKTEST), 'PNL_WITHIN_TOLERANCE')!.status).toBe('FAIL');
    expect(byName(compareStages({ ...CASE_PAPER, totalPnl: usd(205) }, CASE_BACKTEST), 'PNL_WITHIN_TOLERANCE')!.status).toBe('PASS');
  });

  it('live vs paper (case study month 1): P&L within 10% but the fill rate too low, and shadow was skipped', () => {
    const liveRun: RunStats = { stage: 'LIVE', days: 30, totalTrades: 73, winRate: 0.562, totalPnl: usd(104), maxDrawdown: usd(150), fillRate: 0.68, averageSlippage: usd(0.005), systemErrors: 0 };
    const r = compareStages(liveRun, CASE_PAPER);
    expect(byName(r, 'PNL_WITHIN_TOLERANCE')!.status).toBe('PASS');
    expect(byName(r, 'FILL_RATE')!.status).toBe('FAIL');
    expect(byName(r, 'SLIPPAGE')!.status).toBe('PASS');
    expect(byName(r, 'PREDECESSOR')).toMatchObject({ status: 'FAIL', current: 'PAPER', reference: 'SHADOW' });
    expect(r.justified).toBe(false);
  });

  it('judges a shadow run on alignment, execution quality and slippage', () => {
    const shadow: RunStats = { ...CASE_PAPER, stage: 'SHADOW', days: 7, fillRate: 0.92, averageSlippage: usd(0.005), signalAlignment: 0.97 };
    const r = compareStages(shadow, CASE_PAPER);
    expect(r.justified).toBe(true);
    expect(r.next).toBe('LIVE');
    const bad = compareStages({ ...shadow, signalAlignment: 0.9, averageSlippage: usd(0.02) }, CASE_PAPER);
    expect(byName(bad, 'SIGNAL_ALIGNMENT')!.status).toBe('FAIL');
    expect(byName(bad, 'SLIPPAGE')!.status).toBe('FAIL');
    expect(compareStages({ ...shadow, signalAlignment: undefined }, CASE_PAPER).justified).toBe(false);
  });

  it('judges a backtest on Sharpe, drawdown share and profit factor (case study: 1.82, 1.67)', () => {
    const bt: RunStats = { ...CASE_BACKTEST, days: 240, sharpe: 1.82, profitFactor: 1.67, maxDrawdown: usd(420), capital: usd(2000) };
    const r = compareStages(bt, null);
    expect(byName(r, 'SHARPE')!.status).toBe('PASS');
    expect(byName(r, 'PROFIT_FACTOR')!.status).toBe('PASS');
    // $420 of $2,000 is 21%: over the 15% limit
    expect(byName(r, 'MAX_DRAWDOWN')).toMatchObject({ status: 'FAIL', current: '21.0%' });
    expect(compareStages({ ...bt, capital: usd(5000) }, null).justified).toBe(true);
    expect(compareStages({ ...bt, capital: null }, null).justified).toBe(false);
  });

  it('needs a predecessor for every stage after the backtest, and rejects bad figures all at once', () => {
    expect(byName(compareStages(CASE_PAPER, null), 'PREDECESSOR')!.status).toBe('NOT_MEASURED');
    expect(byName(compareStages(CASE_BACKTEST, CASE_PAPER), 'PREDECESSOR')).toBeUndefined();
    expect(byName(compareStages(CASE_PAPER, { ...CASE_PAPER }), 'PREDECESSOR')!.status).toBe('FAIL');
    try {
      compareStages({ ...CASE_PAPER, fillRate: 1.5, totalPnl: 98.5 as Money }, { ...CASE_BACKTEST, stage: 'PROD' as never });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['current.fillRate', 'current.totalPnl', 'previous.stage']);
    }
  });
});

describe('shadow comparison', () => {
  it('aligns live and replayed signals by market, side and time', () => {
    const live = [
      { marketId: 'A', side: 'BUY' as const, at: 1_000 },
      { marketId: 'A', side: 'SELL' as const, at: 50_000 },
      { marketId: 'B', side: 'BUY' as const, at: 2_000 },
    ];
    const replay = [
      { marketId: 'A', side: 'BUY' as const, at: 31_000 },
      { marketId: 'A', side: 'SELL' as const, at: 200_000 },
      { marketId: 'B', side: 'BUY' as const, at: 2_000 },
    ];
    const a = alignSignals(live, replay, 30_000);
    expect(a.matched).toBe(2);
    expect(a.liveOnly).toEqual([{ marketId: 'A', side: 'SELL', at: 50_000 }]);
    expect(a.replayOnly).toEqual([{ marketId: 'A', side: 'SELL', at: 200_000 }]);
    expect(a.alignment).toBeCloseTo(2 / 4);
    expect(alignSignals([], [], 0).alignment).toBeNull();
  });

  it('replays a strategy over quotes with positions following its own signals', () => {
    // Buys below 0.40 when flat, sells above 0.60 when long.
    const strategy: Strategy<null> = {
      name: 'band',
      params: {},
      initialState: () => null,
      onSnapshot: (state, s, ctx) => {
        const mid = ((s.bid ?? 0) + (s.ask ?? 0)) / 2;
        if (ctx.position === 0 && mid < 400_000) return { state, signal: { marketId: s.marketId, side: 'BUY', price: s.ask!, confidence: 1, intent: 'ENTER', metadata: {} } };
        if (ctx.position > 0 && mid > 600_000) return { state, signal: { marketId: s.marketId, side: 'SELL', price: s.bid!, confidence: 1, intent: 'EXIT', metadata: {} } };
        return { state, signal: null };
      },
    };
    const market: Market = { marketId: 'M', title: 'm', category: 'c', tickSize: 10_000, resolvesAt: null, outcome: null } as Market;
    const q = (ts: number, bid: number): MarketSnapshot => ({ marketId: 'M', ts, bid: bid as Price, ask: (bid + 20_000) as Price, last: null, averageDailyVolume: 1000 as Quantity, intervalVolume: 10 as Quantity });
    const signals = replaySignals(strategy as Strategy<unknown>, [market], [q(1, 300_000), q(2, 300_000), q(3, 700_000), q(4, 700_000)], { kind: 'fixed', maxOrderSize: 5, contracts: 5 } as never);
    expect(signals).toEqual([
      { marketId: 'M', side: 'BUY', at: 1 },
      { marketId: 'M', side: 'SELL', at: 3 },
    ]);
  });

  it('compares observed slippage with the paper fill model on the same quotes, reproducibly', () => {
    const exec = (observed: number): ShadowExecution => ({
      clientOrderId: 'x-1',
      marketId: 'M',
      side: 'BUY',
      quantity: 10 as Quantity,
      limitPrice: 460_000 as Price,
      bid: 420_000 as Price,
      ask: 440_000 as Price,
      intervalVolume: 100 as Quantity,
      tickSize: 10_000,
      observedFills: [{ quantity: 10 as Quantity, price: observed as Price }],
    });
    const model = { ...CASE_STUDY_FILL_MODEL, slippageStd: 10_000 };
    const near = compareSlippage([exec(440_000), exec(450_000)], model, { seed: 7 });
    expect(near.orders).toBe(2);
    expect(near.modelledFillRate).toBeGreaterThan(0.7);
    expect(near.modelledFillRate).toBeLessThan(0.9);
    expect(near.observedFillRate).toBe(1);
    expect(near.observedSlippage).toBe(5_000);
    // The chapter's model pays |ε| over the touch: E|ε| = σ·√(2/π) ≈ 7979 micros for σ = 1 cent.
    expect(near.modelledSlippage!).toBeGreaterThan(7_000);
    expect(near.modelledSlippage!).toBeLessThan(9_000);
    expect(near.modelledAccurately).toBe(true);
    expect(compareSlippage([exec(440_000), exec(450_000)], model, { seed: 7 })).toEqual(near);
    // Paid 2 cents over the ask on every contract: far beyond what the model expects.
    const far = compareSlippage([exec(460_000)], { ...model, slippageStd: 2_000 }, { seed: 7 });
    expect(far.observedSlippage).toBe(20_000);
    expect(far.modelledAccurately).toBe(false);
  });
});
