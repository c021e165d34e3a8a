/**
 * Applies the committed drizzle-kit migrations (db/migrations). On a server the run holds an
 * advisory lock on its own single connection, so two workers starting together migrate once.
 */
import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgresJs } from 'drizzle-orm/postgres-js/migrator';
import { migrate as migratePgliteDb } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import postgres from 'postgres';
import type { Db } from './types';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
const MIGRATIONS_TABLE = '__drizzle_migrations';
/** Arbitrary constant: the advisory lock key shared by every process migrating this database. */
const MIGRATION_LOCK_KEY = 7_322_511;

function migratorOptions(schema: string | undefined) {
  return { migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: schema ?? 'drizzle' };
}

export async function migratePostgres(url: string, schema?: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, ...(schema ? { connection: { search_path: schema } } : {}) });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      if (schema) await client.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await migratePostgresJs(drizzlePostgres({ client }), migratorOptions(schema));
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

export async function migratePglite(db: Db, schema?: string): Promise<void> {
  await migratePgliteDb(db as unknown as PgliteDatabase, migratorOptions(schema));
}
