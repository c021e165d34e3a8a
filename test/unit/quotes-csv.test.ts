import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  QuotesCsvError,
  formatMarketsCsv,
  formatQuotesCsv,
  iterateQuotes,
  parseMarketsCsv,
  parseModelCsv,
  parseQuotesCsv,
  parseTimestamp,
} from '../../cli/quotes-csv';
import { parseBacktestArgs, runBacktestCli, DEFAULT_DATA_DIR } from '../../cli/backtest-cli';
import { generateSampleData } from '../../testkit/sample-data';

const HEADER = 'ts,market_id,bid,ask,last,volume,adv';

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QuotesCsvError);
    return (e as QuotesCsvError).problems;
  }
  throw new Error('expected a QuotesCsvError');
}

describe('quotes CSV', () => {
  it('parses prices exactly, empty sides as null, ISO and epoch timestamps', () => {
    const text = [HEADER, '2024-03-01T00:00:00Z,M1,0.42,0.43,,12,20000', '1709251230000,M1,,0.000001,0.999999,0,20000', ''].join('\n');
    expect(parseQuotesCsv(text)).toEqual([
      { marketId: 'M1', ts: Date.UTC(2024, 2, 1), bid: 420_000, ask: 430_000, last: null, intervalVolume: 12, averageDailyVolume: 20_000 },
      { marketId: 'M1', ts: Date.UTC(2024, 2, 1) + 30_000, bid: null, ask: 1, last: 999_999, intervalVolume: 0, averageDailyVolume: 20_000 },
    ]);
  });

  it('accepts columns in any order, CRLF, comments and blank lines', () => {
    const text = ['# sample', 'market_id,ts,ask,bid,adv,volume,last\r', 'M1,2024-03-01T00:00:00.500+01:00,0.43,0.42,100,1,0.42\r', '', ''].join('\n');
    const [s] = parseQuotesCsv(text);
    expect(s).toMatchObject({ ts: Date.UTC(2024, 1, 29, 23, 0, 0, 500), bid: 420_000, ask: 430_000, averageDailyVolume: 100 });
  });

  it('names line, column and value for every bad cell of every bad row', () => {
    const text = [
      HEADER,
      '2024-03-01T00:00:00Z,M1,0.42,0.43,,12,20000',
      'yesterday,M1,0.4200001,1.2,,-3,20000',
      '2024-03-01T00:01:00Z,bad id!,0.45,0.44,,1,x',
      '2024-03-01T00:02:00Z,M1,0.42',
    ].join('\n');
    const problems = problemsOf(() => parseQuotesCsv(text, { file: 'q.csv' }));
    expect(problems.map((p) => [p.field, p.value])).toEqual([
      ['q.csv line 3, column ts', 'yesterday'],
      ['q.csv line 3, column bid', '0.4200001'],
      ['q.csv line 3, column ask', '1.2'],
      ['q.csv line 3, column volume', '-3'],
      ['q.csv line 4, column market_id', 'bad id!'],
      ['q.csv line 4, column adv', 'x'],
      ['q.csv line 4, column ask', '0.44'],
      ['q.csv line 5', '2024-03-01T00:02:00Z,M1,0.42'],
    ]);
    expect(problems[6]!.problem).toMatch(/crossed/);
  });

  it('refuses quotes that go back in time, and a bad header', () => {
    const back = [HEADER, '2024-03-01T00:01:00Z,M1,0.42,0.43,,1,1', '2024-03-01T00:00:00Z,M1,0.42,0.43,,1,1'].join('\n');
    expect(problemsOf(() => parseQuotesCsv(back))[0]).toMatchObject({ field: 'quotes.csv line 3, column ts', problem: expect.stringMatching(/back in time/) });
    const header = problemsOf(() => parseQuotesCsv('ts,market,bid,ask,last,volume,adv\n'));
    expect(header.map((p) => p.field)).toEqual(['quotes.csv line 1, column market', 'quotes.csv line 1, column market_id']);
    expect(problemsOf(() => parseQuotesCsv(''))[0]!.problem).toMatch(/no header/);
  });

  it('streams and stops at the first bad row', () => {
    const lines = [HEADER, '2024-03-01T00:00:00Z,M1,0.42,0.43,,1,1', '2024-03-01T00:01:00Z,M1,0.42,oops,,1,1', '2024-03-01T00:02:00Z,M1,0.42,0.43,,1,1'];
    const seen: number[] = [];
    expect(() => {
      for (const s of iterateQuotes(lines)) seen.push(s.ts);
    }).toThrow(/line 3, column ask/);
    expect(seen).toHaveLength(1);
  });

  it('round-trips generated data through the writer', () => {
    const data = generateSampleData({ seed: 3, markets: 2, days: 1, stepMs: 600_000 });
    expect(parseQuotesCsv(formatQuotesCsv(data.snapshots))).toEqual(data.snapshots);
    expect(parseMarketsCsv(formatMarketsCsv(data.markets))).toEqual(data.markets);
  });

  it('parses timestamps strictly', () => {
    expect(parseTimestamp('2024-03-01T00:00:00Z')).toBe(Date.UTC(2024, 2, 1));
    expect(parseTimestamp('2024-03-01 00:00:00')).toBeNull();
    expect(parseTimestamp('2024-03-01T00:00:00')).toBeNull();
    expect(parseTimestamp('2024-13-01T00:00:00Z')).toBeNull();
  });
});

describe('markets and model CSV', () => {
  it('parses markets and reports every bad field', () => {
    const ok = 'market_id,category,tick_size,resolves_at,outcome\nM1,politics,0.01,2024-03-10T00:00:00Z,\nM2,economics,0.001,,YES\n';
    expect(parseMarketsCsv(ok)).toEqual([
      { marketId: 'M1', category: 'politics', tickSize: 10_000, resolvesAt: Date.UTC(2024, 2, 10), outcome: null },
      { marketId: 'M2', category: 'economics', tickSize: 1_000, resolvesAt: null, outcome: 'YES' },
    ]);
    const bad = 'market_id,category,tick_size,resolves_at,outcome\nM1,,0.03,soon,maybe\nM1,x,0.01,,\nM1,x,0.01,,\n';
    const problems = problemsOf(() => parseMarketsCsv(bad));
    expect(problems.map((p) => p.field)).toEqual([
      'markets.csv line 2, column category',
      'markets.csv line 2, column tick_size',
      'markets.csv line 2, column resolves_at',
      'markets.csv line 2, column outcome',
      'markets.csv line 3, column market_id',
      'markets.csv line 4, column market_id',
    ]);
  });

  it('serves model estimates as a step function', () => {
    const model = parseModelCsv('ts,market_id,probability\n1000,M1,0.4\n2000,M1,0.55\n1500,M2,1\n');
    expect(model.estimates).toBe(3);
    expect([model.at('M1', 999), model.at('M1', 1000), model.at('M1', 1999), model.at('M1', 5000)]).toEqual([null, 0.4, 0.4, 0.55]);
    expect(model.at('M1', 1500)).toBe(0.4); // a new pass from the start
    expect(model.at('M3', 1500)).toBeNull();
    expect(problemsOf(() => parseModelCsv('ts,market_id,probability\n1000,M1,1.5\n'))[0]!.field).toBe('model.csv line 2, column probability');
  });
});

describe('backtest CLI', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
  };

  it('validates arguments, naming each bad one, with exit code 2', async () => {
    expect(() => parseBacktestArgs(['--strategy', 'rsi', '--seed', '1.5', '--bogus', '--data'])).toThrow(
      /--strategy: must be one of ema, ema-live, ma, edge \(got "rsi"\)\n--seed: must be an integer \(got "1.5"\)\n"--bogus": unknown argument\n--data: needs a value/,
    );
    expect(parseBacktestArgs(['--seed=7', '--json', '--strategy', 'ma'])).toMatchObject({ seed: 7, json: true, strategy: 'ma', data: DEFAULT_DATA_DIR });
    // Report days are days of the trading zone: the flag, checked like any other.
    expect(parseBacktestArgs(['--time-zone', 'America/New_York'])).toMatchObject({ timeZone: 'America/New_York' });
    expect(() => parseBacktestArgs(['--time-zone', 'Mars/Base'])).toThrow(/--time-zone: must be an IANA time zone .*\(got "Mars\/Base"\)/);
    const { out, io } = capture();
    expect(await runBacktestCli(['--seed', 'x'], io)).toBe(2);
    expect(out.stderr).toMatch(/--seed/);
    expect(await runBacktestCli(['--data', '/nonexistent/dir'], io)).toBe(2);
  });

  it('exits 1 on bad data, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-'));
    writeFileSync(join(dir, 'markets.csv'), 'market_id,category,tick_size,resolves_at,outcome\nM1,x,0.01,,\n');
    writeFileSync(join(dir, 'quotes.csv'), `${HEADER}\n2024-03-01T00:00:00Z,M1,0.42,nope,,1,1\n`);
    const { out, io } = capture();
    expect(await runBacktestCli(['--data', dir], io)).toBe(1);
    expect(out.stderr).toMatch(/line 2, column ask/);
  });

  it('runs a small data set and prints the case-study table, or JSON', async () => {
    const data = generateSampleData({ seed: 5, markets: 2, days: 5, stepMs: 120_000 });
    const dir = mkdtempSync(join(tmpdir(), 'bt-'));
    writeFileSync(join(dir, 'markets.csv'), formatMarketsCsv(data.markets));
    writeFileSync(join(dir, 'quotes.csv'), formatQuotesCsv(data.snapshots));
    const { out, io } = capture();
    expect(await runBacktestCli(['--data', dir, '--seed', '3'], io)).toBe(0);
    for (const metric of ['Total trades', 'Win rate', 'Average win', 'Average loss', 'Profit factor', 'Max drawdown', 'Sharpe ratio', 'Average holding time', 'Fill rate']) {
      expect(out.stdout).toContain(metric);
    }
    const json = capture();
    expect(await runBacktestCli(['--data', join(dir, 'quotes.csv'), '--json'], json.io)).toBe(0);
    const parsed = JSON.parse(json.out.stdout) as { stats: { totalTrades: number }; result: { snapshots: number } };
    expect(parsed.result.snapshots).toBe(data.snapshots.length);
    // the edge strategy needs model estimates
    expect(await runBacktestCli(['--data', dir, '--strategy', 'edge'], io)).toBe(2);
  });
});
