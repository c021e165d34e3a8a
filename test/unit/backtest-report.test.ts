/**
 * The backtest report's rows from the case study's tables (reference 001): average slippage, and
 * backtest, paper and live side by side with the relative difference per row.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktestCli, type CliOutput } from '../../cli/backtest-cli';
import { formatComparisonTable, relativeDifference, statsRows, type BacktestStats, type RunFigures } from '../../domain/backtest-stats';
import { usd } from '../../domain/money';

// The case study's "Paper Trading Results" and "Month 1 Results" tables.
const BACKTEST: RunFigures = { totalTrades: 68, winRate: 0.603, averageWin: usd(21.8), averageLoss: usd(17.9), totalPnl: usd(187), maxDrawdown: usd(145), fillRate: 1, averageSlippage: 0 };
const PAPER: RunFigures = { totalTrades: 54, winRate: 0.574, averageWin: usd(19.6), averageLoss: usd(18.4), totalPnl: usd(98), maxDrawdown: usd(178), fillRate: 0.78, averageSlippage: 3_000 };
const LIVE: RunFigures = { totalTrades: 73, winRate: 0.562, averageWin: usd(20.1), averageLoss: usd(19.3), totalPnl: usd(104), maxDrawdown: null, fillRate: 0.68, averageSlippage: 5_000 };

function capture(): { out: { stdout: string; stderr: string }; io: CliOutput } {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t) } };
}

const rowOf = (table: string, metric: string): string[] => {
  const line = table.split('\n').find((l) => l.startsWith(metric));
  if (line === undefined) throw new Error(`no row ${metric} in\n${table}`);
  return line.slice(metric.length).trim().split(/\s{2,}/);
};

describe('backtest report rows', () => {
  it('prints the average slippage per contract', () => {
    const stats = { totalTrades: 0, wins: 0, losses: 0, winRate: null, averageWin: null, averageLoss: null, profitFactor: null, maxDrawdown: 0, sharpe: null, averageHoldingMs: null, totalPnl: 0, realizedPnl: 0, unrealizedPnl: 0, fees: 0, fillRate: null, signals: 0, ordersPlaced: 0, ordersFilled: 0, riskRejections: 0, days: 0, averageSlippage: 1_596.3 } as unknown as BacktestStats;
    expect(statsRows(stats)).toContainEqual(['Average slippage', '$0.0016 per contract']);
    expect(statsRows({ ...stats, averageSlippage: null })).toContainEqual(['Average slippage', '-']);
  });

  it('relative difference against the earlier run; none when a figure is missing or the base is zero', () => {
    expect(relativeDifference(187, 98)).toBeCloseTo(-0.476, 3);
    expect(relativeDifference(-10, -5)).toBeCloseTo(0.5, 6);
    expect(relativeDifference(0, 3_000)).toBeNull();
    expect(relativeDifference(null, 1)).toBeNull();
    expect(relativeDifference(1, null)).toBeNull();
  });

  it("sets backtest, paper and live side by side with the case study's rows and the change per row", () => {
    const table = formatComparisonTable({ backtest: BACKTEST, paper: PAPER, live: LIVE });
    expect(table.split('\n')[0]).toMatch(/^Metric\s+Backtest\s+Paper\s+Live\s+Paper vs backtest\s+Live vs paper$/);
    expect(rowOf(table, 'Total trades')).toEqual(['68', '54', '73', '-20.6%', '+35.2%']);
    expect(rowOf(table, 'Win rate')).toEqual(['60.3%', '57.4%', '56.2%', '-4.8%', '-2.1%']);
    expect(rowOf(table, 'Average win')).toEqual(['$21.80', '$19.60', '$20.10', '-10.1%', '+2.6%']);
    expect(rowOf(table, 'Average loss')).toEqual(['$17.90', '$18.40', '$19.30', '+2.8%', '+4.9%']);
    expect(rowOf(table, 'Total P&L')).toEqual(['$187.00', '$98.00', '$104.00', '-47.6%', '+6.1%']);
    expect(rowOf(table, 'Max drawdown')).toEqual(['$145.00', '$178.00', '—', '+22.8%', '—']);
    expect(rowOf(table, 'Fill rate')).toEqual(['100.0%', '78.0%', '68.0%', '-22.0%', '-12.8%']);
    expect(rowOf(table, 'Average slippage')).toEqual(['$0.0000', '$0.0030', '$0.0050', '—', '+66.7%']);
  });

  it('prints "—" for a run that is absent, and for every difference that needs it', () => {
    const table = formatComparisonTable({ backtest: BACKTEST, paper: null, live: null });
    expect(rowOf(table, 'Total trades')).toEqual(['68', '—', '—', '—', '—']);
    const liveOnly = formatComparisonTable({ backtest: BACKTEST, paper: null, live: LIVE });
    expect(rowOf(liveOnly, 'Total P&L')).toEqual(['$187.00', '—', '$104.00', '—', '—']);
  });
});

describe('backtest CLI: paper and live runs beside the backtest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bt-report-'));
  const paperFile = join(dir, 'paper.json');
  writeFileSync(paperFile, JSON.stringify({ stage: 'PAPER', days: 21, totalTrades: 54, winRate: 0.574, averageWin: '19.60', averageLoss: '18.40', totalPnl: '98.00', maxDrawdown: '178.00', fillRate: 0.78, averageSlippage: '0.003', systemErrors: 0 }));

  it('reads a paper run (the stage-report JSON) and prints the table and the stage verdict', async () => {
    const { out, io } = capture();
    expect(await runBacktestCli(['--strategy', 'ema-live', '--paper', paperFile], io)).toBe(0);
    expect(out.stdout).toMatch(/Metric\s+Backtest\s+Paper\s+Live/);
    const side = out.stdout.slice(out.stdout.indexOf('Side by side'));
    expect(rowOf(side, 'Total trades')[1]).toBe('54');
    expect(rowOf(side, 'Total trades')[2]).toBe('—');
    expect(rowOf(side, 'Average slippage')[1]).toBe('$0.0030');
    expect(out.stdout).toContain('Average slippage');
    expect(out.stdout).toMatch(/Stage report: PAPER compared with BACKTEST/);
  });

  it('names the file and the field of a bad run, and refuses a file of another stage', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ stage: 'PAPER', days: 21, totalTrades: -1, winRate: 2, totalPnl: '98.00', maxDrawdown: '1', fillRate: 0.5, averageSlippage: null, systemErrors: 0 }));
    const a = capture();
    expect(await runBacktestCli(['--paper', bad], a.io)).toBe(1);
    expect(a.out.stderr).toContain(bad);
    expect(a.out.stderr).toMatch(/totalTrades/);
    expect(a.out.stderr).toMatch(/winRate/);
    const b = capture();
    expect(await runBacktestCli(['--live', paperFile], b.io)).toBe(1);
    expect(b.out.stderr).toMatch(/stage.*PAPER/);
    const c = capture();
    expect(await runBacktestCli(['--paper', join(dir, 'missing.json')], c.io)).toBe(2);
    expect(c.out.stderr).toMatch(/--paper/);
  });
});

describe('operator CLI backtest command', () => {
  it('forwards the fill model and the paper and live runs to the backtest', async () => {
    const { backtestArgv } = await import('../../cli/commands/backtest');
    expect(backtestArgv({ fillModel: 'post-live', paper: 'p.json', live: 'l.json' })).toEqual(['--fill-model=post-live', '--paper=p.json', '--live=l.json']);
  });

  it('selects a fill model preset by flag and refuses a bad one naming the field', async () => {
    const { parseBacktestArgs } = await import('../../cli/backtest-cli');
    const { FILL_MODEL_PRESETS } = await import('../../domain/fill-model');
    expect(parseBacktestArgs(['--fill-model', 'post-live']).fillModel).toEqual(FILL_MODEL_PRESETS['post-live']);
    expect(parseBacktestArgs(['--fill-model={"preset":"chapter","latencyMeanMs":0}']).fillModel).toEqual({ ...FILL_MODEL_PRESETS.chapter, latencyMeanMs: 0 });
    expect(() => parseBacktestArgs(['--fill-model', '{"fillProbability":1.5}'])).toThrow(/--fill-model\.fillProbability.*1\.5/);
    expect(() => parseBacktestArgs(['--fill-model', 'optimistic'])).toThrow(/--fill-model.*optimistic/);
  });
});
