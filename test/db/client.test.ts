import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { describeWhere } from '../support/requirements';
import { DEFAULT_PGLITE_DIR, databaseConfigFromEnv, openDatabase, redactUrl } from '../../db/client';
import { MIGRATIONS_FOLDER } from '../../db/migrate';
import { RecordError, toRecordError } from '../../db/errors';
import { getPosition, recordFill } from '../../db/repositories/fills';
import { InvalidInput } from '../../domain/errors';
import type { Money, Price, Quantity } from '../../domain/money';
import { SERVER_URL, uniqueSchema } from './harness';

const fill = { tradeId: 'T-1', clientOrderId: 'o-1', marketId: 'M1', side: 'BUY' as const, quantity: 3 as Quantity, price: 500_000 as Price, fee: 0 as Money, ts: Date.UTC(2026, 0, 15) };

describe('databaseConfigFromEnv', () => {
  it('defaults to PGlite under data/pglite', () => {
    expect(databaseConfigFromEnv({})).toEqual({ kind: 'pglite', dataDir: DEFAULT_PGLITE_DIR });
    expect(DEFAULT_PGLITE_DIR.endsWith(join('data', 'pglite'))).toBe(true);
  });

  it('uses the server named by DATABASE_URL', () => {
    expect(databaseConfigFromEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' })).toEqual({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' });
  });

  it('names the variable and the value, with the password redacted, when the URL is bad', () => {
    const err = (() => {
      try {
        databaseConfigFromEnv({ DATABASE_URL: 'mysql://trader:hunter2@db:3306/x' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems[0]!.field).toBe('DATABASE_URL');
    expect((err as Error).message).toContain('trader:***@db');
    expect((err as Error).message).not.toContain('hunter2');
    expect(() => databaseConfigFromEnv({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
  });

  it('reports every bad field of a config at once', async () => {
    const err = await openDatabase({ kind: 'postgres', url: 'http://x', poolSize: 0, schema: 'Bad Name' }).catch((e: unknown) => e);
    expect((err as InvalidInput).problems.map((p) => p.field)).toEqual(['url', 'poolSize', 'schema']);
  });
});

describe('migrations', () => {
  it('never name a schema, so they apply into the schema a test or deployment chooses', () => {
    for (const file of readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'))) {
      expect(readFileSync(join(MIGRATIONS_FOLDER, file), 'utf8'), file).not.toMatch(/"public"|\bpublic\./i);
    }
  });
});

describe('PGlite data directory', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps records across a restart and migrates only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-'));
    dirs.push(dir);
    const first = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'data') });
    await recordFill(first.db, fill);
    await first.close();
    const second = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'data') });
    try {
      expect(await getPosition(second.db, 'paper', 'M1')).toMatchObject({ quantity: 3, costBasis: 1_500_000 });
      expect((await recordFill(second.db, fill)).inserted).toBe(false);
    } finally {
      await second.close();
    }
  });
});

describeWhere(SERVER_URL ? null : 'set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL server', 'PostgreSQL server (TEST_DATABASE_URL or DATABASE_URL)', () => {
  it('migrates into a fresh schema on open, and a second open is a no-op', async () => {
    const schema = uniqueSchema('c');
    try {
      const [a, b] = await Promise.all([openDatabase({ kind: 'postgres', url: SERVER_URL, schema }), openDatabase({ kind: 'postgres', url: SERVER_URL, schema })]);
      await recordFill(a.db, fill);
      expect(await getPosition(b.db, 'paper', 'M1')).toMatchObject({ quantity: 3 });
      await Promise.all([a.close(), b.close()]);
    } finally {
      const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
      const rows = await admin<{ n: number }[]>`select count(*)::int as n from pg_tables where schemaname = ${schema}`;
      expect(rows[0]!.n).toBeGreaterThan(15);
      await admin.unsafe(`drop schema "${schema}" cascade`);
      await admin.end();
    }
  });

  it('maps server errors to typed RecordErrors naming the column and value', async () => {
    const schema = uniqueSchema('c');
    const d = await openDatabase({ kind: 'postgres', url: SERVER_URL, schema });
    try {
      const dup = await d.db.execute(`insert into venues (venue_id, name) values ('v', 'a'), ('v', 'b')`).catch((e: unknown) => toRecordError(e));
      expect(dup).toMatchObject({ type: 'DuplicateRecord', table: 'venues', field: 'venue_id', value: 'v' });
      const nul = await d.db.execute(`insert into venues (venue_id) values ('w')`).catch((e: unknown) => toRecordError(e));
      expect(nul).toMatchObject({ type: 'ConstraintViolation', field: 'name' });
      const bad = await d.db.execute(`select 'abc'::numeric`).catch((e: unknown) => toRecordError(e));
      expect(bad).toBeInstanceOf(RecordError);
      expect(bad).toMatchObject({ type: 'InvalidValue', value: 'abc' });
      const big = await d.db.execute(`insert into markets (market_id, category, tick_size) values ('m', 'c', 123456789012345.5)`).catch((e: unknown) => toRecordError(e));
      expect(big).toMatchObject({ type: 'InvalidValue', code: '22003' });
    } finally {
      await d.close();
      const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop schema "${schema}" cascade`);
      await admin.end();
    }
  });
});
