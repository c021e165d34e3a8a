/**
 * The one-statement fill path (`recordFills` → `record_fills`, migration 0009) against the
 * TypeScript path (`recordFillsInTransaction`, whose arithmetic is domain/ledger.ts
 * applyFillToPosition): random fill sequences (fractional quantities, prices off the 100-micro
 * grid, flips long↔short, partial and whole closes, repeats of recorded trade IDs, batches of
 * several fills) go through both, each into an account of its own, on PGlite and PostgreSQL.
 * Positions, their history, the orders' fill totals, the audit payloads and the outcomes must be
 * the same to the micro and the hundredth of a contract, and equal to the pure ledger's fold.
 */
import fc from 'fast-check';
import { and, asc, eq, like } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { ArithmeticOverflow } from '../../domain/errors';
import { RecordConflict } from '../../db/errors';
import { getOrder, insertOrder } from '../../db/repositories/orders';
import { getPosition, recordFills, recordFillsInTransaction, type RecordFillsResult } from '../../db/repositories/fills';
import { auditLog, fills, positionHistory } from '../../db/schema';
import type { Db } from '../../db/client';
import type { Fill } from '../../domain/fill';
import { applyFillToPosition, emptyPosition, type Position } from '../../domain/ledger';
import type { Side } from '../../domain/market';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14);
const MARKETS = ['M1', 'M2'];

interface Step {
  market: number;
  order: number;
  side: Side;
  lots: number;
  price: number;
  fee: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  market: fc.integer({ min: 0, max: 1 }),
  order: fc.integer({ min: 0, max: 1 }),
  side: fc.constantFrom<Side>('BUY', 'SELL'),
  // Whole contracts, fractions, and sizes large enough to flip what is held.
  lots: fc.oneof(fc.integer({ min: 1, max: 10 }).map((q) => q * 100), fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 50 })),
  // On the cent grid, on the 100-micro grid, and anywhere (a fractional notional then rounds).
  price: fc.oneof(fc.integer({ min: 1, max: 99 }).map((c) => c * 10_000), fc.integer({ min: 1, max: 9_999 }).map((p) => p * 100), fc.integer({ min: 1, max: 999_999 })),
  fee: fc.integer({ min: 0, max: 50_000 }),
});

/** The sequence, where it is cut into batches (a cut after index i), and which earlier fills are sent again. */
const caseArb = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 24 }),
  cuts: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
  repeats: fc.array(fc.nat(), { maxLength: 4 }),
});

const coid = (path: string, run: number, order: number): string => `${path}${run}-20260115-00000${order + 1}`;

function fillsOf(path: string, run: number, steps: Step[]): Fill[] {
  return steps.map((s, i) => ({
    tradeId: `${path}${run}-T${i}`,
    clientOrderId: coid(path, run, s.order),
    marketId: MARKETS[s.market]!,
    side: s.side,
    quantity: (s.lots / 100) as Quantity,
    price: s.price as Price,
    fee: s.fee as Money,
    ts: T0 + i * 1_000,
  }));
}

type Record = (db: Db, batch: readonly Fill[], book: { account: string }) => Promise<RecordFillsResult>;

/** Sends the fills in batches, then the repeats; returns what each call reported, trade IDs made path-neutral. */
async function apply(db: Db, record: Record, account: string, all: Fill[], cuts: boolean[], repeats: number[], prefix: string) {
  const reported: unknown[] = [];
  const neutral = (r: RecordFillsResult) => ({
    outcomes: r.outcomes.map((o) => ({ ...o, tradeId: o.tradeId.slice(prefix.length) })),
    positions: r.positions.map((p) => ({ ...p, account: 'x' })).sort((a, b) => (a.marketId < b.marketId ? -1 : 1)),
  });
  let batch: Fill[] = [];
  for (let i = 0; i < all.length; i++) {
    batch.push(all[i]!);
    if (cuts[i] || i === all.length - 1) {
      reported.push(neutral(await record(db, batch, { account })));
      batch = [];
    }
  }
  for (const r of repeats) reported.push(neutral(await record(db, [all[r % all.length]!], { account })));
  return reported;
}

async function recordsOf(db: Db, account: string, path: string, run: number) {
  const prefix = `${path}${run}-`;
  const positionsNow = await Promise.all(MARKETS.map(async (m) => ({ ...(await getPosition(db, account, m)), account: 'x' })));
  const history = (await db.select().from(positionHistory).where(eq(positionHistory.account, account)).orderBy(asc(positionHistory.id))).map(
    ({ id: _id, recordedAt: _r, account: _a, tradeId, ...h }) => ({ ...h, tradeId: tradeId.slice(prefix.length) }),
  );
  const orderTotals = await Promise.all(
    [0, 1].map(async (o) => {
      const order = await getOrder(db, coid(path, run, o));
      return { filledQuantity: order?.filledQuantity, fillNotional: order?.fillNotional, fees: order?.fees };
    }),
  );
  const audit = (await db.select().from(auditLog).where(like(auditLog.eventKey, `FILL:${prefix}%`)).orderBy(asc(auditLog.seq))).map((a) => {
    const p = a.payload as { tradeId: string; account: string };
    return { occurredAt: a.occurredAt, marketId: a.marketId, payload: { ...p, tradeId: p.tradeId.slice(prefix.length), account: 'x' } };
  });
  const fillCount = (await db.select().from(fills).where(and(eq(fills.account, account), like(fills.tradeId, `${prefix}%`)))).length;
  return { positionsNow, history, orderTotals, audit, fillCount };
}

async function seedOrders(db: Db, path: string, run: number): Promise<void> {
  for (const o of [0, 1]) {
    await insertOrder(db, { clientOrderId: coid(path, run, o), marketId: 'M1', side: 'BUY', quantity: 1_000_000 as Quantity, limitPrice: null, strategy: 'prop', tradingDay: '2026-01-15', createdAt: T0 });
  }
}

forEachBackend('fills in one statement against the TypeScript path', (ctx) => {
  it('gives the same positions, history, order totals, audit and outcomes as the ledger, to the micro', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ steps, cuts, repeats }) => {
        run += 1;
        await seedOrders(ctx.db, 'a', run);
        await seedOrders(ctx.db, 'b', run);
        const viaTs = await apply(ctx.db, recordFillsInTransaction, `ts${run}`, fillsOf('a', run, steps), cuts, repeats, `a${run}-`);
        const viaSql = await apply(ctx.db, recordFills, `sql${run}`, fillsOf('b', run, steps), cuts, repeats, `b${run}-`);
        expect(viaSql).toEqual(viaTs);

        const ts = await recordsOf(ctx.db, `ts${run}`, 'a', run);
        const one = await recordsOf(ctx.db, `sql${run}`, 'b', run);
        expect(one).toEqual(ts);
        expect(one.fillCount).toBe(steps.length);

        const folded = new Map<string, Position>(MARKETS.map((m) => [m, emptyPosition(m)]));
        for (const f of fillsOf('b', run, steps)) folded.set(f.marketId, applyFillToPosition(folded.get(f.marketId)!, f));
        for (const p of one.positionsNow) {
          if (p.marketId === undefined) continue;
          const { account: _a, ...position } = p as Position & { account: string };
          expect(position).toEqual(folded.get(position.marketId));
        }
      }),
      { numRuns: ctx.kind === 'pglite' ? 40 : 60, seed: 16_016 },
    );
  });

  it('sends a trade ID with other content to the TypeScript path, which names the field; nothing of the batch is written', async () => {
    const base = fillsOf('c', 1, [{ market: 0, order: 0, side: 'BUY', lots: 150, price: 420_000, fee: 1_000 }]);
    await recordFills(ctx.db, base, { account: 'c' });
    const other: Fill = { ...base[0]!, price: 430_000 as Price };
    const fresh: Fill = { ...base[0]!, tradeId: 'c1-T9' };
    const err = await recordFills(ctx.db, [fresh, other], { account: 'c' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordConflict);
    expect((err as RecordConflict).field).toBe('price');
    expect((await ctx.db.select().from(fills).where(eq(fills.tradeId, 'c1-T9'))).length).toBe(0);
    expect((await getPosition(ctx.db, 'c', 'M1'))?.quantity).toBe(1.5);
  });

  it('leaves a figure beyond the safe integers to the TypeScript path: ArithmeticOverflow, nothing written', async () => {
    const huge = (i: number): Fill => ({ tradeId: `d-${i}`, clientOrderId: 'd-1', marketId: 'M1', side: 'BUY', quantity: 999_999_999 as Quantity, price: 999_999 as Price, fee: 0 as Money, ts: T0 + i });
    for (let i = 0; i < 9; i++) await recordFills(ctx.db, [huge(i)], { account: 'd' });
    const before = await getPosition(ctx.db, 'd', 'M1');
    const err = await recordFills(ctx.db, [huge(9)], { account: 'd' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArithmeticOverflow);
    expect(await getPosition(ctx.db, 'd', 'M1')).toEqual(before);
    expect((await ctx.db.select().from(fills).where(eq(fills.tradeId, 'd-9'))).length).toBe(0);
  });
});
