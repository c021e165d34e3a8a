/** Validation of payloads that reach workflows from outside (signals, workflow inputs). */
import type { OrderContext } from '../activities/types';
import type { OperatorRequest, OrderWorkflowInput } from './api';
import { InvalidInput, type FieldProblem } from './domain/errors';
import { validateKey, validateTradingDay } from './domain/ids';
import { MICROS } from './domain/money';

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
  if (problems.length > 0) throw new InvalidInput(problems);
  return input;
}
