/** Validation of payloads that reach workflows from outside (signals, workflow inputs). */
import type { OrderContext, OrderIntent } from '../activities/types';
import type { OperatorRequest, OrderCarry, OrderFollowLimits, OrderWorkflowInput } from './api';
import { InvalidInput, type FieldProblem } from './domain/errors';
import { validateFill, type Fill } from './domain/fill';
import { validateKey, validateTradingDay } from './domain/ids';
import { MICROS } from './domain/money';
import { ORDER_STATES, isTerminal, type OrderState } from './domain/order';

const MAX_OPERATOR = 100;
const MAX_REASON = 1_000;

function text(problems: FieldProblem[], field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    problems.push({ field, value, problem: 'is required and must be non-empty text' });
    return '';
  }
  if (value.length > max) problems.push({ field, value, problem: `must be at most ${max} characters` });
  return value.trim();
}

/** Checks an operator request (who and why); reports every bad field, prefixed by the signal name. */
export function validateOperatorRequest(payload: unknown, signal: string): OperatorRequest {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw InvalidInput.of(signal, payload, 'must be an object with operator and reason');
  }
  const p = payload as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const operator = text(problems, `${signal}.operator`, p.operator, MAX_OPERATOR);
  const reason = text(problems, `${signal}.reason`, p.reason, MAX_REASON);
  if (problems.length > 0) throw new InvalidInput(problems);
  return { operator, reason };
}

const DAY_MS = 86_400_000;

/** Checks the parts of an order workflow input that createOrder does not. */
export function validateOrderWorkflowInput(input: OrderWorkflowInput): OrderWorkflowInput {
  const problems: FieldProblem[] = [];
  if (typeof input !== 'object' || input === null) throw InvalidInput.of('input', input, 'must be an object');
  if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs < 1_000 || input.ttlMs > DAY_MS) {
    problems.push({ field: 'ttlMs', value: input.ttlMs, problem: 'must be whole milliseconds between 1 second and 24 hours' });
  }
  const ctx = input.context as Partial<OrderContext> | undefined;
  if (typeof ctx !== 'object' || ctx === null) {
    problems.push({ field: 'context', value: ctx, problem: 'must be an object' });
  } else {
    for (const [field, fn] of [
      ['context.strategy', () => validateKey(ctx.strategy, 'context.strategy')],
      ['context.tradingDay', () => validateTradingDay(ctx.tradingDay, 'context.tradingDay')],
    ] as const) {
      try {
        fn();
      } catch (e) {
        if (e instanceof InvalidInput) problems.push(...e.problems);
        else problems.push({ field, value: undefined, problem: String(e) });
      }
    }
    const s = ctx.signal;
    if (typeof s !== 'object' || s === null) problems.push({ field: 'context.signal', value: s, problem: 'must be an object' });
    else {
      if (!Number.isSafeInteger(s.price) || s.price <= 0 || s.price >= MICROS) problems.push({ field: 'context.signal.price', value: s.price, problem: 'must be integer micros inside (0, 1)' });
      if (typeof s.confidence !== 'number' || !(s.confidence >= 0 && s.confidence <= 1)) problems.push({ field: 'context.signal.confidence', value: s.confidence, problem: 'must be between 0 and 1' });
      if (!Number.isSafeInteger(s.at) || s.at < 0) problems.push({ field: 'context.signal.at', value: s.at, problem: 'must be epoch milliseconds' });
    }
  }
  if (input.halted !== null && typeof input.halted !== 'string') problems.push({ field: 'halted', value: input.halted, problem: 'must be null or a reason' });
  if (!Number.isSafeInteger(input.ordersInLastMinute) || input.ordersInLastMinute < 0) {
    problems.push({ field: 'ordersInLastMinute', value: input.ordersInLastMinute, problem: 'must be a non-negative integer' });
  }
  if (typeof input.searchAttributes !== 'boolean') problems.push({ field: 'searchAttributes', value: input.searchAttributes, problem: 'must be true or false' });
  if (input.limits !== undefined) problems.push(...orderLimitProblems(input.limits));
  if (input.carry !== undefined) problems.push(...orderCarryProblems(input.carry, input.order));
  if (problems.length > 0) throw new InvalidInput(problems);
  return input;
}

const LIMIT_RANGES: Record<keyof OrderFollowLimits, [number, number, string]> = {
  historyEvents: [20, 50_000, 'whole events between 20 and 50000 (Temporal refuses more than 51200)'],
  pollMaxMs: [1_000, 3_600_000, 'whole milliseconds between 1 second and 1 hour'],
  unresolvedAfterMs: [1_000, DAY_MS, 'whole milliseconds between 1 second and 24 hours'],
  unresolvedPollMaxMs: [1_000, DAY_MS, 'whole milliseconds between 1 second and 24 hours'],
};

function orderLimitProblems(limits: unknown): FieldProblem[] {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) return [{ field: 'limits', value: limits, problem: 'must be an object' }];
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(limits)) {
    const range = LIMIT_RANGES[key as keyof OrderFollowLimits] as [number, number, string] | undefined;
    if (range === undefined) problems.push({ field: `limits.${key}`, value, problem: `is not a limit (${Object.keys(LIMIT_RANGES).join(', ')})` });
    else if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < range[0] || (value as number) > range[1])) {
      problems.push({ field: `limits.${key}`, value, problem: `must be ${range[2]}` });
    }
  }
  return problems;
}

const isEpoch = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isCount = isEpoch;

/**
 * Checks a lifecycle handed over by continue-as-new: the order must be the input's order, sent
 * and not yet final, with fills that add up; every bad field is reported at once.
 */
function orderCarryProblems(carry: unknown, intent: OrderIntent): FieldProblem[] {
  if (typeof carry !== 'object' || carry === null || Array.isArray(carry)) return [{ field: 'carry', value: carry, problem: 'must be an object' }];
  const c = carry as Partial<Record<keyof OrderCarry, unknown>>;
  const problems: FieldProblem[] = [];
  const bad = (field: string, value: unknown, problem: string) => problems.push({ field: `carry.${field}`, value, problem });

  const o = c.order as Record<string, unknown> | null | undefined;
  if (typeof o !== 'object' || o === null) bad('order', o, 'must be an order');
  else {
    for (const key of ['clientOrderId', 'marketId', 'side', 'quantity', 'limitPrice'] as const) {
      if (o[key] !== intent?.[key]) bad(`order.${key}`, o[key], `must equal order.${key} of the input (${String(intent?.[key])})`);
    }
    const state = o.state as OrderState;
    if (!(ORDER_STATES as readonly unknown[]).includes(state) || state === 'CREATED' || isTerminal(state)) {
      bad('order.state', state, 'must be a state of a sent order that is not final');
    }
    if (o.venueOrderId !== null && typeof o.venueOrderId !== 'string') bad('order.venueOrderId', o.venueOrderId, 'must be null or text');
    const filled = o.filledQuantity;
    if (!isCount(filled) || filled > (intent?.quantity ?? 0)) bad('order.filledQuantity', filled, 'must be whole contracts no more than the order quantity');
    for (const key of ['fillNotional', 'fees'] as const) if (!isCount(o[key])) bad(`order.${key}`, o[key], 'must be non-negative integer micros');
    if (!Array.isArray(o.fills)) bad('order.fills', o.fills, 'must be a list of fills');
    else {
      const seen = new Set<string>();
      let sum = 0;
      o.fills.forEach((f: unknown, i: number) => {
        try {
          validateFill(f as Fill);
          const fill = f as Fill & { receivedAt?: unknown };
          if (!isEpoch(fill.receivedAt)) bad(`order.fills[${i}].receivedAt`, fill.receivedAt, 'must be epoch milliseconds');
          if (seen.has(fill.tradeId)) bad(`order.fills[${i}].tradeId`, fill.tradeId, 'appears twice');
          seen.add(fill.tradeId);
          sum += fill.quantity;
        } catch (e) {
          if (!(e instanceof InvalidInput)) throw e;
          problems.push(...e.problems.map((p) => ({ ...p, field: `carry.order.fills[${i}].${p.field}` })));
        }
      });
      if (sum !== filled) bad('order.fills', o.fills.length, `must add up to filledQuantity ${String(filled)} (they add up to ${sum})`);
    }
    const ts = o.timestamps as Record<string, unknown> | null;
    if (typeof ts !== 'object' || ts === null) bad('order.timestamps', ts, 'must map states to epoch milliseconds');
    else for (const [k, v] of Object.entries(ts)) if (!(ORDER_STATES as readonly string[]).includes(k) || !isEpoch(v)) bad(`order.timestamps.${k}`, v, 'must be epoch milliseconds of an order state');
    for (const key of ['rejectReason', 'ambiguityReason', 'cancelRejectReason'] as const) {
      if (o[key] !== null && typeof o[key] !== 'string') bad(`order.${key}`, o[key], 'must be null or text');
    }
  }
  for (const key of ['cancelRequest', 'haltRequest'] as const) {
    if (c[key] === null) continue;
    try {
      validateOperatorRequest(c[key], `carry.${key}`);
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      problems.push(...e.problems);
    }
  }
  for (const key of ['ttlExpired', 'unresolvedAlerted'] as const) if (typeof c[key] !== 'boolean') bad(key, c[key], 'must be true or false');
  for (const key of ['ttlDeadline', 'cancelSentAt', 'riskCheckedAt'] as const) if (c[key] !== null && !isEpoch(c[key])) bad(key, c[key], 'must be null or epoch milliseconds');
  if (!isEpoch(c.lastSeenAt)) bad('lastSeenAt', c.lastSeenAt, 'must be epoch milliseconds');
  for (const key of ['submitAttempts', 'polls', 'alertFailures', 'continuedRuns'] as const) if (!isCount(c[key])) bad(key, c[key], 'must be a non-negative integer');
  return problems;
}
