/**
 * Runs a repository suite on every back end: embedded PGlite always, and the PostgreSQL server
 * named by TEST_DATABASE_URL (or DATABASE_URL) when one is set. Each test gets a database of its
 * own: a fresh uniquely named schema, migrated, dropped afterwards. PGlite shares one in-memory
 * instance per suite (starting one costs seconds) and gives each test its own schema the same way.
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { describeWhere } from '../support/requirements';
import { openDatabase, type Database, type Db } from '../../db/client';
import { migratePglite } from '../../db/migrate';

export const SERVER_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || '';
const SERVER_VARIABLE = process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'DATABASE_URL';

export interface BackendContext {
  kind: 'pglite' | 'postgres';
  /** The current test's database handle (valid inside a test). */
  readonly db: Db;
  /** The current test's schema. */
  readonly schema: string;
  /** Opens another independent handle on the same schema (a second writer); closed after the test. */
  openAnother(): Promise<Db>;
}

export const uniqueSchema = (prefix = 't'): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

export function forEachBackend(name: string, fn: (ctx: BackendContext) => void): void {
  describe(`${name} [pglite]`, () => fn(pgliteContext()));
  describeWhere(SERVER_URL ? null : 'set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL server', `${name} [postgres ${SERVER_URL ? SERVER_VARIABLE : ''}]`, () =>
    fn(postgresContext(SERVER_URL)),
  );
}

function pgliteContext(): BackendContext {
  let client: PGlite | null = null;
  let db: Db | null = null;
  let schema = '';
  beforeAll(async () => {
    client = await PGlite.create();
    db = drizzlePglite({ client }) as unknown as Db;
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(async () => {
    schema = uniqueSchema();
    await client!.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
    await migratePglite(db!, schema);
  });
  afterEach(async () => {
    await client!.exec(`SET search_path TO public; DROP SCHEMA "${schema}" CASCADE`);
  });
  return {
    kind: 'pglite',
    get db() {
      return db!;
    },
    get schema() {
      return schema;
    },
    // PGlite is one connection: a second handle shares it, so its writers queue on its lock.
    openAnother: async () => drizzlePglite({ client: client! }) as unknown as Db,
  };
}

function postgresContext(url: string): BackendContext {
  let current: Database | null = null;
  let extra: Database[] = [];
  let schema = '';
  beforeEach(async () => {
    schema = uniqueSchema();
    current = await openDatabase({ kind: 'postgres', url, schema, poolSize: 4 });
  });
  afterEach(async () => {
    await Promise.all(extra.map((d) => d.close()));
    extra = [];
    await current?.close();
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  });
  return {
    kind: 'postgres',
    get db() {
      return current!.db;
    },
    get schema() {
      return schema;
    },
    openAnother: async () => {
      const d = await openDatabase({ kind: 'postgres', url, schema, poolSize: 4 }, { migrate: false });
      extra.push(d);
      return d.db;
    },
  };
}

/** Rows of a raw SQL query; postgres-js returns an array, PGlite an object with `rows`. */
export async function rawRows(db: Db, query: string): Promise<Record<string, unknown>[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  return (result as { rows: Record<string, unknown>[] }).rows;
}
