/**
 * What every CLI command shares: the environment and output it was given, the validated config,
 * the records, a Temporal client (connected, never started), who is acting, and the journal.
 * One failure-to-exit-code mapping for all commands lives here too.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { recordOperatorAction, RecordError, type Database, type Db, type OperatorActionKind } from '../db';
import { InvalidInput } from '../domain/errors';
import { tradingDayIn } from '../domain/calendar';
import { cliJournalKey } from '../domain/ids';
import { MAX_OPERATOR_LENGTH, operatorTextProblem } from '../domain/operator-request';
import { ENV, loadConfig, type Env, type WorkerConfig } from '../runtime/config';
import { describeLocation, discoveryFile, locateRecords, openRecords, type RecordsLocation } from '../runtime/records-socket';
import { CliError, ExitCode, badArguments } from './exit-codes';
import { printable } from './format';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The only environment the CLI reads. */
  env: Env;
  /** The terminal progress bars draw on; null when stderr is not a terminal. */
  progressStream: NodeJS.WritableStream | null;
  now(): number;
  /** How long to wait for a Temporal server to answer (default 5 s). */
  connectTimeoutMs?: number;
  /** The OS user name, the last resort for who is acting; null when there is none. */
  osUser?(): string | null;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export function processIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    progressStream: process.stderr.isTTY ? process.stderr : null,
    now: () => Date.now(),
  };
}

function osUserName(): string | null {
  try {
    const name = userInfo().username;
    return name.trim() === '' ? null : name;
  } catch {
    return null;
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export interface TemporalClient {
  client: Client;
  connection: Connection;
  address: string;
}

export interface JournalEntry {
  action: OperatorActionKind;
  operator: string;
  reason: string;
  details: Record<string, string | number | boolean | null>;
}


export class CliContext {
  exitCode: number = ExitCode.OK;
  private loaded: WorkerConfig | null = null;
  private database: Database | null = null;
  private temporalClient: TemporalClient | null = null;

  constructor(readonly io: CliIo) {}

  /** Everything the CLI prints passes here or through `err`: control characters leave escaped (format.ts printable). */
  out(text: string): void {
    this.io.stdout(printable(text, { keepNewlines: true }));
  }

  err(text: string): void {
    this.io.stderr(printable(text, { keepNewlines: true }));
  }

  /** Status lines for people go to stderr, so --json output on stdout stays parseable. */
  note(text: string): void {
    this.err(text.endsWith('\n') ? text : `${text}\n`);
  }

  config(): WorkerConfig {
    if (this.loaded !== null) return this.loaded;
    try {
      this.loaded = loadConfig(this.io.env);
      return this.loaded;
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      throw new CliError(ExitCode.USAGE, `bad configuration:\n${e.message.split('; ').map((l) => `  ${l}`).join('\n')}`);
    }
  }

  today(): string {
    return tradingDayIn(this.io.now(), this.config().timeZone);
  }

  /** Where PGlite keeps the records when DATABASE_URL is not set (the worker's own choice). */
  pgliteDir(): string {
    return join(this.config().dataDir, 'pglite');
  }

  /**
   * Where the records are: DATABASE_URL, else the worker's records server (its discovery file
   * names a live process), else PGlite itself (runtime/records-socket.ts locateRecords).
   */
  recordsLocation(): RecordsLocation {
    try {
      return locateRecords(this.config());
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      throw new CliError(ExitCode.FAILURE, `the records server's discovery file is unusable: ${e.message}`);
    }
  }

  /**
   * With no worker serving the records, a process that opens PGlite directly (its postmaster.pid
   * exists while open) holds them: a second process there would see stale pages or corrupt them.
   * Refused, with what to do instead. A postmaster.pid a crashed worker left (its discovery file
   * stale and not older) does not count.
   */
  checkPgliteFree(): void {
    const location = this.recordsLocation();
    if (location.kind !== 'pglite' || location.leftoverPid) return;
    const pid = join(location.dataDir, 'postmaster.pid');
    if (existsSync(pid)) {
      throw new CliError(
        ExitCode.FAILURE,
        `the records at ${location.dataDir} (PGlite) are open in another process that does not serve them (${pid} exists, and no live worker is named in ${discoveryFile(location.dataDir)}). ` +
          `A worker (npm start, npm run worker) serves its records to the CLI while it runs; another CLI or dashboard process opening them directly holds them until it exits. ` +
          `Wait for it, or set ${ENV.databaseUrl} to a PostgreSQL server for every process. If no process uses them (one that crashed), delete ${pid}.`,
      );
    }
  }

  async records(): Promise<Db> {
    if (this.database !== null) return this.database.db;
    this.checkPgliteFree();
    const location = this.recordsLocation();
    try {
      this.database = await openRecords(location);
    } catch (e) {
      if (e instanceof InvalidInput) throw e;
      const where = location.kind === 'pglite' ? `${describeLocation(location)} (${ENV.dataDir})` : describeLocation(location);
      throw new CliError(ExitCode.FAILURE, `the records could not be opened from ${where}: ${errorText(e)}`, { cause: e });
    }
    return this.database.db;
  }

  /**
   * A client of the server at TEMPORAL_ADDRESS, or of 127.0.0.1:<TEMPORAL_LOCAL_PORT> where
   * `npm start` runs its dev server. The CLI never starts a server: a control command that
   * started one would talk to a server no worker polls.
   */
  async temporal(): Promise<TemporalClient> {
    if (this.temporalClient !== null) return this.temporalClient;
    const { temporal } = this.config();
    const address = temporal.address ?? `127.0.0.1:${temporal.localPort}`;
    const timeout = this.io.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // Loaded here: the gRPC client and the server helpers cost a second of start-up that read commands do not need.
    const [{ Client }, { TemporalUnavailable, connectClientConnection, describeConnection, tlsHandshakeProblem }] = await Promise.all([import('@temporalio/client'), import('../runtime/temporal')]);
    let connection: Connection;
    try {
      connection = await connectClientConnection(temporal, { address, connectTimeout: timeout });
    } catch (e) {
      const which =
        temporal.address === null
          ? `${ENV.temporalAddress} is not set, and 127.0.0.1:${temporal.localPort} (where npm start runs its dev server)`
          : `${ENV.temporalAddress}=${address} (${[describeConnection(temporal, address), await tlsHandshakeProblem(temporal, address)].filter((x) => x !== null).join('; ')})`;
      throw new TemporalUnavailable(
        `${which} did not answer within ${timeout} ms (${errorText(e)}); the CLI only connects and never starts a server (the worker does: npm start, or npm run worker)`,
        { cause: e },
      );
    }
    this.temporalClient = { client: new Client({ connection, namespace: temporal.namespace }), connection, address };
    return this.temporalClient;
  }

  /** Who is acting: --operator, else OPERATOR, else the OS user name. */
  operator(flag: string | undefined): string {
    const candidates: [string, string | null | undefined][] = [
      ['--operator', flag],
      ['OPERATOR', this.io.env.OPERATOR],
      ['OS user name', (this.io.osUser ?? osUserName)()],
    ];
    for (const [source, value] of candidates) {
      if (value === undefined || value === null) continue;
      const problem = operatorTextProblem(value, MAX_OPERATOR_LENGTH);
      if (problem !== null) throw badArguments([{ field: source, value, problem }]);
      return value.trim();
    }
    throw badArguments([{ field: '--operator', value: undefined, problem: 'is required: no OPERATOR variable and no OS user name to fall back on' }]);
  }

  /**
   * Records an operator action in the journal under its own key (`cli:<uuid>`, sequence 0) and
   * returns the key. Written before the command acts, so the journal holds every request
   * even when what follows fails; the workflow that receives a signal journals it again
   * under its own key once it has taken effect.
   */
  async journal(entry: JournalEntry): Promise<string> {
    const db = await this.records();
    const key = cliJournalKey(randomUUID());
    await recordOperatorAction(db, { ...entry, workflowId: key, sequence: 0, at: this.io.now() });
    return key;
  }

  /** Runs one command, turning any failure into a message and an exit code. */
  async run(fn: () => Promise<number | void>): Promise<void> {
    try {
      this.exitCode = (await fn()) ?? ExitCode.OK;
    } catch (e) {
      this.exitCode = this.report(e);
    }
  }

  report(e: unknown): number {
    if (e instanceof CliError) {
      this.note(`error: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof InvalidInput) {
      this.note(`error: ${e.message}`);
      return ExitCode.USAGE;
    }
    if (e instanceof Error && e.name === 'TemporalUnavailable') {
      this.note(`error: ${e.message}`);
      return ExitCode.FAILURE;
    }
    if (e instanceof WorkflowNotFoundError) {
      this.note(`error: no workflow ${e.workflowId} on the Temporal server (${e.message})`);
      return ExitCode.FAILURE;
    }
    if (e instanceof RecordError) {
      this.note(`error: the records refused or failed: ${e.message}`);
      return ExitCode.FAILURE;
    }
    if (e instanceof ApplicationFailure) {
      this.note(`error: ${e.type ?? 'failure'}: ${e.message}`);
      return ExitCode.FAILURE;
    }
    this.note(`error: ${errorText(e)}`);
    if (this.io.env.DEBUG && e instanceof Error && e.stack) this.note(e.stack);
    return ExitCode.FAILURE;
  }

  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    if (this.temporalClient !== null) closing.push(this.temporalClient.connection.close());
    if (this.database !== null) closing.push(this.database.close());
    this.temporalClient = null;
    this.database = null;
    await Promise.allSettled(closing);
  }
}
