/**
 * Fills persisted with their position updates (fill row, locked position, history, order, daily
 * P&L, audit: one transaction), on the local PostgreSQL server when it answers and on embedded
 * PGlite in a data directory. Baseline, same run and back end: one bare single-row INSERT per
 * fill in autocommit, with no position work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openDatabase, type Database, type DatabaseConfig } from '../db/client';
import { recordFill, recordFills } from '../db/repositories/fills';
import { createFillWriter } from '../db/repositories/fill-writer';
import { insertOrder } from '../db/repositories/orders';
import { fills } from '../db/schema';
import type { Money, Price, Quantity } from '../domain/money';
import type { Fill } from '../domain/fill';
import type { BenchResult } from './harness';

const URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const T0 = Date.UTC(2026, 0, 15, 14);
const MARKETS = 8;
const TARGET = 2_000;

let serial = 0;
function nextFill(market: number): Fill {
  const n = serial++;
  return {
    tradeId: `B-${n}`,
    clientOrderId: `bench-20260115-${String(market + 1).padStart(6, '0')}`,
    marketId: `M${market}`,
    side: n % 3 === 0 ? 'SELL' : 'BUY',
    quantity: (1 + (n % 7)) as Quantity,
    price: (300_000 + (n % 50) * 1_000) as Price,
    fee: 1_000 as Money,
    ts: T0 + n,
  };
}

/** Runs `batch` (which persists some fills) repeatedly for about `ms`; returns fills per second. */
async function fillsPerSecond(batch: () => Promise<number>, ms = 1_000): Promise<number> {
  const warm = performance.now() + 150;
  while (performance.now() < warm) await batch();
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    count += await batch();
    now = performance.now();
  }
  return count / ((now - start) / 1_000);
}

async function seedOrders(d: Database): Promise<void> {
  for (let m = 0; m < MARKETS; m++) {
    await insertOrder(d.db, {
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

async function measure(label: string, config: DatabaseConfig, concurrent: boolean): Promise<BenchResult[]> {
  const d = await openDatabase(config);
  try {
    await seedOrders(d);
    const baseline = await fillsPerSecond(async () => {
      const f = nextFill(serial % MARKETS);
      await d.db.insert(fills).values({ tradeId: `raw-${f.tradeId}`, clientOrderId: f.clientOrderId, marketId: f.marketId, side: f.side, quantity: f.quantity, price: f.price, fee: f.fee, filledAt: f.ts, tradingDay: '2026-01-15' });
      return 1;
    });
    const baselineName = 'bare INSERT per fill, autocommit';
    const single = await fillsPerSecond(async () => {
      await recordFill(d.db, nextFill(serial % MARKETS));
      return 1;
    });
    const batched = await fillsPerSecond(async () => {
      const batch = Array.from({ length: 100 }, (_, i) => nextFill(i % MARKETS));
      await recordFills(d.db, batch);
      return batch.length;
    });
    const results: BenchResult[] = [
      { name: `${label}: fill + position, one transaction each`, figure: single, unit: 'fills/s', baselineName, baselineFigure: baseline, target: TARGET, notes: 'one caller, one fill at a time: 5 round trips each' },
      { name: `${label}: fill + position, 100 per transaction`, figure: batched, unit: 'fills/s', baselineName, baselineFigure: baseline, target: TARGET },
    ];
    const callers = 32;
    const writer = createFillWriter(d.db);
    const grouped = await fillsPerSecond(async () => {
      await Promise.all(Array.from({ length: callers }, (_, m) => writer.record(nextFill(m % MARKETS))));
      return callers;
    });
    results.push({
      name: `${label}: fill + position, ${callers} concurrent callers, group commit`,
      figure: grouped,
      unit: 'fills/s',
      baselineName,
      baselineFigure: baseline,
      target: TARGET,
      notes: 'createFillWriter: fills arriving during a commit share the next transaction',
    });
    if (concurrent) {
      const writers = MARKETS;
      const parallel = await fillsPerSecond(async () => {
        await Promise.all(Array.from({ length: writers }, (_, m) => recordFill(d.db, nextFill(m))));
        return writers;
      });
      results.push({
        name: `${label}: fill + position, one transaction each, ${writers} writers`,
        figure: parallel,
        unit: 'fills/s',
        baselineName,
        baselineFigure: baseline,
        target: TARGET,
        notes: `pool of ${writers} connections, one market per writer`,
      });
    }
    return results;
  } finally {
    await d.close();
  }
}

async function serverReachable(): Promise<string | null> {
  const probe = postgres(URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await probe`select 1`;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await probe.end({ timeout: 1 });
  }
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const unreachable = await serverReachable();
  if (unreachable === null) {
    const schema = `bench_${Date.now().toString(36)}`;
    try {
      results.push(...(await measure('PostgreSQL (local)', { kind: 'postgres', url: URL, schema, poolSize: MARKETS }, true)));
    } finally {
      const admin = postgres(URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop schema if exists "${schema}" cascade`);
      await admin.end({ timeout: 5 });
    }
  } else {
    results.push({ name: 'PostgreSQL (local): not measured', figure: 0, unit: 'fills/s', baselineName: '-', baselineFigure: 0, notes: `server at ${URL} unreachable: ${unreachable}` });
  }
  const dir = mkdtempSync(join(tmpdir(), 'pglite-bench-'));
  try {
    results.push(...(await measure('PGlite (data dir)', { kind: 'pglite', dataDir: dir }, false)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
