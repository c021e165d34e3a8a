/**
 * Shadow trading's activities (docs/design.md, "SHADOW"): the market watch of a shadow session
 * and the comparison of each decision. Market data comes from the configured venue; nothing here
 * places, cancels or looks up an order there. The strategy, sizing and the pre-trade risk check
 * are the ones LIVE runs (domain/strategies, domain/sizing, domain/risk via trading-context);
 * execution is the paper fill model (domain/fill-model.ts) seeded by the decision key.
 *
 * A decision's paper order works as a LIVE order does (`orderTtlMs` in the decision's input, the
 * session's time-to-live): the comparison tries it on the decision's quote, then each watch poll,
 * after stepping the strategy, works the run's open paper orders over the quotes it has just
 * recorded (`workPaperOrders`, domain/shadow.ts `workPaperOrder`) until each fills or expires. A
 * fill on a quote is held by the strategy from the next quote on, as the replay holds it. While a
 * market's paper order works, the watch takes no new signal there (LIVE's one working order per
 * market). A decision recorded without `orderTtlMs` (a run started before working orders) is
 * tried on its own quote only.
 */
import {
  listShadowComparisons,
  listShadowQuotes,
  listWorkingShadowOrders,
  recordShadowComparison,
  recordShadowPaperOrder,
  recordShadowQuotes,
  type ShadowComparisonRow,
  type ShadowPaperOrder,
  type ShadowQuoteRow,
} from '../db';
import type { ShadowActivities, ShadowDecisionInput, ShadowDecisionResult, ShadowWatchInput, ShadowWatchResult, WatchSignal } from '../contracts/activities';
import type { VenueMarketSnapshot } from '../contracts/venue';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { validateFillModelParams, type FillModelParams } from '../domain/fill-model';
import { validateKey, validateTradingDay } from '../domain/ids';
import { applyFillInPlace, emptyLedger, marksFromSnapshots } from '../domain/ledger';
import { validateMarketId, type Market, type MarketSnapshot } from '../domain/market';
import { ZERO, quantityFromLots, quantityLots, type Money, type Price, type Quantity } from '../domain/money';
import { checkOrder, describeDecision } from '../domain/risk';
import { decisionAligned, paperFillOf, slippageFromTouch, walkBook, workPaperOrder, type PaperOrderQuote, type PaperOrderWork } from '../domain/shadow';
import { sizeSignal } from '../domain/sizing';
import { replaySignals } from '../domain/stages';
import { createStrategy, STRATEGY_NAMES, type StrategyName } from '../domain/strategies';
import { buildRiskContext, countOrdersInWindow } from '../domain/trading-context';
import { heartbeat, lastHeartbeat, sleepUnlessCancelled, throwIfCancelled } from './context';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import { coreSnapshot } from './portfolio';
import type { ActivityServices } from './services';
import { warmUpMarket } from './warmup';

function strategyNameOf(value: unknown, problems: FieldProblem[]): StrategyName {
  if (!(STRATEGY_NAMES as readonly unknown[]).includes(value)) problems.push({ field: 'strategyName', value, problem: `must be one of ${STRATEGY_NAMES.join(', ')}` });
  return value as StrategyName;
}

function collect(problems: FieldProblem[], check: () => unknown): void {
  try {
    check();
  } catch (e) {
    if (e instanceof InvalidInput) problems.push(...e.problems);
    else throw e;
  }
}

function validateWatch(input: ShadowWatchInput): StrategyName {
  const problems: FieldProblem[] = [];
  const name = strategyNameOf(input?.strategyName, problems);
  if (typeof input?.shadowRun !== 'string' || input.shadowRun.length === 0) problems.push({ field: 'shadowRun', value: input?.shadowRun, problem: 'must name the shadow run' });
  if (!Array.isArray(input?.marketIds) || input.marketIds.length === 0) problems.push({ field: 'marketIds', value: input?.marketIds, problem: 'must list at least one market' });
  else input.marketIds.forEach((m, i) => collect(problems, () => validateMarketId(m, `marketIds[${i}]`)));
  if (!Number.isSafeInteger(input?.pollIntervalMs) || input.pollIntervalMs < 10) problems.push({ field: 'pollIntervalMs', value: input?.pollIntervalMs, problem: 'must be a whole number of milliseconds, at least 10' });
  if (!Number.isSafeInteger(input?.untilMs)) problems.push({ field: 'untilMs', value: input?.untilMs, problem: 'must be epoch milliseconds' });
  if (typeof input?.strategyState !== 'object' || input.strategyState === null) problems.push({ field: 'strategyState', value: input?.strategyState, problem: 'must be an object' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return name;
}

function validateDecision(input: ShadowDecisionInput): StrategyName {
  const problems: FieldProblem[] = [];
  const name = strategyNameOf(input?.strategyName, problems);
  for (const field of ['decisionKey', 'shadowRun', 'sessionId'] as const) {
    if (typeof input?.[field] !== 'string' || input[field].length === 0) problems.push({ field, value: input?.[field], problem: 'must be a non-empty key' });
  }
  collect(problems, () => validateKey(input?.strategy, 'strategy'));
  collect(problems, () => validateTradingDay(input?.tradingDay));
  collect(problems, () => validateMarketId(input?.signal?.marketId, 'signal.marketId'));
  collect(problems, () => quantityLots(input?.signal?.quantity, 'signal.quantity'));
  if (input?.signal?.side !== 'BUY' && input?.signal?.side !== 'SELL') problems.push({ field: 'signal.side', value: input?.signal?.side, problem: 'must be BUY or SELL' });
  for (const field of ['quotedAt', 'decidedAt', 'toleranceMs'] as const) {
    if (!Number.isSafeInteger(input?.[field]) || input[field] < 0) problems.push({ field, value: input?.[field], problem: 'must be non-negative whole milliseconds' });
  }
  collect(problems, () => validateFillModelParams(input?.fillModel));
  const ttl = input?.orderTtlMs;
  if (ttl !== undefined && ttl !== null && (!Number.isSafeInteger(ttl) || ttl < 1)) problems.push({ field: 'orderTtlMs', value: ttl, problem: 'must be a positive whole number of milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return name;
}

/** A decision's paper order as recorded; null for a decision tried on its own quote only. */
function paperOrderOf(row: ShadowComparisonRow): ShadowPaperOrder | null {
  const o = row.detail.paperOrder as ShadowPaperOrder | undefined;
  return o && typeof o === 'object' && Array.isArray(o.fills) ? o : null;
}

/** A decision's paper fills, each at the quote it filled on. */
function paperFillsOf(row: ShadowComparisonRow): { quotedAt: number; quantity: Quantity; price: Price; fee: Money }[] {
  const order = paperOrderOf(row);
  if (order) return order.fills.map((f) => ({ quotedAt: f.quotedAt, quantity: f.quantity as Quantity, price: f.price as Price, fee: f.fee as Money }));
  if (row.paperFilled <= 0 || row.paperPrice === null) return [];
  return [{ quotedAt: row.quotedAt, quantity: row.paperFilled, price: row.paperPrice, fee: row.paperFee }];
}

/** Signed contracts per market of the run's paper fills. */
function paperPositions(rows: readonly ShadowComparisonRow[]): Map<string, number> {
  const lots = new Map<string, number>();
  for (const r of rows) {
    if (r.paperFilled <= 0) continue;
    lots.set(r.marketId, (lots.get(r.marketId) ?? 0) + (r.side === 'BUY' ? 1 : -1) * quantityLots(r.paperFilled));
  }
  return new Map([...lots].map(([m, l]) => [m, quantityFromLots(l)]));
}

/** A recorded quote as the paper order sees it: the touch, the interval volume and the side of the book it takes. */
function paperQuoteOf(row: ShadowQuoteRow, side: 'BUY' | 'SELL'): PaperOrderQuote {
  const book = row.payload as unknown as VenueMarketSnapshot;
  return { quotedAt: row.quotedAt, bid: book.bid, ask: book.ask, intervalVolume: book.intervalVolume, levels: (side === 'BUY' ? book.asks : book.bids) ?? [] };
}

function paperOrderRecord(work: PaperOrderWork, ttlMs: number, expiresAt: number): ShadowPaperOrder {
  return {
    status: work.status,
    ttlMs,
    expiresAt,
    workedThrough: work.workedThrough,
    fills: work.fills.map((f) => ({ quotedAt: f.quotedAt, quantity: f.quantity, price: f.price, fee: f.fee, touch: f.touch, bookPrice: f.bookPrice })),
  };
}

interface ShadowWatchProgress {
  strategyState: Record<string, unknown>;
  quoteTimes: Record<string, number>;
}

export function createShadowActivities(deps: ActivityDeps, services: ActivityServices): Omit<ShadowActivities, 'recordOperatorAction' | 'raiseAlert'> {
  const { db, venue, config, clock } = deps;
  const sizing = { kind: 'confidence', maxOrderSize: config.limits.maxOrderSize } as const;

  /**
   * Works each open paper order of the run over every quote recorded since its decision, from the
   * start (deterministic per decision key and quote time, so the same quotes give the same fills),
   * and records what changed. A market's quote recorded later than the order's time-to-live ends it.
   */
  async function workPaperOrders(shadowRun: string): Promise<void> {
    for (const row of await listWorkingShadowOrders(db, shadowRun)) {
      const order = paperOrderOf(row);
      if (order === null) continue;
      const market = await services.markets.one(row.marketId);
      const side = row.side as 'BUY' | 'SELL';
      const quotes = (await listShadowQuotes(db, { shadowRun, marketId: row.marketId, from: row.quotedAt }))
        .filter((q) => q.kind === 'QUOTE')
        .map((q) => paperQuoteOf(q, side));
      const work = workPaperOrder(row.decisionKey, { side, quantity: row.quantity, limitPrice: row.limitPrice }, quotes, row.detail.fillModel as FillModelParams, market.tickSize, order.expiresAt, clock());
      if (work.status === order.status && work.workedThrough === order.workedThrough) continue;
      await recordShadowPaperOrder(db, row.decisionKey, {
        paperFilled: work.filled,
        paperPrice: work.averagePrice,
        paperFee: work.fee,
        modelledSlippage: work.modelledSlippage as Money | null,
        observedSlippage: work.observedSlippage as Money | null,
        paperOrder: paperOrderRecord(work, order.ttlMs, order.expiresAt),
      });
    }
  }

  return {
    /**
     * The live watch's loop on the shadow's own positions: polls each market, steps the strategy
     * and sizes its signal as the session's watch does, and records every quote it steps (and a
     * market's warm-up state) under the shadow run, for the replay. A quote the venue repeats (the
     * same quote time) is not stepped again: it is not new market data, and the replay sees each
     * recorded quote once. After each poll's quotes are recorded it works the run's open paper
     * orders on them (`workPaperOrders`, the step named above), so a fill there is held from the
     * next quote; a market whose paper order works gives no new signal. Heartbeats its state; a
     * retry resumes from the last heartbeat.
     */
    watchShadow: (input: ShadowWatchInput): Promise<ShadowWatchResult> =>
      runActivity(async () => {
        const name = validateWatch(input);
        const strategy = createStrategy(name, input.strategyParams ?? {});
        const markets = await services.markets.require(input.marketIds);
        const resumed = lastHeartbeat() as Partial<ShadowWatchProgress> | undefined;
        const progress: ShadowWatchProgress =
          resumed && typeof resumed.strategyState === 'object' && resumed.strategyState !== null
            ? { strategyState: resumed.strategyState, quoteTimes: resumed.quoteTimes ?? {} }
            : { strategyState: { ...input.strategyState }, quoteTimes: {} };
        for (;;) {
          throwIfCancelled();
          const [quotes, decided] = await Promise.all([Promise.all(input.marketIds.map((m) => venue.getMarketSnapshot(m))), listShadowComparisons(db, { shadowRun: input.shadowRun })]);
          const held = paperPositions(decided);
          const busy = new Set(decided.filter((r) => paperOrderOf(r)?.status === 'WORKING').map((r) => r.marketId));
          const recorded: ShadowQuoteRow[] = [];
          let signal: WatchSignal | null = null;
          let quotedAt: number | null = null;
          for (const quote of quotes) {
            const snapshot = coreSnapshot(quote);
            const seen = progress.quoteTimes[snapshot.marketId];
            if (seen !== undefined && snapshot.ts <= seen) continue;
            let state = progress.strategyState[snapshot.marketId];
            if (state === undefined) {
              state = await warmUpMarket(deps, strategy, markets[snapshot.marketId]!, snapshot.ts);
              recorded.push({ marketId: snapshot.marketId, kind: 'WARM', quotedAt: snapshot.ts, payload: { state } });
            }
            const position = held.get(snapshot.marketId) ?? 0;
            const step = strategy.onSnapshot(state, snapshot, { market: markets[snapshot.marketId]!, position, modelProbability: null });
            progress.strategyState[snapshot.marketId] = step.state;
            progress.quoteTimes[snapshot.marketId] = snapshot.ts;
            recorded.push({ marketId: snapshot.marketId, kind: 'QUOTE', quotedAt: snapshot.ts, payload: { ...quote } });
            if (signal === null && step.signal !== null && !busy.has(snapshot.marketId)) {
              const quantity = sizeSignal(step.signal, position, sizing);
              if (quantity > 0) {
                signal = { ...step.signal, quantity };
                quotedAt = snapshot.ts;
              }
            }
          }
          await recordShadowQuotes(db, input.shadowRun, recorded);
          await workPaperOrders(input.shadowRun);
          heartbeat(progress);
          const now = clock();
          if (signal !== null || now >= input.untilMs) return { strategyState: progress.strategyState, signal, at: now, quotedAt, quoteTimes: progress.quoteTimes };
          await sleepUnlessCancelled(Math.min(input.pollIntervalMs, input.untilMs - now));
        }
      }),

    /**
     * One decision against the paper model and the venue's book, written once under its key (a
     * retry returns what the first attempt wrote). The risk check is LIVE's (`checkOrder` on
     * `buildRiskContext`) over the run's paper fills; the paper fill is the fill model seeded by
     * the decision key; the observed price walks the book recorded with the decision's quote; the
     * replay steps the run's recorded quotes from the recorded warm state, positions following
     * the paper fills, and must give the same signal.
     */
    compareShadowDecision: (input: ShadowDecisionInput): Promise<ShadowDecisionResult> =>
      runActivity(async () => {
        const name = validateDecision(input);
        const earlier = await listShadowComparisons(db, { shadowRun: input.shadowRun });
        const done = earlier.find((r) => r.decisionKey === input.decisionKey);
        if (done) return resultOf(done);

        const { signal } = input;
        const market = await services.markets.one(signal.marketId);
        const recorded = await listShadowQuotes(db, { shadowRun: input.shadowRun, marketId: signal.marketId, until: input.quotedAt });
        const decisionQuote = recorded.filter((q) => q.kind === 'QUOTE' && q.quotedAt === input.quotedAt).at(-1);
        if (!decisionQuote) throw InvalidInput.of('quotedAt', input.quotedAt, `no quote of ${signal.marketId} was recorded at that time in ${input.shadowRun}`);
        const book = decisionQuote.payload as unknown as VenueMarketSnapshot;
        const snapshot = coreSnapshot(book);

        // Risk exactly as LIVE judges it, on the shadow's own (paper) ledger.
        const ledger = emptyLedger();
        // Trade IDs only need to differ within this ledger (a decision key holds "/" and "#", which a trade ID may not).
        for (const [i, r] of earlier.entries()) {
          for (const f of paperFillsOf(r)) {
            applyFillInPlace(ledger, { tradeId: `shadow-${i}-${f.quotedAt}`, clientOrderId: 'shadow', marketId: r.marketId, side: r.side as 'BUY' | 'SELL', quantity: f.quantity, price: f.price, fee: f.fee, ts: f.quotedAt });
          }
        }
        const held = Object.keys(ledger.positions);
        const markets = await services.markets.require([signal.marketId, ...held]);
        const order = { marketId: signal.marketId, side: signal.side, quantity: signal.quantity, limitPrice: signal.price };
        const ctx = buildRiskContext({
          ledger,
          markets,
          marks: marksFromSnapshots([snapshot]),
          market,
          snapshot,
          now: input.decidedAt,
          halted: null,
          recentOrderTimes: earlier.filter((r) => r.riskApproved).map((r) => r.decidedAt),
          // The shadow run's paper ledger starts flat: the day opens with nothing unrealized.
          openingUnrealizedPnl: ZERO,
        });
        const risk = checkOrder(order, { ...ctx, ordersInLastMinute: countOrdersInWindow(earlier.filter((r) => r.riskApproved).map((r) => r.decidedAt), input.decidedAt) }, config.limits);

        const walk = walkBook(signal.side, signal.quantity, signal.side === 'BUY' ? book.asks : book.bids);
        const touch = (signal.side === 'BUY' ? snapshot.ask : snapshot.bid) ?? null;
        const observedAtDecision = slippageFromTouch(signal.side, touch, walk.averagePrice);
        const ttlMs = input.orderTtlMs ?? null;
        let paperOrder: ShadowPaperOrder | null = null;
        let paper: { quantity: Quantity; price: Price | null; fee: Money; modelled: number | null; observed: number | null } | null = null;
        if (risk.approved && ttlMs !== null) {
          // The order's first interval is its decision quote; the watch works the rest.
          const expiresAt = input.decidedAt + ttlMs;
          const work = workPaperOrder(input.decisionKey, order, [paperQuoteOf(decisionQuote, signal.side)], input.fillModel, market.tickSize, expiresAt, input.decidedAt);
          paperOrder = paperOrderRecord(work, ttlMs, expiresAt);
          paper = { quantity: work.filled, price: work.averagePrice, fee: work.fee, modelled: work.modelledSlippage, observed: work.filled > 0 ? work.observedSlippage : observedAtDecision };
        } else if (risk.approved) {
          const fill = paperFillOf(input.decisionKey, order, snapshot, input.fillModel, market.tickSize);
          if (fill) paper = { quantity: fill.quantity, price: fill.price, fee: fill.fee, modelled: slippageFromTouch(signal.side, touch, fill.price), observed: observedAtDecision };
        }

        // The replay: the same strategy over the same recorded quotes, positions after the paper fills.
        const warm = recorded.find((q) => q.kind === 'WARM');
        const replayed = replaySignals(
          createStrategy(name, input.strategyParams ?? {}),
          [market] as Market[],
          recorded.filter((q) => q.kind === 'QUOTE').map((q) => coreSnapshot(q.payload as unknown as VenueMarketSnapshot)) as MarketSnapshot[],
          sizing,
          {
            ...(warm ? { initialStates: { [signal.marketId]: warm.payload.state } } : {}),
            fills: earlier
              .filter((r) => r.marketId === signal.marketId)
              .flatMap((r) => paperFillsOf(r).map((f) => ({ marketId: r.marketId, at: f.quotedAt, signedQuantity: (r.side === 'BUY' ? 1 : -1) * f.quantity }))),
          },
        );
        const aligned = decisionAligned({ marketId: signal.marketId, side: signal.side, at: input.quotedAt }, replayed, input.toleranceMs);
        const modelled = paper?.modelled ?? null;
        const observed = paper ? paper.observed : observedAtDecision;
        const { row } = await recordShadowComparison(db, {
          decisionKey: input.decisionKey,
          shadowRun: input.shadowRun,
          sessionId: input.sessionId,
          strategy: input.strategy,
          tradingDay: input.tradingDay,
          marketId: signal.marketId,
          side: signal.side,
          quantity: signal.quantity,
          limitPrice: signal.price,
          decidedAt: input.decidedAt,
          quotedAt: input.quotedAt,
          touch: touch as Price | null,
          riskApproved: risk.approved,
          aligned,
          paperFilled: (paper?.quantity ?? 0) as Quantity,
          paperPrice: paper?.price ?? null,
          paperFee: (paper?.fee ?? 0) as Money,
          bookFilled: walk.filled,
          bookPrice: walk.averagePrice,
          modelledSlippage: modelled as Money | null,
          observedSlippage: observed as Money | null,
          detail: {
            intent: signal.intent,
            confidence: signal.confidence,
            risk: risk.approved ? 'approved' : describeDecision(risk),
            violations: risk.approved ? [] : risk.violations.map((v) => v.rule),
            replayedNear: replayed.filter((r) => Math.abs(r.at - input.quotedAt) <= input.toleranceMs).map((r) => `${r.side}@${r.at}`),
            bookComplete: walk.complete,
            fillModel: { ...input.fillModel },
            ...(paperOrder ? { paperOrder } : {}),
          },
        });
        return resultOf(row, clock());
      }),
  };
}

function resultOf(row: ShadowComparisonRow, at: number = row.recordedAt): ShadowDecisionResult {
  const violations = (row.detail.violations as string[] | undefined) ?? [];
  return { aligned: row.aligned, riskApproved: row.riskApproved, violations, paperFilled: row.paperFilled, modelledSlippage: row.modelledSlippage, observedSlippage: row.observedSlippage, at };
}
