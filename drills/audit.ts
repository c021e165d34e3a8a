/**
 * The end-of-trial comparison of the venue with the records, from both sides' own data:
 * - venue orders per client order ID from the exchange's state, and the venue order ID the
 *   records hold for each (the paper exchange keys orders by client order ID, so a second
 *   order would show as an order the records name that the venue does not, or as more orders
 *   created than it holds);
 * - every venue fill from /v1/fills (paged from the start) against the fills table, by trade ID;
 * - each order's filled quantity in the records against the venue's;
 * - each market's recorded position against the signed sum of the venue's fills (or against
 *   the figures a drill says were adopted);
 * - recorded orders still open, and whether an alert names each.
 */
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import type { Db } from '../db/client';
import type { PaperExchange } from '../exchange/server';
import type { Fill } from '../domain/fill';
import { TERMINAL_STATES } from '../domain/order';
import type { DrillCounts } from './types';

export interface AuditInput {
  db: Db;
  venue: ResilientVenue;
  exchange: PaperExchange;
  keyId: string;
  /** Limit the order checks to these client order IDs (default: every order of the account). */
  clientOrderIds?: readonly string[];
  /** Orders whose run ended without a final state (deadline, crash): unresolved even if the records say otherwise. */
  runsUnfinished?: readonly string[];
  /** Expected recorded position per market where it is not the sum of the venue's fills (adopted figures). */
  expectedPositions?: ReadonlyMap<string, number>;
  /** A group per client order ID (a drill's kill point): each finding about an order is also counted under its group. */
  groups?: ReadonlyMap<string, string>;
}

export type GroupCounts = Omit<DrillCounts, 'trials' | 'alerts'>;

export interface AuditResult {
  counts: Omit<DrillCounts, 'trials'>;
  problems: string[];
  venueFills: number;
  recordedFills: number;
  venueOrders: number;
  /** Findings per group of `groups` (market-wide ones, positions and orders created beyond those held, are in `counts` only). */
  byGroup: Map<string, GroupCounts>;
}

export async function rows(db: Db, query: string): Promise<Record<string, unknown>[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  return (result as { rows: Record<string, unknown>[] }).rows;
}

export async function allVenueFills(venue: ResilientVenue): Promise<Fill[]> {
  const out: Fill[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    const p = await venue.getFillsSince(cursor);
    out.push(...p.fills);
    if (p.fills.length === 0 || p.hasMore === false) break;
    cursor = p.cursor;
  }
  return out;
}

const signed = (side: string, quantity: number): number => (side === 'BUY' ? quantity : -quantity);

export async function audit(input: AuditInput): Promise<AuditResult> {
  const { db, exchange, keyId } = input;
  const problems: string[] = [];
  const scope = input.clientOrderIds ? new Set(input.clientOrderIds) : null;
  const inScope = (coid: string) => scope === null || scope.has(coid);
  const byGroup = new Map<string, GroupCounts>();
  const count = (coid: string | null, field: keyof GroupCounts, n = 1) => {
    const group = coid === null ? undefined : input.groups?.get(coid);
    if (group === undefined) return;
    const c = byGroup.get(group) ?? { duplicates: 0, lostFills: 0, doubleCountedFills: 0, unresolved: 0, unresolvedAlerted: 0 };
    c[field] += n;
    byGroup.set(group, c);
  };

  const state = exchange.engine.toState();
  const account = state.accounts.find((a) => a.keyId === keyId);
  const venueByCoid = new Map<string, { venueOrderIds: string[]; filled: number }>();
  for (const o of account?.orders ?? []) {
    const v = venueByCoid.get(o.clientOrderId) ?? { venueOrderIds: [], filled: 0 };
    v.venueOrderIds.push(o.venueOrderId);
    v.filled += o.filledQuantity;
    venueByCoid.set(o.clientOrderId, v);
  }

  // Orders the exchange created beyond those it holds (only meaningful for a whole exchange).
  const held = state.accounts.reduce((n, a) => n + a.orders.length, 0);
  if (scope === null && state.orderSeq > held) problems.push(`the exchange created ${state.orderSeq} orders but holds ${held}`);
  const createdBeyondHeld = scope === null ? Math.max(0, state.orderSeq - held) : 0;

  const recordedOrders = await rows(db, `select client_order_id, state, filled_quantity::bigint as filled, venue_order_id from orders`);
  let duplicates = createdBeyondHeld;
  for (const [coid, v] of venueByCoid) {
    if (!inScope(coid) || v.venueOrderIds.length <= 1) continue;
    duplicates += v.venueOrderIds.length - 1;
    count(coid, 'duplicates', v.venueOrderIds.length - 1);
    problems.push(`${coid}: ${v.venueOrderIds.length} venue orders`);
  }
  for (const r of recordedOrders) {
    const coid = String(r.client_order_id);
    const held = r.venue_order_id === null ? null : String(r.venue_order_id);
    if (!inScope(coid) || held === null) continue;
    const v = venueByCoid.get(coid);
    if (!v || !v.venueOrderIds.includes(held)) {
      duplicates += 1;
      count(coid, 'duplicates');
      problems.push(`${coid}: the records hold venue order ${held}, which the venue does not have under that client order ID`);
    }
  }

  const venueFills = await allVenueFills(input.venue);
  const recorded = await rows(db, `select trade_id, client_order_id, market_id, side, quantity::bigint as quantity from fills`);
  const recordedCount = new Map<string, number>();
  const recordedOrderOf = new Map<string, string>();
  for (const r of recorded) {
    recordedCount.set(String(r.trade_id), (recordedCount.get(String(r.trade_id)) ?? 0) + 1);
    recordedOrderOf.set(String(r.trade_id), String(r.client_order_id));
  }
  const venueTradeIds = new Set(venueFills.map((f) => f.tradeId));
  let lostFills = 0;
  let doubleCountedFills = 0;
  for (const f of venueFills) {
    const n = recordedCount.get(f.tradeId) ?? 0;
    if (n === 0) {
      lostFills += 1;
      count(f.clientOrderId, 'lostFills');
      problems.push(`fill ${f.tradeId} of ${f.clientOrderId} is at the venue but not in the ledger`);
    } else if (n > 1) {
      doubleCountedFills += n - 1;
      count(f.clientOrderId, 'doubleCountedFills', n - 1);
      problems.push(`fill ${f.tradeId} is in the ledger ${n} times`);
    }
  }
  for (const tradeId of recordedCount.keys()) {
    if (!venueTradeIds.has(tradeId)) {
      doubleCountedFills += 1;
      count(recordedOrderOf.get(tradeId) ?? null, 'doubleCountedFills');
      problems.push(`fill ${tradeId} is in the ledger but the venue never reported it`);
    }
  }

  // Order totals: the records must not count more than the venue filled.
  for (const r of recordedOrders) {
    const coid = String(r.client_order_id);
    if (!inScope(coid)) continue;
    const venueFilled = venueByCoid.get(coid)?.filled ?? 0;
    const filled = Number(r.filled);
    if (filled > venueFilled) {
      doubleCountedFills += 1;
      count(coid, 'doubleCountedFills');
      problems.push(`${coid}: ${filled} contracts filled in the records, ${venueFilled} at the venue`);
    }
  }

  // Positions: recorded quantity against the venue's fills (only where the fill counts found nothing, to count a difference once).
  if (lostFills === 0 && doubleCountedFills === 0) {
    const fromFills = new Map<string, number>();
    for (const f of venueFills) fromFills.set(f.marketId, (fromFills.get(f.marketId) ?? 0) + signed(f.side, f.quantity));
    const positions = await rows(db, `select market_id, quantity::bigint as quantity from positions`);
    const markets = new Set([...fromFills.keys(), ...positions.map((p) => String(p.market_id)), ...(input.expectedPositions?.keys() ?? [])]);
    for (const m of markets) {
      const local = Number(positions.find((p) => String(p.market_id) === m)?.quantity ?? 0);
      const expected = input.expectedPositions?.get(m) ?? fromFills.get(m) ?? 0;
      if (local === expected) continue;
      if (Math.abs(local) > Math.abs(expected)) doubleCountedFills += 1;
      else lostFills += 1;
      problems.push(`position in ${m}: ${local} in the records, ${expected} expected from the venue`);
    }
  }

  const alerts = await rows(db, `select dedupe_key, title, body from alerts`);
  const alerted = (coid: string) => alerts.some((a) => String(a.dedupe_key).includes(coid) || String(a.title).includes(coid) || String(a.body).includes(coid));
  const unresolvedIds = new Set<string>();
  // A run that died is unresolved if it left something behind: an order the venue has that the
  // records lack or that is still working. One that failed before sending or recording anything
  // left no order at all (a failed intent, reported as a finding).
  const recordedIds = new Set(recordedOrders.map((r) => String(r.client_order_id)));
  for (const coid of input.runsUnfinished ?? []) {
    const atVenue = account?.orders.find((o) => o.clientOrderId === coid);
    if (atVenue && (!recordedIds.has(coid) || atVenue.status === 'OPEN' || atVenue.status === 'PARTIALLY_FILLED')) unresolvedIds.add(coid);
    else if (!atVenue && !recordedIds.has(coid)) problems.push(`${coid}: its run failed before anything was recorded or sent`);
  }
  for (const r of recordedOrders) {
    const coid = String(r.client_order_id);
    if (inScope(coid) && !(TERMINAL_STATES as readonly string[]).includes(String(r.state))) unresolvedIds.add(coid);
  }
  const unresolved = [...unresolvedIds];
  const unresolvedAlerted = unresolved.filter(alerted).length;
  for (const coid of unresolved) {
    count(coid, 'unresolved');
    if (alerted(coid)) count(coid, 'unresolvedAlerted');
    problems.push(`${coid}: unresolved${alerted(coid) ? ' (alerted)' : ' and NOT alerted'}`);
  }

  return {
    counts: { duplicates, lostFills, doubleCountedFills, unresolved: unresolved.length, unresolvedAlerted, alerts: alerts.length },
    problems,
    venueFills: venueFills.length,
    recordedFills: recorded.length,
    venueOrders: account?.orders.length ?? 0,
    byGroup,
  };
}
