/**
 * Venue settlements booked into the records (the issue's "book each resolution once"): each one
 * the venue reports (contracts/venue.ts `VenueSettlement`) is booked exactly once, keyed on the
 * account, the venue and the venue's settlement ID, as resolution P&L:
 *
 * - the records' position in the market closes at the resolution value, by the core ledger's
 *   rules: 1 a contract for YES, 0 for NO (`settlePosition`); a VOID market has no such value,
 *   so it closes at the cash the venue paid for it (`settlePositionAtPayout`), pro rata when the
 *   records held a different quantity than the venue settled;
 * - the settlement's fee is added to the position's fees.
 *
 * The cash this books is therefore payout - fee, as the ledger's net cash flow counts it
 * (domain/ledger.ts `positionsNetCashFlow`), and the venue's balance moved by `cash - fee`: the
 * reconciliation finds them equal when the records held what the venue settled.
 *
 * A settlement the records already booked by another path (the resolution run, which settles
 * from the market's outcome, activities/resolution.ts) finds the position flat and books only
 * its fee. Where the sync stands is a cursor in venue_cursors under the key
 * `settlements:<account>` (":" is not allowed in an account name, so it never meets a fill cursor).
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Executor, Tx } from '../client';
import { RecordConflict } from '../errors';
import { markets, positionHistory, positions, venueCursors, venueSettlements } from '../schema';
import { fillCursorProblem, type VenueSettlement } from '../../contracts/venue';
import { tradingDayIn } from '../../domain/calendar';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { settlePosition, settlePositionAtPayout, type Position } from '../../domain/ledger';
import { validateMarketId } from '../../domain/market';
import { mulDiv, quantityLots, type Money } from '../../domain/money';
import { appendAudit } from './audit';
import { ACCOUNT_RE, differingFields, mapErrors, transaction } from './common';

const SETTLEMENT_ID_MAX = 200;
const RESULTS = ['YES', 'NO', 'VOID'] as const;

/** Every problem with a settlement as a venue handed it over, each naming its field under `path`. */
export function settlementProblems(s: unknown, path = 'settlement'): FieldProblem[] {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return [{ field: path, value: s, problem: 'must be a settlement object' }];
  const o = s as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const bad = (field: string, problem: string) => problems.push({ field: `${path}.${field}`, value: o[field], problem });
  const id = o.settlementId;
  if (typeof id !== 'string' || id.length < 1 || id.length > SETTLEMENT_ID_MAX || !/^[\x21-\x7e]+$/.test(id)) bad('settlementId', `must be 1-${SETTLEMENT_ID_MAX} visible ASCII characters`);
  try {
    validateMarketId(o.marketId);
  } catch {
    bad('marketId', 'must be a market ID');
  }
  if (!RESULTS.includes(o.result as (typeof RESULTS)[number])) bad('result', `must be one of ${RESULTS.join(', ')}`);
  const q = o.quantity;
  let quantityOk = typeof q === 'number' && Number.isFinite(q);
  if (quantityOk) {
    try {
      quantityLots(q as number);
    } catch {
      quantityOk = false;
    }
  }
  if (!quantityOk) bad('quantity', 'must be signed contracts with at most 2 decimal places');
  if (typeof o.cash !== 'number' || !Number.isSafeInteger(o.cash)) bad('cash', 'must be integer micros');
  if (typeof o.fee !== 'number' || !Number.isSafeInteger(o.fee) || o.fee < 0) bad('fee', 'must be non-negative integer micros');
  if (typeof o.ts !== 'number' || !Number.isSafeInteger(o.ts) || o.ts <= 0) bad('ts', 'must be epoch milliseconds');
  return problems;
}

function checkAccount(account: string): void {
  if (typeof account !== 'string' || !ACCOUNT_RE.test(account)) throw InvalidInput.of('account', account, 'must be 1-64 letters, digits, "_", "." or "-"');
}

export interface BookedSettlement {
  settlementId: string;
  marketId: string;
  result: VenueSettlement['result'];
  /** The records' position just before: what the booking closed. */
  localQuantity: number;
  /** Realized P&L the booking added (payout - cost basis of the closed position). */
  realizedDelta: Money;
  fee: Money;
}

export interface SettlementBookResult {
  /** Settlements booked by this call, in page order. */
  booked: BookedSettlement[];
  /** Settlements of the page the records already held (booked earlier, same content). */
  alreadyBooked: number;
}

const historyKey = (account: string, venue: string, settlementId: string): string => `SETTLEMENT:${venue}:${account}:${settlementId}`;

/** The payout the closed position earns: the ledger's value for YES/NO, the venue's cash (pro rata) for VOID. */
function closePosition(before: Position, s: VenueSettlement): Position {
  if (before.quantity === 0) return before;
  if (s.result !== 'VOID') return settlePosition(before, s.result);
  const venueLots = quantityLots(s.quantity, 'quantity');
  const localLots = quantityLots(before.quantity, 'quantity');
  const payout = venueLots === localLots ? s.cash : venueLots === 0 ? 0 : mulDiv(s.cash, localLots, venueLots);
  return settlePositionAtPayout(before, payout as Money);
}

async function bookOne(tx: Tx, account: string, venue: string, timeZone: string, s: VenueSettlement): Promise<BookedSettlement | null> {
  // The position row is the lock: two syncs booking the same market queue here.
  await tx.insert(positions).values({ account, marketId: s.marketId }).onConflictDoNothing();
  const [row] = await tx
    .select()
    .from(positions)
    .where(and(eq(positions.account, account), eq(positions.marketId, s.marketId)))
    .for('update');
  const [stored] = await tx
    .select()
    .from(venueSettlements)
    .where(and(eq(venueSettlements.account, account), eq(venueSettlements.venue, venue), eq(venueSettlements.settlementId, s.settlementId)));
  if (stored) {
    const offered = { marketId: s.marketId, result: s.result, quantity: s.quantity, cash: s.cash, fee: s.fee, settledAt: s.ts };
    const was = { marketId: stored.marketId, result: stored.result, quantity: stored.quantity, cash: stored.cash, fee: stored.fee, settledAt: stored.settledAt };
    const differ = differingFields(was, offered, ['marketId', 'result', 'quantity', 'cash', 'fee', 'settledAt']);
    if (differ.length > 0) throw new RecordConflict('venue_settlements', `${venue}:${s.settlementId}`, differ, was[differ[0] as keyof typeof was], offered[differ[0] as keyof typeof offered]);
    return null;
  }
  const before: Position = { marketId: s.marketId, quantity: row!.quantity, costBasis: row!.costBasis, realizedPnl: row!.realizedPnl, fees: row!.fees };
  const closed = closePosition(before, s);
  const after: Position = { ...closed, fees: (before.fees + s.fee) as Money };
  const realizedDelta = (after.realizedPnl - before.realizedPnl) as Money;
  await tx.insert(venueSettlements).values({
    account,
    venue,
    settlementId: s.settlementId,
    marketId: s.marketId,
    result: s.result,
    quantity: s.quantity,
    cash: s.cash,
    fee: s.fee,
    settledAt: s.ts,
    localQuantity: before.quantity,
    realizedDelta,
  });
  const key = historyKey(account, venue, s.settlementId);
  if (before.quantity !== 0 || s.fee !== 0) {
    await tx.insert(positionHistory).values({
      account,
      marketId: s.marketId,
      tradeId: key,
      cause: 'SETTLEMENT',
      tradingDay: tradingDayIn(s.ts, timeZone),
      quantity: after.quantity,
      costBasis: after.costBasis,
      realizedPnl: after.realizedPnl,
      fees: after.fees,
      realizedDelta,
      fee: s.fee,
      contractsTraded: 0,
      notionalTraded: 0 as Money,
      changedAt: s.ts,
    });
    await tx
      .update(positions)
      .set({ quantity: after.quantity, costBasis: after.costBasis, realizedPnl: after.realizedPnl, fees: after.fees, updatedAt: sql`now()` })
      .where(and(eq(positions.account, account), eq(positions.marketId, s.marketId)));
  }
  if (s.result !== 'VOID') await tx.update(markets).set({ outcome: s.result }).where(eq(markets.marketId, s.marketId));
  await appendAudit(tx, [
    {
      eventKey: key,
      kind: 'SETTLEMENT',
      marketId: s.marketId,
      occurredAt: s.ts,
      payload: { source: 'venue', venue, account, settlement: { ...s }, before, after },
    },
  ]);
  return { settlementId: s.settlementId, marketId: s.marketId, result: s.result, localQuantity: before.quantity, realizedDelta, fee: s.fee };
}

/**
 * Books a page of venue settlements in one transaction, each once. The whole page is checked
 * first: one bad settlement refuses the page (InvalidInput naming the field) and nothing is booked.
 */
export async function bookSettlements(
  ex: Executor,
  input: { account: string; venue: string; timeZone: string },
  settlements: readonly VenueSettlement[],
): Promise<SettlementBookResult> {
  checkAccount(input.account);
  if (!Array.isArray(settlements)) throw InvalidInput.of('settlements', settlements, 'must be an array');
  const problems = settlements.flatMap((s, i) => settlementProblems(s, `settlements[${i}]`));
  if (problems.length > 0) throw new InvalidInput(problems);
  if (settlements.length === 0) return { booked: [], alreadyBooked: 0 };
  return transaction(ex, async (tx) => {
    const result: SettlementBookResult = { booked: [], alreadyBooked: 0 };
    for (const s of settlements) {
      const booked = await bookOne(tx, input.account, input.venue, input.timeZone, s);
      if (booked) result.booked.push(booked);
      else result.alreadyBooked += 1;
    }
    return result;
  });
}

export async function listVenueSettlements(ex: Executor, account: string) {
  checkAccount(account);
  return mapErrors(ex.select().from(venueSettlements).where(eq(venueSettlements.account, account)).orderBy(venueSettlements.settledAt, venueSettlements.settlementId));
}

const cursorKey = (account: string): string => `settlements:${account}`;

/** The stored settlement cursor, or null before the first sync (read the venue from the beginning). */
export async function getSettlementCursor(ex: Executor, account: string): Promise<string | null> {
  checkAccount(account);
  const [row] = await mapErrors(ex.select({ cursor: venueCursors.fillCursor }).from(venueCursors).where(eq(venueCursors.account, cursorKey(account))));
  return row?.cursor ?? null;
}

/** Compare-and-set from `expected` (null: none yet) to `next`; false, changing nothing, when another sync moved it first. */
export async function advanceSettlementCursor(ex: Executor, input: { account: string; venue: string; expected: string | null; next: string }): Promise<boolean> {
  checkAccount(input.account);
  const problem = fillCursorProblem(input.next);
  if (problem !== null) throw InvalidInput.of('next', input.next, problem);
  if (input.expected === input.next) return true;
  const key = cursorKey(input.account);
  if (input.expected === null) {
    const rows = await mapErrors(
      ex.insert(venueCursors).values({ account: key, venue: input.venue, fillCursor: input.next }).onConflictDoNothing().returning({ account: venueCursors.account }),
    );
    return rows.length === 1;
  }
  const rows = await mapErrors(
    ex
      .update(venueCursors)
      .set({ fillCursor: input.next, venue: input.venue, updatedAt: sql`now()` })
      .where(and(eq(venueCursors.account, key), eq(venueCursors.fillCursor, input.expected)))
      .returning({ account: venueCursors.account }),
  );
  return rows.length === 1;
}
