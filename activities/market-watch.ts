/**
 * The market watch (`watchForSignal`): polls quotes and runs the pure strategy, heartbeating its
 * state, and returns to the workflow only a signal or the end of its period. Nothing here writes
 * a record per quote.
 *
 * Sizing. Without a model source, confidence × max order size. With MODEL_PROBABILITIES set, each
 * poll reads the operator's probabilities (model-probabilities.ts), hands the market's to the
 * strategy, and a signal carrying one (model-edge) is sized by half Kelly on the account's equity
 * (cash + positions at the marks), the rule and multiplier the backtest uses (sizing.ts). A source
 * that cannot be read or fails validation stops new entries for the rest of this watch (exits
 * still go out), with one warning line and one HIGH MODEL_PROBABILITIES_UNAVAILABLE alert per
 * cooldown window naming the problem; the watch itself goes on.
 */
import { listOpenOrders, listPositions } from '../db';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { validateClientOrderId } from '../domain/ids';
import { validateMarketId, type MarketSnapshot } from '../domain/market';
import { AlertKey } from '../domain/ids';
import { accountEquity, marksFromSnapshots } from '../domain/ledger';
import { formatDecimal } from '../domain/money';
import { HALF_KELLY, sizeSignal, type SizingMethod } from '../domain/sizing';
import { createStrategy, STRATEGY_NAMES, type StrategyName } from '../domain/strategies';
import type { SessionActivities, WatchInput, WatchResult, WatchSignal } from '../contracts/activities';
import { currentContext, heartbeat, lastHeartbeat, sleepUnlessCancelled, throwIfCancelled } from './context';
import { logEvent, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import { coreSnapshot } from './portfolio';
import { endedOrders } from './reserved-orders';
import type { ActivityServices } from './services';
import { MODEL_PROBABILITIES_MAX_AGE_MS, readModelProbabilities } from './model-probabilities';
import { LiveMonitor } from './monitoring';
import { isVenueError } from './venue/errors';
import { warmUpMarket } from './warmup';

function validateWatchInput(input: WatchInput): StrategyName {
  const problems: FieldProblem[] = [];
  if (!(STRATEGY_NAMES as readonly string[]).includes(input?.strategyName)) {
    problems.push({ field: 'strategyName', value: input?.strategyName, problem: `must be one of ${STRATEGY_NAMES.join(', ')}` });
  }
  if (!Array.isArray(input?.marketIds) || input.marketIds.length === 0) problems.push({ field: 'marketIds', value: input?.marketIds, problem: 'must list at least one market' });
  else
    input.marketIds.forEach((m, i) => {
      try {
        validateMarketId(m, `marketIds[${i}]`);
      } catch (e) {
        if (e instanceof InvalidInput) problems.push(...e.problems);
        else throw e;
      }
    });
  if (!Number.isSafeInteger(input?.pollIntervalMs) || input.pollIntervalMs < 10) problems.push({ field: 'pollIntervalMs', value: input?.pollIntervalMs, problem: 'must be a whole number of milliseconds, at least 10' });
  if (!Number.isSafeInteger(input?.untilMs)) problems.push({ field: 'untilMs', value: input?.untilMs, problem: 'must be epoch milliseconds' });
  if (typeof input?.strategyState !== 'object' || input.strategyState === null) problems.push({ field: 'strategyState', value: input?.strategyState, problem: 'must be an object' });
  const reserved = input?.reservedMarkets;
  if (reserved !== undefined) {
    if (typeof reserved !== 'object' || reserved === null || Array.isArray(reserved)) problems.push({ field: 'reservedMarkets', value: reserved, problem: 'must map markets to client order IDs' });
    else
      for (const [marketId, clientOrderId] of Object.entries(reserved)) {
        for (const check of [() => validateMarketId(marketId, 'reservedMarkets'), () => validateClientOrderId(clientOrderId, `reservedMarkets.${marketId}`)]) {
          try {
            check();
          } catch (e) {
            if (e instanceof InvalidInput) problems.push(...e.problems);
            else throw e;
          }
        }
      }
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return input.strategyName as StrategyName;
}

/** What watchForSignal heartbeats: enough to carry on where a failed attempt stopped. */
export interface WatchProgress {
  strategyState: Record<string, unknown>;
  quoteTimes: Record<string, number>;
  polls: number;
  /** When the first attempt of this watch started (activity clock): outages that ended since are reported. */
  startedAt?: number;
}

function resumedProgress(input: WatchInput, now: number): WatchProgress {
  const d = lastHeartbeat() as Partial<WatchProgress> | undefined;
  if (d && typeof d === 'object' && typeof d.strategyState === 'object' && d.strategyState !== null) {
    return { strategyState: d.strategyState, quoteTimes: d.quoteTimes ?? {}, polls: typeof d.polls === 'number' ? d.polls : 0, startedAt: typeof d.startedAt === 'number' ? d.startedAt : now };
  }
  return { strategyState: { ...input.strategyState }, quoteTimes: {}, polls: 0, startedAt: firstAttemptStart(now) };
}

/** The first attempt's start: an attempt that failed during an outage heartbeats nothing, so its retry asks Temporal. */
function firstAttemptStart(now: number): number {
  const scheduled = currentContext()?.info.scheduledTimestampMs;
  return typeof scheduled === 'number' && scheduled > 0 && scheduled <= now ? scheduled : now;
}

export function createMarketWatchActivities(deps: ActivityDeps, services: ActivityServices): Pick<SessionActivities, 'watchForSignal'> {
  const { db, venue, config, clock } = deps;
  const account = config.account;
  const monitor = new LiveMonitor(deps, services.alerts);
  const model = config.modelProbabilities ?? null;

  /** The probabilities for this poll; null with the problem reported when the source fails. */
  async function readModel(now: number): Promise<Record<string, number> | string> {
    if (model === null) return {};
    try {
      return (await readModelProbabilities(model.source, { nowMs: now, maxAgeMs: model.maxAgeMs ?? MODEL_PROBABILITIES_MAX_AGE_MS })).probabilities;
    } catch (e) {
      const problem = e instanceof Error ? e.message : String(e);
      const where = model.source.kind === 'file' ? `file:${model.source.path}` : model.source.url;
      const message = `model probabilities from ${where} unusable, no new entries this watch: ${problem}`;
      deps.metrics?.error('market-watch', 'MODEL_PROBABILITIES_UNAVAILABLE');
      logEvent(deps, 'signal', { sessionId: currentContext()?.info.workflowExecution?.workflowId ?? null }, { modelProbabilities: where, error: problem.slice(0, 500) }, message, 'warn');
      if (!deps.log) console.warn(message);
      const window = Math.max(1, config.alertCooldownMs);
      try {
        await services.alerts.raiseAlert({
          level: 'HIGH',
          type: 'MODEL_PROBABILITIES_UNAVAILABLE',
          dedupeKey: AlertKey.monitor('MODEL_PROBABILITIES_UNAVAILABLE', account, Math.floor(now / window) * window),
          title: 'Model probabilities unusable: no new entries',
          body: `MODEL_PROBABILITIES (${where}) could not be used: ${problem.slice(0, 2_000)}. The session makes no new entries until a watch reads a valid document; exits still go out.`,
        });
      } catch (alertError) {
        logEvent(deps, 'alert', {}, { error: alertError instanceof Error ? alertError.message : String(alertError) }, 'MODEL_PROBABILITIES_UNAVAILABLE alert not raised', 'warn');
      }
      return problem;
    }
  }

  /** Half Kelly on the account's equity, the backtest's rule; the bankroll is read only when a signal needs it. */
  async function kellySizing(positions: Awaited<ReturnType<typeof listPositions>>, quotes: readonly MarketSnapshot[]): Promise<SizingMethod> {
    const cash = await services.cash.read().catch((e: unknown) => {
      const last = services.cash.lastKnown();
      if (last === null) throw e;
      return last;
    });
    const equity = accountEquity(cash, positions, marksFromSnapshots(quotes));
    return { kind: 'kelly', maxOrderSize: config.limits.maxOrderSize, kellyMultiplier: HALF_KELLY, bankroll: (equity > 0 ? equity : 0) as typeof equity };
  }

  const activities = {
    /**
     * Polls each market every `pollIntervalMs` and steps the strategy, heartbeating its state
     * each round (a retry resumes from the last heartbeat, not from the input). Returns at the
     * first signal that sizes to at least one contract against the recorded position, or at
     * `untilMs`; a cancellation ends it at once with the CancelledFailure.
     */
    watchForSignal: (input: WatchInput): Promise<WatchResult> =>
      runActivity(async () => {
        try {
          return await watch(input);
        } catch (e) {
          // A venue that fails the watch may be lost (CONNECTION_LOST) or throttling us (RATE_LIMIT_HIT).
          if (isVenueError(e)) await monitor.afterVenueFailure(clock());
          throw e;
        }
      }),
  };

  async function watch(input: WatchInput): Promise<WatchResult> {
    const name = validateWatchInput(input);
    const strategy = createStrategy(name, input.strategyParams ?? {});
    const markets = await services.markets.require(input.marketIds);
    const progress = resumedProgress(input, clock());
    const confidenceSizing: SizingMethod = { kind: 'confidence', maxOrderSize: config.limits.maxOrderSize };
    let modelProblem: string | null = null;
    const reserved = Object.entries(input.reservedMarkets ?? {});
    for (;;) {
      throwIfCancelled();
      const [quotes, positions, working, ended] = await Promise.all([
        Promise.all(input.marketIds.map((m) => venue.getMarketSnapshot(m))),
        listPositions(db, { account }),
        listOpenOrders(db, { strategy: input.strategy }),
        endedOrders(
          db,
          reserved.map(([, coid]) => coid),
          false,
        ),
      ]);
      const held = new Map(positions.map((p) => [p.marketId, p.quantity]));
      let probabilities: Record<string, number> = {};
      if (modelProblem === null) {
        const read = await readModel(clock());
        if (typeof read === 'string') modelProblem = read;
        else probabilities = read;
      }
      const snapshots = quotes.map(coreSnapshot);
      let kelly: SizingMethod | null = null;
      // One working order per market: a strategy that keeps signalling while its order works
      // (an exit in the blackout, say) must not stack orders on top of it. The session's
      // reservation covers an order that has started but not yet recorded itself.
      const endedIds = new Set(ended.map((e) => e.clientOrderId));
      const busy = new Set([...working.map((o) => o.marketId), ...reserved.filter(([, coid]) => !endedIds.has(coid)).map(([marketId]) => marketId)]);
      let signal: WatchSignal | null = null;
      for (const snapshot of snapshots) {
        const position = held.get(snapshot.marketId) ?? 0;
        const state = progress.strategyState[snapshot.marketId] ?? (await warmUpMarket(deps, strategy, markets[snapshot.marketId]!, snapshot.ts));
        const step = strategy.onSnapshot(state, snapshot, { market: markets[snapshot.marketId]!, position, modelProbability: probabilities[snapshot.marketId] ?? null });
        progress.strategyState[snapshot.marketId] = step.state;
        progress.quoteTimes[snapshot.marketId] = snapshot.ts;
        deps.metrics?.quote(snapshot.marketId, snapshot.ts);
        const entryRefused = modelProblem !== null && step.signal?.intent === 'ENTER';
        if (signal === null && step.signal !== null && !busy.has(snapshot.marketId) && !entryRefused) {
          const kellySized = model !== null && step.signal.intent === 'ENTER' && typeof step.signal.metadata.modelProbability === 'number';
          if (kellySized) kelly ??= await kellySizing(positions, snapshots);
          const quantity = sizeSignal(step.signal, position, kellySized && kelly !== null ? kelly : confidenceSizing);
          if (quantity > 0) signal = { ...step.signal, quantity };
        }
      }
      progress.polls += 1;
      heartbeat(progress);
      const now = clock();
      await monitor.afterPoll(
        quotes.map((q) => ({ marketId: q.marketId, ts: q.ts })),
        now,
      );
      if (signal !== null) {
        deps.metrics?.signal(signal);
        logEvent(
          deps,
          'signal',
          { sessionId: currentContext()?.info.workflowExecution?.workflowId ?? null },
          { strategy: input.strategy, marketId: signal.marketId, side: signal.side, intent: signal.intent, price: formatDecimal(signal.price), confidence: signal.confidence, quantity: signal.quantity, metadata: signal.metadata },
          `${signal.intent} ${signal.side} signal on ${signal.marketId}`,
        );
      }
      if (signal !== null || now >= input.untilMs) {
        return {
          strategyState: progress.strategyState,
          signal,
          at: now,
          quoteTimes: progress.quoteTimes,
          endedOrders: ended,
          connectionOutage: monitor.outageEndedSince(progress.startedAt ?? now),
        };
      }
      await sleepUnlessCancelled(Math.min(input.pollIntervalMs, input.untilMs - now));
    }
  }

  return activities;
}
