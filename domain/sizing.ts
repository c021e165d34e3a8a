/**
 * Position sizing: how many whole contracts a signal is worth. Pure; risk checks come after.
 *
 * - Confidence sizing: floor(confidence × maxOrderSize), never above the maximum; 0 means no order.
 * - Fractional Kelly for a binary contract (reference 002): buying YES at price p with model
 *   probability q risks p to win 1 - p, so f* = (q - p) / (1 - p) of the bankroll. Selling YES at
 *   p is buying NO at 1 - p with probability 1 - q, so f* = (p - q) / p, and the capital at risk
 *   per contract is 1 - p. contracts = floor(fraction × f* × bankroll / cost per contract),
 *   capped by maxOrderSize; f* <= 0 means no order. Bankroll and prices are integer micros; the
 *   Kelly fraction is a float ratio, and the result is a whole count, so no money is ever a float.
 * - Exits close the whole position, in pieces no larger than maxOrderSize.
 */
import { InvalidInput } from './errors';
import type { Side } from './market';
import { MICROS, type Money, type Price, type Quantity } from './money';
import { worstCasePerContract } from './worst-case';

function checkMaxOrderSize(maxOrderSize: number): void {
  if (!Number.isSafeInteger(maxOrderSize) || maxOrderSize < 0) {
    throw InvalidInput.of('maxOrderSize', maxOrderSize, 'must be a whole, non-negative number of contracts');
  }
}

export function sizeByConfidence(confidence: number, maxOrderSize: number): Quantity {
  checkMaxOrderSize(maxOrderSize);
  if (typeof confidence !== 'number' || Number.isNaN(confidence) || confidence < 0 || confidence > 1) {
    throw InvalidInput.of('confidence', confidence, 'must be a number in [0, 1]');
  }
  // The 1e-9 guards against 0.3 × 10 = 2.9999999999999996 flooring a contract away.
  return Math.min(maxOrderSize, Math.floor(confidence * maxOrderSize + 1e-9)) as Quantity;
}

/** Full-Kelly fraction of the bankroll for one binary contract; 0 when there is no edge. */
export function kellyFraction(side: Side, p: Price, probability: number): number {
  if (!Number.isSafeInteger(p) || p <= 0 || p >= MICROS) throw InvalidInput.of('price', p, 'must be micros inside (0, 1)');
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
    throw InvalidInput.of('probability', probability, 'must be a probability in [0, 1]');
  }
  const price01 = p / MICROS;
  const f = side === 'BUY' ? (probability - price01) / (1 - price01) : (price01 - probability) / price01;
  return f > 0 ? f : 0;
}

export interface KellyInput {
  side: Side;
  price: Price;
  /** Model probability of YES. */
  probability: number;
  bankroll: Money;
  /** Fraction of full Kelly, e.g. 0.5 for half Kelly (reference 002) or 0.25. */
  kellyMultiplier: number;
  maxOrderSize: number;
}

export function kellyContracts(input: KellyInput): Quantity {
  const { side, price, probability, bankroll, kellyMultiplier, maxOrderSize } = input;
  checkMaxOrderSize(maxOrderSize);
  if (!Number.isSafeInteger(bankroll) || bankroll < 0) throw InvalidInput.of('bankroll', bankroll, 'must be non-negative micros');
  if (typeof kellyMultiplier !== 'number' || !(kellyMultiplier >= 0 && kellyMultiplier <= 1)) {
    throw InvalidInput.of('kellyMultiplier', kellyMultiplier, 'must be in [0, 1]');
  }
  const f = kellyFraction(side, price, probability);
  if (f === 0 || kellyMultiplier === 0) return 0 as Quantity;
  const costPerContract = worstCasePerContract(side === 'BUY', price);
  const contracts = Math.floor((kellyMultiplier * f * bankroll) / costPerContract + 1e-9);
  return Math.min(maxOrderSize, contracts) as Quantity;
}

/**
 * Whole contracts to close a signed position, at most maxOrderSize per order. Orders are whole,
 * so a fraction of a contract left by fractional fills is not ordered (it would need an order that
 * overshoots into the other side); it stays held until resolution.
 */
export function exitQuantity(position: number, maxOrderSize: number): Quantity {
  checkMaxOrderSize(maxOrderSize);
  return Math.min(Math.floor(Math.abs(position)), maxOrderSize) as Quantity;
}

/** Half Kelly (reference 002: `kelly_fraction=0.5`), the multiplier the backtest and a live session both use. */
export const HALF_KELLY = 0.5;

export type SizingMethod =
  | { kind: 'confidence'; maxOrderSize: number }
  | { kind: 'kelly'; maxOrderSize: number; kellyMultiplier: number; bankroll: Money };

/**
 * Contracts for one signal. Kelly needs the model probability (the signal's
 * `metadata.modelProbability`); without one it falls back to confidence sizing.
 */
export function sizeSignal(
  signal: { side: Side; price: Price; confidence: number; intent: 'ENTER' | 'EXIT'; metadata: Record<string, number | string> },
  position: number,
  method: SizingMethod,
): Quantity {
  if (signal.intent === 'EXIT') return exitQuantity(position, method.maxOrderSize);
  const q = signal.metadata.modelProbability;
  if (method.kind === 'kelly' && typeof q === 'number') {
    return kellyContracts({ side: signal.side, price: signal.price, probability: q, bankroll: method.bankroll, kellyMultiplier: method.kellyMultiplier, maxOrderSize: method.maxOrderSize });
  }
  return sizeByConfidence(signal.confidence, method.maxOrderSize);
}
