/**
 * Issue 14: the CLI's `pnl` by day adds each day's net; with each day's cumulative unrealized in
 * it, a position held two days at a $9.90 loss read −19.80 in total. Each day now carries its own
 * change in unrealized (from its opening marks), so the total is the true −9.90.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markDailyPnl, markPositions, openDatabase, recordFill } from '../../db';
import { run, type CliIo } from '../../cli/main';
import type { Money, Price, Quantity } from '../../domain/money';

const JAN5 = '2026-01-05';
const JAN6 = '2026-01-06';
const NOW = Date.UTC(2026, 0, 6, 18);
let root: string;
let dataDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'durable-trader-pnl-'));
  dataDir = join(root, 'data');
  const database = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
  try {
    const db = database.db;
    await recordFill(db, { tradeId: 'T-1', clientOrderId: 'mr-20260105-000001', marketId: 'PRES-2028', side: 'BUY', quantity: 90 as Quantity, price: 500_000 as Price, fee: 0 as Money, ts: Date.UTC(2026, 0, 5, 12) });
    await markPositions(db, 'paper', { 'PRES-2028': 390_000 as Price }, Date.UTC(2026, 0, 5, 20));
    // Both days marked at the close, the mark unchanged on Jan 6, and no opening recorded
    // (as records written before the opening existed): Jan 6 opens with Jan 5's close.
    await markDailyPnl(db, { tradingDay: JAN5, at: Date.UTC(2026, 0, 5, 23) });
    await markDailyPnl(db, { tradingDay: JAN6, at: Date.UTC(2026, 0, 6, 17) });
  } finally {
    await database.close();
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: () => undefined, env: { DATA_DIR: dataDir, OPERATOR: 'tester' }, progressStream: null, now: () => NOW, connectTimeoutMs: 1_000, osUser: () => 'os-user' };
  return { code: await run(argv, io), stdout };
}

it('pnl by day: each day its own change in unrealized, a two-day total of −9.90, not −19.80', async () => {
  const json = await cli(['pnl', '--days', '2', '--json']);
  expect(json.code).toBe(0);
  const r = JSON.parse(json.stdout) as { days: Record<string, unknown>[]; total: Record<string, unknown> };
  expect(r.days.map((d) => [d.tradingDay, d.unrealizedPnl, d.unrealizedChange, d.netPnl])).toEqual([
    [JAN6, '-9.900000', '0.000000', '0.000000'],
    [JAN5, '-9.900000', '-9.900000', '-9.900000'],
  ]);
  expect(r.total).toMatchObject({ unrealizedChange: '-9.900000', netPnl: '-9.900000' });
  const table = await cli(['pnl', '--days', '2']);
  expect(table.stdout).toMatch(/TOTAL\s+0\.00\s+-9\.90\s+0\.00\s+-9\.90\s+1/);
});
