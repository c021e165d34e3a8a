/**
 * Shared pieces of the bad-input sweeps: arbitraries for hostile input (injection strings, NUL
 * bytes, oversized text, huge numbers, NaN, unicode, deep nesting, wrong JSON types), a digest
 * of every table in the records (to prove a sweep left them as they were), and the per-boundary
 * count of inputs tried, printed and written to test-results/sweeps/<boundary>.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Db } from '../../db';
import { PROJECT_ROOT } from '../../runtime/config';

/** Strings that have broken parsers, SQL and HTML elsewhere. */
export const INJECTIONS: readonly string[] = [
  "'; DROP TABLE orders; --",
  "' OR '1'='1",
  "1; DELETE FROM fills WHERE true; --",
  "Robert'); DROP TABLE operator_actions;--",
  '"; TRUNCATE alerts CASCADE; --',
  '$$; DROP SCHEMA public CASCADE; $$',
  "\\'; SELECT pg_sleep(5); --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/shadow',
  'file:///etc/passwd',
  'a\u0000b',
  '\u0000',
  '%00',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '${process.env.PAPER_EXCHANGE_SECRET}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '😀😃😄',
  '\uD800',
  'Ｆｕｌｌｗｉｄｔｈ',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '9007199254740993',
  '99999999999999999999999999',
  '0x1F',
  '1_000',
  ' ',
  '',
  '\r\n',
  '\t',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
];

/** A string nested `depth` levels of JSON arrays and objects deep. */
export function deeplyNested(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

/** JSON text nested `depth` levels deep, built as text (JSON.stringify of it would overflow the stack). */
export function deeplyNestedJson(depth: number): string {
  return `${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}`;
}

/** Hostile text: injection strings, NUL bytes, control characters, unicode, oversized runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...INJECTIONS), fc.string({ maxLength: 10 })).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'A'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`) },
);

/** Numbers no field should take: NaN, infinities, unsafe integers, fractions, negative zero. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53, -(2 ** 53), 1e21, 1e-7, 0.1 + 0.2),
  fc.double({ noDefaultInfinity: false }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }).map((n) => n * 1_000),
);

/** Any JSON-ish value of the wrong type for a field: numbers, booleans, null, arrays, objects, deep nesting, hostile text. */
export const wrongTyped: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)), { maxKeys: 4 }),
  fc.integer({ min: 50, max: 2_000 }).map((d) => deeplyNested(d)),
);

/** A JSON-able value of any shape, for bodies and payloads (JSON.stringify of NaN gives null). */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: wrongTyped },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}, '', 0, null, true) },
);

/** Text that is not JSON at all, or JSON cut short. */
export const malformedJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('{', '}', '{"a":', '[1,2', '{"a":1,}', "{'a':1}", 'NaN', '{"a":NaN}', 'undefined', '\u0000', '{"a":"\u0000"', '<xml/>', 'null null', '{"a":1}{"b":2}'),
  hostileString.filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)).filter((t) => t.length > 2).map((t) => t.slice(0, -1)),
);

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD), so no client re-encodes it. */
export function pct(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** Counts the inputs each check tried, by category, for one boundary. */
export class SweepCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly boundary: string) {}

  tried(category: string, n = 1): void {
    this.counts.set(category, (this.counts.get(category) ?? 0) + n);
  }

  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }

  /** Prints the counts and writes them to test-results/sweeps/<boundary>.json (gitignored). */
  report(): { boundary: string; total: number; byCategory: Record<string, number> } {
    const summary = { boundary: this.boundary, total: this.total, byCategory: Object.fromEntries([...this.counts.entries()].sort()) };
    const dir = join(PROJECT_ROOT, 'test-results', 'sweeps');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.boundary}.json`), `${JSON.stringify({ ...summary, at: new Date().toISOString() }, null, 2)}\n`);
    const lines = Object.entries(summary.byCategory).map(([k, n]) => `  ${k}: ${n}`);
    console.log(`sweep ${this.boundary}: ${summary.total} inputs tried\n${lines.join('\n')}`);
    return summary;
  }
}

/** Rows of a raw SQL query on either driver (postgres-js gives an array, PGlite `{ rows }`). */
export async function rows(db: Db, query: string): Promise<Record<string, unknown>[]> {
  const result: unknown = await db.execute(query);
  return Array.isArray(result) ? (result as Record<string, unknown>[]) : (result as { rows: Record<string, unknown>[] }).rows;
}

const IDENT_RE = /^[a-z_][a-z0-9_]*$/;

/** The tables of the current schema (search_path), by name. */
export async function tableNames(db: Db): Promise<string[]> {
  const r = await rows(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name");
  return r.map((x) => String(x.table_name)).filter((n) => IDENT_RE.test(n));
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

/** Every table's row count and a hash of its rows (order-independent). */
export async function recordsDigest(db: Db): Promise<Record<string, { rows: number; sha256: string }>> {
  const out: Record<string, { rows: number; sha256: string }> = {};
  for (const t of await tableNames(db)) {
    // Table names come from information_schema and match IDENT_RE: a fixed identifier, not input.
    const all = (await rows(db, `SELECT * FROM "${t}"`)).map(stable).sort();
    out[t] = { rows: all.length, sha256: createHash('sha256').update(all.join('\n')).digest('hex') };
  }
  return out;
}

/** Every table's row count, in one query: a cheap per-run check beside the full digest. */
export async function rowCounts(db: Db, names?: readonly string[]): Promise<Record<string, number>> {
  names ??= await tableNames(db);
  if (names.length === 0) return {};
  // Names from information_schema matching IDENT_RE, as in recordsDigest.
  const counts = await rows(db, names.map((t) => `SELECT '${t}' AS t, count(*)::int AS n FROM "${t}"`).join(' UNION ALL '));
  return Object.fromEntries(counts.map((c) => [String(c.t), Number(c.n)]));
}

/**
 * Empties every table of the current schema, so that each run of a property starts from the same
 * records and a shrunk counterexample is not one polluted by an earlier run.
 */
export async function resetRecords(db: Db): Promise<void> {
  // Only tables holding rows are truncated: a TRUNCATE costs milliseconds per table, and most
  // runs write to few. Names from information_schema matching IDENT_RE, as in recordsDigest.
  const filled = Object.entries(await rowCounts(db)).filter(([, n]) => n > 0).map(([t]) => t);
  if (filled.length > 0) await db.execute(`TRUNCATE ${filled.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`);
}

/** Every row of every table as text (for the secrets search). */
export async function dumpRecords(db: Db): Promise<string> {
  const parts: string[] = [];
  for (const t of await tableNames(db)) {
    for (const r of await rows(db, `SELECT * FROM "${t}"`)) parts.push(`${t}: ${stable(r)}`);
  }
  return parts.join('\n');
}

/** The number of sweep runs: SWEEP_SCALE multiplies them (1 = default) for a longer local soak. */
export function runs(n: number): number {
  const scale = Number(process.env.SWEEP_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
