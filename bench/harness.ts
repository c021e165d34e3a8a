/**
 * Benchmark plumbing. Every figure is reported beside a baseline measured in the same run,
 * as a ratio, so results compare across machines (DEVELOPERS.md: no timed assertions in tests).
 */
export interface BenchResult {
  /** What was measured, e.g. "pre-trade risk decision". */
  name: string;
  figure: number;
  unit: string;
  baselineName: string;
  baselineFigure: number;
  /** The target from the issue, in the same unit, when there is one. */
  target?: number;
  /** The target is a ceiling (latency, memory): met when the figure is at or below it. */
  lowerIsBetter?: boolean;
  /** A target for figure / baseline, when the issue states one (e.g. "at least half the bare throughput"). */
  ratioTarget?: number;
  notes?: string;
  /** Set when the benchmark could not run here, with the reason; the figures are then meaningless. */
  skipped?: string;
}

/** Runs `fn` repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
export function opsPerSecond(fn: (i: number) => void, opsPerCall = 1, ms = 1_000): number {
  const warmUntil = performance.now() + Math.min(200, ms / 4);
  let i = 0;
  while (performance.now() < warmUntil) fn(i++);
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 64; k++) fn(i++);
    calls += 64;
    now = performance.now();
  }
  return (calls * opsPerCall) / ((now - start) / 1_000);
}

export function formatResults(results: BenchResult[]): string {
  const rows = results.map((r) => {
    if (r.skipped !== undefined) {
      const notes = r.notes === undefined || r.notes === r.skipped ? r.skipped : `${r.skipped}; ${r.notes}`;
      return [r.name, `skipped (${r.unit})`, `${r.baselineName}: -`, '-', targetText(r, null), notes];
    }
    const ratio = r.baselineFigure > 0 ? r.figure / r.baselineFigure : NaN;
    return [r.name, `${fmt(r.figure)} ${r.unit}`, `${r.baselineName}: ${fmt(r.baselineFigure)}`, ratio.toFixed(3), targetText(r, ratio), r.notes ?? ''];
  });
  const header = ['benchmark', 'figure', 'baseline (same run)', 'ratio', 'target', 'notes'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** "≤300 met", "≥50 NOT met; ratio ≥0.50 met"; without a measured figure (skipped) only the targets. */
function targetText(r: BenchResult, ratio: number | null): string {
  const parts: string[] = [];
  const verdict = (ok: boolean) => (ratio === null ? '' : ok ? ' met' : ' NOT met');
  if (r.target !== undefined) {
    const ok = r.lowerIsBetter ? r.figure <= r.target : r.figure >= r.target;
    parts.push(`${r.lowerIsBetter ? '≤' : '≥'}${fmt(r.target)}${verdict(ok)}`);
  }
  if (r.ratioTarget !== undefined) {
    const ok = ratio !== null && (r.lowerIsBetter ? ratio <= r.ratioTarget : ratio >= r.ratioTarget);
    parts.push(`ratio ${r.lowerIsBetter ? '≤' : '≥'}${r.ratioTarget.toFixed(2)}${verdict(ok)}`);
  }
  return parts.length === 0 ? '-' : parts.join('; ');
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}
