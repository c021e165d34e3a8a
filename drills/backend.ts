/**
 * The records a drill runs on: a fresh schema on the PostgreSQL server named by
 * TEST_DATABASE_URL or DATABASE_URL, or, without one, PGlite in a data directory of its own
 * (said in the drill's notes). Every connection of the drill carries the schema's name as its
 * application_name, so "PostgreSQL restarts" can be simulated by ending exactly the drill's
 * server connections with pg_terminate_backend, leaving other users of the server alone. On
 * PGlite the restart closes the instance and opens it again on the same files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openDatabase, type Database, type DatabaseConfig, type Db } from '../db/client';

export const SERVER_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || '';

export interface DrillBackend {
  kind: 'postgres' | 'pglite';
  /** Stays valid across restarts: it always reaches the current connection. */
  db: Db;
  schema: string;
  /** How another process opens the same records (drill 1's children). */
  config: DatabaseConfig;
  /** One line for the drill's notes. */
  describe: string;
  /** PostgreSQL: how many times the pool was replaced after one of its connections closed (db/client.ts). */
  readonly poolReplacements: number;
  /**
   * PostgreSQL: ends every server connection of this drill (pg_terminate_backend) and returns how
   * many there were; the pool reconnects on its next query. PGlite: closes and reopens the instance.
   */
  restart(): Promise<number>;
  /** PGlite only (one process at a time): closes the instance so a child process may open it. */
  release(): Promise<void>;
  /** Opens it again after `release`. */
  reacquire(): Promise<void>;
  close(): Promise<void>;
}

/** A Db whose every property is looked up on the current handle (swapped by a PGlite restart). */
function forwarding(current: () => Db): Db {
  return new Proxy({} as Db, {
    get(_target, prop) {
      const target = current() as unknown as Record<PropertyKey, unknown>;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function openDrillBackend(prefix: string): Promise<DrillBackend> {
  const schema = `drill_${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  if (SERVER_URL) return openServer(schema);
  return openPglite(schema);
}

function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

async function openServer(schema: string): Promise<DrillBackend> {
  const url = withApplicationName(SERVER_URL, schema);
  const config: DatabaseConfig = { kind: 'postgres', url, schema, poolSize: 6 };
  let poolReplacements = 0;
  const database = await openDatabase(config, { onPoolReplaced: () => poolReplacements++ });
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  const variable = process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'DATABASE_URL';
  return {
    kind: 'postgres',
    db: database.db,
    schema,
    config,
    describe: `PostgreSQL server (${variable}), schema ${schema}`,
    get poolReplacements() {
      return poolReplacements;
    },
    async restart() {
      const ended = await admin<{ pid: number }[]>`select pg_terminate_backend(pid) as ended, pid from pg_stat_activity where application_name = ${schema} and pid <> pg_backend_pid()`;
      return ended.length;
    },
    release: async () => {},
    reacquire: async () => {},
    async close() {
      await database.close();
      try {
        await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

async function openPglite(schema: string): Promise<DrillBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'drill-pglite-'));
  const config: DatabaseConfig = { kind: 'pglite', dataDir, schema };
  let database: Database | null = await openDatabase(config);
  const current = (): Db => {
    if (!database) throw new Error('the drill database is released to another process');
    return database.db;
  };
  const reopen = async () => {
    database = await openDatabase(config, { migrate: false });
  };
  return {
    kind: 'pglite',
    db: forwarding(current),
    schema,
    config,
    describe: `PGlite in ${dataDir} (no TEST_DATABASE_URL or DATABASE_URL: no PostgreSQL server was named)`,
    poolReplacements: 0,
    async restart() {
      await database?.close();
      database = null;
      await reopen();
      return 1;
    },
    async release() {
      await database?.close();
      database = null;
    },
    async reacquire() {
      if (!database) await reopen();
    },
    async close() {
      await database?.close();
      database = null;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
