/** Every failure drill, in the order, and one function that runs them. */
import { crashDrill } from './crash';
import { dailyLossDrill } from './daily-loss';
import { reconciliationDrill } from './reconciliation';
import { restartsDrill } from './restarts';
import { venueFaultsDrill } from './venue-faults';
import { formatReport } from './table';
import { serverGate } from './temporal/gate';
import type { ServerDrillRun } from './temporal/index';
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

/**
 * The no-server drills, then (when TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH is set) their server
 * form; `server.summary` says what the server form ran against or why it was skipped.
 */
export async function runAllDrills(
  options: DrillOptions & { only?: readonly string[]; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<{ results: DrillResult[]; server: ServerDrillRun }> {
  const results = await runDrills(options);
  const env = options.env ?? process.env;
  const gate = serverGate(env);
  if (!gate.configured) return { results, server: { results: [], summary: `Temporal: ${gate.reason}. The tables above are the no-server form.`, skipped: true, error: null } };
  // Loaded only when a server is configured: it pulls in the Temporal worker and the bundler.
  const { runServerDrills } = await import('./temporal/index');
  try {
    const server = await runServerDrills({ ...options, env });
    return { results: [...results, ...server.results], server };
  } catch (e) {
    const summary = `Temporal: ${gate.describe} is configured, but the server form could not run: ${e instanceof Error ? e.message : String(e)}`;
    return { results, server: { results: [], summary, skipped: false, error: summary } };
  }
}

export { formatReport };
