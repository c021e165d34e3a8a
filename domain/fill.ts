/** A venue execution. Its trade ID is unique at the venue: applying it twice must change nothing. */
import { InvalidInput, type FieldProblem } from './errors';
import { validateClientOrderId } from './ids';
import { validateMarketId, type Side } from './market';
import { MICROS, isContractQuantity, type Money, type Price, type Quantity } from './money';

export interface Fill {
  tradeId: string;
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  price: Price;
  fee: Money;
  /** Epoch milliseconds reported by the venue. */
  ts: number;
}

const TRADE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * What the ledger needs of an execution: a side, a positive quantity with at most two decimals
 * (venues fill fractions of a contract, domain/money.ts), a price inside (0, 1) and a fee, both
 * integer micros.
 */
export function executionProblems(f: Pick<Fill, 'side' | 'quantity' | 'price' | 'fee'>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (f.side !== 'BUY' && f.side !== 'SELL') problems.push({ field: 'side', value: f.side, problem: 'must be BUY or SELL' });
  if (!isContractQuantity(f.quantity) || f.quantity <= 0) {
    problems.push({ field: 'quantity', value: f.quantity, problem: 'must be a positive number of contracts with at most 2 decimal places' });
  }
  if (!Number.isSafeInteger(f.price) || f.price <= 0 || f.price >= MICROS) problems.push({ field: 'price', value: f.price, problem: 'must be integer micros inside (0, 1)' });
  if (!Number.isSafeInteger(f.fee) || f.fee < 0) problems.push({ field: 'fee', value: f.fee, problem: 'must be non-negative integer micros' });
  return problems;
}

/** Checks a fill from outside (venue response, data file) and reports every bad field at once. */
export function validateFill(f: Fill): Fill {
  const problems: FieldProblem[] = [];
  if (typeof f.tradeId !== 'string' || !TRADE_ID_RE.test(f.tradeId)) {
    problems.push({ field: 'tradeId', value: f.tradeId, problem: 'must be 1-128 letters, digits, "_", ".", ":" or "-"' });
  }
  try {
    validateClientOrderId(f.clientOrderId);
  } catch {
    problems.push({ field: 'clientOrderId', value: f.clientOrderId, problem: 'must be 1-64 letters, digits, "_", "." or "-"' });
  }
  try {
    validateMarketId(f.marketId);
  } catch (e) {
    problems.push(...(e as InvalidInput).problems);
  }
  problems.push(...executionProblems(f));
  if (!Number.isSafeInteger(f.ts) || f.ts < 0) problems.push({ field: 'ts', value: f.ts, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  return f;
}
