/** A trading session as the server scenarios start it with in-memory activities (FakeWorld), and how they end it. */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../workflows/domain/breakers';
import { MICROS, type Money } from '../../workflows/domain/money';

/** One market, one-second polls, an hour to go, the case study's limits; `over` changes any field. */
export function testSessionInput(strategy: string, tradingDay: string, over: Partial<SessionWorkflowInput> = {}): SessionWorkflowInput {
  return {
    strategy,
    strategyName: 'ema-mean-reversion',
    strategyParams: {},
    tradingDay,
    marketIds: ['PRES-2028'],
    endOfDayAt: Date.now() + 3_600_000,
    watchPeriodMs: 60_000,
    pollIntervalMs: 1_000,
    orderTtlMs: 60_000,
    maxDailyLoss: (200 * MICROS) as Money,
    breakers: CASE_STUDY_BREAKERS,
    searchAttributes: false,
    ...over,
  };
}

/** Terminates a workflow the test started; one already gone is fine. */
export async function terminateQuietly(h: WorkflowHandle): Promise<void> {
  await h.terminate('test finished').catch((e: unknown) => {
    if (!(e instanceof WorkflowNotFoundError)) throw e;
  });
}
