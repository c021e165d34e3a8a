/** Every failure drill, in the order, and one function that runs them. */
import { crashDrill } from './crash';
import { dailyLossDrill } from './daily-loss';
import { reconciliationDrill } from './reconciliation';
import { restartsDrill } from './restarts';
import { venueFaultsDrill } from './venue-faults';
import { formatReport } from './table';
import type { Drill, DrillOptions, DrillResult } from './types';

export const DRILLS: readonly Drill[] = [crashDrill, venueFaultsDrill, restartsDrill, reconciliationDrill, dailyLossDrill];

export async function runDrills(options: DrillOptions & { only?: readonly string[] } = {}): Promise<DrillResult[]> {
  const log = options.log ?? (() => {});
  const results: DrillResult[] = [];
  for (const drill of DRILLS) {
    if (options.only && !options.only.some((o) => drill.id.startsWith(o))) continue;
    const trials = options.trials ?? (options.quick ? drill.quickTrials : drill.defaultTrials);
    log(`${drill.id}: ${drill.title} (${trials} trials)`);
    results.push(await drill.run({ trials, seed: options.seed ?? 7, log }));
  }
  return results;
}

export { formatReport };
