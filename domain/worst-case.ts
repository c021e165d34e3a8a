/**
 * The worst case of a binary contract position, the one rule every risk figure uses (pre-trade
 * rules, ledger exposure, the portfolio and category sums, the dashboard's panel).
 *
 * A YES contract pays 1 or 0. Long YES bought at p loses p per contract if the market resolves NO;
 * short YES sold at p (buying NO at 1 − p) loses 1 − p per contract if it resolves YES. So a long
 * of q at p is worth p×q at risk and a short (1 − p)×q: a short at 0.10 risks as much as a long at
 * 0.90. Sizing reads the same rule (the capital at risk per contract, sizing.ts).
 */
import { MICROS, notional, subtractQuantity, type Money } from './money';

/** |q| contracts at `perContract` micros each: exact for fractional contracts (money.ts notional). */
const times = (quantity: number, perContract: number): number => notional(perContract as Money, Math.abs(quantity));

/** Per contract, in micros: p for a long, 1 − p for a short; 1.00 when there is no valid price (the most a contract pays). */
export function worstCasePerContract(long: boolean, price: number | null): number {
  if (price === null || !(price > 0 && price < MICROS)) return MICROS;
  return long ? price : MICROS - price;
}

/** |q| × the worst case per contract of the side the signed quantity holds (positive long, negative short). */
export function worstCaseValue(signedQuantity: number, price: number | null): number {
  if (signedQuantity === 0) return 0;
  return times(signedQuantity, worstCasePerContract(signedQuantity > 0, price));
}

/**
 * The worst case valued at entry, from the signed cost basis (what a long paid, minus what a short
 * received): a long risks its cost, a short |q| × 1.00 less what it received.
 */
export function worstCaseAtCost(signedQuantity: number, costBasis: number): number {
  if (signedQuantity === 0) return 0;
  return signedQuantity > 0 ? costBasis : times(signedQuantity, MICROS) + costBasis;
}

/**
 * What an order puts at stake, for the fat-finger check: the contracts that reduce the position
 * at the price they trade at (the proceeds of selling a long, the cost of buying back a short),
 * and the contracts that open or add at the worst case of the side they open (p bought, 1 − p sold
 * short). So an exit is valued as before and a short sale at 0.10 weighs what a buy at 0.90 does.
 */
export function orderWorstCase(buy: boolean, quantity: number, price: number | null, currentPosition: number): number {
  const closing = buy === currentPosition < 0 ? Math.min(quantity, Math.abs(currentPosition)) : 0;
  return times(closing, worstCasePerContract(true, price)) + times(subtractQuantity(quantity, closing), worstCasePerContract(buy, price));
}
