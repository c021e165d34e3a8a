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
  loadStrategyStates,
  markDailyPnl,
  recordBreakerChange as recordBreakerRows,
  lastAutomationLevel,
  recordOperatorAction as recordOperatorRow,
  saveStrategyStates,
  startSession,
  updateSession,
} from '../db';
import { mapErrors } from '../db/repositories/common';
import { tradingSessions } from '../db/schema';
import { orderSequencesOf, sessionWorkflowId, validateKey, validateTradingDay } from '../domain/ids';
import type { Carryover, CarryoverInput, MarketWarmth, OperationsActivities, OperatorAction, SessionActivities, StrategyStateInput } from '../contracts/activities';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { AUTOMATION_LEVELS, type AutomationLevel } from '../domain/automation';
import { validateMarketId } from '../domain/market';
import { createStrategy, STRATEGY_NAMES, type StrategyName } from '../domain/strategies';
import type { Strategy } from '../domain/strategy';
import { logEvent, reportOperatorAction, type ActivityDeps } from './deps';
import { carriedStates, warmthText } from './warmup';
import { runActivity } from './errors';
import type { ActivityServices } from './services';
import { freshMarks, tryVenue } from './venue-reads';

const DAY_MS = 86_400_000;

/** The strategy a session names and its market list, checked together (every bad field at once). */
function sessionStrategy(input: { strategyName?: unknown; strategyParams?: unknown; marketIds?: unknown }): { strategy: Strategy<unknown>; marketIds: string[] } {
  const problems: FieldProblem[] = [];
  if (!(STRATEGY_NAMES as readonly unknown[]).includes(input.strategyName)) problems.push({ field: 'strategyName', value: input.strategyName, problem: `must be one of ${STRATEGY_NAMES.join(', ')}` });
  const params = input.strategyParams ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) problems.push({ field: 'strategyParams', value: params, problem: 'must be an object' });
  const marketIds = input.marketIds;
  if (!Array.isArray(marketIds)) problems.push({ field: 'marketIds', value: marketIds, problem: 'must be a list of market IDs' });
  else
    marketIds.forEach((m, i) => {
      try {
        validateMarketId(m, `marketIds[${i}]`);
      } catch (e) {
        if (e instanceof InvalidInput) problems.push(...e.problems);
        else throw e;
      }
    });
  if (problems.length > 0) throw new InvalidInput(problems);
  return { strategy: createStrategy(input.strategyName as StrategyName, params as Record<string, unknown>), marketIds: marketIds as string[] };
}

export type SessionRecordActivities = Pick<SessionActivities, 'loadCarryover' | 'saveStrategyState' | 'recordBreakerChange' | 'recordOperatorAction' | 'writeDailySummary'> &
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
    loadCarryover: (input: CarryoverInput) =>
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
        const lastLevel = await lastAutomationLevel(db, strategy);
        const out: Carryover = { trips, lastSequence, lastActionSequence, ...((AUTOMATION_LEVELS as readonly unknown[]).includes(lastLevel) ? { lastAutomationLevel: lastLevel as AutomationLevel } : {}) };
        if (input.strategyName === undefined) return out;
        // The strategy's own state per market: the warm-up carried over from the last session.
        const { strategy: strat, marketIds } = sessionStrategy(input);
        const rows = await loadStrategyStates(db, { account, strategy, marketIds });
        const carried = carriedStates(strat, rows, marketIds, clock());
        const strategyState: Record<string, unknown> = {};
        const warmth: Record<string, MarketWarmth> = {};
        for (const c of carried) {
          if (c.refused === null) strategyState[c.marketId] = c.state;
          if (c.warmth) warmth[c.marketId] = c.warmth;
          logEvent(deps, 'warm_up_carried', { sessionId: record.sessionId }, { marketId: c.marketId, strategy: strat.name, ...(c.warmth ?? {}), refused: c.refused, quotedAt: c.quotedAt }, warmthText(c), c.refused === null || c.refused === 'NONE_RECORDED' ? 'info' : 'warn');
        }
        return { ...out, strategyState, warmth };
      }),

    saveStrategyState: (input: StrategyStateInput) =>
      runActivity(async () => {
        const key = validateKey(input?.strategy, 'strategy');
        const day = validateTradingDay(input.tradingDay);
        const states = input.strategyState;
        if (typeof states !== 'object' || states === null || Array.isArray(states)) throw InvalidInput.of('strategyState', states, 'must map markets to states');
        const { strategy } = sessionStrategy({ ...input, marketIds: Object.keys(states) });
        const sessionId = sessionWorkflowId(key, day);
        const warmth: Record<string, MarketWarmth> = {};
        const rows = [];
        for (const [marketId, state] of Object.entries(states)) {
          const quotedAt = input.quoteTimes?.[marketId];
          const w = strategy.warmth ? strategy.warmth(state) : null;
          if (strategy.warmth && w === null) throw InvalidInput.of(`strategyState.${marketId}`, state, `must be a state of ${strategy.name}`);
          if (w) warmth[marketId] = w;
          // A state with no quote time has not stepped a quote this session: the record already holds it.
          if (quotedAt === undefined) continue;
          if (!Number.isSafeInteger(quotedAt) || quotedAt <= 0) throw InvalidInput.of(`quoteTimes.${marketId}`, quotedAt, 'must be epoch milliseconds');
          rows.push({ account, strategy: key, marketId, strategyName: strategy.name, params: strategy.params as Record<string, unknown>, state, quotedAt, tradingDay: day, sessionId });
        }
        await saveStrategyStates(db, rows);
        return { warmth };
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
