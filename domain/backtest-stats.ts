/**
 * Backtest statistics, the figures of the case study's results tables (reference 001):
 * total trades, win rate, average win, average loss, profit factor, max drawdown, Sharpe,
 * average holding time; plus total P&L, fees, fill rate and the order funnel.
 *
 * Definitions:
 * - A trade is a round trip (`RoundTrip`): flat to flat, P&L net of fees. A trip still open at
 *   the end is valued at the last mark and counted. A trip with P&L exactly 0 is neither a win
 *   nor a loss but counts in the total, so win rate = wins / total trades.
 * - Profit factor = gross wins / gross losses; null when there is no loss.
 * - Max drawdown = the largest fall of equity (total P&L) from a running peak, checked at every
 *   snapshot, in micros.
 * - Sharpe = mean / sample standard deviation of daily P&L, annualised with sqrt(365):
 *   prediction markets trade every calendar day, so the series has one value per calendar day
 *   of the trading zone from the first to the last, a day without snapshots counting as a day
 *   of zero P&L (equity did not move). Annualising by sqrt(365) a series that skipped quiet days
 *   would overstate it. Daily P&L is the change in equity between the ends of consecutive days,
 *   the first day measured from 0. Null with fewer than two days or zero variance. No risk-free
 *   rate is subtracted (the capital is collateral, not invested).
 * - Fill rate = orders with at least one fill / orders placed (the case study's "5/8 orders").
 * - Average slippage = mean over fills of the per-contract slippage against the order's limit
 *   (the chapter's definition, positive is worse; backtest.ts averageSlippage).
 * Money stays in integer micros; ratios are floats.
 */
import type { BacktestResult } from './backtest';
import { addDays } from './calendar';
import { formatDecimal, type Money } from './money';

export interface BacktestStats {
  totalTrades: number;
  wins: number;
  losses: number;
  winRate: number | null;
  averageWin: Money | null;
  averageLoss: Money | null;
  profitFactor: number | null;
  maxDrawdown: Money;
  sharpe: number | null;
  averageHoldingMs: number | null;
  totalPnl: Money;
  realizedPnl: Money;
  unrealizedPnl: Money;
  fees: Money;
  fillRate: number | null;
  signals: number;
  ordersPlaced: number;
  ordersFilled: number;
  riskRejections: number;
  /** Calendar days from the first to the last day with snapshots, in the trading zone. */
  days: number;
  /** Micros per contract, a float; null with no fills. */
  averageSlippage: number | null;
}

export function sharpeFromDailyPnl(daily: readonly number[]): number | null {
  if (daily.length < 2) return null;
  const mean = daily.reduce((a, b) => a + b, 0) / daily.length;
  const variance = daily.reduce((a, b) => a + (b - mean) ** 2, 0) / (daily.length - 1);
  if (variance <= 0) return null;
  return (mean / Math.sqrt(variance)) * Math.sqrt(365);
}

/**
 * Daily P&L per calendar day from end-of-day equity (days ascending, YYYY-MM-DD), the first day
 * measured from zero; each day missing between two recorded days is a day of zero P&L.
 */
export function dailyPnl(equity: readonly { day: string; equity: number }[]): number[] {
  const out: number[] = [];
  let previous: { day: string; equity: number } | null = null;
  for (const e of equity) {
    if (previous !== null) {
      for (let d = addDays(previous.day, 1); d < e.day; d = addDays(d, 1)) out.push(0);
    }
    out.push(e.equity - (previous === null ? 0 : previous.equity));
    previous = e;
  }
  return out;
}

const roundedMean = (total: number, n: number): Money => Math.round(total / n) as Money;

export function computeBacktestStats(r: BacktestResult): BacktestStats {
  let wins = 0;
  let losses = 0;
  let grossWin = 0;
  let grossLoss = 0;
  let holding = 0;
  for (const t of r.trades) {
    if (t.pnl > 0) {
      wins += 1;
      grossWin += t.pnl;
    } else if (t.pnl < 0) {
      losses += 1;
      grossLoss -= t.pnl;
    }
    holding += t.closedAt - t.openedAt;
  }
  const n = r.trades.length;
  const daily = dailyPnl(r.dailyEquity);
  return {
    totalTrades: n,
    wins,
    losses,
    winRate: n === 0 ? null : wins / n,
    averageWin: wins === 0 ? null : roundedMean(grossWin, wins),
    averageLoss: losses === 0 ? null : roundedMean(grossLoss, losses),
    profitFactor: grossLoss === 0 ? null : grossWin / grossLoss,
    maxDrawdown: r.maxDrawdown,
    sharpe: sharpeFromDailyPnl(daily),
    averageHoldingMs: n === 0 ? null : holding / n,
    totalPnl: r.totalPnl,
    realizedPnl: r.realizedPnl,
    unrealizedPnl: r.unrealizedPnl,
    fees: r.fees,
    fillRate: r.ordersPlaced === 0 ? null : r.ordersFilled / r.ordersPlaced,
    signals: r.signals,
    ordersPlaced: r.ordersPlaced,
    ordersFilled: r.ordersFilled,
    riskRejections: r.riskRejections,
    days: daily.length,
    averageSlippage: r.averageSlippage,
  };
}

/** Dollars rounded to the cent (half away from zero), for display. */
const dollars = (m: number | null): string => (m === null ? '-' : `${m < 0 ? '-' : ''}$${formatDecimal(Math.round(Math.abs(m) / 10_000) * 10_000, 2)}`);
const percent = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const hours = (ms: number | null): string => (ms === null ? '-' : `${(ms / 3_600_000).toFixed(1)} hours`);
const ratio = (x: number | null): string => (x === null ? '-' : x.toFixed(2));
/** Slippage per contract to a hundredth of a cent: the case study quotes "$0.003". */
const slippageText = (micros: number | null): string => {
  if (micros === null) return '-';
  const rounded = Math.round(micros / 100) * 100;
  return `${rounded < 0 ? '-' : ''}$${formatDecimal(Math.abs(rounded), 4)}`;
};

/** The case study's "Metric / Value" table, as rows of [metric, value]. */
export function statsRows(s: BacktestStats): Array<[string, string]> {
  return [
    ['Total trades', String(s.totalTrades)],
    ['Win rate', s.winRate === null ? '-' : `${percent(s.winRate)} (${s.wins}/${s.totalTrades})`],
    ['Average win', dollars(s.averageWin)],
    ['Average loss', dollars(s.averageLoss)],
    ['Profit factor', ratio(s.profitFactor)],
    ['Total P&L', dollars(s.totalPnl)],
    ['Fees', dollars(s.fees)],
    ['Max drawdown', dollars(s.maxDrawdown)],
    ['Sharpe ratio', ratio(s.sharpe)],
    ['Average holding time', hours(s.averageHoldingMs)],
    ['Fill rate', s.fillRate === null ? '-' : `${percent(s.fillRate)} (${s.ordersFilled}/${s.ordersPlaced} orders)`],
    ['Average slippage', s.averageSlippage === null ? '-' : `${slippageText(s.averageSlippage)} per contract`],
    ['Signals', String(s.signals)],
    ['Risk rejections', String(s.riskRejections)],
    ['Days', String(s.days)],
  ];
}

export function formatStatsTable(s: BacktestStats): string {
  const rows: Array<[string, string]> = [['Metric', 'Value'], ...statsRows(s)];
  const w = Math.max(...rows.map(([m]) => m.length));
  return rows.map(([m, v]) => `${m.padEnd(w)}  ${v}`).join('\n');
}

// ---- backtest, paper and live side by side (the case study's comparison tables) ----

/**
 * The figures of one run the case study's tables compare. domain/stages.ts RunStats carries
 * them (average win and loss optional), so a paper or live run read for the stage report fits.
 */
export interface RunFigures {
  totalTrades: number;
  winRate: number | null;
  averageWin?: Money | null;
  averageLoss?: Money | null;
  totalPnl: Money;
  maxDrawdown: Money | null;
  fillRate: number | null;
  /** Micros per contract; positive is worse. */
  averageSlippage: number | null;
}

export interface RunComparison {
  backtest: RunFigures | null;
  paper: RunFigures | null;
  live: RunFigures | null;
}

export function runFiguresOf(s: BacktestStats): RunFigures {
  return {
    totalTrades: s.totalTrades,
    winRate: s.winRate,
    averageWin: s.averageWin,
    averageLoss: s.averageLoss,
    totalPnl: s.totalPnl,
    maxDrawdown: s.maxDrawdown,
    fillRate: s.fillRate,
    averageSlippage: s.averageSlippage,
  };
}

/** (later − earlier) / |earlier|; null when either is missing or the earlier is zero. */
export function relativeDifference(earlier: number | null | undefined, later: number | null | undefined): number | null {
  if (earlier === null || earlier === undefined || later === null || later === undefined || earlier === 0) return null;
  return (later - earlier) / Math.abs(earlier);
}

const ABSENT = '—';
const change = (x: number | null): string => (x === null ? ABSENT : `${x > 0 ? '+' : x < 0 ? '-' : ''}${(Math.abs(x) * 100).toFixed(1)}%`);

const COMPARED: ReadonlyArray<{ metric: string; value: (r: RunFigures) => number | null | undefined; text: (v: number) => string }> = [
  { metric: 'Total trades', value: (r) => r.totalTrades, text: String },
  { metric: 'Win rate', value: (r) => r.winRate, text: percent },
  { metric: 'Average win', value: (r) => r.averageWin, text: dollars },
  { metric: 'Average loss', value: (r) => r.averageLoss, text: dollars },
  { metric: 'Total P&L', value: (r) => r.totalPnl, text: dollars },
  { metric: 'Max drawdown', value: (r) => r.maxDrawdown, text: dollars },
  { metric: 'Fill rate', value: (r) => r.fillRate, text: percent },
  { metric: 'Average slippage', value: (r) => r.averageSlippage, text: slippageText },
];

/**
 * The case study's comparison rows for backtest, paper and live, each with the relative change
 * from the stage before (paper against the backtest, live against paper). A run that is absent,
 * a figure it lacks, or a change from zero prints "—".
 */
export function comparisonRows(runs: RunComparison): string[][] {
  const cell = (r: RunFigures | null, row: (typeof COMPARED)[number]): string => {
    const v = r === null ? null : row.value(r);
    return v === null || v === undefined ? ABSENT : row.text(v);
  };
  const diff = (a: RunFigures | null, b: RunFigures | null, row: (typeof COMPARED)[number]): string =>
    a === null || b === null ? ABSENT : change(relativeDifference(row.value(a), row.value(b)));
  return [
    ['Metric', 'Backtest', 'Paper', 'Live', 'Paper vs backtest', 'Live vs paper'],
    ...COMPARED.map((row) => [row.metric, cell(runs.backtest, row), cell(runs.paper, row), cell(runs.live, row), diff(runs.backtest, runs.paper, row), diff(runs.paper, runs.live, row)]),
  ];
}

export function formatComparisonTable(runs: RunComparison): string {
  const rows = comparisonRows(runs);
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ')).join('\n');
}
