/**
 * A short paper trading session without a Temporal server: the session and order-lifecycle
 * controllers (workflows/session.ts, workflows/order-lifecycle.ts) driven by the real activities
 * (createActivities) against real records and a real paper exchange, on real timers.
 *
 * What stands in for Temporal here, and how it differs:
 * - activity retries: a failure the activity marks retryable is tried again a few times after a
 *   short pause; a non-retryable one goes to the controller at once (as its policy would);
 * - durable waits and timers: ordinary timers, with every wait capped at `maxWaitMs` so a
 *   lifecycle polls the venue quickly instead of backing off to 30 s;
 * - the strategy watch runs in a MockActivityEnvironment, so the session can cancel it on a halt
 *   exactly as the workflow does;
 * - `end()` fast-forwards the activities' clock to the end of the trading day: the session then
 *   cancels its open orders, writes its daily summary and returns, as it would at the close.
 *
 * Drills reuse it: `placeOrder` sends a scripted order through the same lifecycle the session's
 * own signals use, and `halt`/`resume` deliver operator signals to the running session.
 */
import { TimerSet } from './timers';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities/index';
import type { ActivityConfig, ActivityDeps, Mailer } from '../activities/deps';
import type { OrderActivities, OrderIntent, SessionActivities, WatchResult } from '../contracts/activities';
import type { ResilientVenue } from '../activities/venue/resilient-venue';
import type { Db } from '../db';
import type { OperatorRequest, OrderStatus, OrderWorkflowInput, SessionStatus, SessionWorkflowInput } from '../workflows/api';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import { tradingDayIn } from '../domain/calendar';
import { makeClientOrderId, sessionWorkflowId } from '../domain/ids';
import type { Price, Quantity } from '../domain/money';
import { CASE_STUDY_LIMITS } from '../domain/risk-limits';
import type { StrategyName } from '../domain/strategies';
import { OrderLifecycle } from '../workflows/order-lifecycle';
import { TradingSession } from '../workflows/session';

export interface PaperSessionOptions {
  db: Db;
  venue: ResilientVenue;
  marketIds: string[];
  /** Strategy key in workflow and client order IDs; default "paper". */
  strategy?: string;
  strategyName?: StrategyName;
  strategyParams?: Record<string, unknown>;
  /** How long the session trades before its end of day; default 60 s. */
  durationMs?: number;
  /** Quote polling inside one watch; default 200 ms. */
  pollIntervalMs?: number;
  /** One watch's length before the session checks in; default 1 s. */
  watchPeriodMs?: number;
  /** Unfilled orders are cancelled after this long; default 30 s. */
  orderTtlMs?: number;
  /** Longest single wait of a controller (polls, halted checks); default 250 ms. */
  maxWaitMs?: number;
  /** Attempts per activity call for retryable failures; default 3. */
  activityAttempts?: number;
  mailer?: Mailer | null;
  /** Overrides of the activity config; the default is the case study's with a spread the paper quotes pass. */
  config?: Partial<ActivityConfig>;
}

export interface RunningPaperSession {
  readonly sessionWorkflowId: string;
  readonly tradingDay: string;
  readonly strategy: string;
  readonly deps: ActivityDeps;
  /** The session controller (status(), the signal handlers). */
  readonly session: TradingSession;
  /** Every order started, by client order ID, with its lifecycle and its run. */
  readonly orders: ReadonlyMap<string, { lifecycle: OrderLifecycle; done: Promise<OrderStatus> }>;
  /** Sends an order through the real lifecycle as the session's own signals are sent; resolves when it is terminal. */
  placeOrder(intent: { marketId: string; side: 'BUY' | 'SELL'; quantity: number; limitPrice: number }): { clientOrderId: string; done: Promise<OrderStatus> };
  halt(request: OperatorRequest): void;
  resume(request: OperatorRequest): void;
  /** Resolves once a condition holds (checked every 50 ms), rejects after `timeoutMs`. */
  until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Ends the trading day now and waits for the session and every order to finish. */
  end(): Promise<SessionStatus>;
  /** The session's own run (resolves at its end of day). */
  readonly done: Promise<SessionStatus>;
}

/** The case study's limits with a 5-cent spread limit (from when the paper exchange quoted two ticks; it now quotes one cent). */
export const PAPER_SESSION_LIMITS = Object.freeze({ ...CASE_STUDY_LIMITS, maxSpread: 50_000 });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function failureType(error: unknown): string | null {
  return error instanceof ApplicationFailure ? (error.type ?? 'UNKNOWN') : null;
}

/** Each activity call retried on a retryable ApplicationFailure, as a retry policy would. */
function withRetries<T extends object>(acts: T, attempts: number): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    if (typeof fn !== 'function') continue;
    out[name] = async (...args: unknown[]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (e) {
          const retryable = e instanceof ApplicationFailure && !e.nonRetryable;
          if (!retryable || attempt >= attempts) throw e;
          await sleep(50 * attempt);
        }
      }
    };
  }
  return out as T;
}

/** Starts the session at once; it runs until `end()` or its end of day. */
export function startPaperSession(options: PaperSessionOptions): RunningPaperSession {
  const strategy = options.strategy ?? 'paper';
  const maxWaitMs = options.maxWaitMs ?? 250;
  let skipTo = 0;
  const clock = () => Math.max(Date.now(), skipTo);
  const config: ActivityConfig = {
    account: 'paper',
    venueName: 'paper',
    limits: PAPER_SESSION_LIMITS,
    breakers: CASE_STUDY_BREAKERS,
    timeZone: 'UTC',
    alertCooldownMs: 300_000,
    maxQuoteAgeMs: 90_000,
    reconciliation: { policy: 'HALT_AND_ALERT', cashTolerance: 10_000 },
    ...options.config,
  };
  const deps: ActivityDeps = { db: options.db, venue: options.venue, mailer: options.mailer ?? null, config, clock };
  const activities = createActivities(deps);
  const acts = withRetries(activities, options.activityAttempts ?? 3);
  const startedAt = clock();
  const tradingDay = tradingDayIn(startedAt, config.timeZone);
  const endOfDayAt = startedAt + (options.durationMs ?? 60_000);
  const timers = new TimerSet();
  let ended = false;

  const waitFor = async (until: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + Math.min(ms, maxWaitMs);
    for (;;) {
      if (until()) return true;
      if (Date.now() >= deadline) return until();
      await sleep(Math.min(20, deadline - Date.now()));
    }
  };

  const orders = new Map<string, { lifecycle: OrderLifecycle; done: Promise<OrderStatus> }>();
  const runOrder = (input: OrderWorkflowInput): Promise<OrderStatus> => {
    const orderActs: OrderActivities = acts;
    const lifecycle = new OrderLifecycle(input, {
      acts: orderActs,
      waitFor,
      startTimer: timers.start,
      failureType,
    });
    const done = lifecycle.run();
    orders.set(input.order.clientOrderId, { lifecycle, done });
    return done;
  };

  const watch = async (input: Parameters<SessionActivities['watchForSignal']>[0], interrupt: () => boolean): Promise<WatchResult | null> => {
    const env = new MockActivityEnvironment({}, { logger: quietLogger });
    let stopped = false;
    const watching: Promise<WatchResult> = env.run(() => acts.watchForSignal(input));
    const guard = (async () => {
      while (!stopped) {
        if (interrupt()) {
          env.cancel('CANCELLED');
          return;
        }
        await sleep(20);
      }
    })();
    try {
      return await watching;
    } catch (e) {
      if (e instanceof CancelledFailure) return null;
      throw e;
    } finally {
      stopped = true;
      await guard;
    }
  };

  const input: SessionWorkflowInput = {
    strategy,
    strategyName: options.strategyName ?? 'ema-mean-reversion',
    strategyParams: options.strategyParams ?? {},
    tradingDay,
    marketIds: options.marketIds,
    endOfDayAt,
    watchPeriodMs: options.watchPeriodMs ?? 1_000,
    pollIntervalMs: options.pollIntervalMs ?? 200,
    orderTtlMs: options.orderTtlMs ?? 30_000,
    maxDailyLoss: config.limits.maxDailyLoss,
    breakers: config.breakers,
    searchAttributes: false,
  };
  const session = new TradingSession(input, {
    acts,
    waitFor,
    watch,
    startOrder: async (_workflowId, orderInput) => {
      if (orders.has(orderInput.order.clientOrderId)) return 'ALREADY_EXISTS';
      void runOrder(orderInput).catch(() => undefined);
      return 'STARTED';
    },
    continueAsNewSuggested: () => false,
    continueAsNew: () => Promise.reject(new Error('continue-as-new does not happen in a paper session')),
  });
  const done = session.run();

  let scripted = 0;
  const running: RunningPaperSession = {
    sessionWorkflowId: sessionWorkflowId(strategy, tradingDay),
    tradingDay,
    strategy,
    deps,
    session,
    orders,
    placeOrder(intent) {
      // Sequences far above the session's own, so a scripted order never takes one of its IDs.
      const clientOrderId = makeClientOrderId(strategy, tradingDay, 900_000 + ++scripted);
      const order: OrderIntent = { clientOrderId, marketId: intent.marketId, side: intent.side, quantity: intent.quantity as Quantity, limitPrice: intent.limitPrice as Price };
      const orderInput: OrderWorkflowInput = {
        order,
        context: {
          strategy,
          sessionWorkflowId: running.sessionWorkflowId,
          tradingDay,
          signal: { price: order.limitPrice!, confidence: 1, at: clock(), metadata: { intent: 'ENTER', source: 'scripted' } },
        },
        ttlMs: input.orderTtlMs,
        halted: session.status().haltReason,
        ordersInLastMinute: 0,
        searchAttributes: false,
      };
      return { clientOrderId, done: runOrder(orderInput) };
    },
    halt: (request) => session.onHalt(request),
    resume: (request) => session.onResume(request),
    async until(what, condition, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`paper session: ${what} did not happen within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async end() {
      if (!ended) {
        ended = true;
        skipTo = endOfDayAt;
      }
      const status = await done;
      await Promise.allSettled([...orders.values()].map((o) => o.done));
      timers.clear();
      return status;
    },
    done,
  };
  return running;
}

const quietLogger = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
