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
  notes?: string;
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
    const ratio = r.baselineFigure > 0 ? r.figure / r.baselineFigure : NaN;
    const target = r.target === undefined ? '-' : `${fmt(r.target)} ${r.figure >= r.target ? 'met' : 'NOT met'}`;
    return [r.name, `${fmt(r.figure)} ${r.unit}`, `${r.baselineName}: ${fmt(r.baselineFigure)}`, ratio.toFixed(3), target, r.notes ?? ''];
  });
  const header = ['benchmark', 'figure', 'baseline (same run)', 'ratio', 'target', 'notes'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}
