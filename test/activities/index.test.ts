import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { Db } from '../../db';
import type { ResilientVenue } from '../../activities/venue/resilient-venue';
import { makeDeps } from '../../testkit/activities-harness';

/** Every name the workflows proxy (order-workflow.ts, session-workflow.ts, operations-workflows.ts, shadow-session.ts). */
const PROXIED = [
  'assessOrder', 'recordOrder', 'submitOrder', 'lookupOrder', 'pollOrder', 'cancelOrder', 'recordExecution', 'raiseAlert',
  'preflight', 'watchForSignal', 'syncFills', 'sessionSnapshot', 'loadCarryover', 'saveStrategyState', 'recordBreakerChange', 'recordOperatorAction', 'cancelAllOpenOrders', 'writeDailySummary',
  'reconcileAccount', 'adoptVenueFigures', 'listActiveSessions', 'resetDailyCounters', 'sendDailyReport', 'settleResolvedMarkets', 'syncSettlements',
  'watchShadow', 'compareShadowDecision',
];

describe('createActivities', () => {
  it('registers every activity the workflows call, as plain functions, and nothing else', () => {
    const venue = { name: 'paper', httpStats: () => null } as unknown as ResilientVenue;
    const acts = createActivities(makeDeps({ db: {} as Db, venue }));
    expect(Object.keys(acts).sort()).toEqual([...PROXIED].sort());
    for (const name of PROXIED) expect(typeof (acts as unknown as Record<string, unknown>)[name]).toBe('function');
  });

  it('turns a malformed alert into a typed, non-retryable failure', async () => {
    const venue = { name: 'paper', httpStats: () => null } as unknown as ResilientVenue;
    const acts = createActivities(makeDeps({ db: {} as Db, venue }));
    await expect(acts.raiseAlert({ level: 'LOUD' as never, type: '', dedupeKey: '', title: '', body: '' })).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  });
});
