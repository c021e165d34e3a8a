/** Sessions and orders as the server scenarios start them with in-memory activities (FakeWorld), and how they end them. */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { OrderWorkflowInput, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { MICROS, type Money, type Price, type Quantity } from '../../domain/money';

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

/** A BUY of `quantity` at 0.43 in PRES-2028 for strategy 'srv', outside any session; `extra` changes any field. */
export function testOrderInput(clientOrderId: string, quantity: number, ttlMs: number, tradingDay: string, extra: Partial<OrderWorkflowInput> = {}): OrderWorkflowInput {
  return {
    order: { clientOrderId, marketId: 'PRES-2028', side: 'BUY', quantity: quantity as Quantity, limitPrice: 430_000 as Price },
    context: { strategy: 'srv', sessionWorkflowId: null, tradingDay, signal: { price: 430_000 as Price, confidence: 0.6, at: Date.now(), metadata: {} } },
    ttlMs,
    halted: null,
    ordersInLastMinute: 0,
    searchAttributes: false,
    ...extra,
  };
}

/** Terminates a workflow the test started; one already gone is fine. */
export async function terminateQuietly(h: WorkflowHandle): Promise<void> {
  await h.terminate('test finished').catch((e: unknown) => {
    if (!(e instanceof WorkflowNotFoundError)) throw e;
  });
}
