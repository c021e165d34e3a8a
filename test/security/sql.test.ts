/**
 * SQL goes only through parameterised queries. A static scan of the production TypeScript in
 * db/, activities/, worker/ and exchange/ flags every way to put text into SQL unescaped:
 * `sql.raw(`, `.unsafe(`, PGlite `.exec(` / `.query(` with a template literal, `execute(` with a
 * plain string or template literal instead of drizzle's `sql` tag, and any untagged template
 * literal or concatenation that starts an SQL statement (templates tagged by drizzle's `sql` or a
 * postgres-js client bind their interpolations as parameters and pass). The few uses that must build SQL from
 * identifiers are allowed by file and snippet below, each with the reason it is safe; anything
 * new fails the test. Drizzle's `sql` tag itself is checked to send interpolations as parameters.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../runtime/config';

const SCANNED = ['db', 'activities', 'worker', 'exchange'];

/** Justified uses: [file, a snippet of the line, why it is safe]. */
const ALLOWED: [string, string, string][] = [
  [
    'db/schema.ts',
    'const inList = (column: string, values: readonly string[]) => sql.raw(',
    'CHECK constraints of the schema: the column names and values are compile-time constants of db/schema.ts (the `as const` lists), never input; drizzle has no parameters in DDL.',
  ],
  ['db/schema.ts', 'const price01 = (column: string) => sql.raw(', 'CHECK constraint over a constant column name written in db/schema.ts.'],
  [
    'db/client.ts',
    'await client.exec(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"; SET search_path TO "${config.schema}"`);',
    'A schema name is an identifier, which cannot be a bound parameter; validateConfig refuses any schema not matching /^[a-z_][a-z0-9_]{0,62}$/ before this line runs.',
  ],
  [
    'db/migrate.ts',
    'if (schema) await client.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);',
    'Same identifier: migratePostgres is reached from openDatabase after validateConfig checked the schema name against the same pattern.',
  ],
];

const RULES: [string, RegExp][] = [
  ['sql.raw', /\bsql\.raw\s*\(/],
  ['unsafe', /\.unsafe\s*\(/],
  ['PGlite exec/query with a template literal', /\b(client|pg|db)\.(exec|query)\s*\(\s*`/],
  ['execute with a plain string', /\.execute\s*\(\s*['"`]/],
  ['untagged SQL template or concatenation', /(?<![\w$])`\s*(SELECT|INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|TRUNCATE)\b[^`]*\$\{|['"]\s*(SELECT|INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|TRUNCATE)\b[^'"]*['"]\s*\+/i],
  // Tagged templates bind their interpolations only when the tag is drizzle's `sql` or a postgres-js client.
  ['SQL template with an unknown tag', /(?<![\w$])(?!(sql|client|admin)`)([\w$]+)`\s*(SELECT|INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|TRUNCATE)\b[^`]*\$\{/i],
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'node_modules' && name !== 'migrations' && name !== 'static') out.push(...tsFiles(full));
    } else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

describe('SQL parameterisation', () => {
  it('no production file builds SQL from text except the allowed, justified identifier uses', () => {
    const findings: string[] = [];
    const used = new Set<number>();
    let scanned = 0;
    for (const top of SCANNED) {
      for (const file of tsFiles(join(PROJECT_ROOT, top))) {
        scanned++;
        const rel = relative(PROJECT_ROOT, file).replaceAll('\\', '/');
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            for (const [rule, re] of RULES) {
              if (!re.test(line)) continue;
              const allowed = ALLOWED.findIndex(([f, snippet]) => f === rel && line.includes(snippet));
              if (allowed >= 0) used.add(allowed);
              else findings.push(`${rel}:${i + 1} [${rule}] ${line.trim()}`);
            }
          });
      }
    }
    expect(scanned).toBeGreaterThan(50);
    expect(findings, `SQL built from text outside the allow-list:\n${findings.join('\n')}`).toEqual([]);
    // An allow-list entry whose line is gone must be removed, not left to excuse a future line.
    expect(ALLOWED.filter((_, i) => !used.has(i)).map(([f, s]) => `${f}: ${s}`)).toEqual([]);
  });

  it('the scan catches what it is meant to catch', () => {
    const caught = (line: string) => RULES.some(([, re]) => re.test(line));
    expect(caught("await db.execute(`select * from orders where id = '${id}'`)")).toBe(true);
    expect(caught('await client.unsafe(`delete from fills where trade_id = ${t}`)')).toBe(true);
    expect(caught("const q = 'SELECT * FROM orders WHERE market_id = ' + marketId;")).toBe(true);
    expect(caught('await client.query(`update orders set state = ${s}`)')).toBe(true);
    expect(caught('raw`select * from fills where id = ${id}`')).toBe(true);
    expect(caught('tx.execute(sql`select pg_advisory_xact_lock(hashtext(${key}))`)')).toBe(false);
    expect(caught('await client`select pg_advisory_lock(${KEY})`')).toBe(false);
  });

  it("drizzle's sql tag sends interpolated values as bound parameters, never as SQL text", () => {
    const hostile = "'; DROP TABLE orders; --";
    const q = new PgDialect().sqlToQuery(sql`select * from orders where market_id = ${hostile} and client_order_id = ${'x'}`);
    expect(q.sql).toBe('select * from orders where market_id = $1 and client_order_id = $2');
    expect(q.params).toEqual([hostile, 'x']);
  });
});
