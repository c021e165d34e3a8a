/**
 * The workflow controllers (workflows/order-lifecycle.ts, workflows/reconciliation.ts) run
 * without a Temporal server, on the real activities. What stands in for the server:
 * - each activity call runs in a MockActivityEnvironment whose attempt number rises on a retry;
 * - retries follow the workflows' own policies (attempt caps, non-retryable types and intervals
 *   from workflows/activity-options.ts), the intervals run TIME_SCALE times as long, and no
 *   attempt starts after the trial's deadline;
 * - durable waits and timers are ordinary timers, every wait capped at `maxWaitMs`.
 */
import { TimerSet } from '../testkit/timers';
import { ApplicationFailure, type ActivityOptions, type LocalActivityOptions } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { OrderActivities, OrderIntent } from '../contracts/activities';
import type { OrderStatus, OrderWorkflowInput } from '../workflows/api';
import { makeClientOrderId } from '../domain/ids';
import type { Price, Quantity } from '../domain/money';
import { ORDER_ACTIVITY_OPTIONS, OPERATIONS_ACTIVITY_OPTIONS } from '../workflows/activity-options';
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

/** The retry behaviour a worker gives an activity proxied with `options`. */
export function retryRuleOf(options: ActivityOptions | LocalActivityOptions): RetryRule {
  const retry = options.retry ?? {};
  const initialMs = msToNumber(retry.initialInterval ?? '1 second');
  return {
    maxAttempts: retry.maximumAttempts ?? null,
    nonRetryable: retry.nonRetryableErrorTypes ?? [],
    initialMs,
    // Temporal's default maximum interval is 100 times the initial one.
    maxMs: retry.maximumInterval === undefined ? 100 * initialMs : msToNumber(retry.maximumInterval),
  };
}

/** The order workflow's retry policies (workflows/activity-options.ts), per activity. */
export const ORDER_RETRY_RULES = Object.fromEntries(Object.entries(ORDER_ACTIVITY_OPTIONS).map(([name, o]) => [name, retryRuleOf(o)])) as Record<keyof OrderActivities, RetryRule>;

/** The operations workflows' policy for their record and venue activities. */
export const OPERATIONS_RETRY_RULE: RetryRule = retryRuleOf(OPERATIONS_ACTIVITY_OPTIONS.records);

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
  /** Retry intervals run this many times as long as the policy says (default TIME_SCALE). */
  timeScale?: number;
}

/** Wraps each activity in the retry behaviour a worker gives it under `rules`. */
export function withRetryPolicies<T extends object>(acts: T, rules: (name: string) => RetryRule, options: RetryOptions): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    if (typeof fn !== 'function') continue;
    const rule = rules(name);
    const scale = options.timeScale ?? TIME_SCALE;
    out[name] = async (...args: unknown[]) => {
      let interval = rule.initialMs * scale;
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
          interval = Math.min(interval * 2, rule.maxMs * scale);
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
  const timers = new TimerSet();
  const lifecycle = new OrderLifecycle(input, {
    acts,
    waitFor: cappedWaitFor(maxWaitMs),
    startTimer: timers.start,
    failureType,
  });
  const outcome = lifecycle.run().then(
    (status) => ({ status }),
    (error: unknown) => ({ error }),
  );
  void outcome.finally(() => timers.clear());
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
