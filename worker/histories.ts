/**
 * `npm run histories:export -- <dir>`: writes the event histories of closed workflows of this
 * system from a running server, one JSON file per run (<workflowId>__<runId>.json), in the format
 * other Temporal tools write. test/workflows/replay.test.ts replays such files against the
 * current workflow code, so a change that breaks running workflows is caught before it ships.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, type Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { InvalidInput } from '../domain/errors';
import { ENV, loadConfig, type Env, type WorkerConfig } from '../runtime/config';
import { connectClientConnection, consoleLog, type WorkerLog } from '../runtime/temporal';

// ---- history JSON ----
// The SDK's historyFromJSON/historyToJSON (common/lib/proto-utils) break when npm installs
// @temporalio/common and @temporalio/proto with separate copies of protobufjs (it does here:
// @grpc/proto-loader pins protobufjs 7 at the top): the protojson of one copy refuses the types
// of the other ("type must be a Type"). These use the protobufjs that @temporalio/proto loads.

interface ProtoJson {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
  toJson(type: unknown, message: unknown): unknown;
}

let tools: { protojson: ProtoJson; historyType: unknown; fromObject(o: unknown): unknown } | null = null;

function historyTools(): NonNullable<typeof tools> {
  if (tools) return tools;
  const fromHere = createRequire(import.meta.url);
  const fromProto = createRequire(fromHere.resolve('@temporalio/proto'));
  const proto = fromProto('@temporalio/proto') as { temporal: { api: { history: { v1: { History: { fromObject(o: unknown): unknown } } } } } };
  const { patchProtobufRoot } = fromProto('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): unknown } };
  tools = {
    protojson: fromProto('protobufjs/ext/protojson') as ProtoJson,
    historyType: patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History'),
    fromObject: (o) => proto.temporal.api.history.v1.History.fromObject(o),
  };
  return tools;
}

/** Older tools wrote enum values in PascalCase ("WorkflowExecutionStarted"); proto JSON wants EVENT_TYPE_WORKFLOW_EXECUTION_STARTED. */
function constantEnum(value: unknown, prefix: string): unknown {
  if (typeof value !== 'string' || value.startsWith(prefix)) return value;
  return `${prefix}_${value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

const ENUM_FIELDS: Record<string, string> = {
  parentClosePolicy: 'PARENT_CLOSE_POLICY',
  workflowIdReusePolicy: 'WORKFLOW_ID_REUSE_POLICY',
  initiator: 'CONTINUE_AS_NEW_INITIATOR',
  retryState: 'RETRY_STATE',
};

/** Reads a history from its JSON form (as written by historyToJson, the Temporal CLI or the Web UI). */
export function historyFromJson(json: unknown): History {
  const events = (json as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw InvalidInput.of('history', json, 'must be an object with an array of events');
  const fixed = events.map((e: Record<string, unknown>) => {
    const key = Object.keys(e).find((k) => k.endsWith('EventAttributes'));
    if (!key) throw InvalidInput.of('history.events', e.eventId, 'has an event without attributes');
    const attrs = { ...(e[key] as Record<string, unknown>) };
    for (const [field, prefix] of Object.entries(ENUM_FIELDS)) if (field in attrs) attrs[field] = constantEnum(attrs[field], prefix);
    const tq = attrs.taskQueue as Record<string, unknown> | undefined;
    if (tq && typeof tq === 'object') attrs.taskQueue = { ...tq, kind: constantEnum(tq.kind, 'TASK_QUEUE_KIND') };
    return { ...e, eventType: constantEnum(e.eventType, 'EVENT_TYPE'), [key]: attrs };
  });
  const { protojson, historyType } = historyTools();
  const history = protojson.fromJson(historyType, { events: fixed }, { ignoreUnknownFields: true });
  if (history === null || history === undefined) throw InvalidInput.of('history', null, 'could not be read');
  return history as History;
}

/** The JSON text other Temporal tools write for a history. */
export function historyToJson(history: History): string {
  const { protojson, historyType, fromObject } = historyTools();
  return JSON.stringify(protojson.toJson(historyType, fromObject(history)), null, 2);
}

export const USAGE = 'usage: npm run histories:export -- <dir>   (writes closed workflow histories as <workflowId>__<runId>.json)';

/** A file name safe on every file system; IDs keep letters, digits, ".", "_" and "-". */
export function historyFileName(workflowId: string, runId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${safe(workflowId)}__${safe(runId)}.json`;
}

/** Checks the command line (after the script name): `export <dir>`; the dir may not be a file. */
export function parseHistoriesArgs(args: readonly string[], cwd: string): { command: 'export'; dir: string } {
  const [command, dir, ...rest] = args;
  if (command !== 'export') throw InvalidInput.of('command', command ?? null, `must be "export"; ${USAGE}`);
  if (dir === undefined || dir.trim() === '' || dir.startsWith('-')) throw InvalidInput.of('dir', dir ?? null, `is required; ${USAGE}`);
  if (rest.length > 0) throw InvalidInput.of('arguments', rest.join(' '), `are not expected; ${USAGE}`);
  const full = isAbsolute(dir) ? dir : resolve(cwd, dir);
  try {
    if (!statSync(full).isDirectory()) throw InvalidInput.of('dir', dir, 'exists and is not a directory');
  } catch (e) {
    if (e instanceof InvalidInput) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw InvalidInput.of('dir', dir, `cannot be used (${(e as NodeJS.ErrnoException).code})`);
  }
  return { command: 'export', dir: full };
}

export interface ExportResult {
  written: string[];
  /** Runs still open: their histories are incomplete and are not written. */
  skippedRunning: number;
}

/** Writes every closed run on the task queue (all task queues when `taskQueue` is null). */
export async function exportHistories(client: Client, dir: string, taskQueue: string | null, log: WorkerLog = consoleLog): Promise<ExportResult> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  let skippedRunning = 0;
  // Filtered here, not in a visibility query: the standard visibility of Server 1.19 accepts few queries.
  for await (const info of client.workflow.list()) {
    if (taskQueue !== null && info.taskQueue !== taskQueue) continue;
    if (info.status.name === 'RUNNING') {
      skippedRunning++;
      continue;
    }
    const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
    const file = join(dir, historyFileName(info.workflowId, info.runId));
    writeFileSync(file, historyToJson(history));
    written.push(file);
  }
  log.info(`Wrote ${written.length} histories to ${dir}${skippedRunning > 0 ? ` (${skippedRunning} running workflows skipped)` : ''}`);
  return { written, skippedRunning };
}

/** The server to read from: TEMPORAL_ADDRESS, else the worker's local dev server port. */
export function exportAddress(config: WorkerConfig): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.localPort}`;
}

export async function main(args: readonly string[], env: Env, cwd: string): Promise<number> {
  let dir: string;
  let config: WorkerConfig;
  try {
    dir = parseHistoriesArgs(args, cwd).dir;
    config = loadConfig(env);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    console.error(e.message);
    return 2;
  }
  const address = exportAddress(config);
  let connection: Connection;
  try {
    connection = await connectClientConnection(config.temporal, { address });
  } catch (e) {
    console.error(`Cannot reach a Temporal server at ${address} (${e instanceof Error ? e.message : String(e)}). Set ${ENV.temporalAddress}, or start the worker so that its local dev server runs.`);
    return 1;
  }
  try {
    await exportHistories(new Client({ connection, namespace: config.temporal.namespace }), dir, config.temporal.taskQueue);
    return 0;
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env, process.cwd()).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
