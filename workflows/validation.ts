/** Validation of payloads that reach workflows from outside (signals, workflow inputs). */
import type { OrderContext, OrderIntent } from '../contracts/activities';
import type { ControlRequest, OperatorRequest, OrderCarry, OrderFinished, OrderFollowLimits, OrderWorkflowInput, SessionCarry, SessionWorkflowInput, StartDaySessionInput } from './api';
import { CONNECTION_LOST_POLICIES } from './api';
import { isValidTimeZone } from '../domain/calendar';
import { validateAutomationSettings } from '../domain/automation';
import { parseBreakerState } from '../domain/breakers';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { validateFill, type Fill } from '../domain/fill';
import { validateClientOrderId, validateKey, validateTradingDay } from '../domain/ids';
import { validateMarketId } from '../domain/market';
import { MICROS, addQuantity, isContractQuantity } from '../domain/money';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../domain/operator-request';
import { ORDER_STATES, isTerminal, type OrderState } from '../domain/order';

function text(problems: FieldProblem[], field: string, value: unknown, max: number): string {
  const problem = operatorTextProblem(value, max);
  if (problem !== null) problems.push({ field, value, problem });
  return typeof value === 'string' ? value.trim() : '';
}

/** Checks an operator request (who and why); reports every bad field, prefixed by the signal name. */
export function validateOperatorRequest(payload: unknown, signal: string): OperatorRequest {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw InvalidInput.of(signal, payload, 'must be an object with operator and reason');
  }
  const p = payload as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const operator = text(problems, `${signal}.operator`, p.operator, MAX_OPERATOR_LENGTH);
  const reason = text(problems, `${signal}.reason`, p.reason, MAX_REASON_LENGTH);
  if (problems.length > 0) throw new InvalidInput(problems);
  return { operator, reason };
}

/** A journal key a surface wrote (`cli:<uuid>`, `dashboard-<request ID>`): what the records' keys allow. */
export const JOURNAL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,79}$/;

/**
 * Checks a control update's payload: an operator request, an optional journal key, and the named
 * boolean flags; any other field is refused (a misspelt `cancelOrder` must not halt without
 * cancelling). Reports every bad field, prefixed by the update name. The update's validator: a
 * refused payload never enters the workflow's history.
 */
export function validateControlRequest<F extends string>(payload: unknown, update: string, flags: readonly F[] = []): ControlRequest & Partial<Record<F, boolean>> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw InvalidInput.of(update, payload, 'must be an object with operator and reason');
  }
  const p = payload as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const operator = text(problems, `${update}.operator`, p.operator, MAX_OPERATOR_LENGTH);
  const reason = text(problems, `${update}.reason`, p.reason, MAX_REASON_LENGTH);
  const out: Record<string, unknown> = { operator, reason };
  if (p.journalKey !== undefined) {
    if (typeof p.journalKey === 'string' && JOURNAL_KEY_RE.test(p.journalKey)) out.journalKey = p.journalKey;
    else problems.push({ field: `${update}.journalKey`, value: p.journalKey, problem: 'must be 1-80 letters, digits, ":", ".", "_" or "-" (the key of the journal row written first)' });
  }
  for (const flag of flags) {
    const v = p[flag];
    if (v === undefined) continue;
    if (typeof v === 'boolean') out[flag] = v;
    else problems.push({ field: `${update}.${flag}`, value: v, problem: 'must be true or false' });
  }
  const known = new Set<string>(['operator', 'reason', 'journalKey', ...flags]);
  for (const key of Object.keys(p)) {
    if (!known.has(key)) problems.push({ field: `${update}.${key}`, value: p[key], problem: `is not a field of ${update} (fields: ${[...known].join(', ')})` });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return out as ControlRequest & Partial<Record<F, boolean>>;
}

const DAY_MS = 86_400_000;

/** Levels of automation: the settings an input carries, when it carries any (absent: full automation). */
function automationProblems(automation: unknown): FieldProblem[] {
  if (automation === undefined) return [];
  try {
    validateAutomationSettings(automation, 'automation');
    return [];
  } catch (e) {
    if (e instanceof InvalidInput) return [...e.problems];
    throw e;
  }
}

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
  problems.push(...automationProblems(input.automation));
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
    if (!isContractQuantity(filled) || filled < 0 || filled > (intent?.quantity ?? 0)) {
      bad('order.filledQuantity', filled, 'must be contracts (at most 2 decimals) no more than the order quantity');
    }
    for (const key of ['fillNotional', 'fees'] as const) if (!isCount(o[key])) bad(`order.${key}`, o[key], 'must be non-negative integer micros');
    if (!Array.isArray(o.fills)) bad('order.fills', o.fills, 'must be a list of fills');
    else {
      const seen = new Set<string>();
      let sum: number = 0;
      o.fills.forEach((f: unknown, i: number) => {
        try {
          validateFill(f as Fill);
          const fill = f as Fill & { receivedAt?: unknown };
          if (!isEpoch(fill.receivedAt)) bad(`order.fills[${i}].receivedAt`, fill.receivedAt, 'must be epoch milliseconds');
          if (seen.has(fill.tradeId)) bad(`order.fills[${i}].tradeId`, fill.tradeId, 'appears twice');
          seen.add(fill.tradeId);
          sum = addQuantity(sum, fill.quantity);
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

/** Runs a validator that throws InvalidInput and collects its problems instead. */
function collect(problems: FieldProblem[], check: () => unknown): void {
  try {
    check();
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    problems.push(...e.problems);
  }
}

/** Checks the orderFinished signal an order workflow sends its session. */
export function validateOrderFinished(payload: unknown): OrderFinished {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw InvalidInput.of('orderFinished', payload, 'must be an object with clientOrderId, marketId and state');
  }
  const p = payload as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  collect(problems, () => validateClientOrderId(p.clientOrderId, 'orderFinished.clientOrderId'));
  collect(problems, () => validateMarketId(p.marketId, 'orderFinished.marketId'));
  if (!(ORDER_STATES as readonly unknown[]).includes(p.state)) problems.push({ field: 'orderFinished.state', value: p.state, problem: `must be one of ${ORDER_STATES.join(', ')}` });
  if (p.venueFailure !== undefined && (typeof p.venueFailure !== 'string' || !/^[A-Z_]{1,64}$/.test(p.venueFailure))) {
    problems.push({ field: 'orderFinished.venueFailure', value: p.venueFailure, problem: 'must be a failure type (A-Z and _) when given' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return {
    clientOrderId: p.clientOrderId as string,
    marketId: p.marketId as string,
    state: p.state as OrderFinished['state'],
    ...(p.venueFailure !== undefined ? { venueFailure: p.venueFailure as string } : {}),
  };
}

const HOUR_MS = 3_600_000;
/** The watch activity refuses polls faster than this (activities/session.ts). */
const MIN_POLL_MS = 10;
const CONTINUE_AS_NEW_RANGE = [100, 50_000] as const;

const wholeIn = (v: unknown, min: number, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/**
 * Checks a session's input before it trades: identity, periods the watch can keep (a poll no
 * longer than the watch period, both whole milliseconds), the order time-to-live, the loss limit,
 * and a carried-over state. Reports every bad field at once.
 */
export function validateSessionWorkflowInput(input: SessionWorkflowInput): SessionWorkflowInput {
  if (typeof input !== 'object' || input === null) throw InvalidInput.of('input', input, 'must be an object');
  const problems: FieldProblem[] = [];
  collect(problems, () => validateKey(input.strategy, 'strategy'));
  collect(problems, () => validateTradingDay(input.tradingDay, 'tradingDay'));
  if (typeof input.strategyName !== 'string' || input.strategyName.length === 0) problems.push({ field: 'strategyName', value: input.strategyName, problem: 'must name a strategy' });
  if (typeof input.strategyParams !== 'object' || input.strategyParams === null || Array.isArray(input.strategyParams)) {
    problems.push({ field: 'strategyParams', value: input.strategyParams, problem: 'must be an object' });
  }
  if (!Array.isArray(input.marketIds) || input.marketIds.length === 0) problems.push({ field: 'marketIds', value: input.marketIds, problem: 'must list at least one market' });
  else input.marketIds.forEach((m, i) => collect(problems, () => validateMarketId(m, `marketIds[${i}]`)));
  if (!Number.isSafeInteger(input.endOfDayAt) || input.endOfDayAt <= 0) problems.push({ field: 'endOfDayAt', value: input.endOfDayAt, problem: 'must be epoch milliseconds' });
  const pollOk = wholeIn(input.pollIntervalMs, MIN_POLL_MS, HOUR_MS);
  if (!pollOk) problems.push({ field: 'pollIntervalMs', value: input.pollIntervalMs, problem: `must be whole milliseconds between ${MIN_POLL_MS} and ${HOUR_MS}` });
  if (!wholeIn(input.watchPeriodMs, MIN_POLL_MS, DAY_MS)) {
    problems.push({ field: 'watchPeriodMs', value: input.watchPeriodMs, problem: `must be whole milliseconds between ${MIN_POLL_MS} and ${DAY_MS}` });
  } else if (pollOk && input.pollIntervalMs > input.watchPeriodMs) {
    problems.push({ field: 'pollIntervalMs', value: input.pollIntervalMs, problem: `must not exceed watchPeriodMs (${input.watchPeriodMs}): the watch would end before its second poll` });
  }
  if (!wholeIn(input.orderTtlMs, 1_000, DAY_MS)) problems.push({ field: 'orderTtlMs', value: input.orderTtlMs, problem: 'must be whole milliseconds between 1 second and 24 hours' });
  if (!Number.isSafeInteger(input.maxDailyLoss) || input.maxDailyLoss <= 0) problems.push({ field: 'maxDailyLoss', value: input.maxDailyLoss, problem: 'must be positive integer micros' });
  if (typeof input.breakers !== 'object' || input.breakers === null) problems.push({ field: 'breakers', value: input.breakers, problem: 'must be an object' });
  if (typeof input.searchAttributes !== 'boolean') problems.push({ field: 'searchAttributes', value: input.searchAttributes, problem: 'must be true or false' });
  if (input.continueAsNewAtEvents !== undefined && !wholeIn(input.continueAsNewAtEvents, ...CONTINUE_AS_NEW_RANGE)) {
    problems.push({ field: 'continueAsNewAtEvents', value: input.continueAsNewAtEvents, problem: `must be a whole number of events between ${CONTINUE_AS_NEW_RANGE[0]} and ${CONTINUE_AS_NEW_RANGE[1]}` });
  }
  if (input.connectionLostPolicy !== undefined && !(CONNECTION_LOST_POLICIES as readonly unknown[]).includes(input.connectionLostPolicy)) {
    problems.push({ field: 'connectionLostPolicy', value: input.connectionLostPolicy, problem: `must be one of ${CONNECTION_LOST_POLICIES.join(', ')}` });
  }
  if (input.carry !== undefined) problems.push(...sessionCarryProblems(input.carry));
  problems.push(...automationProblems(input.automation));
  if (problems.length > 0) throw new InvalidInput(problems);
  return input;
}

const isRecordOf = (v: unknown, ok: (x: unknown) => boolean): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(ok);
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** What is wrong with a carried-over state (absent optional parts are fine: an older run handed it over). */
function sessionCarryProblems(carry: SessionCarry): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const bad = (field: string, value: unknown, problem: string) => problems.push({ field: `carry.${field}`, value, problem });
  if (typeof carry !== 'object' || carry === null) return [{ field: 'carry', value: carry, problem: 'must be an object' }];
  try {
    parseBreakerState(carry.breakers);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    for (const p of e.problems) bad(`breakers.${p.field}`, p.value, p.problem);
  }
  if (typeof carry.strategyState !== 'object' || carry.strategyState === null) bad('strategyState', carry.strategyState, 'must be an object');
  for (const field of ['sequence', 'actionSequence', 'lastAt'] as const) {
    if (!Number.isSafeInteger(carry[field]) || carry[field] < 0) bad(field, carry[field], 'must be a non-negative integer');
  }
  if (!Array.isArray(carry.recentOrderTimes) || !carry.recentOrderTimes.every(Number.isSafeInteger)) bad('recentOrderTimes', carry.recentOrderTimes, 'must list epoch milliseconds');
  if (typeof carry.alertedHalfLoss !== 'boolean') bad('alertedHalfLoss', carry.alertedHalfLoss, 'must be true or false');
  if (carry.ordersStarted !== undefined && (!Number.isSafeInteger(carry.ordersStarted) || carry.ordersStarted < 0)) bad('ordersStarted', carry.ordersStarted, 'must be a non-negative integer');
  if (carry.lastSignalAt !== undefined && carry.lastSignalAt !== null && !Number.isSafeInteger(carry.lastSignalAt)) bad('lastSignalAt', carry.lastSignalAt, 'must be epoch milliseconds or null');
  if (carry.quoteTimes !== undefined && !isRecordOf(carry.quoteTimes, Number.isSafeInteger)) bad('quoteTimes', carry.quoteTimes, 'must map markets to epoch milliseconds');
  if (carry.preflight !== undefined && carry.preflight !== null && !Array.isArray(carry.preflight)) bad('preflight', carry.preflight, 'must be a list of checks or null');
  for (const field of ['refusedSignals', 'unsentAlerts', 'recordFailures'] as const) {
    if (carry[field] !== undefined && !isStrings(carry[field])) bad(field, carry[field], 'must be a list of text');
  }
  if (carry.reservations !== undefined) {
    if (!isRecordOf(carry.reservations, (v) => typeof v === 'string')) bad('reservations', carry.reservations, 'must map markets to client order IDs');
    else
      for (const [market, coid] of Object.entries(carry.reservations)) {
        const ps: FieldProblem[] = [];
        collect(ps, () => validateMarketId(market, 'reservations'));
        collect(ps, () => validateClientOrderId(coid, `reservations.${market}`));
        for (const p of ps) bad(p.field, p.value, p.problem);
      }
  }
  if (carry.pendingJournal !== undefined) {
    if (!Array.isArray(carry.pendingJournal)) bad('pendingJournal', carry.pendingJournal, 'must be a list');
    else
      carry.pendingJournal.forEach((a, i) => {
        if (typeof a !== 'object' || a === null || typeof a.action !== 'string' || !Number.isSafeInteger(a.sequence) || typeof a.workflowId !== 'string') {
          bad(`pendingJournal[${i}]`, a, 'must be a journal entry with action, workflowId and sequence');
        }
      });
  }
  if (carry.pendingBreakerChanges !== undefined) {
    if (!Array.isArray(carry.pendingBreakerChanges)) bad('pendingBreakerChanges', carry.pendingBreakerChanges, 'must be a list');
    else
      carry.pendingBreakerChanges.forEach((c, i) => {
        if (typeof c !== 'object' || c === null || !Array.isArray(c.tripped) || !Array.isArray(c.lifted) || !Number.isSafeInteger(c.at)) {
          bad(`pendingBreakerChanges[${i}]`, c, 'must hold tripped and lifted trips and a time');
        }
      });
  }
  if (carry.kill !== undefined && carry.kill !== null) collect(problems, () => validateOperatorRequest(carry.kill, 'carry.kill'));
  if (carry.cancelWorking !== undefined && carry.cancelWorking !== null) collect(problems, () => validateOperatorRequest(carry.cancelWorking, 'carry.cancelWorking'));
  if (carry.outageHandled !== undefined && carry.outageHandled !== null && !Number.isSafeInteger(carry.outageHandled)) bad('outageHandled', carry.outageHandled, 'must be epoch milliseconds or null');
  if (carry.orderNotices !== undefined) {
    if (!Array.isArray(carry.orderNotices)) bad('orderNotices', carry.orderNotices, 'must be a list');
    else
      carry.orderNotices.forEach((n, i) => {
        if (typeof n !== 'object' || n === null || (n.signal !== 'halt' && n.signal !== 'cancel')) bad(`orderNotices[${i}].signal`, n?.signal, 'must be halt or cancel');
        else collect(problems, () => validateOperatorRequest(n.request, `carry.orderNotices[${i}].request`));
      });
  }
  return problems;
}

/** Checks the input of the day's session start (a Schedule's args): the template and the time zone. */
export function validateStartDaySession(input: StartDaySessionInput): StartDaySessionInput {
  if (typeof input !== 'object' || input === null) throw InvalidInput.of('input', input, 'must be an object with template and timeZone');
  const problems: FieldProblem[] = [];
  const t = input.template as Partial<StartDaySessionInput['template']> | undefined;
  if (typeof t !== 'object' || t === null) problems.push({ field: 'template', value: t, problem: 'must be the session template (the session input without its day)' });
  else {
    collect(problems, () => validateKey(t.strategy, 'template.strategy'));
    if (!Array.isArray(t.marketIds) || t.marketIds.some((m) => typeof m !== 'string')) problems.push({ field: 'template.marketIds', value: t.marketIds, problem: 'must be a list of market IDs' });
    if (typeof t.searchAttributes !== 'boolean') problems.push({ field: 'template.searchAttributes', value: t.searchAttributes, problem: 'must be true or false' });
  }
  if (typeof input.timeZone !== 'string' || !isValidTimeZone(input.timeZone)) {
    problems.push({ field: 'timeZone', value: input.timeZone, problem: 'must be an IANA time zone such as "America/New_York" or "UTC"' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return input;
}
