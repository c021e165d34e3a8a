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
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { InvalidInput, type FieldProblem } from '../workflows/domain/errors';
import { migratePglite, migratePostgres } from './migrate';

/** The drizzle handle every repository takes; identical for both back ends. */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** A handle or an open transaction: repositories write through either. */
export type Executor = Db | Tx;

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
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  validateConfig(config);
  const migrate = options.migrate ?? true;
  if (config.kind === 'postgres') {
    if (migrate) await migratePostgres(config.url, config.schema);
    const client = postgres(config.url, {
      max: config.poolSize ?? 10,
      onnotice: () => {},
      ...(config.schema ? { connection: { search_path: config.schema } } : {}),
    });
    return { db: drizzlePostgres({ client }) as unknown as Db, kind: 'postgres', close: () => client.end({ timeout: 5 }) };
  }

  if (config.dataDir !== null) mkdirSync(config.dataDir, { recursive: true });
  const client = config.dataDir === null ? await PGlite.create() : await PGlite.create({ dataDir: config.dataDir });
  try {
    const db = drizzlePglite({ client }) as unknown as Db;
    if (config.schema) {
      await client.exec(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"; SET search_path TO "${config.schema}"`);
    }
    if (migrate) await migratePglite(db, config.schema);
    return { db, kind: 'pglite', close: () => client.close() };
  } catch (err) {
    await client.close();
    throw err;
  }
}
