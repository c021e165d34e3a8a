/**
 * What the server-form drills share: one connection to Temporal (runtime/temporal.ts
 * connectTemporal, on TEMPORAL_ADDRESS or a dev server of the drill's own from TEMPORAL_CLI_PATH),
 * a tag unique to the run for every workflow ID the drills make (a persisted server keeps
 * yesterday's and this morning's), the workflow bundle built once and written to a file for the
 * worker children, and a way to start a worker child on a drill's records and exchange and wait
 * until it polls.
 *
 * The drill's own dev server listens on free ports the SDK picks on 127.0.0.1 (no Web UI, history
 * in memory: it lives as long as the run), so runs side by side never meet, and suggests continue-as-new after CONTINUE_AS_NEW_SUGGESTED_AT
 * history events, so that sessions hand over to a new run within seconds (drill 1's
 * continue-as-new point). A server named by TEMPORAL_ADDRESS keeps its own threshold.
 */
import type { DrillResult } from '../types';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityConfig } from '../../activities/deps';
import { buildConfig, ENV } from '../../runtime/config';
import { connectTemporal, type StartLocalServer, type TemporalHandle } from '../../runtime/temporal';
import { temporalConnectionEnv } from '../../runtime/temporal-env';
import { bundleWorkflows } from '../../worker/bundle';
import { DrillChild } from '../child';
import type { DrillWorld } from '../world';
import type { ServerGate } from './gate';
import { NO_HOLDS, NO_SCRIPTED_SESSIONS, type ScriptedSessions, type WorkerChildSpec, type WorkerHolds } from './types';

const WORKER_READY_MS = 60_000;

/** History length at which the drill's dev server suggests continue-as-new (Temporal's default: 4,096 events). */
export const CONTINUE_AS_NEW_SUGGESTED_AT = 60;

/** Extra arguments of a dev server for the drills (also for a test that starts one and passes its address). */
export const DRILL_DEV_SERVER_ARGS: readonly string[] = ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${CONTINUE_AS_NEW_SUGGESTED_AT}`];

/** Starts the dev server on ports the SDK picks, without the Web UI, its history in memory, quiet below errors. */
export const startDrillDevServer: StartLocalServer = (options) =>
  TestWorkflowEnvironment.createLocal({
    ...options,
    server: {
      ...options.server,
      port: undefined,
      ui: false,
      uiPort: undefined,
      dbFilename: undefined,
      log: { format: 'pretty', level: 'error' },
      extraArgs: [...DRILL_DEV_SERVER_ARGS],
    },
  });

/** A tag unique to one run: base-36 time and 3 random bytes (14 characters of [0-9a-z]). */
export function runTag(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`.slice(0, 14);
}

export interface StartWorkerOptions {
  config?: Partial<ActivityConfig>;
  /** Added to the activities' clock. */
  clockOffsetMs?: number;
  holds?: WorkerHolds;
  scripted?: ScriptedSessions;
  /** The venue as the worker reaches it (a relay); default the world's exchange. */
  venueUrl?: string;
  /** How long the worker's venue client waits for an answer; default 1 s (CLIENT_OPTIONS). */
  venueTimeoutMs?: number;
}

export class DrillTemporal {
  private constructor(
    readonly handle: TemporalHandle,
    private readonly dir: string,
    /** The workflow bundle file the worker children load. */
    readonly bundlePath: string,
    readonly describe: string,
    /** Unique to this run: part of every workflow ID and strategy key the drills make. */
    readonly tag: string,
    /** Whether this server suggests continue-as-new after CONTINUE_AS_NEW_SUGGESTED_AT events (the drill started it). */
    readonly quickContinueAsNew: boolean,
    private readonly connectionEnv: Record<string, string>,
  ) {}

  /** Connects (or starts the dev server from the CLI path) and bundles the workflows once. */
  static async open(gate: Extract<ServerGate, { configured: true }>, env: Readonly<Record<string, string | undefined>>): Promise<DrillTemporal> {
    const dir = mkdtempSync(join(tmpdir(), 'drill-temporal-'));
    try {
      const pass = (name: string): Record<string, string> => (env[name] ? { [name]: env[name]! } : {});
      // A remote server is reached as configured (TLS, API key, profile); a dev server of the drill's own is plaintext.
      const connectionEnv = gate.via === 'TEMPORAL_ADDRESS' ? temporalConnectionEnv(env) : {};
      const config = buildConfig({ ...connectionEnv, [gate.via]: gate.value, ...pass(ENV.temporalNamespace), DATA_DIR: dir });
      const quiet = { info: () => {}, warn: (m: string) => process.stderr.write(`${m}\n`) };
      const handle = await connectTemporal(config, quiet, startDrillDevServer);
      try {
        const bundle = await bundleWorkflows();
        const bundlePath = join(dir, 'workflows-bundle.js');
        writeFileSync(bundlePath, bundle.code);
        const where = handle.local ? `${gate.describe} on ${handle.address}` : gate.describe;
        return new DrillTemporal(handle, dir, bundlePath, `${where}, namespace ${handle.namespace}`, runTag(), handle.local, connectionEnv);
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
    return `drill-${prefix}-${this.tag}-${randomBytes(2).toString('hex')}`;
  }

  /** A strategy key for this run (client order IDs and session IDs derive from it): `<prefix><tag>`. */
  strategy(prefix: string): string {
    return `${prefix}${this.tag}`;
  }

  /**
   * Starts a worker child on `world`'s records and exchange (PGlite is released to it first) and
   * waits until it polls; returns the child, or throws with its last output if it never did.
   */
  async startWorker(world: DrillWorld, taskQueue: string, options: StartWorkerOptions = {}): Promise<DrillChild> {
    await world.backend.release();
    const spec: WorkerChildSpec = {
      address: this.handle.address,
      connectionEnv: this.connectionEnv,
      namespace: this.handle.namespace,
      taskQueue,
      bundlePath: this.bundlePath,
      dataDir: this.dir,
      db: world.backend.config,
      venueUrl: options.venueUrl ?? world.exchange.url,
      venueTimeoutMs: options.venueTimeoutMs ?? 1_000,
      config: options.config ?? {},
      clockOffsetMs: options.clockOffsetMs ?? 0,
      holds: options.holds ?? NO_HOLDS,
      scripted: options.scripted ?? NO_SCRIPTED_SESSIONS,
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

/** An error's message and its causes' (a workflow failure says little; its cause says why). */
function causes(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    parts.push(c instanceof Error ? c.message : String(c));
  }
  return parts.join(': ');
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
        (e: unknown) => ({ problem: `failed: ${causes(e)}` }),
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

export interface ServerDrill {
  id: string;
  title: string;
  defaultTrials: number;
  quickTrials: number;
  run(options: { trials: number; seed: number; log: (line: string) => void; temporal: DrillTemporal }): Promise<DrillResult[]>;
}
