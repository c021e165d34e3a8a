/**
 * The backtester: replays quotes through the same pure functions the live system runs.
 *
 *   snapshot ─► working order of that market: cancel at its time-to-live, else simulateFill
 *            ─► order state machine (OrderFilled) ─► ledger (applyFillInPlace)
 *            ─► strategy.onSnapshot ─► signal ─► sizing ─► buildRiskContext + checkOrder
 *            ─► createOrder (SubmitRequested, Accepted): working from the NEXT snapshot on
 *
 * Rules of the replay:
 * - Snapshots must come in non-decreasing time order (a file sorted by ts); each one is a quote
 *   event of one market. A market not in `config.markets` is an UnknownMarket error.
 * - One working order per market. While it works, new signals for that market are dropped
 *   (counted). An order that has not filled completely within `orderTtlMs` (case study: 10
 *   minutes) is canceled at the first snapshot of its market at or after the deadline.
 * - An order is placed at its signal's snapshot and reaches the book after the fill model's
 *   simulated latency (`latencyMeanMs`, log-normal); it can first fill on the first later
 *   snapshot of its market at or after that, with the paper fill model (`fill-model.ts`) and
 *   one seeded RandomSource, so a run is reproducible from its seed.
 * - Slippage per fill is the chapter's (fill − limit for a buy, limit − fill for a sell, per
 *   contract); `averageSlippage` is its plain mean over fills, as the chapter averages records.
 * - The strategy sees each market as unresolved until `resolvesAt`. At the first snapshot at
 *   or after `resolvesAt` of a market whose outcome is known, its working order is canceled
 *   and its position settled (1.00 for YES, 0 for NO). At the end, positions in markets with a
 *   known outcome are settled; the rest are valued at their last mark (mid, else last).
 * - No circuit breakers run here (halted is always null): the point is the strategy's own P&L
 *   under the pre-trade limits. A day is a calendar day of `timeZone` (domain/calendar.ts, as the
 *   live session's trading day): the ledger's daily counters restart when it begins, and the
 *   unrealized P&L at that instant's marks is the day's opening figure the daily-loss rule
 *   measures from (ledger.ts `dailyPnlSinceOpen`).
 *
 * Equity (realized + unrealized − fees) is kept incrementally in integer micros as
 * cash + Σ position × mark, so the drawdown is tracked at every snapshot in O(1).
 */
import { InvalidInput, UnknownMarket, type FieldProblem } from './errors';
import type { FillModelParams } from './fill-model';
import { orderLatencyMs, simulateFill, validateFillModelParams } from './fill-model';
import { slippageMicros } from './execution-quality';
import type { Fill } from './fill';
import { endOfTradingDay, isValidTimeZone, tradingDayIn } from './calendar';
import { makeClientOrderId } from './ids';
import { applyFillInPlace, emptyLedger, positionOf, settleMarket, startTradingDay, unrealizedPnl, type Ledger } from './ledger';
import { markPrice, validateMarket, type Market, type MarketSnapshot } from './market';
import { MICROS, type Money, type Price, type Quantity } from './money';
import { applyOrderEvent, createOrder, remainingQuantity, type Order } from './order';
import { seededRandom } from './random';
import { checkOrder, type RiskRule } from './risk';
import type { RiskLimits } from './risk-limits';
import { sizeSignal, type SizingMethod } from './sizing';
import type { Strategy, StrategyContext } from './strategy';
import { buildRiskContext, ORDER_RATE_WINDOW_MS } from './trading-context';

export interface BacktestConfig {
  strategy: Strategy<unknown>;
  markets: readonly Market[];
  /** Already-typed limits (CASE_STUDY_LIMITS, or parseRiskLimits from config). */
  limits: RiskLimits;
  sizing: SizingMethod;
  fillModel: FillModelParams;
  seed: number;
  /** Time-to-live of a working order (case study: 10 minutes). */
  orderTtlMs: number;
  /** Model probability of YES for a market at an instant (model-edge strategy); null when none. */
  modelProbability?: (marketId: string, ts: number) => number | null;
  /** Key used in client order IDs; defaults to the strategy name. */
  orderIdPrefix?: string;
  /** IANA zone whose calendar days are the trading days (TRADING_TIME_ZONE live); defaults to UTC. */
  timeZone?: string;
}

export const ORDER_TTL_MS = 10 * 60_000;

/** A position from flat to flat (or through a flip), with its P&L net of fees. */
export interface RoundTrip {
  marketId: string;
  direction: 'LONG' | 'SHORT';
  openedAt: number;
  closedAt: number;
  /** Largest absolute position held during the trip. */
  maxContracts: number;
  /** Realized P&L minus fees over the trip (or value at the last mark for 'end-mark'). */
  pnl: Money;
  closedBy: 'trade' | 'resolution' | 'end-mark';
}

export interface DailyEquity {
  day: string;
  /** Equity (total P&L since the start, micros) at the day's last snapshot. */
  equity: Money;
}

export interface BacktestResult {
  strategy: string;
  params: Readonly<object>;
  seed: number;
  snapshots: number;
  firstTs: number | null;
  lastTs: number | null;
  signals: number;
  /** Signals dropped because their market already had a working order. */
  signalsWhileWorking: number;
  /** Signals that sizing turned into zero contracts. */
  sizedToZero: number;
  riskRejections: number;
  rejectionsByRule: Partial<Record<RiskRule, number>>;
  ordersPlaced: number;
  /** Orders with at least one fill. */
  ordersFilled: number;
  ordersCanceled: number;
  fills: Fill[];
  /** Mean slippage per contract over fills, micros (float; positive is worse); null with no fills. */
  averageSlippage: number | null;
  trades: RoundTrip[];
  dailyEquity: DailyEquity[];
  maxDrawdown: Money;
  realizedPnl: Money;
  unrealizedPnl: Money;
  fees: Money;
  totalPnl: Money;
  ledger: Ledger;
}

interface MarketSlot {
  market: Market;
  /** What the strategy sees: the market with its outcome hidden until it resolves. */
  liveMarket: Market;
  resolved: boolean;
  state: unknown;
  order: Order | null;
  orderDeadline: number;
  /** When the working order reaches the book (placement + simulated latency). */
  orderActiveAt: number;
  /** Fills so far on the working order, for trade IDs. */
  orderFills: number;
  mark: number;
  /** Signed contracts, mirrored from the ledger. */
  position: number;
  trip: { openedAt: number; startPnl: number; maxContracts: number; direction: 'LONG' | 'SHORT' } | null;
}

function validateConfig(config: BacktestConfig): void {
  const problems: FieldProblem[] = [];
  const collect = (prefix: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      problems.push(...e.problems.map((p) => ({ ...p, field: `${prefix}.${p.field}` })));
    }
  };
  collect('fillModel', () => validateFillModelParams(config.fillModel));
  config.markets.forEach((m, i) => collect(`markets[${i}]`, () => validateMarket(m)));
  if (config.timeZone !== undefined && (typeof config.timeZone !== 'string' || !isValidTimeZone(config.timeZone))) {
    problems.push({ field: 'timeZone', value: config.timeZone, problem: 'must be an IANA time zone such as "America/New_York" or "UTC"' });
  }
  if (!Number.isSafeInteger(config.seed)) problems.push({ field: 'seed', value: config.seed, problem: 'must be an integer' });
  if (!Number.isSafeInteger(config.orderTtlMs) || config.orderTtlMs <= 0) {
    problems.push({ field: 'orderTtlMs', value: config.orderTtlMs, problem: 'must be a positive number of milliseconds' });
  }
  if (!Number.isSafeInteger(config.sizing.maxOrderSize) || config.sizing.maxOrderSize <= 0) {
    problems.push({ field: 'sizing.maxOrderSize', value: config.sizing.maxOrderSize, problem: 'must be a positive whole number of contracts' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
}

export function runBacktest(snapshots: Iterable<MarketSnapshot>, config: BacktestConfig): BacktestResult {
  validateConfig(config);
  const { strategy, limits, sizing, fillModel, orderTtlMs } = config;
  const rng = seededRandom(config.seed);
  const prefix = config.orderIdPrefix ?? strategy.name;

  const slots = new Map<string, MarketSlot>();
  const categories: Record<string, { category: string }> = {};
  const marks: Record<string, Price | null> = {};
  for (const m of config.markets) {
    slots.set(m.marketId, {
      market: m,
      liveMarket: m.outcome === null ? m : { ...m, outcome: null },
      resolved: false,
      state: strategy.initialState(),
      order: null,
      orderDeadline: 0,
      orderActiveAt: 0,
      orderFills: 0,
      mark: 0,
      position: 0,
      trip: null,
    });
    categories[m.marketId] = { category: m.category };
    marks[m.marketId] = null;
  }

  let ledger = emptyLedger();
  const recentOrderTimes: number[] = [];
  const fills: Fill[] = [];
  const trades: RoundTrip[] = [];
  const dailyEquity: DailyEquity[] = [];
  const rejectionsByRule: Partial<Record<RiskRule, number>> = {};
  let signals = 0;
  let signalsWhileWorking = 0;
  let sizedToZero = 0;
  let riskRejections = 0;
  let ordersPlaced = 0;
  let ordersFilled = 0;
  let ordersCanceled = 0;
  let orderSeq = 0;
  let slippageSum = 0;

  // Equity = cash + holdings; cash moves on fills and settlements, holdings with marks.
  let cash = 0;
  let holdings = 0;
  let peak = 0;
  let maxDrawdown = 0;
  let count = 0;
  let firstTs: number | null = null;
  let lastTs = 0;
  const timeZone = config.timeZone ?? 'UTC';
  let day: string | null = null;
  let dayEndsAt = 0;
  let openingUnrealized = 0;
  const ctx: StrategyContext = { market: config.markets[0] as Market, position: 0, modelProbability: null };

  const tripPnl = (slot: MarketSlot): number => {
    const p = positionOf(ledger, slot.market.marketId);
    return p === null ? 0 : p.realizedPnl - p.fees;
  };

  /** Updates the trip bookkeeping after the slot's position moved from `before` to slot.position. */
  const afterPositionChange = (slot: MarketSlot, before: number, ts: number, closedBy: RoundTrip['closedBy']): void => {
    const now = slot.position;
    if (slot.trip !== null && (now === 0 || Math.sign(now) !== Math.sign(before))) {
      trades.push({
        marketId: slot.market.marketId,
        direction: slot.trip.direction,
        openedAt: slot.trip.openedAt,
        closedAt: ts,
        maxContracts: slot.trip.maxContracts,
        pnl: (tripPnl(slot) - slot.trip.startPnl) as Money,
        closedBy,
      });
      slot.trip = null;
    }
    if (now !== 0) {
      if (slot.trip === null) {
        // A flip's fee was charged to the closing trip, so the new one starts from here.
        slot.trip = { openedAt: ts, startPnl: tripPnl(slot), maxContracts: 0, direction: now > 0 ? 'LONG' : 'SHORT' };
      }
      slot.trip.maxContracts = Math.max(slot.trip.maxContracts, Math.abs(now));
    }
  };

  const closeOrder = (slot: MarketSlot, ts: number): void => {
    // Run through the state machine so an illegal cancel would surface here as it would live.
    applyOrderEvent(applyOrderEvent(slot.order as Order, { type: 'OrderCancelRequested', ts }), { type: 'OrderCanceled', ts });
    ordersCanceled += 1;
    slot.order = null;
  };

  const settle = (slot: MarketSlot, ts: number): void => {
    slot.resolved = true;
    if (slot.order !== null) closeOrder(slot, ts);
    const pos = positionOf(ledger, slot.market.marketId);
    const outcome = slot.market.outcome;
    if (pos === null || outcome === null || pos.quantity === 0) return;
    const before = slot.position;
    ledger = settleMarket(ledger, slot.market.marketId, outcome);
    cash += outcome === 'YES' ? before * MICROS : 0;
    holdings -= before * slot.mark;
    slot.position = 0;
    afterPositionChange(slot, before, ts, 'resolution');
  };

  const recordDay = (name: string): void => {
    dailyEquity.push({ day: name, equity: (cash + holdings) as Money });
  };

  /** Unrealized P&L of what is held, at the marks known now (the day's opening marks when called at its start). */
  const unrealizedNow = (): number => {
    let u = 0;
    for (const p of Object.values(ledger.positions)) if (p.quantity !== 0) u += unrealizedPnl(p, marks[p.marketId] ?? null);
    return u;
  };

  for (const snap of snapshots) {
    const slot = slots.get(snap.marketId);
    if (slot === undefined) throw new UnknownMarket(snap.marketId);
    const ts = snap.ts;
    if (ts < lastTs) throw InvalidInput.of('snapshot.ts', ts, `must not go back in time (previous ${lastTs}, market ${snap.marketId})`);
    if (firstTs === null) firstTs = ts;
    lastTs = ts;
    count += 1;

    if (day === null || ts >= dayEndsAt) {
      if (day !== null) recordDay(day);
      day = tradingDayIn(ts, timeZone);
      dayEndsAt = endOfTradingDay(day, timeZone);
      ledger = startTradingDay(ledger);
      openingUnrealized = unrealizedNow();
    }

    // Mark to market.
    const mark = markPrice(snap);
    if (mark !== null) {
      if (slot.position !== 0) holdings += slot.position * (mark - slot.mark);
      slot.mark = mark;
      marks[snap.marketId] = mark;
    }

    if (!slot.resolved && slot.market.outcome !== null && slot.market.resolvesAt !== null && ts >= slot.market.resolvesAt) {
      settle(slot, ts);
    }

    // The working order: time-to-live, then one interval of the fill model.
    if (slot.order !== null) {
      const order = slot.order;
      if (ts >= slot.orderDeadline) {
        closeOrder(slot, ts);
      } else if (ts >= slot.orderActiveAt) {
        const sim = simulateFill({ side: order.side, limitPrice: order.limitPrice, remaining: remainingQuantity(order) }, snap, fillModel, slot.market.tickSize, rng);
        if (sim !== null) {
          slot.orderFills += 1;
          const fill: Fill = {
            tradeId: `${order.clientOrderId}-F${slot.orderFills}`,
            clientOrderId: order.clientOrderId,
            marketId: order.marketId,
            side: order.side,
            quantity: sim.quantity,
            price: sim.price,
            fee: sim.fee,
            ts,
          };
          const next = applyOrderEvent(order, { type: 'OrderFilled', ts, fill });
          if (order.filledQuantity === 0) ordersFilled += 1;
          slot.order = next.state === 'FILLED' ? null : next;
          applyFillInPlace(ledger, fill);
          fills.push(fill);
          slippageSum += slippageMicros(order.side, order.limitPrice as Price, sim.price as Price);
          const signed = order.side === 'BUY' ? sim.quantity : -sim.quantity;
          cash -= signed * sim.price + sim.fee;
          holdings += signed * slot.mark;
          const before = slot.position;
          slot.position = before + signed;
          afterPositionChange(slot, before, ts, 'trade');
        }
      }
    }

    // The strategy.
    ctx.market = slot.resolved ? slot.market : slot.liveMarket;
    ctx.position = slot.position;
    ctx.modelProbability = config.modelProbability ? config.modelProbability(snap.marketId, ts) : null;
    const step = strategy.onSnapshot(slot.state, snap, ctx);
    slot.state = step.state;
    const signal = step.signal;

    if (signal !== null && !slot.resolved) {
      signals += 1;
      if (slot.order !== null) {
        signalsWhileWorking += 1;
      } else {
        const qty = sizeSignal(signal, slot.position, sizing);
        if (qty === 0) {
          sizedToZero += 1;
        } else {
          while (recentOrderTimes.length > 0 && (recentOrderTimes[0] as number) <= ts - ORDER_RATE_WINDOW_MS) recentOrderTimes.shift();
          const riskCtx = buildRiskContext({ ledger, markets: categories, marks, market: ctx.market, snapshot: snap, now: ts, halted: null, recentOrderTimes, openingUnrealizedPnl: openingUnrealized as Money });
          const request = { marketId: snap.marketId, side: signal.side, quantity: qty as Quantity, limitPrice: signal.price };
          const decision = checkOrder(request, riskCtx, limits);
          if (!decision.approved) {
            riskRejections += 1;
            for (const v of decision.violations) rejectionsByRule[v.rule] = (rejectionsByRule[v.rule] ?? 0) + 1;
          } else {
            orderSeq += 1;
            const clientOrderId = makeClientOrderId(prefix, day, orderSeq);
            let order = createOrder({ clientOrderId, marketId: snap.marketId, side: signal.side, quantity: qty, limitPrice: signal.price, ts });
            order = applyOrderEvent(order, { type: 'OrderSubmitRequested', ts });
            order = applyOrderEvent(order, { type: 'OrderAccepted', ts, venueOrderId: clientOrderId });
            slot.order = order;
            slot.orderDeadline = ts + orderTtlMs;
            slot.orderActiveAt = ts + orderLatencyMs(fillModel, rng);
            slot.orderFills = 0;
            ordersPlaced += 1;
            recentOrderTimes.push(ts);
          }
        }
      }
    }

    const equity = cash + holdings;
    if (equity > peak) peak = equity;
    else if (peak - equity > maxDrawdown) maxDrawdown = peak - equity;
  }

  // End of data: cancel what still works, settle known outcomes, mark the rest.
  for (const slot of slots.values()) {
    if (slot.order !== null) closeOrder(slot, lastTs);
    if (!slot.resolved && slot.market.outcome !== null) settle(slot, lastTs);
    if (slot.trip !== null) {
      const p = positionOf(ledger, slot.market.marketId);
      const unrealized = p === null ? 0 : p.quantity * slot.mark - p.costBasis;
      trades.push({
        marketId: slot.market.marketId,
        direction: slot.trip.direction,
        openedAt: slot.trip.openedAt,
        closedAt: lastTs,
        maxContracts: slot.trip.maxContracts,
        pnl: (tripPnl(slot) - slot.trip.startPnl + unrealized) as Money,
        closedBy: 'end-mark',
      });
      slot.trip = null;
    }
  }
  if (day !== null) recordDay(day);
  const equity = cash + holdings;
  if (peak - equity > maxDrawdown) maxDrawdown = peak - equity;

  let realized = 0;
  let feesTotal = 0;
  let unrealized = 0;
  for (const p of Object.values(ledger.positions)) {
    realized += p.realizedPnl;
    feesTotal += p.fees;
    const slot = slots.get(p.marketId) as MarketSlot;
    if (p.quantity !== 0) unrealized += p.quantity * slot.mark - p.costBasis;
  }
  trades.sort((a, b) => a.closedAt - b.closedAt || a.openedAt - b.openedAt || (a.marketId < b.marketId ? -1 : 1));

  return {
    strategy: strategy.name,
    params: strategy.params,
    seed: config.seed,
    snapshots: count,
    firstTs,
    lastTs: firstTs === null ? null : lastTs,
    signals,
    signalsWhileWorking,
    sizedToZero,
    riskRejections,
    rejectionsByRule,
    ordersPlaced,
    ordersFilled,
    ordersCanceled,
    fills,
    averageSlippage: fills.length === 0 ? null : slippageSum / fills.length,
    trades,
    dailyEquity,
    maxDrawdown: maxDrawdown as Money,
    realizedPnl: realized as Money,
    unrealizedPnl: unrealized as Money,
    fees: feesTotal as Money,
    totalPnl: (realized + unrealized - feesTotal) as Money,
    ledger,
  };
}
