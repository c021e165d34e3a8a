/**
 * One code path over two back ends: a PostgreSQL server through the `postgres` driver when a
 * URL is configured, else PGlite (Postgres compiled to WASM) in a data directory under the
 * project, so a fresh machine records durably with zero setup. Migrations run on open.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { migratePglite, migratePostgres } from './migrate';

import type { Db } from './types';

export type { Db, Executor, Tx } from './types';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_PGLITE_DIR = resolve(PROJECT_ROOT, 'data', 'pglite');

export type DatabaseConfig =
  | {
      kind: 'postgres';
      url: string;
      /** Leading search_path schema, created on open (tests use one per case); default: public. */
      schema?: string;
      /** Pool connections for normal work; migrations always use one connection of their own. */
      poolSize?: number;
      /**
       * Named prepared statements (postgres.js default: true). False for the embedded records served
       * over a socket (runtime/records-socket.ts): every connection there shares PGlite's one session,
       * where two connections' statement names would collide.
       */
      prepare?: boolean;
    }
  | {
      kind: 'pglite';
      /** Data directory; null keeps everything in memory (tests). */
      dataDir: string | null;
      schema?: string;
    };

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** PGlite only: the instance itself, for serving it to other processes (runtime/records-socket.ts). */
  pglite?: PGlite;
  close(): Promise<void>;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export function validateSchemaName(schema: unknown, field = 'schema'): string {
  if (typeof schema !== 'string' || !SCHEMA_RE.test(schema)) {
    throw InvalidInput.of(field, schema, 'must be a lower-case SQL identifier of at most 63 characters');
  }
  return schema;
}

/** The URL with any password replaced, safe for errors and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

function checkPostgresUrl(url: unknown, field: string): FieldProblem | null {
  if (typeof url !== 'string' || url.length === 0) return { field, value: url, problem: 'must be a postgres:// URL' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { field, value: redactUrl(url), problem: 'is not a URL (expected postgres://user@host:port/database)' };
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return { field, value: redactUrl(url), problem: 'must start with postgres:// or postgresql://' };
  }
  if (!parsed.hostname) return { field, value: redactUrl(url), problem: 'must name a host' };
  return null;
}

/**
 * Builds the config from the environment (only the worker calls this): DATABASE_URL selects
 * the server; without it PGlite keeps its files in PGLITE_DATA_DIR or data/pglite.
 */
export function databaseConfigFromEnv(env: Record<string, string | undefined>): DatabaseConfig {
  const url = env.DATABASE_URL;
  if (url !== undefined && url.trim() !== '') {
    const problem = checkPostgresUrl(url.trim(), 'DATABASE_URL');
    if (problem) throw new InvalidInput([problem]);
    return { kind: 'postgres', url: url.trim() };
  }
  const dir = env.PGLITE_DATA_DIR;
  if (dir !== undefined && dir.trim() === '') throw InvalidInput.of('PGLITE_DATA_DIR', dir, 'must be a directory path when set');
  return { kind: 'pglite', dataDir: dir ? resolve(PROJECT_ROOT, dir) : DEFAULT_PGLITE_DIR };
}

function validateConfig(config: DatabaseConfig): void {
  const problems: FieldProblem[] = [];
  if (config.kind === 'postgres') {
    const p = checkPostgresUrl(config.url, 'url');
    if (p) problems.push(p);
    if (config.poolSize !== undefined && (!Number.isSafeInteger(config.poolSize) || config.poolSize < 1 || config.poolSize > 100)) {
      problems.push({ field: 'poolSize', value: config.poolSize, problem: 'must be a whole number from 1 to 100' });
    }
    if (config.prepare !== undefined && typeof config.prepare !== 'boolean') {
      problems.push({ field: 'prepare', value: config.prepare, problem: 'must be true or false' });
    }
  } else if (config.kind === 'pglite') {
    if (config.dataDir !== null && (typeof config.dataDir !== 'string' || config.dataDir.length === 0)) {
      problems.push({ field: 'dataDir', value: config.dataDir, problem: 'must be a directory path or null for memory' });
    }
  } else {
    problems.push({ field: 'kind', value: (config as { kind: unknown }).kind, problem: 'must be postgres or pglite' });
  }
  if (config.schema !== undefined && (typeof config.schema !== 'string' || !SCHEMA_RE.test(config.schema))) {
    problems.push({ field: 'schema', value: config.schema, problem: 'must be a lower-case SQL identifier of at most 63 characters' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
}

export interface OpenOptions {
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  /** PostgreSQL: told each time the pool is replaced after one of its connections closed (logs, metrics, drills). */
  onPoolReplaced?(): void;
}

/** Longest wait for a server connection's handshake, seconds (postgres.js defaults to 30). */
export const CONNECT_TIMEOUT_S = 10;
/**
 * How long a replaced pool's running queries and transactions get to finish, seconds (as long as
 * closing gives them): the pool just lost a connection, so the server likely went away under the rest.
 */
export const REPLACED_POOL_DRAIN_S = 5;

/** A Db whose every property is read from the current handle, so callers keep one handle across replacements. */
function forwardingDb(current: () => Db): Db {
  return new Proxy({} as Db, {
    get(_target, prop) {
      const target = current() as unknown as Record<PropertyKey, unknown>;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A postgres.js pool that is replaced as soon as one of its connections closes.
 *
 * postgres.js 3.4.9 can wedge a pooled connection for the life of its pool (porsager/postgres
 * issues 1154 and 1208): small writes wait for a setImmediate flush, and the connection's
 * teardown cancels that flush without clearing its handle. A connection that closes with a write
 * pending, or that is written to after it closed (a transaction's ROLLBACK after
 * pg_terminate_backend or a server restart, which also throws the uncaught TypeError
 * runtime/process-guards.ts tolerates), never writes again: every later query it is given waits
 * out connect_timeout (30 s by default) and fails, again on each reuse. Drill 3 saw sessions
 * hang this way. Every wedge starts with a close, so on the first close of any connection the
 * pool stops taking queries: a fresh pool takes them, and the old one is drained (its running
 * transactions finish on their connections; whatever is left after REPLACED_POOL_DRAIN_S is
 * ended and rejected, and retried by the activities). A connection closes otherwise only when
 * postgres.js rotates it (max_lifetime, 30-60 minutes), which then rotates the whole pool.
 * connect_timeout is lowered so that a query already queued on a wedged connection of the old
 * pool fails within CONNECT_TIMEOUT_S instead of 30 s.
 */
function openPostgresPool(config: Extract<DatabaseConfig, { kind: 'postgres' }>, onPoolReplaced: () => void): Database {
  let closing = false;
  const draining = new Set<Promise<void>>();
  const open = (): { client: postgres.Sql; db: Db } => {
    const client = postgres(config.url, {
      max: config.poolSize ?? 10,
      onnotice: () => {},
      connect_timeout: CONNECT_TIMEOUT_S,
      ...(config.prepare === false ? { prepare: false } : {}),
      ...(config.schema ? { connection: { search_path: config.schema } } : {}),
      onclose: () => {
        if (!closing && current.client === client) replace();
      },
    });
    return { client, db: drizzlePostgres({ client }) as unknown as Db };
  };
  const replace = () => {
    const old = current;
    current = open();
    const drained = old.client.end({ timeout: REPLACED_POOL_DRAIN_S }).catch(() => undefined);
    draining.add(drained);
    void drained.finally(() => draining.delete(drained));
    onPoolReplaced();
  };
  let current = open();
  return {
    db: forwardingDb(() => current.db),
    kind: 'postgres',
    close: async () => {
      closing = true;
      await Promise.all([current.client.end({ timeout: REPLACED_POOL_DRAIN_S }), ...draining]);
    },
  };
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  validateConfig(config);
  const migrate = options.migrate ?? true;
  if (config.kind === 'postgres') {
    if (migrate) await migratePostgres(config.url, config.schema);
    return openPostgresPool(config, options.onPoolReplaced ?? (() => {}));
  }

  if (config.dataDir !== null) mkdirSync(config.dataDir, { recursive: true });
  const client = config.dataDir === null ? await PGlite.create() : await PGlite.create({ dataDir: config.dataDir });
  try {
    const db = drizzlePglite({ client }) as unknown as Db;
    if (config.schema) {
      await client.exec(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"; SET search_path TO "${config.schema}"`);
    }
    if (migrate) await migratePglite(db, config.schema);
    return { db, kind: 'pglite', pglite: client, close: () => client.close() };
  } catch (err) {
    await client.close();
    throw err;
  }
}
