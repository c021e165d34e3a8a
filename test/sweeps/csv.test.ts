/**
 * Bad-input sweep of the backtester's CSV files (cli/quotes-csv.ts): hostile cells, broken
 * rows and headers, oversized files. Every bad input is one QuotesCsvError naming the file, the
 * line and (when the row has the right width) the column; nothing else is ever thrown. Through
 * the CLI, a bad file exits 1 naming file, line and column, and the file is left as it was.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '../../cli/main';
import { MARKET_COLUMNS, MODEL_COLUMNS, QUOTE_COLUMNS, QuotesCsvError, parseMarketsCsv, parseModelCsv, parseQuotesCsv } from '../../cli/quotes-csv';
import { MICROS } from '../../domain/money';
import { INJECTIONS, SweepCounter, hostileString, runs } from './support';

const counter = new SweepCounter('csv');

const QUOTES_HEADER = QUOTE_COLUMNS.join(',');
const GOOD_QUOTE: Record<(typeof QUOTE_COLUMNS)[number], string> = { ts: '2024-03-01T00:00:00Z', market_id: 'PRES-2028', bid: '0.42', ask: '0.44', last: '0.43', volume: '10', adv: '1000' };
const MARKETS_HEADER = MARKET_COLUMNS.join(',');
const GOOD_MARKET: Record<(typeof MARKET_COLUMNS)[number], string> = { market_id: 'PRES-2028', category: 'politics', tick_size: '0.01', resolves_at: '2024-11-05T00:00:00Z', outcome: 'YES' };
const MODEL_HEADER = MODEL_COLUMNS.join(',');
const GOOD_MODEL: Record<(typeof MODEL_COLUMNS)[number], string> = { ts: '2024-03-01T00:00:00Z', market_id: 'PRES-2028', probability: '0.5' };

const rowOf = <C extends string>(columns: readonly C[], cells: Record<C, string>): string => columns.map((c) => cells[c]).join(',');

/** Either a valid parse or one QuotesCsvError whose every problem names the file and a line. */
function parseOutcome(parse: () => unknown, file: string): { ok: true; value: unknown } | { ok: false; error: QuotesCsvError } {
  try {
    return { ok: true, value: parse() };
  } catch (e) {
    expect(e, `only QuotesCsvError may escape, got ${String(e)}`).toBeInstanceOf(QuotesCsvError);
    const err = e as QuotesCsvError;
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.problems.length).toBeLessThanOrEqual(51);
    for (const p of err.problems) {
      if (p.field === 'more') continue;
      expect(p.field).toMatch(new RegExp(`^${file.replace('.', '\\.')} line \\d+`));
      expect(p.problem.length).toBeGreaterThan(0);
    }
    expect(err.message.length).toBeGreaterThan(0);
    return { ok: false, error: err };
  }
}

/** Text certainly not a decimal number: something other than sign, digits, one dot and blanks. */
const notDecimal = (s: string): boolean => s.trim() !== '' && !/^[+-]?\d*\.?\d*$/.test(s.trim()) && !/[,\n]/.test(s);

describe('quotes.csv', () => {
  it('a hostile value in any cell is parsed exactly or refused naming file and line', () => {
    fc.assert(
      fc.property(fc.constantFrom(...QUOTE_COLUMNS), hostileString, (column, value) => {
        counter.tried('quotes: hostile cell');
        const text = `${QUOTES_HEADER}\n${rowOf(QUOTE_COLUMNS, { ...GOOD_QUOTE, [column]: value })}\n`;
        const out = parseOutcome(() => parseQuotesCsv(text), 'quotes.csv');
        if (out.ok) {
          for (const s of out.value as ReturnType<typeof parseQuotesCsv>) {
            for (const p of [s.bid, s.ask, s.last]) if (p !== null) expect(Number.isSafeInteger(p) && p > 0 && p < MICROS).toBe(true);
            expect(Number.isSafeInteger(s.ts)).toBe(true);
            expect(Number.isSafeInteger(s.intervalVolume) && s.intervalVolume >= 0).toBe(true);
          }
        }
      }),
      { numRuns: runs(400) },
    );
  });

  it('a value that is not a number in a price, volume or time column is refused naming that column', () => {
    const numeric = ['ts', 'bid', 'ask', 'last', 'volume', 'adv'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...numeric), hostileString.filter(notDecimal), (column, value) => {
        counter.tried('quotes: non-numeric cell');
        const text = `${QUOTES_HEADER}\n${rowOf(QUOTE_COLUMNS, { ...GOOD_QUOTE, [column]: value })}\n`;
        const out = parseOutcome(() => parseQuotesCsv(text), 'quotes.csv');
        expect(out.ok).toBe(false);
        if (!out.ok) expect(out.error.problems.some((p) => p.field === `quotes.csv line 2, column ${column}`)).toBe(true);
      }),
      { numRuns: runs(300) },
    );
  });

  it('seed -1657248251: a row whose first cell is "#" is refused naming that column, not skipped as a comment', () => {
    counter.tried('quotes: pinned cases', 3);
    const quotes = parseOutcome(() => parseQuotesCsv(`${QUOTES_HEADER}\n${rowOf(QUOTE_COLUMNS, { ...GOOD_QUOTE, ts: '#' })}\n`), 'quotes.csv');
    expect(!quotes.ok && quotes.error.problems.map((p) => p.field)).toEqual(['quotes.csv line 2, column ts']);
    const markets = parseOutcome(() => parseMarketsCsv(`${MARKETS_HEADER}\n${rowOf(MARKET_COLUMNS, { ...GOOD_MARKET, market_id: '#PRES-2028' })}\n`), 'markets.csv');
    expect(!markets.ok && markets.error.problems.map((p) => p.field)).toEqual(['markets.csv line 2, column market_id']);
    // Before the header a "#" line is still a comment.
    const commented = parseQuotesCsv(`# exported 2024-03-02\n${QUOTES_HEADER}\n${rowOf(QUOTE_COLUMNS, GOOD_QUOTE)}\n`);
    expect(commented.map((q) => q.marketId)).toEqual(['PRES-2028']);
  });

  it('broken headers and rows of the wrong width are refused', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hostileString, fc.constantFrom(...QUOTE_COLUMNS)), { minLength: 0, maxLength: 9 }), fc.array(hostileString, { maxLength: 12 }), (header, cells) => {
        counter.tried('quotes: header and width');
        const text = `${header.join(',')}\n${cells.join(',')}\n`;
        parseOutcome(() => parseQuotesCsv(text), 'quotes.csv');
      }),
      { numRuns: runs(200) },
    );
  });

  it('an oversized file of bad rows reports at most 50 problems and says more were cut', () => {
    counter.tried('quotes: oversized file (100,000 bad rows)');
    const bad = rowOf(QUOTE_COLUMNS, { ...GOOD_QUOTE, bid: "'; DROP TABLE fills; --" });
    const text = `${QUOTES_HEADER}\n${`${bad}\n`.repeat(100_000)}`;
    const out = parseOutcome(() => parseQuotesCsv(text), 'quotes.csv');
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error.problems.at(-1)).toMatchObject({ field: 'more', problem: 'further problems not shown' });
  });

  it('quotes going back in time are refused naming the line', () => {
    counter.tried('quotes: time order');
    const text = `${QUOTES_HEADER}\n${rowOf(QUOTE_COLUMNS, GOOD_QUOTE)}\n${rowOf(QUOTE_COLUMNS, { ...GOOD_QUOTE, ts: '2024-02-01T00:00:00Z' })}\n`;
    const out = parseOutcome(() => parseQuotesCsv(text), 'quotes.csv');
    expect(!out.ok && out.error.problems[0]!.field).toBe('quotes.csv line 3, column ts');
  });
});

describe('markets.csv and model.csv', () => {
  it('a hostile value in any markets cell is parsed or refused naming file and line', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MARKET_COLUMNS), hostileString, (column, value) => {
        counter.tried('markets: hostile cell');
        const text = `${MARKETS_HEADER}\n${rowOf(MARKET_COLUMNS, { ...GOOD_MARKET, [column]: value })}\n`;
        const out = parseOutcome(() => parseMarketsCsv(text), 'markets.csv');
        if (out.ok) for (const m of out.value as ReturnType<typeof parseMarketsCsv>) expect(MICROS % m.tickSize).toBe(0);
        if (column === 'tick_size' && notDecimal(value)) expect(out.ok).toBe(false);
        if (column === 'outcome' && !['', 'YES', 'NO'].includes(value.trim()) && !/[,\n]/.test(value)) expect(out.ok).toBe(false);
      }),
      { numRuns: runs(300) },
    );
  });

  it('a hostile probability is refused naming the column', () => {
    fc.assert(
      fc.property(hostileString.filter(notDecimal), (value) => {
        counter.tried('model: non-numeric probability');
        const text = `${MODEL_HEADER}\n${rowOf(MODEL_COLUMNS, { ...GOOD_MODEL, probability: value })}\n`;
        const out = parseOutcome(() => parseModelCsv(text), 'model.csv');
        expect(!out.ok && out.error.problems.some((p) => p.field === 'model.csv line 2, column probability')).toBe(true);
      }),
      { numRuns: runs(150) },
    );
  });
});

describe('through the CLI backtest', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sweep-csv-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    counter.report();
  });

  it('a bad quotes file exits 1 naming file, line and column, and the files are left as they were', async () => {
    const cases = INJECTIONS.filter(notDecimal).slice(0, 8);
    for (const [i, value] of cases.entries()) {
      counter.tried('cli backtest: bad quotes file');
      const data = join(dir, `case-${i}`);
      rmSync(data, { recursive: true, force: true });
      mkdirSync(data);
      const quotes = `${QUOTES_HEADER}\n${rowOf(QUOTE_COLUMNS, GOOD_QUOTE)}\n${rowOf(QUOTE_COLUMNS, { ...GOOD_QUOTE, ask: value })}\n`;
      const markets = `${MARKETS_HEADER}\n${rowOf(MARKET_COLUMNS, GOOD_MARKET)}\n`;
      writeFileSync(join(data, 'quotes.csv'), quotes);
      writeFileSync(join(data, 'markets.csv'), markets);
      let stderr = '';
      const io: CliIo = { stdout: () => {}, stderr: (t) => void (stderr += t), env: { DATA_DIR: dir }, progressStream: null, now: () => Date.UTC(2026, 0, 5) };
      const code = await run(['backtest', '--data', data], io);
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(/quotes\.csv line 3, column ask/);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(join(data, 'quotes.csv'), 'utf8')).toBe(quotes);
      expect(readFileSync(join(data, 'markets.csv'), 'utf8')).toBe(markets);
    }
  });
});
