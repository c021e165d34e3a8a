/**
 * Quote files for the backtester: three small CSV formats, UTF-8, comma separated, one header
 * line naming the columns (any order; unknown or missing columns are an error), no quoting
 * (no field may contain a comma). Blank lines are skipped, and lines starting with "#" before the
 * header. After the header every other line is a row: a "#" there is a bad first cell, reported
 * like any other, never a row silently dropped.
 *
 * quotes.csv: one quote event per line, sorted by time (ties in any order)
 *   ts         ISO 8601 UTC instant ("2024-03-01T00:00:00Z", seconds and millis optional,
 *              "Z" or "+hh:mm") or epoch milliseconds ("1709251200000")
 *   market_id  a market listed in markets.csv
 *   bid, ask   decimal prices in (0, 1) ("0.42"), at most 6 decimals; empty = no quote on that side
 *   last       decimal price or empty
 *   volume     contracts traded since the previous quote of the market (whole number >= 0)
 *   adv        average daily volume in contracts (whole number >= 0)
 *
 * markets.csv: one market per line
 *   market_id, category, tick_size (decimal dividing 1, "0.01"),
 *   resolves_at (ISO or epoch ms, or empty), outcome (YES, NO or empty)
 *
 * model.csv (optional, for the model-edge strategy): model estimates of P(YES)
 *   ts, market_id, probability (decimal in [0, 1], at most 6 decimals)
 *   An estimate holds from its ts until the market's next estimate (a step function).
 *
 * Prices are parsed exactly into integer micros with money.ts (never through a float). Each bad
 * row yields problems naming the line number, the column and the value; `parse*Csv` collect the
 * problems of every row (up to `maxErrors`) and throw one `QuotesCsvError`. The row parsers work
 * one line at a time, so a caller can stream a large file through `iterateQuotes`.
 */
import { ErrorType, InvalidInput, type FieldProblem } from '../domain/errors';
import { validateMarket, validateMarketId, type Market, type MarketSnapshot, type Outcome } from '../domain/market';
import { MICROS, formatDecimal, parseMicros, parsePrice, type Price, type Quantity } from '../domain/money';

/** Bad CSV input: every problem names `<file> line N, column C`. */
export class QuotesCsvError extends InvalidInput {
  constructor(problems: FieldProblem[]) {
    super(problems, ErrorType.InvalidInput);
    this.name = 'QuotesCsvError';
  }
}

export const QUOTE_COLUMNS = ['ts', 'market_id', 'bid', 'ask', 'last', 'volume', 'adv'] as const;
export const MARKET_COLUMNS = ['market_id', 'category', 'tick_size', 'resolves_at', 'outcome'] as const;
export const MODEL_COLUMNS = ['ts', 'market_id', 'probability'] as const;

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const EPOCH_RE = /^\d{1,15}$/;
const COUNT_RE = /^\d{1,15}$/;

type Problems = FieldProblem[];

function where(file: string, line: number, column: string): string {
  return `${file} line ${line}, column ${column}`;
}

export function parseTimestamp(text: string): number | null {
  if (EPOCH_RE.test(text)) return Number(text);
  if (!ISO_RE.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** Maps a header line to column indexes; every required column present, nothing unknown. */
function readHeader<C extends string>(file: string, line: string, columns: readonly C[]): Record<C, number> {
  const names = line.split(',').map((c) => c.trim());
  const problems: Problems = [];
  const index = {} as Record<C, number>;
  names.forEach((name, i) => {
    if (!(columns as readonly string[]).includes(name)) problems.push({ field: where(file, 1, name || `#${i + 1}`), value: name, problem: `is not a known column (${columns.join(', ')})` });
    else if ((index as Record<string, number>)[name] !== undefined) problems.push({ field: where(file, 1, name), value: name, problem: 'appears twice' });
    else (index as Record<string, number>)[name] = i;
  });
  for (const c of columns) {
    if (index[c] === undefined) problems.push({ field: where(file, 1, c), value: line, problem: 'is missing from the header' });
  }
  if (problems.length > 0) throw new QuotesCsvError(problems);
  return index;
}

interface RowReader<C extends string> {
  cell(column: C): string;
  problem(column: C, value: unknown, problem: string): void;
}

function rowReader<C extends string>(file: string, lineNo: number, cells: string[], index: Record<C, number>, problems: Problems): RowReader<C> {
  return {
    cell: (column) => (cells[index[column]] ?? '').trim(),
    problem: (column, value, problem) => problems.push({ field: where(file, lineNo, column), value, problem }),
  };
}

function checkCellCount(file: string, lineNo: number, cells: string[], expected: number, line: string, problems: Problems): boolean {
  if (cells.length === expected) return true;
  problems.push({ field: `${file} line ${lineNo}`, value: line, problem: `has ${cells.length} fields, the header has ${expected}` });
  return false;
}

function readPrice<C extends string>(r: RowReader<C>, column: C, optional: boolean): Price | null | undefined {
  const text = r.cell(column);
  if (text === '') {
    if (optional) return null;
    r.problem(column, text, 'is required');
    return undefined;
  }
  try {
    return parsePrice(text, column);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    r.problem(column, text, e.problems[0]?.problem ?? 'must be a decimal price in (0, 1)');
    return undefined;
  }
}

function readCount<C extends string>(r: RowReader<C>, column: C): number | undefined {
  const text = r.cell(column);
  if (!COUNT_RE.test(text)) {
    r.problem(column, text, 'must be a whole, non-negative number of contracts');
    return undefined;
  }
  return Number(text);
}

function readTs<C extends string>(r: RowReader<C>, column: C, optional: boolean): number | null | undefined {
  const text = r.cell(column);
  if (text === '' && optional) return null;
  const ts = parseTimestamp(text);
  if (ts === null) r.problem(column, text, 'must be an ISO 8601 instant with a zone ("2024-03-01T00:00:00Z") or epoch milliseconds');
  return ts ?? undefined;
}

function readMarketId<C extends string>(r: RowReader<C>, column: C): string | undefined {
  const text = r.cell(column);
  try {
    return validateMarketId(text, column);
  } catch {
    r.problem(column, text, 'must be 1-128 letters, digits, ".", "_", ":" or "-"');
    return undefined;
  }
}

/** Parses one quotes row; appends its problems (every bad column) and returns null when there are any. */
export type QuoteRowParser = (line: string, lineNo: number, problems: Problems) => MarketSnapshot | null;

export function quoteRowParser(headerLine: string, file = 'quotes.csv'): QuoteRowParser {
  const index = readHeader(file, headerLine, QUOTE_COLUMNS);
  const width = headerLine.split(',').length;
  return (line, lineNo, problems) => {
    const cells = line.split(',');
    if (!checkCellCount(file, lineNo, cells, width, line, problems)) return null;
    const before = problems.length;
    const r = rowReader(file, lineNo, cells, index, problems);
    const ts = readTs(r, 'ts', false);
    const marketId = readMarketId(r, 'market_id');
    const bid = readPrice(r, 'bid', true);
    const ask = readPrice(r, 'ask', true);
    const last = readPrice(r, 'last', true);
    const volume = readCount(r, 'volume');
    const adv = readCount(r, 'adv');
    if (bid != null && ask != null && bid > ask) r.problem('ask', r.cell('ask'), `is below the bid ${r.cell('bid')} (crossed quote)`);
    if (problems.length > before) return null;
    return {
      marketId: marketId as string,
      ts: ts as number,
      bid: bid as Price | null,
      ask: ask as Price | null,
      last: last as Price | null,
      averageDailyVolume: adv as Quantity,
      intervalVolume: volume as Quantity,
    };
  };
}

/** The header and the rows, with their line numbers; comments are taken only before the header. */
function* dataLines(lines: Iterable<string>): Generator<[string, number]> {
  let n = 0;
  let header = false;
  for (const raw of lines) {
    n += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || (!header && line.startsWith('#'))) continue;
    header = true;
    yield [line, n];
  }
}

function splitLines(text: string): string[] {
  return text.split('\n');
}

/**
 * Streams quotes from lines (header first), throwing a QuotesCsvError at the first bad row,
 * including rows that go back in time. For files too large to hold in memory.
 */
export function* iterateQuotes(lines: Iterable<string>, file = 'quotes.csv'): Generator<MarketSnapshot> {
  let parse: QuoteRowParser | null = null;
  let lastTs = -Infinity;
  const problems: Problems = [];
  for (const [line, n] of dataLines(lines)) {
    if (parse === null) {
      parse = quoteRowParser(line, file);
      continue;
    }
    const snap = parse(line, n, problems);
    if (snap === null) throw new QuotesCsvError(problems);
    if (snap.ts < lastTs) throw new QuotesCsvError([{ field: where(file, n, 'ts'), value: line.split(',')[0], problem: 'goes back in time; quotes must be sorted by ts' }]);
    lastTs = snap.ts;
    yield snap;
  }
  if (parse === null) throw new QuotesCsvError([{ field: `${file} line 1`, value: '', problem: 'the file has no header line' }]);
}

function finish(problems: Problems, maxErrors: number): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, maxErrors);
  if (problems.length > maxErrors) shown.push({ field: 'more', value: problems.length - maxErrors, problem: 'further problems not shown' });
  throw new QuotesCsvError(shown);
}

/** Parses a whole quotes file, reporting every bad row (up to maxErrors problems) in one error. */
export function parseQuotesCsv(text: string, options: { file?: string; maxErrors?: number } = {}): MarketSnapshot[] {
  const file = options.file ?? 'quotes.csv';
  const maxErrors = options.maxErrors ?? 50;
  const out: MarketSnapshot[] = [];
  const problems: Problems = [];
  let parse: QuoteRowParser | null = null;
  let lastTs = -Infinity;
  for (const [line, n] of dataLines(splitLines(text))) {
    if (parse === null) {
      parse = quoteRowParser(line, file);
      continue;
    }
    const snap = parse(line, n, problems);
    if (snap === null) {
      if (problems.length > maxErrors) break;
      continue;
    }
    if (snap.ts < lastTs) problems.push({ field: where(file, n, 'ts'), value: line.split(',')[0], problem: 'goes back in time; quotes must be sorted by ts' });
    lastTs = Math.max(lastTs, snap.ts);
    out.push(snap);
  }
  if (parse === null) problems.push({ field: `${file} line 1`, value: '', problem: 'the file has no header line' });
  finish(problems, maxErrors);
  return out;
}

export function parseMarketsCsv(text: string, options: { file?: string; maxErrors?: number } = {}): Market[] {
  const file = options.file ?? 'markets.csv';
  const out: Market[] = [];
  const problems: Problems = [];
  const seen = new Set<string>();
  let index: Record<(typeof MARKET_COLUMNS)[number], number> | null = null;
  let width = 0;
  for (const [line, n] of dataLines(splitLines(text))) {
    if (index === null) {
      index = readHeader(file, line, MARKET_COLUMNS);
      width = line.split(',').length;
      continue;
    }
    const cells = line.split(',');
    if (!checkCellCount(file, n, cells, width, line, problems)) continue;
    const before = problems.length;
    const r = rowReader(file, n, cells, index, problems);
    const marketId = readMarketId(r, 'market_id');
    const category = r.cell('category');
    if (category === '' || category.length > 64) r.problem('category', category, 'must be a non-empty string of at most 64 characters');
    let tickSize: number | undefined;
    try {
      tickSize = parseMicros(r.cell('tick_size'), 'tick_size');
      if (tickSize <= 0 || MICROS % tickSize !== 0) {
        r.problem('tick_size', r.cell('tick_size'), 'must be a positive decimal dividing 1 (e.g. 0.01)');
        tickSize = undefined;
      }
    } catch {
      r.problem('tick_size', r.cell('tick_size'), 'must be a decimal with at most 6 places (e.g. 0.01)');
    }
    const resolvesAt = readTs(r, 'resolves_at', true);
    const outcomeText = r.cell('outcome');
    if (outcomeText !== '' && outcomeText !== 'YES' && outcomeText !== 'NO') r.problem('outcome', outcomeText, 'must be YES, NO or empty');
    if (marketId !== undefined) {
      if (seen.has(marketId)) r.problem('market_id', marketId, 'is listed twice');
      seen.add(marketId);
    }
    if (problems.length > before) continue;
    out.push(
      validateMarket({
        marketId: marketId as string,
        category,
        tickSize: tickSize as number,
        resolvesAt: resolvesAt as number | null,
        outcome: outcomeText === '' ? null : (outcomeText as Outcome),
      }),
    );
  }
  if (index === null) problems.push({ field: `${file} line 1`, value: '', problem: 'the file has no header line' });
  finish(problems, options.maxErrors ?? 50);
  return out;
}

/** Model estimates as a step function per market, read in time order with O(1) amortised cost. */
export interface ModelProbabilities {
  /** The latest estimate at or before `ts`; null before the first. Calls must not go back in time per market. */
  at(marketId: string, ts: number): number | null;
  readonly estimates: number;
}

export function parseModelCsv(text: string, options: { file?: string; maxErrors?: number } = {}): ModelProbabilities {
  const file = options.file ?? 'model.csv';
  const problems: Problems = [];
  const series = new Map<string, { ts: number[]; p: number[]; cursor: number }>();
  let index: Record<(typeof MODEL_COLUMNS)[number], number> | null = null;
  let width = 0;
  let count = 0;
  for (const [line, n] of dataLines(splitLines(text))) {
    if (index === null) {
      index = readHeader(file, line, MODEL_COLUMNS);
      width = line.split(',').length;
      continue;
    }
    const cells = line.split(',');
    if (!checkCellCount(file, n, cells, width, line, problems)) continue;
    const before = problems.length;
    const r = rowReader(file, n, cells, index, problems);
    const ts = readTs(r, 'ts', false);
    const marketId = readMarketId(r, 'market_id');
    let micros: number | undefined;
    try {
      micros = parseMicros(r.cell('probability'), 'probability');
      if (micros < 0 || micros > MICROS) {
        r.problem('probability', r.cell('probability'), 'must be in [0, 1]');
        micros = undefined;
      }
    } catch {
      r.problem('probability', r.cell('probability'), 'must be a decimal in [0, 1] with at most 6 places');
    }
    if (problems.length > before) continue;
    let s = series.get(marketId as string);
    if (s === undefined) series.set(marketId as string, (s = { ts: [], p: [], cursor: -1 }));
    if (s.ts.length > 0 && (ts as number) < (s.ts[s.ts.length - 1] as number)) {
      r.problem('ts', r.cell('ts'), `goes back in time for market ${marketId as string}`);
      continue;
    }
    s.ts.push(ts as number);
    s.p.push((micros as number) / MICROS);
    count += 1;
  }
  if (index === null) problems.push({ field: `${file} line 1`, value: '', problem: 'the file has no header line' });
  finish(problems, options.maxErrors ?? 50);
  return {
    estimates: count,
    at(marketId, ts) {
      const s = series.get(marketId);
      if (s === undefined) return null;
      if (s.cursor >= 0 && (s.ts[s.cursor] as number) > ts) s.cursor = -1; // a new pass from the start
      while (s.cursor + 1 < s.ts.length && (s.ts[s.cursor + 1] as number) <= ts) s.cursor += 1;
      return s.cursor < 0 ? null : (s.p[s.cursor] as number);
    },
  };
}

// Writers, used by the sample-data generator; parse(format(x)) gives x back.

const cell = (p: number | null): string => (p === null ? '' : formatDecimal(p, 2));
const isoTs = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export function formatQuotesCsv(snapshots: Iterable<MarketSnapshot>): string {
  const out = [QUOTE_COLUMNS.join(',')];
  for (const s of snapshots) {
    out.push(`${isoTs(s.ts)},${s.marketId},${cell(s.bid)},${cell(s.ask)},${cell(s.last)},${s.intervalVolume},${s.averageDailyVolume}`);
  }
  return `${out.join('\n')}\n`;
}

export function formatMarketsCsv(markets: readonly Market[]): string {
  const out = [MARKET_COLUMNS.join(',')];
  for (const m of markets) {
    out.push(`${m.marketId},${m.category},${formatDecimal(m.tickSize, 2)},${m.resolvesAt === null ? '' : isoTs(m.resolvesAt)},${m.outcome ?? ''}`);
  }
  return `${out.join('\n')}\n`;
}

export function formatModelCsv(estimates: Iterable<{ ts: number; marketId: string; probability: number }>): string {
  const out = [MODEL_COLUMNS.join(',')];
  for (const e of estimates) out.push(`${isoTs(e.ts)},${e.marketId},${formatDecimal(Math.round(e.probability * MICROS), 2)}`);
  return `${out.join('\n')}\n`;
}
