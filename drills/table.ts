/** Plain-text table of drill results, one row per drill, in the issue's column order. */
import { targetsMet, type DrillResult } from './types';

const COLUMNS = [
  ['drill', (r: DrillResult) => r.id],
  ['trials', (r: DrillResult) => r.counts.trials],
  ['duplicates', (r: DrillResult) => r.counts.duplicates],
  ['lost fills', (r: DrillResult) => r.counts.lostFills],
  ['double-counted', (r: DrillResult) => r.counts.doubleCountedFills],
  ['unresolved', (r: DrillResult) => r.counts.unresolved],
  ['unresolved alerted', (r: DrillResult) => r.counts.unresolvedAlerted],
  ['alerts', (r: DrillResult) => r.counts.alerts],
  ['checks failed', (r: DrillResult) => r.checksFailed.length],
  ['seconds', (r: DrillResult) => (r.elapsedMs / 1000).toFixed(1)],
  ['targets', (r: DrillResult) => (targetsMet(r) ? 'met' : 'MISSED')],
] as const;

export function formatTable(results: readonly DrillResult[]): string {
  const rows = results.map((r) => COLUMNS.map(([, cell]) => String(cell(r))));
  const header = COLUMNS.map(([name]) => name);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The table, then each drill's title, notes and failed checks. */
export function formatReport(results: readonly DrillResult[]): string {
  const parts = [formatTable(results), ''];
  for (const r of results) {
    parts.push(`${r.id}: ${r.title}`);
    for (const n of r.notes) parts.push(`  - ${n}`);
    for (const f of r.checksFailed) parts.push(`  ! check failed: ${f}`);
  }
  return parts.join('\n');
}
