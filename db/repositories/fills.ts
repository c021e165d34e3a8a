/**
 * Fills and the position changes they cause, committed together. A fill arrives as the core's
 * `Fill` (what the venue adapters produce), booked to an account and the trading day of its
 * time in a zone; the one translation is to and from the table's row. A fill is inserted on its
 * venue trade ID; only a newly inserted fill moves its position (through the core's
 * `applyFillToPosition`, given the fill itself), appends position history and the audit log,
 * adds to its order's filled quantity. A repeat changes nothing; the same trade ID with other
 * content is a RecordConflict and the whole batch is rolled back.
 *
 * Locks are taken in one global order (trade IDs, then positions, then orders, each sorted), so concurrent writers queue behind each other instead of deadlocking.
 *
 * Two implementations of the same write: `recordFills` sends the whole batch as one statement to
 * the server-side function `record_fills` (migration 0009: one round trip, atomic as a statement),
 * and `recordFillsInTransaction` does it in a transaction of five round trips with the position
 * arithmetic in TypeScript. The function transcribes `applyFillToPosition` exactly
 * (test/db/record-fills-sql.test.ts compares the two on random sequences); for a batch it refuses
 * (a trade ID with other content, a figure beyond the safe integers) or inside a caller's open
 * transaction, `recordFills` takes the TypeScript path, which raises the typed error.
 */
import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Executor, Tx } from '../client';
import { RecordConflict, isTransient, toRecordError } from '../errors';
import { fills, orders, positionHistory, positions } from '../schema';
import { InvalidInput } from '../../domain/errors';
import { validateFill, type Fill } from '../../domain/fill';
import { isValidTimeZone, tradingDayIn } from '../../domain/calendar';
import { validateTradingDay } from '../../domain/ids';
import { applyFillToPosition, type Position } from '../../domain/ledger';
import type { Side } from '../../domain/market';
import { addQuantity, notional as notionalOf, parseMicros, parseSignedQuantity, quantityLots, quantityText, toNumericString, type Money } from '../../domain/money';
import { appendAudit, type AuditEntry } from './audit';
import { ACCOUNT_RE, differingFields, mapErrors, transaction } from './common';

/** Where fills are booked. */
export interface FillBook {
  /** Default 'paper'. */
  account?: string;
  /** The zone whose calendar date of a fill's `ts` is its trading day; default UTC. */
  timeZone?: string;
}

export interface StoredFill extends Fill {
  account: string;
  tradingDay: string;
  recordedAt: number;
}

export interface AccountPosition extends Position {
  account: string;
}

export interface FillOutcome {
  tradeId: string;
  /** False when this trade ID was already recorded with the same content. */
  inserted: boolean;
}

export interface RecordFillsResult {
  outcomes: FillOutcome[];
  /** Every position touched by a newly inserted fill, after the batch. */
  positions: AccountPosition[];
}

type FillRow = typeof fills.$inferInsert;

const key = (account: string, marketId: string): string => `${account}\u0000${marketId}`;

/** Zones already found valid: checking one builds an Intl.DateTimeFormat, which costs more than the rest of a fill's preparation. */
const checkedZones = new Set<string>();

function checkedBook(book: FillBook): { account: string; timeZone: string } {
  const account = book.account ?? 'paper';
  if (typeof account !== 'string' || !ACCOUNT_RE.test(account)) throw InvalidInput.of('account', account, 'must be 1-64 letters, digits, "_", "." or "-"');
  const timeZone = book.timeZone ?? 'UTC';
  if (!checkedZones.has(timeZone) && !isValidTimeZone(timeZone)) throw InvalidInput.of('timeZone', timeZone, 'must be an IANA time zone such as America/New_York');
  checkedZones.add(timeZone);
  return { account, timeZone };
}

/** The table's row for a fill: the one translation between the core's shape and the records'. */
function toRow(f: Fill, index: number, many: boolean, book: { account: string; timeZone: string }): FillRow {
  try {
    validateFill(f);
  } catch (e) {
    if (e instanceof InvalidInput && many) throw new InvalidInput(e.problems.map((p) => ({ ...p, field: `fills[${index}].${p.field}` })));
    throw e;
  }
  return {
    tradeId: f.tradeId,
    clientOrderId: f.clientOrderId,
    account: book.account,
    marketId: f.marketId,
    side: f.side,
    quantity: f.quantity,
    price: f.price,
    fee: f.fee,
    filledAt: f.ts,
    tradingDay: tradingDayIn(f.ts, book.timeZone),
  };
}

const CONTENT_FIELDS = ['clientOrderId', 'account', 'marketId', 'side', 'quantity', 'price', 'fee', 'filledAt', 'tradingDay'] as const;

function conflict(stored: FillRow, offered: FillRow): RecordConflict | null {
  const diff = differingFields(stored, offered, CONTENT_FIELDS);
  if (diff.length === 0) return null;
  const f = diff[0] as keyof FillRow;
  return new RecordConflict('fills', offered.tradeId, diff, stored[f], offered[f]);
}

/** Records one fill and its position change in one transaction. */
export async function recordFill(ex: Executor, fill: Fill, book: FillBook = {}): Promise<{ inserted: boolean; position: AccountPosition }> {
  const result = await recordFills(ex, [fill], book);
  const account = book.account ?? 'paper';
  const position = result.positions[0] ?? (await getPosition(ex, account, fill.marketId));
  return { inserted: result.outcomes[0]!.inserted, position: position ?? { ...emptyAccountPosition(account, fill.marketId) } };
}

function emptyAccountPosition(account: string, marketId: string): AccountPosition {
  return { account, marketId, quantity: 0, costBasis: 0 as Money, realizedPnl: 0 as Money, fees: 0 as Money };
}

/**
 * Records a batch of fills in one statement, applied to positions in the order given (the
 * venue's execution order). Either every new fill and its effects commit, or none does.
 */
export async function recordFills(ex: Executor, batch: readonly Fill[], book: FillBook = {}): Promise<RecordFillsResult> {
  const prepared = prepareBatch(batch, book);
  if (prepared.unique.length === 0) return { outcomes: [], positions: [] };
  // Inside a caller's transaction a refused statement would abort it: the TypeScript path there.
  if (ex instanceof PgTransaction) return applyBatch(ex as Tx, prepared.unique, prepared.rows);
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyBatchInOneStatement(ex, prepared.unique, prepared.rows);
    } catch (err) {
      const code = sqlState(err);
      if (code === REFUSED_CONFLICT || code === REFUSED_OVERFLOW) return transaction(ex, (tx) => applyBatch(tx, prepared.unique, prepared.rows));
      if (attempt < STATEMENT_ATTEMPTS && isTransient(err)) continue;
      throw toRecordError(err);
    }
  }
}

/** The same write as `recordFills` in one transaction of five round trips, the position arithmetic in TypeScript. */
export async function recordFillsInTransaction(ex: Executor, batch: readonly Fill[], book: FillBook = {}): Promise<RecordFillsResult> {
  const prepared = prepareBatch(batch, book);
  if (prepared.unique.length === 0) return { outcomes: [], positions: [] };
  return transaction(ex, (tx) => applyBatch(tx, prepared.unique, prepared.rows));
}

/** SQLSTATEs `record_fills` raises for what it leaves to the TypeScript path (migration 0009). */
const REFUSED_CONFLICT = 'RF001';
const REFUSED_OVERFLOW = 'RF002';
const STATEMENT_ATTEMPTS = 4;

/** The server's SQLSTATE, on the error or on what it wraps (drizzle wraps the driver's error). */
function sqlState(err: unknown): unknown {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function prepareBatch(batch: readonly Fill[], book: FillBook): { unique: { fill: Fill; row: FillRow }[]; rows: FillRow[] } {
  const where = checkedBook(book);
  const many = batch.length > 1;
  const rows = batch.map((f, i) => toRow(f, i, many, where));
  // Repeats inside the batch count once; different content under one ID is refused up front.
  const unique = new Map<string, { fill: Fill; row: FillRow }>();
  rows.forEach((r, i) => {
    const seen = unique.get(r.tradeId);
    if (seen) {
      const c = conflict(seen.row, r);
      if (c) throw c;
    } else unique.set(r.tradeId, { fill: batch[i]!, row: r });
  });
  return { unique: [...unique.values()], rows };
}

interface RecordFillsRow {
  o_trade_id: string | null;
  o_inserted: boolean;
  o_account: string | null;
  o_market_id: string | null;
  o_quantity: string | null;
  o_cost_basis: string | null;
  o_realized_pnl: string | null;
  o_fees: string | null;
}

/** The batch through `record_fills`: one round trip. */
async function applyBatchInOneStatement(ex: Executor, uniqueFills: { fill: Fill; row: FillRow }[], allRows: FillRow[]): Promise<RecordFillsResult> {
  const payload = uniqueFills.map(({ row: r }) => ({
    t: r.tradeId,
    o: r.clientOrderId,
    a: r.account,
    m: r.marketId,
    s: r.side,
    q: quantityLots(r.quantity),
    p: r.price,
    f: r.fee,
    ms: r.filledAt,
    d: r.tradingDay,
  }));
  const result = await ex.execute(sql`select o_trade_id, o_inserted, o_account, o_market_id, o_quantity::text as o_quantity,
      o_cost_basis::text as o_cost_basis, o_realized_pnl::text as o_realized_pnl, o_fees::text as o_fees
    from record_fills(${JSON.stringify(payload)}::jsonb)`);
  // postgres.js hands back the rows, PGlite an object holding them.
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as RecordFillsRow[];
  const insertedIds = new Set(rows.filter((r) => r.o_trade_id !== null && r.o_inserted).map((r) => r.o_trade_id!));
  const positionsAfter: AccountPosition[] = rows
    .filter((r) => r.o_trade_id === null)
    .map((r) => ({
      account: r.o_account!,
      marketId: r.o_market_id!,
      quantity: parseSignedQuantity(r.o_quantity, 'quantity'),
      costBasis: parseMicros(r.o_cost_basis!, 'cost_basis') as Money,
      realizedPnl: parseMicros(r.o_realized_pnl!, 'realized_pnl') as Money,
      fees: parseMicros(r.o_fees!, 'fees') as Money,
    }));
  return { outcomes: outcomesOf(allRows, insertedIds), positions: positionsAfter };
}

/** One outcome per fill given; a trade ID repeated inside the batch is reported inserted once, at its first appearance. */
function outcomesOf(allRows: FillRow[], insertedIds: ReadonlySet<string>): FillOutcome[] {
  const reported = new Set<string>();
  return allRows.map((r) => {
    const inserted = insertedIds.has(r.tradeId) && !reported.has(r.tradeId);
    reported.add(r.tradeId);
    return { tradeId: r.tradeId, inserted };
  });
}

async function applyBatch(tx: Tx, uniqueFills: { fill: Fill; row: FillRow }[], allRows: FillRow[]): Promise<RecordFillsResult> {
  const uniqueRows = uniqueFills.map((u) => u.row);
  const sorted = [...uniqueRows].sort((a, b) => (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0));
  const insertedIds = new Set(
    (await tx.insert(fills).values(sorted).onConflictDoNothing({ target: fills.tradeId }).returning({ tradeId: fills.tradeId })).map((r) => r.tradeId),
  );

  const repeats = sorted.filter((r) => !insertedIds.has(r.tradeId));
  if (repeats.length > 0) {
    const stored = await tx.select().from(fills).where(inArray(fills.tradeId, repeats.map((r) => r.tradeId)));
    const byId = new Map(stored.map((s) => [s.tradeId, s]));
    for (const r of repeats) {
      const s = byId.get(r.tradeId);
      const c = s ? conflict(s, r) : null;
      if (c) throw c;
    }
  }

  const outcomes = outcomesOf(allRows, insertedIds);
  const fresh = uniqueFills.filter((u) => insertedIds.has(u.row.tradeId));
  if (fresh.length === 0) return { outcomes, positions: [] };

  const positionKeys = [...new Map(fresh.map(({ row: r }) => [key(r.account!, r.marketId), { account: r.account!, marketId: r.marketId }])).values()].sort(
    (a, b) => (key(a.account, a.marketId) < key(b.account, b.marketId) ? -1 : 1),
  );
  // Creates missing rows and locks all of them, in key order, in one statement: an upsert takes
  // the same row lock as SELECT ... FOR UPDATE, and waits for a concurrent writer's commit.
  const locked = await tx
    .insert(positions)
    .values(positionKeys)
    .onConflictDoUpdate({ target: [positions.account, positions.marketId], set: { account: sql`excluded.account` } })
    .returning();

  const current = new Map<string, AccountPosition & { fillCount: number; lastTradeId: string | null; changedAt: number }>();
  for (const p of locked) {
    current.set(key(p.account, p.marketId), {
      account: p.account,
      marketId: p.marketId,
      quantity: p.quantity,
      costBasis: p.costBasis,
      realizedPnl: p.realizedPnl,
      fees: p.fees,
      fillCount: p.fillCount,
      lastTradeId: p.lastTradeId,
      changedAt: 0,
    });
  }

  const history: (typeof positionHistory.$inferInsert)[] = [];
  const audit: AuditEntry[] = [];
  const orderDeltas = new Map<string, { quantity: number; notional: number; fees: number }>();

  for (const { fill, row: r } of fresh) {
    const k = key(r.account!, r.marketId);
    const before = current.get(k)!;
    const after = applyFillToPosition(before, fill);
    current.set(k, { ...after, account: before.account, fillCount: before.fillCount + 1, lastTradeId: r.tradeId, changedAt: r.filledAt });
    // The order's fill notional as the order state machine computes it (exact for 4-decimal prices).
    const notional = notionalOf(r.price, r.quantity);
    history.push({
      account: before.account,
      marketId: r.marketId,
      tradeId: r.tradeId,
      cause: 'FILL',
      tradingDay: r.tradingDay,
      quantity: after.quantity,
      costBasis: after.costBasis,
      realizedPnl: after.realizedPnl,
      fees: after.fees,
      realizedDelta: (after.realizedPnl - before.realizedPnl) as Money,
      fee: r.fee,
      contractsTraded: r.quantity,
      notionalTraded: notional as Money,
      changedAt: r.filledAt,
    });
    const od = orderDeltas.get(r.clientOrderId) ?? { quantity: 0, notional: 0, fees: 0 };
    orderDeltas.set(r.clientOrderId, { quantity: addQuantity(od.quantity, r.quantity), notional: od.notional + notional, fees: od.fees + r.fee });
    audit.push({
      eventKey: `FILL:${r.tradeId}`,
      kind: 'FILL',
      clientOrderId: r.clientOrderId,
      marketId: r.marketId,
      occurredAt: r.filledAt,
      payload: {
        tradeId: r.tradeId,
        account: before.account,
        side: r.side,
        quantity: r.quantity,
        price: r.price,
        fee: r.fee,
        positionAfter: { quantity: after.quantity, costBasis: after.costBasis, realizedPnl: after.realizedPnl, fees: after.fees },
      },
    });
  }

  // Independent writes, sent together: the driver pipelines them on the transaction's connection
  // and the server runs them in this order, so the lock order above still holds.
  const writes: Promise<unknown>[] = [];
  // One UPDATE ... FROM (VALUES ...) per table however many rows: the position rows are already
  // locked above, and an order's fills all belong to the position whose lock we hold.
  const positionValues = positionKeys.map((k) => {
    const p = current.get(key(k.account, k.marketId))!;
    return sql`(${p.account}, ${p.marketId}, ${quantityText(p.quantity)}, ${toNumericString(p.costBasis)}, ${toNumericString(p.realizedPnl)}, ${toNumericString(p.fees)}, ${String(p.fillCount)}, ${p.lastTradeId})`;
  });
  writes.push(
    tx.execute(sql`update ${positions} set
        quantity = v.quantity::numeric, cost_basis = v.cost_basis::numeric, realized_pnl = v.realized_pnl::numeric,
        fees = v.fees::numeric, fill_count = v.fill_count::integer, last_trade_id = v.last_trade_id, updated_at = now()
      from (values ${sql.join(positionValues, sql`, `)}) as v(account, market_id, quantity, cost_basis, realized_pnl, fees, fill_count, last_trade_id)
      where ${positions}.account = v.account and ${positions}.market_id = v.market_id`),
  );
  writes.push(tx.insert(positionHistory).values(history).execute());
  const orderValues = [...orderDeltas]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([id, d]) => sql`(${id}, ${quantityText(d.quantity)}, ${toNumericString(d.notional)}, ${toNumericString(d.fees)})`);
  writes.push(
    tx.execute(sql`update ${orders} set
        filled_quantity = ${orders}.filled_quantity + v.quantity::numeric,
        fill_notional = ${orders}.fill_notional + v.notional::numeric,
        fees = ${orders}.fees + v.fees::numeric
      from (values ${sql.join(orderValues, sql`, `)}) as v(client_order_id, quantity, notional, fees)
      where ${orders}.client_order_id = v.client_order_id`),
  );
  writes.push(appendAudit(tx, audit));
  await Promise.all(writes);

  const touched = positionKeys.map((k) => {
    const p = current.get(key(k.account, k.marketId))!;
    return { account: p.account, marketId: p.marketId, quantity: p.quantity, costBasis: p.costBasis, realizedPnl: p.realizedPnl, fees: p.fees };
  });
  return { outcomes, positions: touched };
}

export async function getPosition(ex: Executor, account: string, marketId: string): Promise<AccountPosition | null> {
  const [p] = await mapErrors(ex.select().from(positions).where(and(eq(positions.account, account), eq(positions.marketId, marketId))));
  return p ? { account: p.account, marketId: p.marketId, quantity: p.quantity, costBasis: p.costBasis, realizedPnl: p.realizedPnl, fees: p.fees } : null;
}

/** The core's Fill of a row: the records' `filled_at` is the fill's `ts`. */
const fillOf = (r: typeof fills.$inferSelect): Fill => ({
  tradeId: r.tradeId,
  clientOrderId: r.clientOrderId,
  marketId: r.marketId,
  side: r.side as Side,
  quantity: r.quantity,
  price: r.price,
  fee: r.fee,
  ts: r.filledAt,
});

const toStoredFill = (r: typeof fills.$inferSelect): StoredFill => ({ ...fillOf(r), account: r.account, tradingDay: r.tradingDay, recordedAt: r.recordedAt });

/** The fills of one order, oldest first, as the core's Fill: what its workflow is told. */
export async function listOrderFills(ex: Executor, clientOrderId: string): Promise<Fill[]> {
  const rows = await mapErrors(ex.select().from(fills).where(eq(fills.clientOrderId, clientOrderId)).orderBy(asc(fills.filledAt), asc(fills.tradeId)).limit(10_000));
  return rows.map(fillOf);
}

export async function listFills(
  ex: Executor,
  filter: { clientOrderId?: string; marketId?: string; account?: string; tradingDay?: string; limit?: number } = {},
): Promise<StoredFill[]> {
  const where: SQL[] = [];
  if (filter.clientOrderId !== undefined) where.push(eq(fills.clientOrderId, filter.clientOrderId));
  if (filter.marketId !== undefined) where.push(eq(fills.marketId, filter.marketId));
  if (filter.account !== undefined) where.push(eq(fills.account, filter.account));
  if (filter.tradingDay !== undefined) where.push(eq(fills.tradingDay, validateTradingDay(filter.tradingDay)));
  const rows = await mapErrors(
    ex
      .select()
      .from(fills)
      .where(and(...where))
      .orderBy(asc(fills.filledAt), asc(fills.tradeId))
      .limit(filter.limit ?? 10_000),
  );
  return rows.map(toStoredFill);
}
