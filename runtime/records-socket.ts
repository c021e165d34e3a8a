/**
 * The embedded records shared while the worker runs.
 *
 * PGlite is one PostgreSQL session inside one process. On the embedded default (no DATABASE_URL)
 * the worker opens it, migrates it, and serves it over the PostgreSQL wire protocol on loopback
 * (127.0.0.1, RECORDS_SOCKET_PORT or a free port); the worker's own activities, the CLI and a
 * separately started dashboard all reach it there with the `postgres` driver. A discovery file
 * beside the data directory (`<DATA_DIR>/pglite.socket.json`, mode 0600) names the port, the
 * worker's pid and a random password; a client finds the worker through it, and opens PGlite
 * directly when no worker is alive (no file, or a file whose pid is gone).
 *
 * Framing, SSL refusal and connection clean-up come from @electric-sql/pglite-socket's
 * PGLiteSocketHandler. Its own queue is not used: it serialises single protocol messages, so two
 * connections' extended-protocol messages (Parse, Bind, Execute, Sync) interleave in PGlite's one
 * session ("bind message supplies 2 parameters, but prepared statement "" requires 0" under two
 * concurrent postgres.js clients). The gate here gives one connection the session from its
 * first message until its turn ends: a Sync or simple Query after which PGlite is outside a
 * transaction block. So a transaction runs alone from BEGIN to COMMIT, and a connection idle
 * inside one is closed after IDLE_IN_TRANSACTION_MS (its transaction rolled back), as PostgreSQL's
 * idle_in_transaction_session_timeout would. The gate also asks for the password (cleartext over
 * loopback) before PGlite sees the startup message.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { openDatabase, type Database } from '../db';
import { InvalidInput, type FieldProblem } from '../domain/errors';

export const RECORDS_HOST = '127.0.0.1';
/** PGlite's one role and database; the startup message's names are not checked by PGlite. */
export const RECORDS_USER = 'postgres';
export const RECORDS_DATABASE = 'postgres';
/** A connection inside a transaction that sends nothing for this long is closed and rolled back. */
export const IDLE_IN_TRANSACTION_MS = 30_000;
export const MAX_RECORDS_CONNECTIONS = 32;
const DISCOVERY_VERSION = 1;

/** The records cannot be served (another worker serves them, the port is taken). */
export class RecordsUnavailable extends Error {
  override name = 'RecordsUnavailable';
}

/** Where the worker names its records server: beside the PGlite directory, never inside it. */
export function discoveryFile(pgliteDir: string): string {
  return `${pgliteDir}.socket.json`;
}

// ---- wire protocol pieces the gate writes itself ----

const PROTOCOL_3 = 196_608;
const TYPE_PASSWORD = 0x70; // 'p'
const TYPE_SYNC = 0x53; // 'S'
const TYPE_QUERY = 0x51; // 'Q'
const TYPE_TERMINATE = 0x58; // 'X'
/** AuthenticationCleartextPassword: 'R', length 8, code 3. */
const AUTH_CLEARTEXT = Uint8Array.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);
const SYNC = Uint8Array.from([TYPE_SYNC, 0, 0, 0, 4]);
/** A simple Query message: 'Q', length, the SQL and its NUL. */
function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt8(TYPE_QUERY, 0);
  head.writeInt32BE(4 + text.length, 1);
  return new Uint8Array(Buffer.concat([head, text]));
}
const ROLLBACK = simpleQuery('ROLLBACK');

function errorResponse(code: string, message: string): Uint8Array {
  const fields = Buffer.concat([
    Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`, 'utf8'),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head.writeUInt8(0x45, 0); // 'E'
  head.writeInt32BE(4 + fields.length, 1);
  return new Uint8Array(Buffer.concat([head, fields]));
}

function isStartup(message: Uint8Array): boolean {
  return message.length >= 8 && Buffer.from(message.buffer, message.byteOffset, message.byteLength).readInt32BE(4) === PROTOCOL_3;
}

type AuthState = { step: 'startup' } | { step: 'password'; startup: Uint8Array } | { step: 'ready' } | { step: 'refused' };

/**
 * One connection at a time in PGlite's session, each for a whole turn (see the file comment).
 * It stands in for pglite-socket's query queue: PGLiteSocketHandler calls these three methods.
 */
export class SessionGate {
  private owner: number | null = null;
  private readonly waiting: { handlerId: number; go(): void; fail(e: Error): void }[] = [];
  private readonly auth = new Map<number, AuthState>();
  private idleTimer: NodeJS.Timeout | null = null;
  /** Turns run, for the benchmark and the tests. */
  turns = 0;

  constructor(
    private readonly db: PGlite,
    private readonly password: Buffer,
    /** Closes a connection's socket (refused password, idle in a transaction). */
    private readonly kick: (handlerId: number) => void,
    private readonly idleInTransactionMs = IDLE_IN_TRANSACTION_MS,
  ) {}

  async enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const state = this.auth.get(handlerId) ?? { step: 'startup' };
    switch (state.step) {
      case 'startup': {
        if (!isStartup(message)) return this.refuse(handlerId, onData, '08P01', 'expected a startup message (protocol 3.0)');
        this.auth.set(handlerId, { step: 'password', startup: message });
        onData(AUTH_CLEARTEXT);
        return AUTH_CLEARTEXT.length;
      }
      case 'password': {
        if (message[0] !== TYPE_PASSWORD || !this.passwordMatches(message)) {
          return this.refuse(handlerId, onData, '28P01', `password authentication failed for user "${RECORDS_USER}" (the password is in the worker's discovery file)`);
        }
        this.auth.set(handlerId, { step: 'ready' });
        return this.turn(handlerId, state.startup, onData, true);
      }
      case 'refused':
        return 0;
      case 'ready':
        // Terminate: the socket closes next, and detaching rolls back whatever the connection left open.
        if (message[0] === TYPE_TERMINATE) return 0;
        return this.turn(handlerId, message, onData, message[0] === TYPE_SYNC || message[0] === TYPE_QUERY);
    }
  }

  /** A connection that went away: its queued message fails. */
  clearQueueForHandler(handlerId: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i]!;
      if (w.handlerId !== handlerId) continue;
      this.waiting.splice(i, 1);
      w.fail(new Error('Handler disconnected'));
    }
  }

  /** A connection that went away holding the session: end its half-sent query and its transaction, then pass the session on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.auth.delete(handlerId);
    if (this.owner !== handlerId || this.db.closed) return;
    try {
      // One exclusive step, the owner checked again inside it: a turn of this connection that was
      // still running may have ended and passed the session on meanwhile.
      await this.db.runExclusive(async () => {
        if (this.owner !== handlerId) return;
        await this.db.execProtocolRaw(SYNC);
        if (this.db.isInTransaction()) await this.db.execProtocolRaw(ROLLBACK);
      });
    } finally {
      this.release(handlerId);
    }
  }

  get queued(): number {
    return this.waiting.length;
  }

  private refuse(handlerId: number, onData: (data: Uint8Array) => void, code: string, message: string): number {
    this.auth.set(handlerId, { step: 'refused' });
    const error = errorResponse(code, message);
    onData(error);
    setImmediate(() => this.kick(handlerId));
    return error.length;
  }

  private passwordMatches(message: Uint8Array): boolean {
    const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    if (buf.length < 6) return false;
    const length = buf.readInt32BE(1);
    if (length + 1 !== buf.length || buf[buf.length - 1] !== 0) return false;
    const given = buf.subarray(5, buf.length - 1);
    return given.length === this.password.length && timingSafeEqual(given, this.password);
  }

  private async turn(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void, mayEnd: boolean): Promise<number> {
    await this.acquire(handlerId);
    this.clearIdleTimer();
    let bytes = 0;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(message, {
          onRawData: (data) => {
            bytes += data.length;
            onData(data);
          },
        }),
      );
    } catch (e) {
      this.kick(handlerId);
      throw e;
    }
    if (mayEnd && !this.db.isInTransaction()) {
      this.turns += 1;
      this.release(handlerId);
    } else {
      this.idleTimer = setTimeout(() => this.kick(handlerId), this.idleInTransactionMs);
      this.idleTimer.unref();
    }
    return bytes;
  }

  private acquire(handlerId: number): Promise<void> {
    if (this.owner === null) this.owner = handlerId;
    if (this.owner === handlerId) return Promise.resolve();
    return new Promise((go, fail) => this.waiting.push({ handlerId, go, fail }));
  }

  private release(handlerId: number): void {
    if (this.owner !== handlerId) return;
    this.clearIdleTimer();
    const next = this.waiting.shift();
    this.owner = next ? next.handlerId : null;
    next?.go();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

// ---- the discovery file ----

export interface RecordsServerInfo {
  version: number;
  host: string;
  port: number;
  pid: number;
  password: string;
  pgliteDir: string;
  startedAt: string;
}

export type Discovery =
  | { status: 'absent'; file: string }
  /** Its process is gone (a worker that crashed): ignored, and replaced by the next worker. */
  | { status: 'stale'; file: string; info: RecordsServerInfo; mtimeMs: number }
  | { status: 'live'; file: string; info: RecordsServerInfo };

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseInfo(file: string, text: string): RecordsServerInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw InvalidInput.of(file, text.slice(0, 80), 'is not JSON (the records discovery file: delete it if no worker runs)');
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const check = (ok: boolean, field: string, problem: string) => {
    if (!ok) problems.push({ field: `${file} ${field}`, value: field === 'password' ? '***' : o[field], problem });
  };
  check(o.version === DISCOVERY_VERSION, 'version', `must be ${DISCOVERY_VERSION}`);
  check(o.host === RECORDS_HOST, 'host', `must be ${RECORDS_HOST} (the records are served on loopback only)`);
  check(typeof o.port === 'number' && Number.isSafeInteger(o.port) && o.port >= 1 && o.port <= 65_535, 'port', 'must be a whole number from 1 to 65535');
  check(typeof o.pid === 'number' && Number.isSafeInteger(o.pid) && o.pid >= 1, 'pid', 'must be a positive whole number');
  check(typeof o.password === 'string' && /^[0-9a-f]{64}$/.test(o.password), 'password', 'must be 64 hexadecimal digits');
  check(typeof o.pgliteDir === 'string' && o.pgliteDir.length > 0, 'pgliteDir', 'must be a directory path');
  check(typeof o.startedAt === 'string', 'startedAt', 'must be a timestamp');
  if (problems.length > 0) throw new InvalidInput(problems);
  return o as unknown as RecordsServerInfo;
}

/**
 * Reads the discovery file of the records at pgliteDir. A file that others than its owner can
 * read or write, or that another user owns, is refused: it holds the password, and a planted one
 * would send the CLI's writes elsewhere.
 */
export function readDiscovery(pgliteDir: string): Discovery {
  const file = discoveryFile(pgliteDir);
  let stat;
  try {
    stat = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent', file };
    throw e;
  }
  if ((stat.mode & 0o077) !== 0) throw InvalidInput.of(file, `mode ${(stat.mode & 0o777).toString(8)}`, 'must be readable and writable by its owner only (0600)');
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw InvalidInput.of(file, `owner uid ${stat.uid}`, `must belong to this user (uid ${process.getuid()})`);
  const info = parseInfo(file, readFileSync(file, 'utf8'));
  return processAlive(info.pid) ? { status: 'live', file, info } : { status: 'stale', file, info, mtimeMs: stat.mtimeMs };
}

/** Writes the file whole (a temporary file renamed over it), readable by its owner only. */
function writeDiscovery(file: string, info: RecordsServerInfo): void {
  const partial = `${file}.${process.pid}.partial`;
  rmSync(partial, { force: true });
  const fd = openSync(partial, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(info, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
}

/** Removes the file if it is still this server's (a later worker's file is left alone). */
function removeDiscovery(file: string, password: string): void {
  try {
    const info = parseInfo(file, readFileSync(file, 'utf8'));
    if (info.password === password) rmSync(file, { force: true });
  } catch {
    // Gone or replaced: nothing of ours to remove.
  }
}

export function serverUrl(info: Pick<RecordsServerInfo, 'host' | 'port' | 'password'>): string {
  return `postgres://${RECORDS_USER}:${info.password}@${info.host}:${info.port}/${RECORDS_DATABASE}`;
}

// ---- the server (the worker's side) ----

export interface ServeRecordsOptions {
  pgliteDir: string;
  /** Null: a free port. */
  port: number | null;
  idleInTransactionMs?: number;
  maxConnections?: number;
}

export interface RecordsServer {
  port: number;
  /** The URL clients connect with (holds the password: log it through redactUrl). */
  url: string;
  file: string;
  gate: SessionGate;
  /** Stops serving (open connections are closed, their transactions rolled back), closes PGlite, removes the discovery file. */
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the PGlite records at pgliteDir and serves them on 127.0.0.1. Refused
 * while another live process serves the same records.
 */
export async function serveRecords(options: ServeRecordsOptions): Promise<RecordsServer> {
  const before = readDiscovery(options.pgliteDir);
  if (before.status === 'live' && before.info.pid !== process.pid) {
    throw new RecordsUnavailable(`the records at ${options.pgliteDir} are already served by process ${before.info.pid} on ${before.info.host}:${before.info.port} (${before.file}): stop that worker first`);
  }
  const database = await openDatabase({ kind: 'pglite', dataDir: options.pgliteDir });
  const pglite = database.pglite!;
  const password = randomBytes(32).toString('hex');
  const sockets = new Map<number, Socket>();
  const handlers = new Set<PGLiteSocketHandler>();
  const gate = new SessionGate(pglite, Buffer.from(password), (id) => sockets.get(id)?.destroy(), options.idleInTransactionMs);
  const maxConnections = options.maxConnections ?? MAX_RECORDS_CONNECTIONS;
  let server: Server;
  try {
    server = createServer((socket) => {
      if (handlers.size >= maxConnections) {
        socket.end(errorResponse('53300', `too many connections to the records (${maxConnections})`));
        return;
      }
      const handler = new PGLiteSocketHandler({ queryQueue: gate as unknown as PGLiteSocketHandlerOptions['queryQueue'], closeOnDetach: true });
      handlers.add(handler);
      sockets.set(handler.handlerId, socket);
      const forget = () => {
        handlers.delete(handler);
        sockets.delete(handler.handlerId);
      };
      handler.addEventListener('close', forget);
      handler.addEventListener('error', forget);
      void handler.attach(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, RECORDS_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await database.close();
    throw new RecordsUnavailable(`the records could not be served on ${RECORDS_HOST}:${options.port ?? 0}: ${e instanceof Error ? e.message : String(e)} (RECORDS_SOCKET_PORT names the port; unset, a free one is taken)`, { cause: e });
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const info: RecordsServerInfo = { version: DISCOVERY_VERSION, host: RECORDS_HOST, port, pid: process.pid, password, pgliteDir: options.pgliteDir, startedAt: new Date().toISOString() };
  const file = discoveryFile(options.pgliteDir);
  writeDiscovery(file, info);
  let closed: Promise<void> | null = null;
  return {
    port,
    url: serverUrl(info),
    file,
    gate,
    close: () =>
      (closed ??= (async () => {
        removeDiscovery(file, password);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...handlers].map((h) => h.detach(true)));
        await stopped;
        await database.close();
      })()),
  };
}

// ---- the clients' side ----

export type RecordsLocation =
  | { kind: 'postgres'; url: string }
  | { kind: 'served'; url: string; pid: number; port: number; file: string }
  /** leftoverPid: the postmaster.pid there is a crashed worker's (its discovery file is stale and not older). */
  | { kind: 'pglite'; dataDir: string; leftoverPid: boolean };

/** Where a client (CLI, dashboard) finds the records: DATABASE_URL, else a live worker's server, else PGlite itself. */
export function locateRecords(config: { dataDir: string; database: { url: string | null } }): RecordsLocation {
  if (config.database.url !== null) return { kind: 'postgres', url: config.database.url };
  const dataDir = join(config.dataDir, 'pglite');
  const found = readDiscovery(dataDir);
  if (found.status === 'live') return { kind: 'served', url: serverUrl(found.info), pid: found.info.pid, port: found.info.port, file: found.file };
  let leftoverPid = false;
  if (found.status === 'stale') {
    const pidFile = join(dataDir, 'postmaster.pid');
    // The worker writes its discovery file after PGlite wrote postmaster.pid; a process that opened
    // PGlite after the worker died rewrote it, so it would be newer.
    leftoverPid = existsSync(pidFile) && statSync(pidFile).mtimeMs <= found.mtimeMs + 5;
  }
  return { kind: 'pglite', dataDir, leftoverPid };
}

export interface OpenRecordsOptions {
  /** Connections to a served or PostgreSQL store (default 2: the CLI's and the dashboard's reads are sequential). */
  poolSize?: number;
}

/** Opens the records where locateRecords found them (a served store is already migrated by its worker). */
export function openRecords(location: RecordsLocation, options: OpenRecordsOptions = {}): Promise<Database> {
  switch (location.kind) {
    case 'postgres':
      return openDatabase({ kind: 'postgres', url: location.url });
    case 'served':
      return openDatabase({ kind: 'postgres', url: location.url, prepare: false, poolSize: options.poolSize ?? 2 }, { migrate: false });
    case 'pglite':
      return openDatabase({ kind: 'pglite', dataDir: location.dataDir });
  }
}

/** How a location reads in messages (no password). */
export function describeLocation(location: RecordsLocation): string {
  switch (location.kind) {
    case 'postgres':
      return 'DATABASE_URL (PostgreSQL)';
    case 'served':
      return `the worker's records (PGlite served by process ${location.pid} on ${RECORDS_HOST}:${location.port}, ${location.file})`;
    case 'pglite':
      return `PGlite at ${location.dataDir}`;
  }
}
