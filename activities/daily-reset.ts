/**
 * The daily reset (`resetDailyCounters`): rolls the daily P&L marks to a new trading day and
 * lifts DAILY_LOSS trips from before it, once per account and day (journaled under
 * `dailyResetJournalKey`, taken under an advisory lock).
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { loadActiveTrips, markDailyPnl, openTradingDay, recordBreakerChange, recordOperatorAction } from '../db';
import { transaction } from '../db/repositories/common';
import { breakerEvents, operatorActions } from '../db/schema';
import { BreakerKind } from '../domain/breakers';
import { addDays, startOfDayIn, tradingDayIn } from '../domain/calendar';
import { InvalidInput } from '../domain/errors';
import { dailyResetJournalKey, validateTradingDay } from '../domain/ids';
import type { OperationsActivities } from '../contracts/activities';
import { reportOperatorAction, type ActivityDeps } from './deps';
import { runActivity } from './errors';

async function resetDailyCounters(deps: ActivityDeps, input: { tradingDay: string | null; scheduledAt?: number | null }): Promise<{ tradingDay: string; previousDay: string; liftedTrips: number; dayStartAt: number }> {
  const { db, config, clock } = deps;
  const account = config.account;
  const now = clock();
  const scheduledAt = input?.scheduledAt ?? null;
  if (scheduledAt !== null && (!Number.isSafeInteger(scheduledAt) || scheduledAt <= 0)) {
    throw InvalidInput.of('scheduledAt', scheduledAt, 'must be epoch milliseconds (the time the schedule meant) or null');
  }
  // The schedule's time, not this activity's clock: a run picked up after midnight (worker down) still resets the day it was meant for.
  const day = input?.tradingDay == null ? tradingDayIn(scheduledAt ?? now, config.timeZone) : validateTradingDay(input.tradingDay);
  const previousDay = addDays(day, -1);
  const journalKey = dailyResetJournalKey(account, day);
  const dayStart = startOfDayIn(day, config.timeZone);
  let performed: { liftedTrips: number; strategies: string | null } | null = null;
  const result = await transaction(db, async (tx) => {
    performed = null;
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${journalKey}))`);
    const [done] = await tx
      .select()
      .from(operatorActions)
      .where(and(eq(operatorActions.workflowId, journalKey), eq(operatorActions.sequence, 0)));
    if (done) return { tradingDay: day, previousDay, liftedTrips: Number(done.details.liftedTrips ?? 0), dayStartAt: dayStart };
    const strategies = (await tx.selectDistinct({ strategy: breakerEvents.strategy }).from(breakerEvents).orderBy(asc(breakerEvents.strategy))).map((r) => r.strategy);
    let lifted = 0;
    const liftedFor: string[] = [];
    for (const strategy of strategies) {
      // DAILY_LOSS only, and only trips from before the new day: manual halts and drawdown wait for a person.
      const trips = (await loadActiveTrips(tx, strategy)).filter((t) => t.kind === BreakerKind.DAILY_LOSS && t.since < dayStart);
      if (trips.length === 0) continue;
      await recordBreakerChange(tx, { strategy, tradingDay: day, change: 'LIFTED', trips, at: now });
      lifted += trips.length;
      liftedFor.push(strategy);
    }
    // Close the old day's mark and record the new day's opening marks, from which its loss is
    // measured (realized P&L per day comes from position history). The opening is written once.
    await markDailyPnl(tx, { account, tradingDay: previousDay, at: now });
    await openTradingDay(tx, { account, tradingDay: day, at: now });
    await recordOperatorAction(tx, {
      action: 'DAILY_RESET',
      operator: 'daily-reset',
      reason: `trading day ${day} starts in ${config.timeZone}`,
      workflowId: journalKey,
      sequence: 0,
      details: { account, tradingDay: day, previousDay, liftedTrips: lifted, strategies: liftedFor.join(',') || null },
      at: now,
    });
    performed = { liftedTrips: lifted, strategies: liftedFor.join(',') || null };
    return { tradingDay: day, previousDay, liftedTrips: lifted, dayStartAt: dayStart };
  });
  const done = performed as { liftedTrips: number; strategies: string | null } | null;
  if (done) {
    reportOperatorAction(deps, { action: 'DAILY_RESET', operator: 'daily-reset', reason: `trading day ${day} starts in ${config.timeZone}`, workflowId: journalKey, sequence: 0, details: { account, tradingDay: day, previousDay, ...done } });
  }
  return result;
}

export function createDailyResetActivities(deps: ActivityDeps): Pick<OperationsActivities, 'resetDailyCounters'> {
  return {
    resetDailyCounters: (input) => runActivity(() => resetDailyCounters(deps, input)),
  };
}
