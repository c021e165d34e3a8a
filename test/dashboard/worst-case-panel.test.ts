/**
 * Issue 14 on the dashboard: the risk panel measures a short at its worst case (1 − p) × q, as the
 * pre-trade rules do, and its daily loss and daily nets from the day's opening marks. A short of 50
 * at 0.10 can lose $45: the panel shows $45 where it showed $5.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertOrder, markDailyPnl, markPositions, openDatabase, openTradingDay, recordFill, recordOrderEvent, upsertMarket, type Database } from '../../db';
import type { Money, Price, Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import type { Quote } from '../../dashboard/api';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';

const NOW = Date.UTC(2026, 0, 6, 15);
const quotes: Record<string, Quote> = { 'PX-S': { marketId: 'PX-S', ts: NOW - 1_000, bid: 90_000 as Price, ask: 110_000 as Price, last: 100_000 as Price } };
const noTemporal = { signalHalt: async () => undefined, signalResume: async () => undefined, signalKillSwitch: async () => undefined };
let database: Database;
let dash: RunningDashboard;

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
  const db = database.db;
  await upsertMarket(db, { marketId: 'PX-S', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null });
  // Sold 50 at 0.08 yesterday; marked at 0.10 at yesterday's close: $1.00 down, carried into today.
  await recordFill(db, { tradeId: 't-1', clientOrderId: 'mr-20260105-000001', marketId: 'PX-S', side: 'SELL', quantity: 50 as Quantity, price: 80_000 as Price, fee: 0 as Money, ts: Date.UTC(2026, 0, 5, 12) });
  await markPositions(db, 'paper', { 'PX-S': 100_000 as Price }, Date.UTC(2026, 0, 5, 23));
  await markDailyPnl(db, { tradingDay: '2026-01-05', at: Date.UTC(2026, 0, 5, 23) });
  await openTradingDay(db, { tradingDay: '2026-01-06', at: Date.UTC(2026, 0, 6) });
  // A working order to sell 10 more at 0.10: its worst case is 10 × 0.90.
  await insertOrder(db, { clientOrderId: 'mr-20260106-000001', marketId: 'PX-S', side: 'SELL', quantity: 10 as Quantity, limitPrice: 100_000 as Price, strategy: 'mr', tradingDay: '2026-01-06', createdAt: NOW - 30_000 });
  await recordOrderEvent(db, { clientOrderId: 'mr-20260106-000001', seq: 1, eventType: 'OrderSnapshot', state: 'SUBMITTED', at: NOW - 29_000, venueOrderId: 'v-1' });
  dash = await startDashboard({
    db,
    limits: CASE_STUDY_LIMITS,
    temporal: noTemporal,
    token: 'worst-case-test-token-0123456789',
    temporalUiUrl: 'http://temporal.local:8233',
    namespace: 'default',
    port: 0,
    clock: () => NOW,
    quotes: async (ids) => ids.flatMap((id) => (quotes[id] ? [quotes[id]!] : [])),
    log: () => {},
  });
});

afterAll(async () => {
  await dash?.close();
  await database?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const getJson = async (path: string): Promise<any> => (await fetch(dash.url + path)).json();

it('the risk panel measures a short at (1 − p) × q and the day from its opening marks', async () => {
  const r = await getJson('/api/risk');
  const by = Object.fromEntries(r.limits.map((l: { name: string }) => [l.name, l]));
  expect(by.maxPositionValue).toMatchObject({ used: '45.00' });
  expect(by.maxPortfolioExposure).toMatchObject({ used: '45.00' });
  expect(by.maxCategoryExposure).toMatchObject({ used: '45.00' });
  expect(by.fatFingerNotional).toMatchObject({ used: '9.00' });
  // Yesterday's $1.00 is not today's loss: the mark has not moved since the open.
  expect(by.maxDailyLoss).toMatchObject({ used: '0.00' });
});

it("the daily nets add up: yesterday's loss once", async () => {
  const p = await getJson('/api/pnl');
  expect(p.days.map((d: { tradingDay: string; netPnl: string }) => [d.tradingDay, d.netPnl])).toEqual([
    ['2026-01-06', '0.00'],
    ['2026-01-05', '-1.00'],
  ]);
});
