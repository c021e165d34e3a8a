/**
 * The workflow controllers (workflows/order-lifecycle.ts, workflows/reconciliation.ts) run
 * without a Temporal server, on the real activities. What stands in for the server:
 * - each activity call runs in a MockActivityEnvironment whose attempt number rises on a retry
 *   (submitOrder looks the order up first on attempt 2, as it does in a worker);
 * - retries follow the workflows' own policies (attempt caps, non-retryable types and intervals
 *   copied from workflows/order-workflow.ts and operations-workflows.ts), the intervals run
 *   TIME_SCALE times as long, and no attempt starts after the trial's deadline;
 * - durable waits and timers are ordinary timers, every wait capped at `maxWaitMs`.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { OrderActivities, OrderIntent } from '../contracts/activities';
import type { OrderStatus, OrderWorkflowInput } from '../workflows/api';
import { makeClientOrderId } from '../domain/ids';
import type { Price, Quantity } from '../domain/money';
import { OrderLifecycle } from '../workflows/order-lifecycle';

export interface RetryRule {
  /** null: retry until the deadline (Temporal's default of unlimited attempts). */
  maxAttempts: number | null;
  nonRetryable: readonly string[];
  /** The workflow's initial and maximum retry intervals, ms (scaled by TIME_SCALE when run). */
  initialMs: number;
  maxMs: number;
}

/** Retry intervals and durable waits run this many times faster than in production. */
export const TIME_SCALE = 0.1;

/** workflows/order-workflow.ts's activity options: attempt caps, non-retryable types, intervals. */
export const ORDER_RETRY_RULES: Record<keyof OrderActivities, RetryRule> = {
  assessOrder: { maxAttempts: 10, nonRetryable: ['InvalidInput', 'UnknownMarket'], initialMs: 200, maxMs: 5_000 },
  recordOrder: { maxAttempts: null, nonRetryable: ['InvalidInput', 'RecordError'], initialMs: 1_000, maxMs: 30_000 },
  recordExecution: { maxAttempts: null, nonRetryable: ['InvalidInput', 'RecordError'], initialMs: 1_000, maxMs: 30_000 },
  submitOrder: { maxAttempts: 3, nonRetryable: ['AUTH', 'BAD_REQUEST', 'AMBIGUOUS_SUBMIT', 'InvalidInput'], initialMs: 1_000, maxMs: 10_000 },
  lookupOrder: { maxAttempts: 10, nonRetryable: ['AUTH'], initialMs: 1_000, maxMs: 30_000 },
  pollOrder: { maxAttempts: null, nonRetryable: ['AUTH', 'InvalidInput'], initialMs: 1_000, maxMs: 60_000 },
  cancelOrder: { maxAttempts: null, nonRetryable: ['AUTH', 'InvalidInput'], initialMs: 1_000, maxMs: 60_000 },
  raiseAlert: { maxAttempts: 10, nonRetryable: [], initialMs: 2_000, maxMs: 60_000 },
};

/** workflows/operations-workflows.ts: one policy for every operations activity. */
export const OPERATIONS_RETRY_RULE: RetryRule = { maxAttempts: null, nonRetryable: ['InvalidInput', 'RecordError', 'AUTH'], initialMs: 1_000, maxMs: 60_000 };

/** A run that passed its trial's deadline: the drill counts its order as unresolved. */
export class DrillDeadline extends Error {
  constructor(what: string) {
    super(`drill deadline passed during ${what}`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const quietLogger = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export function failureType(error: unknown): string | null {
  return error instanceof ApplicationFailure ? (error.type ?? 'UNKNOWN') : null;
}

export interface RetryOptions {
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  /** Told of every failed attempt (for the drill's log). */
  onFailure?: (activity: string, attempt: number, error: unknown) => void;
}

/** Wraps each activity in the retry behaviour a worker gives it under `rules`. */
export function withRetryPolicies<T extends object>(acts: T, rules: (name: string) => RetryRule, options: RetryOptions): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    if (typeof fn !== 'function') continue;
    const rule = rules(name);
    out[name] = async (...args: unknown[]) => {
      let interval = rule.initialMs * TIME_SCALE;
      for (let attempt = 1; ; attempt++) {
        if (Date.now() > options.deadline) throw new DrillDeadline(name);
        try {
          const env = new MockActivityEnvironment({ attempt, activityType: name }, { logger: quietLogger });
          return await env.run(() => (fn as (...a: unknown[]) => Promise<unknown>)(...args));
        } catch (e) {
          options.onFailure?.(name, attempt, e);
          const type = failureType(e);
          const final = !(e instanceof ApplicationFailure) || e.nonRetryable || (type !== null && rule.nonRetryable.includes(type));
          if (final || (rule.maxAttempts !== null && attempt >= rule.maxAttempts)) throw e;
          await sleep(interval);
          interval = Math.min(interval * 2, rule.maxMs * TIME_SCALE);
        }
      }
    };
  }
  return out as T;
}

export const orderRules = (name: string): RetryRule => ORDER_RETRY_RULES[name as keyof OrderActivities] ?? OPERATIONS_RETRY_RULE;

/** Durable wait stand-in: polls `until` every 10 ms for at most min(ms, maxWaitMs). */
export function cappedWaitFor(maxWaitMs: number): (until: () => boolean, ms: number) => Promise<boolean> {
  return async (until, ms) => {
    const deadline = Date.now() + Math.min(ms, maxWaitMs);
    for (;;) {
      if (until()) return true;
      if (Date.now() >= deadline) return until();
      await sleep(Math.min(10, deadline - Date.now()));
    }
  };
}

export interface LifecycleRun {
  lifecycle: OrderLifecycle;
  /** The final status, or the error the run ended with (a deadline, a non-retryable failure). */
  outcome: Promise<{ status: OrderStatus } | { error: unknown }>;
}

/** Runs one order lifecycle to its end on `acts` (already wrapped with retries). */
export function runLifecycle(acts: OrderActivities, input: OrderWorkflowInput, maxWaitMs = 100): LifecycleRun {
  const timers = new Set<NodeJS.Timeout>();
  const lifecycle = new OrderLifecycle(input, {
    acts,
    waitFor: cappedWaitFor(maxWaitMs),
    startTimer: (ms, onFire) => {
      const t = setTimeout(() => {
        timers.delete(t);
        onFire();
      }, ms);
      timers.add(t);
    },
    failureType,
  });
  const outcome = lifecycle.run().then(
    (status) => ({ status }),
    (error: unknown) => ({ error }),
  );
  void outcome.finally(() => {
    for (const t of timers) clearTimeout(t);
  });
  return { lifecycle, outcome };
}

export interface ScriptedOrder {
  strategy: string;
  tradingDay: string;
  sequence: number;
  marketId: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  limitPrice: number;
  ttlMs: number;
  at: number;
  halted?: string | null;
}

/** The input a session would give an order workflow, for an order the drill scripts. */
export function orderInput(o: ScriptedOrder): OrderWorkflowInput {
  const order: OrderIntent = {
    clientOrderId: makeClientOrderId(o.strategy, o.tradingDay, o.sequence),
    marketId: o.marketId,
    side: o.side,
    quantity: o.quantity as Quantity,
    limitPrice: o.limitPrice as Price,
  };
  return {
    order,
    context: {
      strategy: o.strategy,
      sessionWorkflowId: null,
      tradingDay: o.tradingDay,
      signal: { price: order.limitPrice!, confidence: 1, at: o.at, metadata: { intent: 'ENTER', source: 'drill' } },
    },
    ttlMs: o.ttlMs,
    halted: o.halted ?? null,
    ordersInLastMinute: 0,
    searchAttributes: false,
  };
}
