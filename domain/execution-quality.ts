/**
 * Execution quality (the reference's execution quality): slippage, fill rate, latency and implementation shortfall,
 * plus the two alert conditions of the reference's alert table that depend on them ("Fill rate < 50%",
 * "Unusual slippage"). Money figures are exact integer micros; means, bps and ratios are floats.
 * All times are epoch milliseconds on one clock (the workflow's), passed in.
 */
import { ErrorType, InvalidInput, type FieldProblem } from './errors';
import type { Side } from './market';
import { LOTS_PER_CONTRACT, MICROS, ZERO, add, addQuantity, averagePrice, bps, isContractQuantity, notional, quantityLots, type Money, type Price, type Quantity } from './money';
import { ORDER_STATES, isTerminal, type Order, type OrderState } from './order';

export interface ExecutionFill {
  quantity: Quantity;
  price: Price;
  fee: Money;
  /** When the fill reached us (same clock as signalAt). */
  ts: number;
}

export interface ExecutionRecord {
  clientOrderId: string;
  marketId: string;
  side: Side;
  /** The price the signal wanted (the target of the reference's measures of execution quality). */
  intendedPrice: Price;
  orderQuantity: Quantity;
  fills: readonly ExecutionFill[];
  signalAt: number;
  /** When the order was sent; null when it never left (refused by pre-trade risk, expired first). */
  submittedAt: number | null;
  firstFillAt: number | null;
  /** When the order reached a terminal state; null while it is open. */
  completedAt: number | null;
  finalState: OrderState;
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMicrosPrice = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v < MICROS;

/** Checks a record and reports every bad field at once. */
export function validateExecutionRecord(r: ExecutionRecord): ExecutionRecord {
  const problems: FieldProblem[] = [];
  const bad = (field: string, value: unknown, problem: string) => problems.push({ field, value, problem });
  if (typeof r.clientOrderId !== 'string' || r.clientOrderId.length === 0) bad('clientOrderId', r.clientOrderId, 'must be a client order ID');
  if (typeof r.marketId !== 'string' || r.marketId.length === 0) bad('marketId', r.marketId, 'must be a market ID');
  if (r.side !== 'BUY' && r.side !== 'SELL') bad('side', r.side, 'must be BUY or SELL');
  if (!isMicrosPrice(r.intendedPrice)) bad('intendedPrice', r.intendedPrice, 'must be micros inside (0, 1)');
  if (!Number.isSafeInteger(r.orderQuantity) || r.orderQuantity <= 0) bad('orderQuantity', r.orderQuantity, 'must be a positive whole number of contracts');
  if (!(ORDER_STATES as readonly string[]).includes(r.finalState)) bad('finalState', r.finalState, 'must be an order state');
  if (!isTime(r.signalAt)) bad('signalAt', r.signalAt, 'must be epoch milliseconds');
  if (!Array.isArray(r.fills)) {
    bad('fills', r.fills, 'must be an array');
  } else {
    let filled = 0;
    r.fills.forEach((f, i) => {
      if (!isContractQuantity(f.quantity) || f.quantity <= 0) bad(`fills[${i}].quantity`, f.quantity, 'must be a positive number of contracts with at most 2 decimal places');
      else filled = addQuantity(filled, f.quantity);
      if (!isMicrosPrice(f.price)) bad(`fills[${i}].price`, f.price, 'must be micros inside (0, 1)');
      if (!Number.isSafeInteger(f.fee) || f.fee < 0) bad(`fills[${i}].fee`, f.fee, 'must be non-negative micros');
      if (!isTime(f.ts)) bad(`fills[${i}].ts`, f.ts, 'must be epoch milliseconds');
    });
    if (Number.isSafeInteger(r.orderQuantity) && filled > r.orderQuantity) bad('fills', filled, `fill quantities add up to more than orderQuantity ${r.orderQuantity}`);
    if ((r.fills.length > 0) !== (r.firstFillAt !== null)) bad('firstFillAt', r.firstFillAt, 'must be set exactly when there are fills');
    if (r.fills.length > 0 && r.submittedAt === null) bad('submittedAt', r.submittedAt, 'must be set when there are fills');
  }
  // Times must not run backwards: signal <= submit <= first fill <= completion.
  let last = isTime(r.signalAt) ? r.signalAt : 0;
  for (const field of ['submittedAt', 'firstFillAt', 'completedAt'] as const) {
    const v = r[field];
    if (v === null) continue;
    if (!isTime(v)) bad(field, v, 'must be epoch milliseconds or null');
    else if (v < last) bad(field, v, 'must not be earlier than the preceding step of the order');
    else last = v;
  }
  if (ORDER_STATES.includes(r.finalState) && isTerminal(r.finalState) !== (r.completedAt !== null)) {
    bad('completedAt', r.completedAt, `must be set exactly when finalState is terminal (finalState ${r.finalState})`);
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return r;
}

/**
 * Builds the record of an order. `submittedAt` is when the order was cleared to go
 * (PENDING_SUBMIT first reached); fill times are when each fill reached the workflow.
 */
export function executionRecordFromOrder(order: Order, signal: { intendedPrice: Price; signalAt: number }): ExecutionRecord {
  const fills = order.fills.map((f) => ({ quantity: f.quantity, price: f.price, fee: f.fee, ts: f.receivedAt }));
  const terminalAt = isTerminal(order) ? (order.timestamps[order.state] ?? null) : null;
  return validateExecutionRecord({
    clientOrderId: order.clientOrderId,
    marketId: order.marketId,
    side: order.side,
    intendedPrice: signal.intendedPrice,
    orderQuantity: order.quantity,
    fills,
    signalAt: signal.signalAt,
    submittedAt: order.timestamps.PENDING_SUBMIT ?? null,
    firstFillAt: fills.length > 0 ? Math.min(...fills.map((f) => f.ts)) : null,
    completedAt: terminalAt,
    finalState: order.state,
  });
}

/** The reference's measures of execution quality: buy fill - target, sell target - fill, in micros per contract; positive is worse. */
export function slippageMicros(side: Side, intendedPrice: Price, fillPrice: Price): number {
  return side === 'BUY' ? fillPrice - intendedPrice : intendedPrice - fillPrice;
}

export interface FillSlippage {
  micros: number;
  /** Relative to the intended price. */
  bps: number;
}

export interface OrderLatency {
  signalToSubmit: number | null;
  submitToFirstFill: number | null;
  signalToFirstFill: number | null;
  /** Only for orders that filled something and are finished. */
  signalToCompletion: number | null;
}

export interface OrderExecution {
  clientOrderId: string;
  marketId: string;
  filledQuantity: Quantity;
  averageFillPrice: Price | null;
  fees: Money;
  fills: FillSlippage[];
  /** Sum of slippage × quantity over fills: what execution cost against the intended price. */
  slippageCost: Money;
  /** Quantity-weighted mean slippage; null without fills. */
  meanSlippageMicros: number | null;
  meanSlippageBps: number | null;
  latency: OrderLatency;
}

const diff = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : to - from);

export function analyseOrder(record: ExecutionRecord): OrderExecution {
  let filled = 0;
  let cost = ZERO;
  let fees = ZERO;
  let fillNotional = ZERO;
  const fills = record.fills.map((f) => {
    const s = slippageMicros(record.side, record.intendedPrice, f.price);
    filled = addQuantity(filled, f.quantity);
    cost = add(cost, notional(s as Money, f.quantity));
    fees = add(fees, f.fee);
    fillNotional = add(fillNotional, notional(f.price, f.quantity));
    return { micros: s, bps: bps(s, record.intendedPrice) };
  });
  const mean = filled === 0 ? null : cost / filled;
  return {
    clientOrderId: record.clientOrderId,
    marketId: record.marketId,
    filledQuantity: filled as Quantity,
    averageFillPrice: filled === 0 ? null : averagePrice(fillNotional, filled as Quantity),
    fees,
    fills,
    slippageCost: cost,
    meanSlippageMicros: mean,
    meanSlippageBps: mean === null ? null : bps(mean, record.intendedPrice),
    latency: {
      signalToSubmit: diff(record.signalAt, record.submittedAt),
      submitToFirstFill: diff(record.submittedAt, record.firstFillAt),
      signalToFirstFill: diff(record.signalAt, record.firstFillAt),
      signalToCompletion: filled > 0 ? diff(record.signalAt, record.completedAt) : null,
    },
  };
}

export interface ImplementationShortfall {
  /** P&L at resolution YES had every filled contract traded at the intended price. */
  paperPnl: Money;
  actualPnl: Money;
  /** paper - actual; equals the total slippage cost. */
  shortfall: Money;
  /** shortfall / paper; 0 when paper is 0. */
  ratio: number;
}

/**
 * the reference's measures of execution quality and its analyzer: per filled contract, a buy is worth (1 - p) and a
 * sell p, at the intended price (paper) and at the fill price (actual). Fees are not included.
 */
export function implementationShortfall(records: readonly ExecutionRecord[]): ImplementationShortfall {
  let paper = ZERO;
  let actual = ZERO;
  for (const r of records) {
    for (const f of r.fills) {
      const value = (p: number) => notional((r.side === 'BUY' ? MICROS - p : p) as Money, f.quantity);
      paper = add(paper, value(r.intendedPrice));
      actual = add(actual, value(f.price));
    }
  }
  const shortfall = (paper - actual) as Money;
  return { paperPnl: paper, actualPnl: actual, shortfall, ratio: paper === 0 ? 0 : shortfall / paper };
}

export interface DistributionSummary {
  count: number;
  mean: number;
  median: number;
  /**
   * 95th percentile by the chapter's rank rule: sorted[floor(0.95 × n)] (0-based), the only value
   * when n = 1. For n = 20 that is the largest value, where nearest rank would take the 19th.
   */
  p95: number;
  min: number;
  max: number;
}

/** Null for no values. */
export function summariseDistribution(values: readonly number[]): DistributionSummary | null {
  const n = values.length;
  if (n === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (i: number) => sorted[i] as number;
  const middle = Math.floor(n / 2);
  return {
    count: n,
    mean: sorted.reduce((a, b) => a + b, 0) / n,
    median: n % 2 === 1 ? at(middle) : (at(middle - 1) + at(middle)) / 2,
    p95: at(Math.min(n - 1, Math.floor(0.95 * n))),
    min: at(0),
    max: at(n - 1),
  };
}

export interface ExecutionSummary {
  orders: number;
  /** Orders that were sent to the venue. */
  submitted: number;
  /** Submitted orders whose fill outcome is known: finished, or with some fill. */
  decided: number;
  /** Submitted, still open and unfilled: left out of the fill rates until they finish. */
  pending: number;
  withFill: number;
  fullyFilled: number;
  /** withFill / decided (the fill rate the reference measures); null when nothing is decided. */
  fillRate: number | null;
  fullFillRate: number | null;
  filledQuantity: number;
  fillNotional: Money;
  fees: Money;
  slippage: {
    cost: Money;
    /** Slippage cost plus fees. */
    costWithFees: Money;
    /** Quantity-weighted over every filled contract. */
    meanMicros: number | null;
    /** Quantity-weighted mean slippage in bps over every filled contract. */
    meanBps: number | null;
    /**
     * The chapter's mean slippage in bps: the plain mean over executions (one per filled order,
     * at its average fill price), each order counting once whatever its size.
     */
    meanBpsPerExecution: number | null;
    /** Distribution of each filled order's own mean slippage in micros (worst = max). */
    perOrderMicros: DistributionSummary | null;
  };
  latencyMs: {
    signalToSubmit: DistributionSummary | null;
    submitToFirstFill: DistributionSummary | null;
    signalToFirstFill: DistributionSummary | null;
    signalToCompletion: DistributionSummary | null;
  };
  implementationShortfall: ImplementationShortfall;
}

const plainMean = (values: readonly number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

export function summarise(records: readonly ExecutionRecord[]): ExecutionSummary {
  records.forEach(validateExecutionRecord);
  const analyses = records.map(analyseOrder);
  let submitted = 0;
  let decided = 0;
  let withFill = 0;
  let fullyFilled = 0;
  let filledQuantity = 0;
  let fillNotional = ZERO;
  let fees = ZERO;
  let cost = ZERO;
  let weightedBps = 0;
  records.forEach((r, i) => {
    const a = analyses[i] as OrderExecution;
    if (r.submittedAt !== null) {
      submitted += 1;
      if (a.filledQuantity > 0 || isTerminal(r.finalState)) decided += 1;
    }
    if (a.filledQuantity > 0) withFill += 1;
    if (a.filledQuantity === r.orderQuantity) fullyFilled += 1;
    filledQuantity = addQuantity(filledQuantity, a.filledQuantity);
    fees = add(fees, a.fees);
    cost = add(cost, a.slippageCost);
    r.fills.forEach((f, j) => {
      fillNotional = add(fillNotional, notional(f.price, f.quantity));
      weightedBps += (a.fills[j] as FillSlippage).bps * f.quantity;
    });
  });
  const latencies = (pick: (l: OrderLatency) => number | null) =>
    summariseDistribution(analyses.map((a) => pick(a.latency)).filter((v): v is number => v !== null));
  return {
    orders: records.length,
    submitted,
    decided,
    pending: submitted - decided,
    withFill,
    fullyFilled,
    fillRate: decided === 0 ? null : withFill / decided,
    fullFillRate: decided === 0 ? null : fullyFilled / decided,
    filledQuantity,
    fillNotional,
    fees,
    slippage: {
      cost,
      costWithFees: add(cost, fees),
      meanMicros: filledQuantity === 0 ? null : cost / filledQuantity,
      meanBps: filledQuantity === 0 ? null : weightedBps / filledQuantity,
      meanBpsPerExecution: plainMean(analyses.flatMap((a) => (a.meanSlippageBps === null ? [] : [a.meanSlippageBps]))),
      perOrderMicros: summariseDistribution(analyses.flatMap((a) => (a.meanSlippageMicros === null ? [] : [a.meanSlippageMicros]))),
    },
    latencyMs: {
      signalToSubmit: latencies((l) => l.signalToSubmit),
      submitToFirstFill: latencies((l) => l.submitToFirstFill),
      signalToFirstFill: latencies((l) => l.signalToFirstFill),
      signalToCompletion: latencies((l) => l.signalToCompletion),
    },
    implementationShortfall: implementationShortfall(records),
  };
}

/** One summary per market, keyed by market ID in sorted order (a plain object, JSON-safe). */
export function summariseByMarket(records: readonly ExecutionRecord[]): Record<string, ExecutionSummary> {
  const groups = new Map<string, ExecutionRecord[]>();
  for (const r of records) groups.set(r.marketId, [...(groups.get(r.marketId) ?? []), r]);
  const out: Record<string, ExecutionSummary> = {};
  for (const marketId of [...groups.keys()].sort()) out[marketId] = summarise(groups.get(marketId) ?? []);
  return out;
}

export interface FillRateAlertParams {
  /** Alert below this fill rate (the reference's alert table: 50%). */
  minFillRate: number;
  /** Decided orders needed before the rate means anything. */
  minOrders: number;
}

/**
 * "Unusual slippage" is judged on the quantity-weighted mean slippage in micros, not bps:
 * near the ends of the (0, 1) price range a one-tick slip is thousands of bps at 0.02 and a
 * few at 0.98, so a bps threshold would fire on cheap contracts and sleep on dear ones.
 */
export interface SlippageAlertParams {
  /** Alert when the mean slippage per contract is strictly above this many micros. */
  maxMeanSlippageMicros: number;
  /** Orders with fills needed before the mean means anything. */
  minFilledOrders: number;
}

export const FILL_RATE_ALERT_DEFAULTS: FillRateAlertParams = { minFillRate: 0.5, minOrders: 10 };

/** One cent: about twice the mean live slippage of the case study ($0.004-0.005). */
export const SLIPPAGE_ALERT_DEFAULTS: SlippageAlertParams = { maxMeanSlippageMicros: 10_000, minFilledOrders: 5 };

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

export function validateFillRateAlertParams(p: FillRateAlertParams): FillRateAlertParams {
  const problems: FieldProblem[] = [];
  if (typeof p.minFillRate !== 'number' || !(p.minFillRate > 0 && p.minFillRate <= 1)) {
    problems.push({ field: 'minFillRate', value: p.minFillRate, problem: 'must be a ratio in (0, 1]' });
  }
  if (!isCount(p.minOrders)) problems.push({ field: 'minOrders', value: p.minOrders, problem: 'must be a whole number of at least 1' });
  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return p;
}

export function validateSlippageAlertParams(p: SlippageAlertParams): SlippageAlertParams {
  const problems: FieldProblem[] = [];
  if (!Number.isSafeInteger(p.maxMeanSlippageMicros) || p.maxMeanSlippageMicros < 0 || p.maxMeanSlippageMicros >= MICROS) {
    problems.push({ field: 'maxMeanSlippageMicros', value: p.maxMeanSlippageMicros, problem: 'must be whole micros in [0, 1000000)' });
  }
  if (!isCount(p.minFilledOrders)) {
    problems.push({ field: 'minFilledOrders', value: p.minFilledOrders, problem: 'must be a whole number of at least 1' });
  }
  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return p;
}

/** HIGH alert "Fill rate < 50%" (the reference's alert table), once enough orders are decided. */
export function isFillRateLow(summary: ExecutionSummary, params: FillRateAlertParams = FILL_RATE_ALERT_DEFAULTS): boolean {
  validateFillRateAlertParams(params);
  return summary.decided >= params.minOrders && summary.withFill < params.minFillRate * summary.decided;
}

/** HIGH alert "Unusual slippage" (the reference's alert table), compared exactly in hundredths: cost > threshold × contracts. */
export function isSlippageUnusual(summary: ExecutionSummary, params: SlippageAlertParams = SLIPPAGE_ALERT_DEFAULTS): boolean {
  validateSlippageAlertParams(params);
  return (
    summary.withFill >= params.minFilledOrders &&
    summary.filledQuantity > 0 &&
    summary.slippage.cost * LOTS_PER_CONTRACT > params.maxMeanSlippageMicros * quantityLots(summary.filledQuantity)
  );
}
