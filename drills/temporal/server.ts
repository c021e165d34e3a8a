/**
 * What the server-form drills share: one connection to Temporal (worker/temporal.ts
 * connectTemporal, on TEMPORAL_ADDRESS or a dev server from TEMPORAL_CLI_PATH), the workflow
 * bundle built once and written to a file for the worker children, and a way to start a worker
 * child on a drill's records and exchange and wait until it polls.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ActivityConfig } from '../../activities/deps';
import { buildConfig, ENV } from '../../worker/config';
import { connectTemporal, type TemporalHandle } from '../../worker/temporal';
import { bundleWorkflows } from '../../worker/worker';
import { DrillChild } from '../child';
import type { DrillWorld } from '../world';
import type { ServerGate } from './gate';
import type { WorkerChildSpec } from './worker-child';

const WORKER_READY_MS = 60_000;

export class DrillTemporal {
  private constructor(
    readonly handle: TemporalHandle,
    private readonly dir: string,
    private readonly bundlePath: string,
    readonly describe: string,
  ) {}

  /** Connects (or starts the dev server from the CLI path) and bundles the workflows once. */
  static async open(gate: Extract<ServerGate, { configured: true }>, env: Readonly<Record<string, string | undefined>>): Promise<DrillTemporal> {
    const dir = mkdtempSync(join(tmpdir(), 'drill-temporal-'));
    try {
      const pass = (name: string): Record<string, string> => (env[name] ? { [name]: env[name]! } : {});
      const config = buildConfig({
        [gate.via]: gate.value,
        ...pass(ENV.temporalNamespace),
        ...pass(ENV.temporalLocalPort),
        ...pass(ENV.temporalUiPort),
        DATA_DIR: dir,
      });
      const quiet = { info: () => {}, warn: (m: string) => process.stderr.write(`${m}\n`) };
      const handle = await connectTemporal(config, quiet);
      try {
        const bundle = await bundleWorkflows();
        const bundlePath = join(dir, 'workflows-bundle.js');
        writeFileSync(bundlePath, bundle.code);
        return new DrillTemporal(handle, dir, bundlePath, `${gate.describe}, namespace ${handle.namespace}`);
      } catch (e) {
        await handle.close();
        throw e;
      }
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get client(): Client {
    return this.handle.client;
  }

  /** A task queue no other worker polls, so only the drill's worker children run its workflows. */
  taskQueue(prefix: string): string {
    return `drill-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  }

  /**
   * Starts a worker child on `world`'s records and exchange (PGlite is released to it first) and
   * waits until it polls; returns the child, or throws with its last output if it never did.
   */
  async startWorker(world: DrillWorld, taskQueue: string, config: Partial<ActivityConfig> = {}, clockOffsetMs = 0): Promise<DrillChild> {
    await world.backend.release();
    const spec: WorkerChildSpec = {
      address: this.handle.address,
      namespace: this.handle.namespace,
      taskQueue,
      bundlePath: this.bundlePath,
      dataDir: this.dir,
      db: world.backend.config,
      venueUrl: world.exchange.url,
      config,
      clockOffsetMs,
    };
    const child = new DrillChild('./temporal/worker-child.ts', { DRILL_WORKER_CHILD: JSON.stringify(spec) });
    const ready = await child.waitForLine((l) => l === 'READY' || l.startsWith('FAILED'), WORKER_READY_MS);
    if (ready !== 'READY') {
      await child.kill();
      throw new Error(`the worker child did not start: ${ready ?? 'no answer'} ${child.stderr.slice(-500)}`);
    }
    return child;
  }

  /** SIGKILLs the worker child and takes the records back (PGlite). */
  async killWorker(world: DrillWorld, child: DrillChild): Promise<void> {
    await child.kill();
    await world.backend.reacquire();
  }

  async close(): Promise<void> {
    try {
      await this.handle.close();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** The workflow's result, or why there is none, within `timeoutMs` (the drill's bound on every wait). */
export async function resultWithin<T>(handle: WorkflowHandle, timeoutMs: number): Promise<{ result: T } | { problem: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ problem: string }>((resolve) => {
    timer = setTimeout(() => resolve({ problem: `no result within ${timeoutMs / 1000} s` }), timeoutMs);
  });
  try {
    return await Promise.race([
      (handle.result() as Promise<T>).then(
        (result) => ({ result }),
        (e: unknown) => ({ problem: `failed: ${e instanceof Error ? e.message : String(e)}` }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Terminates a workflow the drill leaves behind; one already closed is fine. */
export async function terminateQuietly(handle: WorkflowHandle, reason: string): Promise<void> {
  await handle.terminate(reason).catch(() => undefined);
}
