/**
 * The sessions' records: the trading-session row (RUNNING when a session loads, COMPLETED with
 * its summary at the end of the day), what a fresh session carries over, breaker changes and the
 * operator journal (one implementation for the session and the operations workflows).
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import {
  listOperatorActions,
  listOrders,
  listPositions,
  listRiskDecisions,
  loadActiveTrips,
  markDailyPnl,
  recordBreakerChange as recordBreakerRows,
  recordOperatorAction as recordOperatorRow,
  startSession,
  updateSession,
} from '../db';
import { mapErrors } from '../db/repositories/common';
import { tradingSessions } from '../db/schema';
import { orderSequencesOf, sessionWorkflowId, validateKey, validateTradingDay } from '../domain/ids';
import type { OperationsActivities, OperatorAction, SessionActivities } from '../contracts/activities';
import { reportOperatorAction, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import type { ActivityServices } from './services';
import { freshMarks, tryVenue } from './venue-reads';

const DAY_MS = 86_400_000;

export type SessionRecordActivities = Pick<SessionActivities, 'loadCarryover' | 'recordBreakerChange' | 'recordOperatorAction' | 'writeDailySummary'> &
  Pick<OperationsActivities, 'listActiveSessions'>;

export function createSessionRecordActivities(deps: ActivityDeps, services: ActivityServices): SessionRecordActivities {
  const { db, venue, config, clock } = deps;
  const account = config.account;
  const sessionMode = config.venueName === 'paper' ? 'PAPER' : 'LIVE';

  function sessionRecord(strategy: string, tradingDay: string) {
    return { sessionId: sessionWorkflowId(strategy, tradingDay), strategy, tradingDay, account, mode: sessionMode, startedAt: clock() } as const;
  }

  return {
    /**
     * Active trips, today's highest client order sequence and the highest journal sequence of
     * today's session workflow (a failed run of it may have written some); also records the
     * session as RUNNING.
     */
    loadCarryover: (input: { strategy: string; tradingDay: string }) =>
      runActivity(async () => {
        const strategy = validateKey(input?.strategy, 'strategy');
        const day = validateTradingDay(input.tradingDay);
        const record = sessionRecord(strategy, day);
        await startSession(db, record);
        // Today's orders, decisions and journal entries were made within the last two days in any time zone.
        const since = clock() - 3 * DAY_MS;
        const [trips, orders, decisions, actions] = await Promise.all([
          loadActiveTrips(db, strategy),
          listOrders(db, { strategy, tradingDay: day, limit: 100_000 }),
          listRiskDecisions(db, { strategy, since, limit: 100_000 }),
          listOperatorActions(db, { from: since, limit: 100_000 }),
        ]);
        const ids = [...orders.map((o) => o.clientOrderId), ...decisions.map((d) => d.clientOrderId).filter((c): c is string => c !== null)];
        const lastSequence = Math.max(0, ...orderSequencesOf(strategy, day, ids));
        const lastActionSequence = Math.max(0, ...actions.filter((a) => a.workflowId === record.sessionId).map((a) => a.sequence));
        return { trips, lastSequence, lastActionSequence };
      }),

    recordBreakerChange: (input) =>
      runActivity(async () => {
        await recordBreakerRows(db, input);
      }),

    recordOperatorAction: (action: OperatorAction) =>
      runActivity(async () => {
        await recordOperatorRow(db, { ...action, at: clock() });
        reportOperatorAction(deps, action);
      }),

    /**
     * Marks the day's P&L at current quotes and closes the session record with a summary. Syncs
     * the venue's fills first unless the session did so itself (`syncFills: false`).
     */
    writeDailySummary: (input: { strategy: string; tradingDay: string; syncFills?: boolean }) =>
      runActivity(async () => {
        const strategy = validateKey(input?.strategy, 'strategy');
        const day = validateTradingDay(input.tradingDay);
        if (input.syncFills !== false) await tryVenue('fill sync', () => services.fills.sync());
        const { marks } = await freshMarks(venue, await listPositions(db, { account, openOnly: true }));
        const at = clock();
        const pnl = await markDailyPnl(db, { account, tradingDay: day, at, marks });
        const orders = await listOrders(db, { strategy, tradingDay: day, limit: 100_000 });
        const byState: Record<string, number> = {};
        for (const o of orders) byState[o.state] = (byState[o.state] ?? 0) + 1;
        const record = sessionRecord(strategy, day);
        await startSession(db, record);
        await updateSession(db, record.sessionId, {
          status: 'COMPLETED',
          at,
          summary: {
            realizedPnl: pnl.realizedPnl,
            unrealizedPnl: pnl.unrealizedPnl,
            fees: pnl.fees,
            netPnl: pnl.netPnl,
            fillCount: pnl.fillCount,
            contractsTraded: pnl.contractsTraded,
            notionalTraded: pnl.notionalTraded,
            orders: orders.length,
            ordersByState: byState,
          },
        });
      }),

    /** Workflow IDs of the account's sessions still RUNNING or HALTED, oldest first. */
    listActiveSessions: () =>
      runActivity(async () => {
        const rows = await mapErrors(
          db
            .select({ id: tradingSessions.sessionId })
            .from(tradingSessions)
            .where(and(eq(tradingSessions.account, account), inArray(tradingSessions.status, ['RUNNING', 'HALTED'])))
            .orderBy(asc(tradingSessions.startedAt), asc(tradingSessions.sessionId)),
        );
        return rows.map((r) => r.id);
      }),
  };
}
