/**
 * Venue settlements into the records (`syncSettlements`): each page the venue hands out after the
 * stored cursor is checked whole, booked once per settlement ID (db/repositories/settlements.ts:
 * the closed position's resolution P&L and the fee, in one transaction), and only then is the
 * cursor moved, as the fill sync does (fill-sync.ts). A malformed settlement stops the sync with
 * a MALFORMED_RESPONSE naming the field: nothing from its page is booked and the cursor stays.
 * A venue without settlements (the contract's `getSettlementsSince` is optional) syncs nothing.
 */
import { advanceSettlementCursor, bookSettlements, getSettlementCursor, settlementProblems, type BookedSettlement } from '../db';
import { AlertKey } from '../domain/ids';
import { formatDecimal } from '../domain/money';
import { fillCursorProblem } from '../contracts/venue';
import type { OperationsActivities, SettlementSyncResult } from '../contracts/activities';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import type { ActivityServices } from './services';
import { malformed } from './venue/errors';

/** Pages read by one sync at most; the next sync carries on from the stored cursor. */
const MAX_PAGES_PER_SYNC = 50;

/** Brings the records up to date with the venue's settlements; the reconciliation runs it before comparing. */
export async function syncSettlements(deps: ActivityDeps, services: Pick<ActivityServices, 'alerts'>): Promise<SettlementSyncResult & { booked: BookedSettlement[] }> {
  const { db, venue, config } = deps;
  const result = { supported: typeof venue.getSettlementsSince === 'function', pages: 0, settlementsSeen: 0, settlementsBooked: 0, booked: [] as BookedSettlement[] };
  if (!venue.getSettlementsSince) return result;
  const account = config.account;
  while (result.pages < MAX_PAGES_PER_SYNC) {
    const from = await getSettlementCursor(db, account);
    const page = await venue.getSettlementsSince(from);
    const cursorProblem = fillCursorProblem(page?.cursor);
    if (cursorProblem !== null) throw malformed(venue.name, 'getSettlementsSince', 'cursor', page?.cursor, cursorProblem);
    if (!Array.isArray(page.settlements)) throw malformed(venue.name, 'getSettlementsSince', 'settlements', page.settlements, 'must be an array');
    const [problem] = page.settlements.flatMap((s, i) => settlementProblems(s, `settlements[${i}]`));
    if (problem) throw malformed(venue.name, 'getSettlementsSince', problem.field, problem.value, problem.problem);
    result.pages += 1;
    result.settlementsSeen += page.settlements.length;
    const { booked } = await bookSettlements(db, { account, venue: venue.name, timeZone: config.timeZone }, page.settlements);
    result.settlementsBooked += booked.length;
    result.booked.push(...booked);
    await advanceSettlementCursor(db, { account, venue: venue.name, expected: from, next: page.cursor });
    if (!page.hasMore) break;
  }
  for (const b of result.booked) {
    if (b.localQuantity === 0) continue;
    await services.alerts.raiseAlert({
      level: 'LOW',
      type: 'MARKET_SETTLED',
      dedupeKey: AlertKey.marketSettled(account, b.marketId),
      title: `${b.marketId} resolved ${b.result}`,
      body: `${b.localQuantity} contracts settled by ${venue.name}; realized ${formatDecimal(b.realizedDelta)}, settlement fee ${formatDecimal(b.fee)}`,
    });
  }
  return result;
}

export function createSettlementSyncActivities(deps: ActivityDeps, services: ActivityServices): Pick<OperationsActivities, 'syncSettlements'> {
  return {
    syncSettlements: () =>
      runActivity(async () => {
        const { booked: _booked, ...summary } = await syncSettlements(deps, services);
        return summary;
      }),
  };
}
