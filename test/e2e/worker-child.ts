/**
 * A worker process as production builds one (worker/worker.ts): the validated config from the
 * environment (loadConfig: TEMPORAL_ADDRESS, DATABASE_URL, the paper exchange key, SMTP, the
 * DURABLE_TRADER_CONFIG file), the records, the paper venue adapter and the SMTP mailer from
 * openActivityDeps, the production activities from createActivities, and runWorker on the
 * production task queue. Only the workflow bundle is handed in pre-built (E2E_WORKFLOW_BUNDLE,
 * a file): bundling in every child would cost seconds per start.
 *
 * Prints READY once it polls. SIGTERM drains it gracefully; the suite's crash is SIGKILL.
 */
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../../activities/index';
import { loadConfig } from '../../runtime/config';
import { openActivityDeps } from '../../worker/activity-deps';
import { runWorker } from '../../worker/worker';

const say = (line: string) => process.stdout.write(`${line}\n`);
const log = { info: (m: string) => process.stderr.write(`${m}\n`), warn: (m: string) => process.stderr.write(`${m}\n`) };

async function main(): Promise<void> {
  const bundlePath = process.env.E2E_WORKFLOW_BUNDLE;
  if (!bundlePath) throw new Error('E2E_WORKFLOW_BUNDLE is not set');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig(process.env);
  if (config.temporal.address === null) throw new Error('TEMPORAL_ADDRESS is not set');
  const opened = await openActivityDeps(config);
  try {
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    try {
      await runWorker({
        config,
        activities: createActivities(opened.deps),
        connection,
        workflowBundle: { code: readFileSync(bundlePath, 'utf8') },
        shutdownGraceTime: '2 seconds',
        log,
        onRunning: async () => {
          say('READY');
        },
      });
    } finally {
      await connection.close();
    }
  } finally {
    await opened.close();
  }
  say('STOPPED');
  // Pooled sockets may keep the event loop alive after a drained shutdown; the work is done.
  process.exit(0);
}

main().catch((e: unknown) => {
  say(`FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
