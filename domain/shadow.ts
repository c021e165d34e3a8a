/**
 * Shadow trading's per-decision rules (reference 003, "Shadow Trading"): each decision the live
 * strategy takes is compared, as it is taken, with
 *
 * - a replay of the same quotes through the same strategy (signal alignment: `decisionAligned`,
 *   built on stages.ts `alignSignals`), and
 * - the venue's book at decision time: the paper fill model's price (modelled slippage) against
 *   the price the book's depth would have given the same quantity (observed slippage, `walkBook`).
 *
 * A decision's paper order works, as a LIVE order does, over the quotes that follow until it fills
 * or its time-to-live passes (`workPaperOrder`); slippage is measured at each paper fill, from the
 * touch of the quote it filled on.
 *
 * `max_misalignment_count=3` ("halt after 3 misalignments") is read as three in a row:
 * `noteAlignment` keeps the streak and says when it halts. Pure: money in integer micros,
 * quantities in contracts with at most two decimals (sums in integer hundredths).
 */
import { InvalidInput } from './errors';
import { slippageMicros } from './execution-quality';
import { simulateFill, type FillModelParams, type SimulatedFill } from './fill-model';
import type { Side } from './market';
import { quantityFromLots, quantityLots, type Money, type Price, type Quantity } from './money';
import { seededRandom } from './random';
import { alignSignals, type RunStats, type ShadowSignal } from './stages';

/** Reference 003's ShadowTradingConfig: `max_misalignment_count=3`. */
export const MAX_MISALIGNMENTS_IN_A_ROW = 3;

/** One price level of the venue's book (the venue contract's DepthLevel has this shape). */
export interface BookLevel {
  price: Price;
  quantity: Quantity;
}

export interface BookWalk {
  /** What the book could take of the quantity (less than asked when the book is thin). */
  filled: Quantity;
  /** Volume-weighted price of what it took, rounded to the micro; null when it took nothing. */
  averagePrice: Price | null;
  /** Whether the whole quantity was there. */
  complete: boolean;
}

/**
 * The executable price of `quantity` against the book: a buy takes the asks from the lowest, a
 * sell the bids from the highest, each level up to its size. Levels arrive in any order; empty
 * and malformed levels are a typed error naming the level, not a silent skip.
 */
export function walkBook(side: Side, quantity: Quantity, levels: readonly BookLevel[]): BookWalk {
  let wanted = quantityLots(quantity, 'quantity');
  if (wanted <= 0) throw InvalidInput.of('quantity', quantity, 'must be more than zero contracts');
  levels.forEach((l, i) => {
    if (!Number.isSafeInteger(l?.price) || l.price <= 0 || l.price >= 1_000_000) throw InvalidInput.of(`levels[${i}].price`, l?.price, 'must be a price in micros between 0 and 1');
    quantityLots(l.quantity, `levels[${i}].quantity`);
    if (!(l.quantity > 0)) throw InvalidInput.of(`levels[${i}].quantity`, l.quantity, 'must be more than zero contracts');
  });
  const sorted = [...levels].sort((a, b) => (side === 'BUY' ? a.price - b.price : b.price - a.price));
  let takenLots = 0;
  // Notional in micros x lots: integer, and far inside 2^53 for any real book.
  let notionalLots = 0;
  for (const level of sorted) {
    if (wanted === 0) break;
    const take = Math.min(wanted, quantityLots(level.quantity));
    takenLots += take;
    notionalLots += take * level.price;
    wanted -= take;
  }
  return {
    filled: quantityFromLots(takenLots),
    averagePrice: takenLots === 0 ? null : (Math.round(notionalLots / takenLots) as Price),
    complete: wanted === 0,
  };
}

/**
 * The decision agrees with the replay when the replay gave a signal of the same market and side
 * within `toleranceMs` of the decision's quote (stages.ts `alignSignals` on the pair).
 */
export function decisionAligned(decision: ShadowSignal, replayed: readonly ShadowSignal[], toleranceMs: number): boolean {
  const near = replayed.filter((r) => r.marketId === decision.marketId && Math.abs(r.at - decision.at) <= toleranceMs);
  return alignSignals([decision], near, toleranceMs).matched === 1;
}

export interface AlignmentStreak {
  /** Misalignments in a row, ending at the latest decision. */
  misalignedInARow: number;
  decisions: number;
  aligned: number;
}

export const NO_STREAK: AlignmentStreak = Object.freeze({ misalignedInARow: 0, decisions: 0, aligned: 0 });

/** The streak after one more decision, and whether the shadow session must halt now. */
export function noteAlignment(streak: AlignmentStreak, aligned: boolean, limit = MAX_MISALIGNMENTS_IN_A_ROW): { streak: AlignmentStreak; halt: boolean } {
  if (!Number.isSafeInteger(limit) || limit < 1) throw InvalidInput.of('limit', limit, 'must be a whole number of misalignments, at least 1');
  const next: AlignmentStreak = {
    misalignedInARow: aligned ? 0 : streak.misalignedInARow + 1,
    decisions: streak.decisions + 1,
    aligned: streak.aligned + (aligned ? 1 : 0),
  };
  return { streak: next, halt: next.misalignedInARow >= limit };
}

/**
 * The paper fill model's fill of one decision, seeded by its decision key: a retried activity
 * (or the report recomputing it) gets the same fill. The interval volume is raised to the order's
 * size, as worker/stages.ts `loadShadowExecutions` does: the quote's volume is what traded before
 * the decision, not while the order would have worked.
 */
export function paperFillOf(
  decisionKey: string,
  order: { side: Side; quantity: Quantity; limitPrice: Price | null },
  quote: { bid: Price | null; ask: Price | null; intervalVolume: Quantity },
  params: FillModelParams,
  tickSize: number,
): SimulatedFill | null {
  const volume = Math.max(quote.intervalVolume, order.quantity) as Quantity;
  return simulateFill({ side: order.side, limitPrice: order.limitPrice, remaining: order.quantity }, { bid: quote.bid, ask: quote.ask, intervalVolume: volume }, params, tickSize, seededRandom(seedOf(decisionKey)));
}

/** LIVE's default order time-to-live (runtime/config.ts `orderTtlMs`), for a shadow input without one. */
export const DEFAULT_PAPER_ORDER_TTL_MS = 10 * 60_000;

/** One recorded quote a paper order works on, with the book side it would take. */
export interface PaperOrderQuote {
  quotedAt: number;
  bid: Price | null;
  ask: Price | null;
  intervalVolume: Quantity;
  /** The asks for a buy, the bids for a sell. */
  levels: readonly BookLevel[];
}

export interface PaperOrderFill {
  quotedAt: number;
  quantity: Quantity;
  price: Price;
  fee: Money;
  /** The touch the order took from on that quote: slippage is measured from it. */
  touch: Price;
  /** The book's executable price for the same quantity on that quote (observed). */
  bookPrice: Price | null;
}

export type PaperOrderStatus = 'WORKING' | 'FILLED' | 'EXPIRED';

export interface PaperOrderWork {
  status: PaperOrderStatus;
  fills: PaperOrderFill[];
  filled: Quantity;
  remaining: Quantity;
  /** Volume-weighted price of the fills, micros; null before the first. */
  averagePrice: Price | null;
  fee: Money;
  /** Per contract over the fills, micros, positive worse; null before the first fill. */
  modelledSlippage: number | null;
  observedSlippage: number | null;
  /** The latest quote time worked (quotes after the time-to-live are not). */
  workedThrough: number;
}

/** The seed of one quote step: the decision quote keeps the decision key's own (`paperFillOf`). */
export function paperStepSeed(decisionKey: string, quotedAt: number, decisionQuotedAt: number): number {
  return seedOf(quotedAt === decisionQuotedAt ? decisionKey : `${decisionKey}@${quotedAt}`);
}

/**
 * A decision's paper order worked over the recorded quotes from the decision's own (`quotes[0]`)
 * onwards, one fill model interval per quote, until it has filled or a quote comes after
 * `expiresAt` (its time-to-live; `now` past it expires it too). Deterministic: each step's draw is
 * seeded by the decision key and the quote time, so working the same quotes again (a retry, or
 * the next watch recomputing from the start) gives the same fills. The interval volume is raised
 * to the order's size at every step, as `paperFillOf` does. Kalshi's order-level fee rounding
 * carries across the order's fills (`feeAccumulator`).
 */
export function workPaperOrder(
  decisionKey: string,
  order: { side: Side; quantity: Quantity; limitPrice: Price | null },
  quotes: readonly PaperOrderQuote[],
  params: FillModelParams,
  tickSize: number,
  expiresAt: number,
  now: number,
): PaperOrderWork {
  const first = quotes[0];
  if (!first) throw InvalidInput.of('quotes', quotes, 'must start with the decision quote');
  let remainingLots = quantityLots(order.quantity, 'quantity');
  let feeAccumulator = 0 as Money;
  let workedThrough = first.quotedAt;
  let expired = now > expiresAt;
  const fills: PaperOrderFill[] = [];
  for (const [i, q] of quotes.entries()) {
    if (i > 0 && q.quotedAt <= workedThrough) throw InvalidInput.of(`quotes[${i}].quotedAt`, q.quotedAt, 'must come after the quote before it');
    if (q.quotedAt > expiresAt) {
      expired = true;
      break;
    }
    workedThrough = q.quotedAt;
    const remaining = quantityFromLots(remainingLots);
    const volume = Math.max(q.intervalVolume, order.quantity) as Quantity;
    const rng = seededRandom(paperStepSeed(decisionKey, q.quotedAt, first.quotedAt));
    const fill = simulateFill({ side: order.side, limitPrice: order.limitPrice, remaining, feeAccumulator }, { bid: q.bid, ask: q.ask, intervalVolume: volume }, params, tickSize, rng);
    if (fill === null) continue;
    if (fill.feeAccumulator !== undefined) feeAccumulator = fill.feeAccumulator;
    const touch = (order.side === 'BUY' ? q.ask : q.bid) as Price;
    const walked = q.levels.length === 0 ? null : walkBook(order.side, fill.quantity, q.levels).averagePrice;
    fills.push({ quotedAt: q.quotedAt, quantity: fill.quantity, price: fill.price, fee: fill.fee, touch, bookPrice: walked });
    remainingLots -= quantityLots(fill.quantity);
    if (remainingLots <= 0) break;
  }
  const weighted = (pick: (f: PaperOrderFill) => number | null): number | null => {
    let lots = 0;
    let sum = 0;
    for (const f of fills) {
      const v = pick(f);
      if (v === null) continue;
      lots += quantityLots(f.quantity);
      sum += v * quantityLots(f.quantity);
    }
    return lots === 0 ? null : Math.round(sum / lots);
  };
  const filledLots = fills.reduce((n, f) => n + quantityLots(f.quantity), 0);
  return {
    status: remainingLots <= 0 ? 'FILLED' : expired ? 'EXPIRED' : 'WORKING',
    fills,
    filled: quantityFromLots(filledLots),
    remaining: quantityFromLots(Math.max(remainingLots, 0)),
    averagePrice: weighted((f) => f.price) as Price | null,
    fee: fills.reduce((n, f) => n + f.fee, 0) as Money,
    modelledSlippage: weighted((f) => slippageMicros(order.side, f.touch, f.price)),
    observedSlippage: weighted((f) => (f.bookPrice === null ? null : slippageMicros(order.side, f.touch, f.bookPrice))),
    workedThrough,
  };
}

/** FNV-1a of the key: a stable 32-bit seed. */
export function seedOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Slippage per contract from the touch, micros, positive worse; null without a touch or a price. */
export function slippageFromTouch(side: Side, touch: Price | null, price: Price | null): number | null {
  return touch === null || price === null ? null : slippageMicros(side, touch, price);
}

/** One recorded comparison, as the stage report reads it back. */
export interface ShadowComparisonFigures {
  aligned: boolean;
  riskApproved: boolean;
  quantity: Quantity;
  paperFilled: Quantity;
  /** Per contract, micros, positive worse; null when there was nothing to measure. */
  modelledSlippage: number | null;
  observedSlippage: number | null;
  decidedAt: number;
}

/**
 * A shadow run's figures for the stage report: signal alignment (aligned / decisions), the paper
 * model's fill rate (execution quality), and the observed slippage (the book's executable price)
 * as the run's slippage, with the modelled one beside it. Errors and P&L are not measured here.
 */
export function shadowRunStats(rows: readonly ShadowComparisonFigures[], systemErrors = 0): RunStats {
  const approved = rows.filter((r) => r.riskApproved);
  const weighted = (pick: (r: ShadowComparisonFigures) => number | null): number | null => {
    let lots = 0;
    let sum = 0;
    for (const r of approved) {
      const s = pick(r);
      if (s === null) continue;
      const q = quantityLots(r.quantity);
      lots += q;
      sum += s * q;
    }
    return lots === 0 ? null : Math.round(sum / lots);
  };
  const times = rows.map((r) => r.decidedAt);
  const days = times.length === 0 ? 0 : Math.max(1, Math.ceil((Math.max(...times) - Math.min(...times)) / 86_400_000));
  return {
    stage: 'SHADOW',
    days,
    totalTrades: approved.filter((r) => r.paperFilled > 0).length,
    winRate: null,
    totalPnl: 0 as RunStats['totalPnl'],
    maxDrawdown: 0 as RunStats['maxDrawdown'],
    fillRate: approved.length === 0 ? null : approved.filter((r) => r.paperFilled > 0).length / approved.length,
    averageSlippage: weighted((r) => r.observedSlippage) as RunStats['averageSlippage'],
    modelledSlippage: weighted((r) => r.modelledSlippage) as RunStats['averageSlippage'],
    systemErrors,
    signalAlignment: rows.length === 0 ? null : rows.filter((r) => r.aligned).length / rows.length,
  };
}
