/**
 * What every drill reports: the table columns, plus the checks a drill makes beyond the
 * counts (a halt that must hold, a policy that must be applied) as `checksFailed` with reasons.
 */

export interface DrillCounts {
  trials: number;
  /** Client order IDs with more than one venue order. */
  duplicates: number;
  /** Venue fills (by trade ID) missing from the ledger. */
  lostFills: number;
  /** Fills counted more than once: a trade ID recorded twice, or recorded totals above the venue's. */
  doubleCountedFills: number;
  /** Orders left non-terminal in the records (or whose run never finished) at the end of a trial. */
  unresolved: number;
  /** Of those, how many have an alert naming the order. */
  unresolvedAlerted: number;
  /** Alerts raised during the drill (rows in the alerts table). */
  alerts: number;
}

export interface DrillResult {
  id: string;
  title: string;
  counts: DrillCounts;
  /** Drill-specific checks that did not hold (empty when every check held). */
  checksFailed: string[];
  /** What the drill exercised and how (the back end, the simulations used, skipped parts). */
  notes: string[];
  elapsedMs: number;
}

export interface DrillOptions {
  /** Trials per drill; each drill has its own default, `quick` a small one. */
  trials?: number;
  quick?: boolean;
  /** Seed for the choices a drill draws (kill points, faults, deltas). */
  seed?: number;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
}

export interface Drill {
  id: string;
  title: string;
  defaultTrials: number;
  quickTrials: number;
  run(options: Required<Pick<DrillOptions, 'seed'>> & { trials: number; log: (line: string) => void }): Promise<DrillResult>;
}

export const zeroCounts = (): DrillCounts => ({ trials: 0, duplicates: 0, lostFills: 0, doubleCountedFills: 0, unresolved: 0, unresolvedAlerted: 0, alerts: 0 });

export function addCounts(a: DrillCounts, b: Partial<DrillCounts>): DrillCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof DrillCounts)[]) out[k] += b[k] ?? 0;
  return out;
}

/** The targets: no duplicate venue order, no lost or double-counted fill, every unresolved order alerted. */
export function targetsMet(r: DrillResult): boolean {
  const c = r.counts;
  return c.duplicates === 0 && c.lostFills === 0 && c.doubleCountedFills === 0 && c.unresolvedAlerted === c.unresolved && r.checksFailed.length === 0;
}
