/**
 * Backtest throughput: quote events per second through the whole replay (strategy, sizing,
 * pre-trade risk, order state machine, paper fill model, ledger, equity tracking), on generated
 * data, beside baselines measured in the same run:
 * - a bare loop that only iterates the same snapshots and computes their mid (the floor any
 *   replay pays; the ratio is the cost of the trading logic);
 * - for the strategy step alone, the reference implementation's approach (001): keep up to
 *   10,000 mids per market and recompute the EMA and np.std of the deviations over all of
 *   them on every quote, O(n) per update;
 * - for the CSV reader, splitting the text into lines and fields without validating anything.
 */
import { runBacktest, type BacktestConfig } from '../domain/backtest';
import { CASE_STUDY_FILL_MODEL } from '../domain/fill-model';
import type { MarketSnapshot } from '../domain/market';
import { CASE_STUDY_LIMITS } from '../domain/risk-limits';
import type { Strategy } from '../domain/strategy';
import { EMA_CASE_STUDY_PARAMS, emaMeanReversion } from '../domain/strategies/ema-mean-reversion';
import { formatQuotesCsv, parseQuotesCsv } from '../cli/quotes-csv';
import { generateSampleData } from '../testkit/sample-data';
import type { BenchResult } from './harness';

/** Runs `fn` (which processes `events` events) repeatedly for about `ms`; events per second. */
function eventsPerSecond(fn: () => unknown, events: number, ms = 1_000): number {
  const warmUntil = performance.now() + 250;
  while (performance.now() < warmUntil) fn();
  let runs = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    runs += 1;
    now = performance.now();
  }
  return (runs * events) / ((now - start) / 1_000);
}

/** The reference's O(n) signal statistics (001, MeanReversionSignal.__call__), per market. */
function referenceSignal(window: number[], mid: number, alpha: number): number {
  window.push(mid);
  if (window.length > 10_000) window.shift();
  let ema = window[0] as number;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < window.length; i++) {
    const p = window[i] as number;
    if (i > 0) ema = alpha * p + (1 - alpha) * ema;
    const dev = p - ema;
    sum += dev;
    sumSq += dev * dev;
  }
  const n = window.length;
  const sd = Math.sqrt(Math.max(0, sumSq / n - (sum / n) ** 2));
  return sd > 0 ? (mid - ema) / sd : 0;
}

export async function run(): Promise<BenchResult[]> {
  const data = generateSampleData({ seed: 11, markets: 4, days: 6, stepMs: 30_000 });
  const snaps: MarketSnapshot[] = data.snapshots;
  const n = snaps.length;
  const config = (): BacktestConfig => ({
    strategy: emaMeanReversion.create(EMA_CASE_STUDY_PARAMS) as Strategy<unknown>,
    markets: data.markets,
    limits: CASE_STUDY_LIMITS,
    sizing: { kind: 'confidence', maxOrderSize: CASE_STUDY_LIMITS.maxOrderSize },
    fillModel: CASE_STUDY_FILL_MODEL,
    seed: 1,
    orderTtlMs: 600_000,
  });
  const probe = runBacktest(snaps, config());

  let sink = 0;
  const bare = eventsPerSecond(() => {
    for (const s of snaps) sink += s.bid !== null && s.ask !== null ? (s.bid + s.ask) / 2 : (s.last ?? 0);
  }, n);
  const full = eventsPerSecond(() => runBacktest(snaps, config()), n);

  // Strategy step alone vs the reference recomputation, on one market's quotes once its window is full.
  const market = data.markets[0]!;
  const one = snaps.filter((s) => s.marketId === market.marketId);
  const strategy = emaMeanReversion.create(EMA_CASE_STUDY_PARAMS);
  const ctx = { market: { ...market, resolvesAt: null, outcome: null }, position: 0 };
  const stepRate = eventsPerSecond(() => {
    let st = strategy.initialState();
    for (const s of one) st = strategy.onSnapshot(st, s, ctx).state;
    sink += st.n;
  }, one.length);
  const alpha = 2 / (48 * 120 + 1);
  const windowFull = one.slice(0, 10_000).map((s) => (s.bid! + s.ask!) / 2);
  const tail = one.slice(10_000, 10_200);
  const referenceRate = eventsPerSecond(() => {
    const w = windowFull.slice();
    for (const s of tail) sink += referenceSignal(w, (s.bid! + s.ask!) / 2, alpha);
  }, tail.length, 600);

  const csv = formatQuotesCsv(snaps);
  const parseRate = eventsPerSecond(() => parseQuotesCsv(csv).length, n, 800);
  const splitRate = eventsPerSecond(() => {
    for (const line of csv.split('\n')) sink += line.split(',').length;
  }, n, 500);
  if (sink === 42) console.log('');

  return [
    {
      name: 'backtest replay, EMA case study (strategy+sizing+risk+orders+fills+ledger)',
      figure: full,
      unit: 'quotes/s',
      baselineName: 'bare iteration (mid only)',
      baselineFigure: bare,
      target: 1_000_000,
      notes: `${n.toLocaleString('en-US')} quotes, 4 markets, 6 days at 30 s; ${probe.ordersPlaced} orders, ${probe.fills.length} fills, ${probe.riskRejections} risk refusals per run`,
    },
    {
      name: 'EMA mean-reversion step (O(1) time-decayed EMA + EW variance)',
      figure: stepRate,
      unit: 'quotes/s',
      baselineName: 'reference O(n) EMA/std recompute, 10,000-point window',
      baselineFigure: referenceRate,
    },
    {
      name: 'quotes CSV parse + validate (exact decimal prices)',
      figure: parseRate,
      unit: 'rows/s',
      baselineName: 'split lines and fields only',
      baselineFigure: splitRate,
      notes: `${(csv.length / 1_048_576).toFixed(1)} MiB`,
    },
  ];
}
