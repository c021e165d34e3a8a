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
  };
}

/** Dollars rounded to the cent (half away from zero), for display. */
const dollars = (m: number | null): string => (m === null ? '-' : `${m < 0 ? '-' : ''}$${formatDecimal(Math.round(Math.abs(m) / 10_000) * 10_000, 2)}`);
const percent = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const hours = (ms: number | null): string => (ms === null ? '-' : `${(ms / 3_600_000).toFixed(1)} hours`);
const ratio = (x: number | null): string => (x === null ? '-' : x.toFixed(2));

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
