/**
 * Atomicity: a failure between the writes of a fill (after the fill row and the position are
 * written, before the audit entry) leaves nothing visible, and a retry then records it once.
 * On a server, the same holds when the writing process is killed with SIGKILL mid-transaction.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { recordFill } from '../../db/repositories/fills';
import { insertOrder } from '../../db/repositories/orders';
import { listDailyPnl, listPositions } from '../../db/repositories/positions';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend, rawRows, SERVER_URL } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14);
/** The child's statement as pg_stat_activity shows it: the audit insert of the TypeScript path, or the one-statement path's call. */
const WRITING_FILL = 'insert into "audit_log"|record_fills\\(';
const fill = { tradeId: 'T-crash', clientOrderId: 'mr-20260115-000001', marketId: 'M1', side: 'BUY' as const, quantity: 5 as Quantity, price: 400_000 as Price, fee: 1_000 as Money, ts: T0 };

async function counts(db: Parameters<typeof rawRows>[0]) {
  const [row] = await rawRows(
    db,
    `select (select count(*) from fills)::int as fills, (select count(*) from positions)::int as positions,
            (select count(*) from position_history)::int as history,
            (select count(*) from audit_log where kind = 'FILL')::int as audit,
            (select filled_quantity::int from orders where client_order_id = 'mr-20260115-000001') as filled`,
  );
  return row;
}

forEachBackend('crash between writes', (ctx) => {
  it('rolls back every write of a fill when the last one fails', async () => {
    await insertOrder(ctx.db, { clientOrderId: fill.clientOrderId, marketId: 'M1', side: 'BUY', quantity: 5 as Quantity, limitPrice: null, strategy: 'mr', tradingDay: '2026-01-15', createdAt: T0 - 1 });
    // The audit insert is the last statement of the fill transaction: make it fail.
    await ctx.db.execute(`create function fail_fill_audit() returns trigger language plpgsql as $$
      begin if new.kind = 'FILL' then raise exception 'simulated crash before the audit write'; end if; return new; end $$`);
    await ctx.db.execute(`create trigger fail_fill_audit before insert on audit_log for each row execute function fail_fill_audit()`);
    await expect(recordFill(ctx.db, fill)).rejects.toThrow(/simulated crash/);
    expect(await counts(ctx.db)).toEqual({ fills: 0, positions: 0, history: 0, audit: 0, filled: 0 });

    await ctx.db.execute(`drop trigger fail_fill_audit on audit_log`);
    expect((await recordFill(ctx.db, fill)).inserted).toBe(true);
    expect((await recordFill(ctx.db, fill)).inserted).toBe(false);
    expect(await counts(ctx.db)).toEqual({ fills: 1, positions: 1, history: 1, audit: 1, filled: 5 });
    expect((await listPositions(ctx.db))[0]).toMatchObject({ quantity: 5, costBasis: 2_000_000 });
    expect((await listDailyPnl(ctx.db))[0]).toMatchObject({ fillCount: 1, fees: 1_000 });
  });

  // Only a server has another process to kill mid-transaction (PGlite lives in this one).
  if (ctx.kind === 'postgres') it('leaves nothing when the writing process is killed mid-transaction', async () => {
    // Hold the fill transaction open at its last write, then kill the process holding it.
    await ctx.db.execute(`create function stall_fill_audit() returns trigger language plpgsql as $$
      begin if new.kind = 'FILL' then perform pg_sleep(60); end if; return new; end $$`);
    await ctx.db.execute(`create trigger stall_fill_audit before insert on audit_log for each row execute function stall_fill_audit()`);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-child.ts', import.meta.url))], {
      env: { ...process.env, CRASH_URL: SERVER_URL, CRASH_SCHEMA: ctx.schema, CRASH_FILL: JSON.stringify(fill) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
    try {
      let stalled = false;
      for (let i = 0; i < 200 && !stalled; i++) {
        const rows = await admin`select 1 from pg_stat_activity where wait_event = 'PgSleep' and query ~* ${WRITING_FILL} and backend_xid is not null`;
        stalled = rows.length > 0;
        if (!stalled) await new Promise((r) => setTimeout(r, 50));
      }
      expect(stalled, `the child never reached the audit write: ${stderr}`).toBe(true);
      child.kill('SIGKILL');
      await exited;
      // The killed process never commits. The server aborts its open transaction when it notices
      // the dropped socket, which it cannot do inside pg_sleep; end that backend the same way.
      for (let i = 0; i < 100; i++) {
        const rows = await admin`select 1 from pg_stat_activity where wait_event = 'PgSleep' and query ~* ${WRITING_FILL}`;
        if (rows.length === 0) break;
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where wait_event = 'PgSleep' and query ~* ${WRITING_FILL}`;
        await new Promise((r) => setTimeout(r, 50));
      }
      await ctx.db.execute(`drop trigger stall_fill_audit on audit_log`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await admin.end({ timeout: 5 });
    }
    expect(await counts(ctx.db)).toEqual({ fills: 0, positions: 0, history: 0, audit: 0, filled: null });
    expect((await recordFill(ctx.db, fill)).inserted).toBe(true);
  });
});
