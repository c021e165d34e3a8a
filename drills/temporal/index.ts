/** The server form of the drills: run after the no-server ones when a Temporal server is configured. */
import type { DrillResult } from '../types';
import { serverCrashDrill } from './crash';
import { serverDailyLossDrill } from './daily-loss';
import { serverGate } from './gate';
import { multiWorkerDrill } from './multi-worker';
import { DrillTemporal } from './server';
import type { ServerDrill } from './server';

export const SERVER_DRILLS: readonly ServerDrill[] = [serverCrashDrill, serverDailyLossDrill];

/**
 * Server drills that run only when `--only` names them: the three-worker drill needs a PostgreSQL
 * server besides Temporal, and its quick form has a test file of its own (test/drills/multi-worker.test.ts).
 */
export const NAMED_SERVER_DRILLS: readonly ServerDrill[] = [multiWorkerDrill];

/** The server drills a run takes: every one of SERVER_DRILLS (or those `only` names), and the named-only ones `only` names. */
export function serverDrillsFor(only?: readonly string[]): ServerDrill[] {
  const named = (d: ServerDrill) => only?.some((o) => d.id.startsWith(o)) ?? false;
  return [...SERVER_DRILLS.filter((d) => !only || named(d)), ...NAMED_SERVER_DRILLS.filter(named)];
}

export interface ServerDrillRun {
  results: DrillResult[];
  /** One line for the output: what the server form ran against, or why it was skipped. */
  summary: string;
  skipped: boolean;
  /** Set when a server was configured but the server form could not run (counts as a missed target). */
  error: string | null;
}

export interface ServerDrillOptions {
  trials?: number;
  quick?: boolean;
  seed?: number;
  only?: readonly string[];
  log?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
}

export async function runServerDrills(options: ServerDrillOptions = {}): Promise<ServerDrillRun> {
  const env = options.env ?? process.env;
  const gate = serverGate(env);
  if (!gate.configured) return { results: [], summary: `Temporal: ${gate.reason}.`, skipped: true, error: null };
  const drills = serverDrillsFor(options.only);
  if (drills.length === 0) return { results: [], summary: `Temporal: ${gate.describe} configured; no server-form drill matches --only.`, skipped: true, error: null };
  const log = options.log ?? (() => {});
  const temporal = await DrillTemporal.open(gate, env);
  const results: DrillResult[] = [];
  try {
    for (const drill of drills) {
      const trials = options.trials ?? (options.quick ? drill.quickTrials : drill.defaultTrials);
      log(`${drill.id}: ${drill.title} (${trials} trials)`);
      results.push(...(await drill.run({ trials, seed: options.seed ?? 7, log, temporal })));
    }
  } finally {
    await temporal.close();
  }
  return { results, summary: `Temporal: the server form ran against ${temporal.describe} (rows ${drills.map((d) => d.id).join(', ')}).`, skipped: false, error: null };
}

export { serverGate, SKIPPED_REASON } from './gate';
