/**
 * The activities the trading session workflow calls (SessionActivities, except raiseAlert,
 * which alerts.ts provides). Market data stays here: `watchForSignal` polls quotes and runs the
 * pure strategy, heartbeating its state, and returns to the workflow only a signal or the end
 * of its period. Nothing here writes a record per quote.
 */
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  getOrder,
  insertOrder,
  listDailyPnl,
  listOpenOrders,
  listOperatorActions,
  listOrders,
  listPositions,
  listRiskDecisions,
  loadActiveTrips,
  markDailyPnl,
  markPositions,
  recordBreakerChange as recordBreakerRows,
  recordOperatorAction as recordOperatorRow,
  recordOrderEvent,
  startSession,
  updateSession,
  type OrderRecord,
  type PositionView,
} from '../db';
import { parseBreakerConfig, type BreakerConfig } from '../domain/breakers';
import { InvalidInput, describeValue, type FieldProblem } from '../domain/errors';
import { orderWorkflowId, sessionWorkflowId, validateClientOrderId, validateKey, validateTradingDay } from '../domain/ids';
import { markPrice, validateMarketId, type MarketSnapshot, type Side } from '../domain/market';
import { positionExposure, unrealizedPnl } from '../domain/ledger';
import { formatDecimal, toNumericString, type Money, type Price, type Quantity } from '../domain/money';
import { ORDER_STATES, TERMINAL_STATES, type OrderState } from '../domain/order';
import { decideReconciliation, reconcile, type LocalAccountView, type VenueAccountView } from '../domain/reconciliation';
import { parseRiskLimits, type RiskLimits } from '../domain/risk-limits';
import { sizeSignal } from '../domain/sizing';
import { createStrategy, STRATEGY_NAMES, type StrategyName } from '../domain/strategies';
import { currentContext, heartbeat, lastHeartbeat, sleepUnlessCancelled, throwIfCancelled } from './context';
import { logEvent, reportOperatorAction, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import { coreSnapshot, tradingDayIn } from './portfolio';
import { servicesFor } from './services';
import type { EndedOrder, OperatorAction, PreflightCheck, SessionActivities, SessionSnapshot, WatchInput, WatchResult, WatchSignal } from '../contracts/activities';
import type { VenueOrder } from '../contracts/venue';
import { isVenueError } from './venue/errors';
import { warmUpMarket } from './warmup';

export type SessionActivitiesWithoutAlerts = Omit<SessionActivities, 'raiseAlert'>;

/**
 * Order events written by these activities rather than by the order's workflow (a cancel-all
 * that the venue confirmed, a flatten order) use sequences from here up, above anything a
 * workflow's snapshot sequence reaches: the venue's final word is never moved back, and never
 * collides with a sequence the workflow writes later.
 */
export const EXTERNAL_EVENT_SEQ = 1_000_000_000;
const externalSeq = (state: OrderState): number => EXTERNAL_EVENT_SEQ + ORDER_STATES.indexOf(state);

const DAY_MS = 86_400_000;
const CLIENT_ORDER_ID_MAX = 64;
/** Orders open in the records but not at the venue that pre-flight looks up one by one, at most. */
const PREFLIGHT_ORDER_LOOKUPS = 50;
const FLATTEN_HASH_CHARS = 8;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
const compactDay = (day: string): string => day.replaceAll('-', '');

/** Sequence numbers of `<strategy>-<YYYYMMDD>-<seq>` client order IDs of one day (flatten IDs excluded). */
export function orderSequencesOf(strategy: string, tradingDay: string, clientOrderIds: Iterable<string>): number[] {
  const re = new RegExp(`^${escapeRe(strategy)}-${compactDay(tradingDay)}-(\\d{1,15})$`);
  const out: number[] = [];
  for (const id of clientOrderIds) {
    const m = re.exec(id);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/**
 * Client order ID of the order that flattens `marketId`: `<strategy>-flat-<YYYYMMDD>-<h>`, h the
 * first 8 hex digits of SHA-256 over the reason and the market. A retried cancel-all with the
 * same reason makes the same IDs, so the venue (and the records) see each flatten order once;
 * a later kill switch with another reason flattens afresh. The strategy part is shortened when
 * the whole would exceed 64 characters.
 */
export function flattenClientOrderId(strategy: string, tradingDay: string, reason: string, marketId: string): string {
  const h = createHash('sha256').update(`${reason}\n${marketId}`).digest('hex').slice(0, FLATTEN_HASH_CHARS);
  const tail = `-flat-${compactDay(tradingDay)}-${h}`;
  return `${strategy.slice(0, CLIENT_ORDER_ID_MAX - tail.length)}${tail}`;
}

function belongsTo(strategy: string): RegExp {
  return new RegExp(`^${escapeRe(strategy)}-(flat-)?\\d{8}-[0-9a-z]+$`);
}

const MONEY_LIMITS: readonly (keyof RiskLimits)[] = ['maxPositionValue', 'maxDailyLoss', 'maxPortfolioExposure', 'maxCategoryExposure', 'fatFingerNotional', 'maxPriceDeviation', 'maxSpread'];

/** Typed values back into the config form the parsers read (micros as exact decimal strings). */
function asDecimal(v: unknown): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) ? toNumericString(v) : `${describeValue(v)} (not integer micros)`;
}

export function riskLimitsAsConfig(limits: RiskLimits): Record<string, unknown> {
  const out: Record<string, unknown> = { ...limits };
  for (const k of MONEY_LIMITS) if (k in out) out[k] = asDecimal(out[k]);
  return out;
}

export function breakersAsConfig(b: BreakerConfig): Record<string, unknown> {
  return { ...b, maxDailyLoss: asDecimal(b.maxDailyLoss) };
}

function describeError(e: unknown): string {
  if (isVenueError(e)) return `${e.kind}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

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
}

function resumedProgress(input: WatchInput): WatchProgress {
  const d = lastHeartbeat() as Partial<WatchProgress> | undefined;
  if (d && typeof d === 'object' && typeof d.strategyState === 'object' && d.strategyState !== null) {
    return { strategyState: d.strategyState, quoteTimes: d.quoteTimes ?? {}, polls: typeof d.polls === 'number' ? d.polls : 0 };
  }
  return { strategyState: { ...input.strategyState }, quoteTimes: {}, polls: 0 };
}

export function createSessionActivities(deps: ActivityDeps): SessionActivitiesWithoutAlerts {
  const { db, venue, mailer, config, clock } = deps;
  const services = servicesFor(deps);
  const account = config.account;
  const sessionMode = config.venueName === 'paper' ? 'PAPER' : 'LIVE';
  let lastCash: Money | null = null;

  const log = (message: string): void => currentContext()?.log.warn(message);

  /** Reads that keep the session's view current; a venue outage must not stop the breakers being evaluated on the records. */
  async function tryVenue<T>(what: string, work: () => Promise<T>): Promise<T | null> {
    try {
      return await work();
    } catch (e) {
      if (!isVenueError(e)) throw e;
      log(`${what} skipped, the records are used as they are: ${describeError(e)}`);
      return null;
    }
  }

  async function freshMarks(positions: readonly PositionView[]): Promise<{ marks: Record<string, Price | null>; fresh: Record<string, Price> }> {
    const marks: Record<string, Price | null> = {};
    const fresh: Record<string, Price> = {};
    await Promise.all(
      positions
        .filter((p) => p.quantity !== 0)
        .map(async (p) => {
          marks[p.marketId] = p.mark;
          const s = await tryVenue(`quote of ${p.marketId}`, () => venue.getMarketSnapshot(p.marketId));
          const m = s ? markPrice(s) : null;
          if (m !== null) {
            marks[p.marketId] = m;
            fresh[p.marketId] = m;
          }
        }),
    );
    return { marks, fresh };
  }

  async function check(name: PreflightCheck['name'], run: () => Promise<{ ok: boolean; detail: string }>): Promise<PreflightCheck> {
    try {
      return { name, ...(await run()) };
    } catch (e) {
      return { name, ok: false, detail: describeError(e) };
    }
  }

  async function venueReachable(): Promise<{ ok: boolean; detail: string }> {
    const balance = await venue.getBalance();
    lastCash = balance.cash;
    const health = venue.health();
    return { ok: true, detail: `${venue.name} answered; cash ${formatDecimal(balance.cash)}${health && health.consecutiveFailures > 0 ? `; ${health.consecutiveFailures} recent connection failures` : ''}` };
  }

  async function marketDataFresh(marketIds: readonly string[]): Promise<{ ok: boolean; detail: string }> {
    if (marketIds.length === 0) return { ok: true, detail: 'no markets to watch' };
    const quotes = await Promise.all(marketIds.map((m) => venue.getMarketSnapshot(m)));
    const now = clock();
    const ages = quotes.map((q) => ({ marketId: q.marketId, age: now - q.ts, twoSided: q.bid !== null && q.ask !== null }));
    const stale = ages.filter((a) => a.age > config.maxQuoteAgeMs);
    const oneSided = ages.filter((a) => !a.twoSided).map((a) => a.marketId);
    const list = (xs: typeof ages) => xs.map((a) => `${a.marketId} ${a.age} ms`).join(', ');
    if (stale.length > 0) return { ok: false, detail: `quotes older than ${config.maxQuoteAgeMs} ms: ${list(stale)}` };
    return { ok: true, detail: `quote ages ${list(ages)}${oneSided.length > 0 ? `; one-sided: ${oneSided.join(', ')}` : ''}` };
  }

  async function riskConfigValid(): Promise<{ ok: boolean; detail: string }> {
    const problems: string[] = [];
    for (const parse of [() => parseRiskLimits(riskLimitsAsConfig(config.limits)), () => parseBreakerConfig(breakersAsConfig(config.breakers))]) {
      try {
        parse();
      } catch (e) {
        if (!(e instanceof InvalidInput)) throw e;
        problems.push(e.message);
      }
    }
    if (!Number.isSafeInteger(config.maxQuoteAgeMs) || config.maxQuoteAgeMs <= 0) problems.push(`maxQuoteAgeMs: must be positive milliseconds (got ${describeValue(config.maxQuoteAgeMs)})`);
    return problems.length === 0 ? { ok: true, detail: 'risk limits and breaker settings valid' } : { ok: false, detail: problems.join('; ') };
  }

  /**
   * Venue positions and open orders against the records, after bringing the ledger up to date.
   * Cash is taken as agreeing: the records keep no cash balance, and the cash comparison (with
   * its recorded baseline) is the reconciliation workflow's. Fails when the configured policy
   * would halt on what it found.
   */
  async function reconciliationClean(): Promise<{ ok: boolean; detail: string }> {
    await services.fills.sync();
    const [venuePositions, balance, venueOpen, positions, localOpen] = await Promise.all([
      venue.getPositions(),
      venue.getBalance(),
      venue.listOpenOrders(),
      listPositions(db, { account, openOnly: true }),
      listOpenOrders(db, { account }),
    ]);
    const local: LocalAccountView = {
      positions: Object.fromEntries(positions.map((p) => [p.marketId, p.quantity])),
      cash: balance.cash,
      openOrders: Object.fromEntries(localOpen.map((o) => [o.clientOrderId, { marketId: o.marketId, state: o.state, filledQuantity: o.filledQuantity }])),
    };
    const remoteOrders: VenueAccountView['openOrders'] = Object.fromEntries(
      venueOpen.map((o) => [o.clientOrderId, { marketId: o.marketId, status: o.status, filledQuantity: o.filledQuantity }]),
    );
    // Open here, no longer open there (filled or canceled while no workflow polled): ask the venue.
    const unknown = localOpen.filter((o) => !remoteOrders[o.clientOrderId]).slice(0, PREFLIGHT_ORDER_LOOKUPS);
    for (const found of await Promise.all(unknown.map((o) => venue.getOrderByClientId(o.clientOrderId)))) {
      if (found) remoteOrders[found.clientOrderId] = { marketId: found.marketId, status: found.status, filledQuantity: found.filledQuantity };
    }
    const remote: VenueAccountView = {
      positions: Object.fromEntries(venuePositions.map((p) => [p.marketId, p.quantity])),
      cash: balance.cash,
      openOrders: remoteOrders,
    };
    const found = reconcile(local, remote, { cash: config.reconciliation.cashTolerance as Money });
    if (found.length === 0) return { ok: true, detail: 'positions and open orders agree with the venue (cash is not kept in the records)' };
    const decision = decideReconciliation(found, config.reconciliation.policy);
    const shown = found.slice(0, 5).map((d) => `${d.severity} ${d.message}`);
    if (found.length > shown.length) shown.push(`and ${found.length - shown.length} more`);
    return { ok: !decision.halt, detail: `${decision.summary}: ${shown.join('; ')}` };
  }

  /**
   * A worker without SMTP still trades on paper: alerts are recorded and shown, not emailed, and
   * the check passes with that said. A configured server that does not answer fails the check.
   */
  async function alertingReachable(): Promise<{ ok: boolean; detail: string }> {
    if (mailer === null) return { ok: true, detail: 'SMTP not configured: alerts are recorded but not emailed' };
    await mailer.verify();
    return { ok: true, detail: 'SMTP server answered' };
  }

  async function recordedOpenOrders(strategy: string): Promise<OrderRecord[]> {
    return listOpenOrders(db, { strategy, account });
  }

  /**
   * Whether an order's workflow still runs, asked of Temporal through the worker's client. Unknown
   * (no client, as in tests and scripts, or no answer) counts as running: the market stays reserved.
   */
  async function orderWorkflowRunning(clientOrderId: string): Promise<boolean> {
    let client;
    try {
      client = currentContext()?.client;
    } catch {
      return true;
    }
    if (!client) return true;
    try {
      return (await client.workflow.getHandle(orderWorkflowId(clientOrderId)).describe()).status.name === 'RUNNING';
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      log(`whether order ${clientOrderId} still runs is unknown, its market stays reserved: ${describeError(e)}`);
      return true;
    }
  }

  /** Which of these reserved orders have ended: final in the records, or (asking Temporal) a workflow no longer running. */
  async function endedOrders(clientOrderIds: readonly string[], askTemporal: boolean): Promise<EndedOrder[]> {
    const ended: EndedOrder[] = [];
    for (const clientOrderId of clientOrderIds) {
      const order = await getOrder(db, clientOrderId);
      if (order && TERMINAL_STATES.includes(order.state)) ended.push({ clientOrderId, state: order.state });
      else if (askTemporal && !(await orderWorkflowRunning(clientOrderId))) ended.push({ clientOrderId, state: order?.state ?? null });
    }
    return ended;
  }

  /** Writes the venue's final word on an order the workflow may no longer follow. */
  async function recordVenueOutcome(order: VenueOrder, reason: string): Promise<void> {
    const state: OrderState = order.status === 'OPEN' ? 'SUBMITTED' : order.status;
    await recordOrderEvent(db, {
      clientOrderId: order.clientOrderId,
      seq: externalSeq(state),
      eventType: 'OrderSnapshot',
      state,
      at: order.updatedAt,
      venueOrderId: order.venueOrderId,
      reason: order.status === 'REJECTED' ? (order.rejectReason ?? reason) : null,
      detail: { reason, venueStatus: order.status },
    });
    deps.metrics?.orderState(order.clientOrderId, state);
    logEvent(deps, 'order', { clientOrderId: order.clientOrderId }, { action: 'venue_outcome', state, venueStatus: order.status, marketId: order.marketId, reason }, `order ${state} at the venue (${reason})`);
  }

  async function flattenPositions(strategy: string, reason: string, day: string): Promise<string[]> {
    await services.fills.sync();
    const open = await listPositions(db, { account, openOnly: true });
    const placed: string[] = [];
    for (const p of open) {
      const clientOrderId = flattenClientOrderId(strategy, day, reason, p.marketId);
      let terms = await getOrder(db, clientOrderId);
      if (!terms) {
        const side: Side = p.quantity > 0 ? 'SELL' : 'BUY';
        const quote = await venue.getMarketSnapshot(p.marketId);
        // Marketable at the touch; with that side of the book empty, a market order.
        const limitPrice = side === 'SELL' ? quote.bid : quote.ask;
        ({ order: terms } = await insertOrder(db, {
          clientOrderId,
          marketId: p.marketId,
          side,
          quantity: Math.abs(p.quantity) as Quantity,
          limitPrice,
          strategy,
          tradingDay: day,
          createdAt: clock(),
          account,
          signal: null,
        }));
      }
      const order = await venue.placeOrder({ clientOrderId, marketId: terms.marketId, side: terms.side, quantity: terms.quantity, limitPrice: terms.limitPrice });
      await recordVenueOutcome(order, reason);
      placed.push(clientOrderId);
    }
    return placed;
  }

  function sessionRecord(strategy: string, tradingDay: string) {
    return { sessionId: sessionWorkflowId(strategy, tradingDay), strategy, tradingDay, account, mode: sessionMode, startedAt: clock() } as const;
  }

  return {
    preflight: (input: { strategy: string; marketIds: string[] }): Promise<PreflightCheck[]> =>
      runActivity(async () => {
        validateKey(input?.strategy, 'strategy');
        const marketIds = Array.isArray(input.marketIds) ? input.marketIds.map((m, i) => validateMarketId(m, `marketIds[${i}]`)) : [];
        return Promise.all([
          check('VENUE_REACHABLE', venueReachable),
          check('MARKET_DATA_FRESH', () => marketDataFresh(marketIds)),
          check('RISK_CONFIG_VALID', riskConfigValid),
          check('RECONCILIATION_CLEAN', reconciliationClean),
          check('ALERTING_REACHABLE', alertingReachable),
        ]);
      }),

    /**
     * Polls each market every `pollIntervalMs` and steps the strategy, heartbeating its state
     * each round (a retry resumes from the last heartbeat, not from the input). Returns at the
     * first signal that sizes to at least one contract against the recorded position, or at
     * `untilMs`; a cancellation ends it at once with the CancelledFailure.
     */
    watchForSignal: (input: WatchInput): Promise<WatchResult> =>
      runActivity(async () => {
        const name = validateWatchInput(input);
        const strategy = createStrategy(name, input.strategyParams ?? {});
        const markets = await services.markets.require(input.marketIds);
        const progress = resumedProgress(input);
        const sizing = { kind: 'confidence', maxOrderSize: config.limits.maxOrderSize } as const;
        const reserved = Object.entries(input.reservedMarkets ?? {});
        for (;;) {
          throwIfCancelled();
          const [quotes, positions, working, ended] = await Promise.all([
            Promise.all(input.marketIds.map((m) => venue.getMarketSnapshot(m))),
            listPositions(db, { account }),
            listOpenOrders(db, { strategy: input.strategy }),
            endedOrders(
              reserved.map(([, coid]) => coid),
              false,
            ),
          ]);
          const held = new Map(positions.map((p) => [p.marketId, p.quantity]));
          // One working order per market: a strategy that keeps signalling while its order works
          // (an exit in the blackout, say) must not stack orders on top of it. The session's
          // reservation covers an order that has started but not yet recorded itself.
          const endedIds = new Set(ended.map((e) => e.clientOrderId));
          const busy = new Set([...working.map((o) => o.marketId), ...reserved.filter(([, coid]) => !endedIds.has(coid)).map(([marketId]) => marketId)]);
          let signal: WatchSignal | null = null;
          for (const quote of quotes) {
            const snapshot: MarketSnapshot = coreSnapshot(quote);
            const position = held.get(snapshot.marketId) ?? 0;
            const state = progress.strategyState[snapshot.marketId] ?? (await warmUpMarket(deps, strategy, markets[snapshot.marketId]!, snapshot.ts));
            const step = strategy.onSnapshot(state, snapshot, { market: markets[snapshot.marketId]!, position, modelProbability: null });
            progress.strategyState[snapshot.marketId] = step.state;
            progress.quoteTimes[snapshot.marketId] = snapshot.ts;
            deps.metrics?.quote(snapshot.marketId, snapshot.ts);
            if (signal === null && step.signal !== null && !busy.has(snapshot.marketId)) {
              const quantity = sizeSignal(step.signal, position, sizing);
              if (quantity > 0) signal = { ...step.signal, quantity };
            }
          }
          progress.polls += 1;
          heartbeat(progress);
          const now = clock();
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
            return { strategyState: progress.strategyState, signal, at: now, quoteTimes: progress.quoteTimes, endedOrders: ended };
          }
          await sleepUnlessCancelled(Math.min(input.pollIntervalMs, input.untilMs - now));
        }
      }),

    sessionSnapshot: (input: { strategy: string; tradingDay: string; reservedOrders?: string[] }): Promise<SessionSnapshot> =>
      runActivity(async () => {
        validateKey(input?.strategy, 'strategy');
        const day = validateTradingDay(input.tradingDay);
        const reservedOrders = input.reservedOrders ?? [];
        if (!Array.isArray(reservedOrders)) throw InvalidInput.of('reservedOrders', reservedOrders, 'must list client order IDs');
        reservedOrders.forEach((c, i) => validateClientOrderId(c, `reservedOrders[${i}]`));
        await tryVenue('fill sync', () => services.fills.sync());
        try {
          lastCash = (await venue.getBalance()).cash;
        } catch (e) {
          // Without any cash figure equity cannot be measured: retry until the venue answers.
          if (!isVenueError(e) || lastCash === null) throw e;
          log(`balance: using the last known cash, the venue did not answer: ${describeError(e)}`);
        }
        const positions = await listPositions(db, { account });
        const { marks, fresh } = await freshMarks(positions);
        const now = clock();
        if (Object.keys(fresh).length > 0) await markPositions(db, account, fresh, now);
        const [daily] = await listDailyPnl(db, { account, from: day, to: day });
        // Equity = cash + each position at its mark (at cost without one); shorts count negative.
        let equity: number = lastCash;
        let unrealized = 0;
        let exposure = 0;
        let openPositions = 0;
        for (const p of positions) {
          if (p.quantity === 0) continue;
          openPositions += 1;
          const mark = marks[p.marketId] ?? null;
          const pnl = unrealizedPnl(p, mark);
          equity += p.costBasis + pnl;
          unrealized += pnl;
          exposure += positionExposure(p, mark);
        }
        const realized = daily?.realizedPnl ?? 0;
        const fees = daily?.fees ?? 0;
        const window = services.requests.count(now, config.breakers.errorWindowMs);
        const open = await recordedOpenOrders(input.strategy);
        deps.metrics?.session({
          account,
          strategy: input.strategy,
          realizedPnl: realized as Money,
          unrealizedPnl: unrealized as Money,
          fees: fees as Money,
          dailyPnl: (realized - fees + unrealized) as Money,
          equity: equity as Money,
          exposure: exposure as Money,
          openPositions,
          limits: config.limits,
        });
        return {
          at: now,
          metrics: {
            equity: equity as Money,
            dailyPnl: (realized - fees + unrealized) as Money,
            ordersInWindow: 0,
            errorsInWindow: window.errors,
            requestsInWindow: window.requests,
          },
          realizedPnl: realized as Money,
          unrealizedPnl: unrealized as Money,
          fees: fees as Money,
          exposure: exposure as Money,
          openPositions,
          openOrders: open.map((o) => ({ clientOrderId: o.clientOrderId, marketId: o.marketId, side: o.side, state: o.state })),
          endedOrders: await endedOrders(reservedOrders, true),
        };
      }),

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
     * Cancels every open order of the strategy: those the records hold open and those the venue
     * lists under the strategy's client order IDs. A cancel the venue confirms is written to the
     * order record at once (above the workflow's sequences, see EXTERNAL_EVENT_SEQ); an order the
     * venue does not know is left to its workflow. With `flatten`, then places one opposing,
     * marketable order per open position of the account (positions are per account, not per
     * strategy) under `flattenClientOrderId`, recorded as orders of the strategy.
     */
    cancelAllOpenOrders: (input: { strategy: string; flatten: boolean; reason: string }) =>
      runActivity(async () => {
        const strategy = validateKey(input?.strategy, 'strategy');
        if (typeof input.reason !== 'string' || input.reason.trim() === '') throw InvalidInput.of('reason', input.reason, 'must say why');
        const day = tradingDayIn(clock(), config.timeZone);
        const mine = belongsTo(strategy);
        const [local, remote] = await Promise.all([recordedOpenOrders(strategy), venue.listOpenOrders()]);
        // A retried flatten must not cancel the flatten orders its earlier attempt placed.
        const ownFlatten = (o: { clientOrderId: string; marketId: string }) => input.flatten && o.clientOrderId === flattenClientOrderId(strategy, day, input.reason, o.marketId);
        const candidates = [...local, ...remote.filter((o) => mine.test(o.clientOrderId))].filter((o) => !ownFlatten(o));
        const ids = [...new Set(candidates.map((o) => o.clientOrderId))].sort();
        const recorded = new Set(local.map((o) => o.clientOrderId));
        const canceled: string[] = [];
        for (const clientOrderId of ids) {
          let order: VenueOrder;
          try {
            order = await venue.cancelOrder({ clientOrderId });
          } catch (e) {
            if (isVenueError(e) && e.status === 404) continue;
            throw e;
          }
          if (order.status === 'CANCELED') canceled.push(clientOrderId);
          if (recorded.has(clientOrderId) && (TERMINAL_STATES as readonly string[]).includes(order.status)) await recordVenueOutcome(order, input.reason);
        }
        const flattenOrders = input.flatten ? await flattenPositions(strategy, input.reason, day) : [];
        return { canceled, flattenOrders };
      }),

    /** Marks the day's P&L at current quotes and closes the session record with a summary. */
    writeDailySummary: (input: { strategy: string; tradingDay: string }) =>
      runActivity(async () => {
        const strategy = validateKey(input?.strategy, 'strategy');
        const day = validateTradingDay(input.tradingDay);
        await tryVenue('fill sync', () => services.fills.sync());
        const { marks } = await freshMarks(await listPositions(db, { account, openOnly: true }));
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
  };
}
