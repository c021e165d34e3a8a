/**
 * Output of the operator CLI: aligned tables for people, JSON for scripts. Money and prices
 * leave as exact decimal strings made from integer micros (formatDecimal), never through floats.
 */
import { formatDecimal, toNumericString } from '../domain/money';

const UNPRINTABLE_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Text from the records made safe for a terminal: every control character (C0, DEL, C1, the
 * bidirectional overrides) written as an escape (`\r`, `\x1b`, `\u202e`), so a stored value cannot
 * move the cursor, recolour or overprint what the CLI prints. `keepNewlines` leaves the CLI's own
 * line breaks alone (whole outputs); table cells and field values never keep them.
 */
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(UNPRINTABLE_RE, (c) => {
    if (c === '\n' && options.keepNewlines) return c;
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/** A plain-text table: header, a rule, one line per row; "(none)" when there are no rows. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '(none)\n';
  columns = columns.map((c) => ({ ...c, header: printable(c.header) }));
  rows = rows.map((r) => r.map((cell) => printable(cell ?? '')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** Label: value lines with the labels aligned. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  pairs = pairs.map(([k, v]) => [printable(k), printable(v)] as const);
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v}`).join('\n') + '\n';
}

/** Money for people: at least 2 decimals, more only when the micros need them. */
export const money = (micros: number | null | undefined): string => (micros === null || micros === undefined ? '-' : formatDecimal(micros, 2));

/** A contract price for people, e.g. 0.45 or 0.4525. */
export const price = (micros: number | null | undefined): string => (micros === null || micros === undefined ? '-' : formatDecimal(micros, 2));

/** Money or a price for scripts: the exact 6-decimal string of the records ("12.340000"). */
export const decimal = (micros: number | null | undefined): string | null => (micros === null || micros === undefined ? null : toNumericString(micros));

/** An instant for people, in UTC to the second. */
export const time = (epochMs: number | null | undefined): string =>
  epochMs === null || epochMs === undefined ? '-' : new Date(epochMs).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

/** An instant for scripts. */
export const isoTime = (epochMs: number | null | undefined): string | null => (epochMs === null || epochMs === undefined ? null : new Date(epochMs).toISOString());

/** A ratio as a percentage for people (statistics, not money). */
export const percent = (ratio: number | null | undefined, digits = 1): string => (ratio === null || ratio === undefined ? '-' : `${(ratio * 100).toFixed(digits)}%`);

/** A float statistic for people. */
export const fixed = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** Milliseconds for people. */
export const duration = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
};

export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
