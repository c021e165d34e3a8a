/**
 * The server form's worker process: a real Temporal Worker (worker/worker.ts runWorker) with the
 * production activities (createActivities) on the drill's records and the paper exchange, on a
 * task queue of its own. Prints "READY" once it polls; the drill kills it with SIGKILL.
 */
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { ActivityConfig } from '../../activities/deps';
import { createActivities } from '../../activities/index';
import { openDatabase, type DatabaseConfig } from '../../db/client';
import { CapturingMailer, makeDeps } from '../../test/activities/harness';
import { buildConfig } from '../../worker/config';
import { runWorker } from '../../worker/worker';
import { DRILL_LIMITS, venueAt } from '../world';

export interface WorkerChildSpec {
  address: string;
  namespace: string;
  taskQueue: string;
  /** The workflow bundle, built once by the drill (bundling in every child would take seconds each). */
  bundlePath: string;
  dataDir: string;
  db: DatabaseConfig;
  venueUrl: string;
  config: Partial<ActivityConfig>;
  /** Added to the activities' clock (drill 5's next trading day). */
  clockOffsetMs: number;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.DRILL_WORKER_CHILD ?? 'null') as WorkerChildSpec | null;
  if (!spec) throw new Error('DRILL_WORKER_CHILD is not set');
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime is already installed in this process
  }
  const base = buildConfig({ TEMPORAL_ADDRESS: spec.address, TEMPORAL_NAMESPACE: spec.namespace, DATA_DIR: spec.dataDir });
  const config = { ...base, temporal: { ...base.temporal, taskQueue: spec.taskQueue } };
  const database = await openDatabase(spec.db, { migrate: false });
  const clock = () => Date.now() + spec.clockOffsetMs;
  const deps = makeDeps({ db: database.db, venue: venueAt(spec.venueUrl), mailer: new CapturingMailer(), config: { limits: DRILL_LIMITS, ...spec.config }, clock });
  const connection = await NativeConnection.connect({ address: spec.address });
  await runWorker({
    config,
    activities: createActivities(deps),
    connection,
    workflowBundle: { code: readFileSync(spec.bundlePath, 'utf8') },
    shutdownGraceTime: '2 seconds',
    log: { info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`${m}\n`) },
    onRunning: async () => {
      say('READY');
    },
  });
  say('STOPPED');
}

main().catch((e: unknown) => {
  say(`FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
