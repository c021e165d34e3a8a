/**
 * A Temporal server for a test file: TEMPORAL_ADDRESS when set, else a local dev server started
 * from TEMPORAL_CLI_PATH on ports of its own (127.0.0.1), stopped when the file ends. Never
 * downloads. Without either variable the file's suite is skipped (outside CI) or fails (CI=true).
 *
 *   const server = await temporalServerForFile();
 *   describeOnServer(server, 'my scenarios', (s) => { it(..., async () => { const w = await s.startWorker(acts, tq); ... }) });
 */
import { accessSync, constants } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ORDER_SEARCH_ATTRIBUTES } from '../../workflows/api';
import { exportHistories } from '../../worker/histories';
import { describeWhere } from './requirements';

const root = join(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 60_000;

export type ServerGate =
  | {
      run: true;
      how: string;
      start: () => Promise<TestWorkflowEnvironment>;
      /** The Web UI once started: the local dev server's when `ui` was asked for, else TEMPORAL_UI_URL; null when there is none. */
      webUiUrl?: () => string | null;
    }
  | { run: false; reason: string };

export interface ServerOptions {
  /** Also serve the Temporal Web UI from the local dev server, on a free port of 127.0.0.1. */
  ui?: boolean;
}

/** A TCP port on 127.0.0.1 nobody listened on a moment ago (a listener on port 0, closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Decides, from the environment alone, whether and how to reach a server. */
export function serverGate(env: NodeJS.ProcessEnv, options: ServerOptions = {}): ServerGate {
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (address) {
    const ui = env.TEMPORAL_UI_URL?.trim() || null;
    return {
      run: true,
      how: `TEMPORAL_ADDRESS=${address}`,
      start: () => TestWorkflowEnvironment.createFromExistingServer({ address, namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default' }),
      webUiUrl: () => ui,
    };
  }
  const cli = env.TEMPORAL_CLI_PATH?.trim();
  if (!cli) return { run: false, reason: 'neither TEMPORAL_ADDRESS (a running server) nor TEMPORAL_CLI_PATH (a Temporal CLI binary for a local dev server) is set; downloads are never attempted' };
  try {
    accessSync(cli, constants.X_OK);
  } catch {
    return { run: false, reason: `TEMPORAL_ADDRESS is not set and TEMPORAL_CLI_PATH=${cli} is not an executable file` };
  }
  let uiPort: number | null = null;
  return {
    run: true,
    how: `local dev server from TEMPORAL_CLI_PATH=${cli}`,
    start: async () => {
      if (options.ui) uiPort = await freePort();
      return TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: cli },
          ip: '127.0.0.1',
          searchAttributes: [...ORDER_SEARCH_ATTRIBUTES],
          log: { format: 'pretty', level: 'error' },
          ...(uiPort !== null ? { ui: true, uiPort } : {}),
        },
      });
    },
    webUiUrl: () => (uiPort === null ? null : `http://127.0.0.1:${uiPort}`),
  };
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface TestServer {
  env: TestWorkflowEnvironment;
  client: Client;
  how: string;
  /** host:port for clients in other processes (worker children, the CLI). */
  address: string;
  namespace: string;
  /** The Temporal Web UI, when the server has one this file knows of (see ServerOptions.ui). */
  webUiUrl: string | null;
  /** The production workflow bundle, built once per file (in beforeAll). */
  bundle(): WorkflowBundle;
  /** A name unique to this run: `${prefix}-${runTag}-${n}`. */
  unique(prefix: string): string;
  /** A worker on its own task queue with these activities; stop() drains it. */
  startWorker(activities: object, taskQueue: string): Promise<{ worker: Worker; stop(): Promise<void> }>;
}

export type ServerForFile = { server: TestServer; problem: null; how: string } | { server: null; problem: string; how: string | null };

/** Starts or reaches the server at module load (top-level await in the test file). */
export async function temporalServerForFile(env: NodeJS.ProcessEnv = process.env, options: ServerOptions = {}): Promise<ServerForFile> {
  const gate = serverGate(env, options);
  if (!gate.run) return { server: null, problem: gate.reason, how: null };
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this process
  }
  let testEnv: TestWorkflowEnvironment;
  try {
    testEnv = await withTimeout(gate.start(), START_TIMEOUT_MS, `starting or reaching the server (${gate.how})`);
  } catch (e) {
    return { server: null, problem: `${gate.how}: ${e instanceof Error ? e.message : String(e)}`, how: gate.how };
  }
  const runTag = Date.now().toString(36);
  let counter = 0;
  let bundle: WorkflowBundle | null = null;
  const server: TestServer = {
    env: testEnv,
    client: testEnv.client,
    how: gate.how,
    address: testEnv.address,
    namespace: testEnv.namespace ?? 'default',
    webUiUrl: gate.webUiUrl?.() ?? null,
    bundle: () => {
      if (bundle === null) throw new Error('the workflow bundle is built in beforeAll: use it inside a test');
      return bundle;
    },
    unique: (prefix) => `${prefix}-${runTag}-${++counter}`,
    startWorker: async (activities, taskQueue) => {
      const worker = await Worker.create({
        connection: testEnv.nativeConnection,
        namespace: testEnv.namespace ?? 'default',
        taskQueue,
        workflowBundle: server.bundle(),
        activities,
        stickyQueueScheduleToStartTimeout: '1 second',
        maxHeartbeatThrottleInterval: '1 second',
        defaultHeartbeatThrottleInterval: '1 second',
        shutdownGraceTime: '2 seconds',
      });
      const running = worker.run();
      return {
        worker,
        stop: async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
        },
      };
    },
  };
  (server as { setBundle?: (b: WorkflowBundle) => void }).setBundle = (b) => (bundle = b);
  return { server, problem: null, how: gate.how };
}

/**
 * The file's suite on the server: builds the bundle first, tears the server down last (exporting
 * the histories of closed workflows into RECORD_HISTORIES=<dir> when set, for replay fixtures).
 * A server that was named but could not be reached or started fails; none named skips (or fails in CI).
 */
export function describeOnServer(found: ServerForFile, title: string, fn: (server: TestServer) => void): void {
  if (found.server === null) {
    if (found.how !== null) {
      describe(title, () => {
        it('reaches or starts the server it was given', () => {
          throw new Error(`cannot reach or start ${found.problem}`);
        });
      });
      return;
    }
    describeWhere(`${found.problem}. Set TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH to run it`, title, () => {
      it('needs a server', () => undefined);
    });
    return;
  }
  const server = found.server;
  describe(`${title} (${server.how})`, () => {
    beforeAll(async () => {
      const b = await bundleWorkflowCode({ workflowsPath: join(root, 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') });
      (server as { setBundle?: (b: WorkflowBundle) => void }).setBundle?.(b);
    }, 120_000);
    afterAll(async () => {
      const dir = process.env.RECORD_HISTORIES?.trim();
      if (dir) await exportHistories(server.client, dir, null, { info: (m) => console.log(m), warn: (m) => console.warn(m) });
      await server.env.teardown();
    }, 120_000);
    fn(server);
  });
}

/** Reads until `ok` holds or the time is up (bounded: polls every 250 ms). */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`);
}
