/**
 * Identifiers derived from business keys, with their inverses (STYLE.md, "Do" 3).
 * Client order IDs are made deterministically from the session and a sequence number,
 * so a replayed workflow makes the same ID and a resubmission is recognised by the venue.
 */
import { InvalidInput } from './errors';

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function validateKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || !KEY_RE.test(value)) {
    throw InvalidInput.of(field, value, 'must be 1-48 characters of letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  return value;
}

/** A trading day as YYYY-MM-DD, checked to be a real calendar date. */
export function validateTradingDay(value: unknown, field = 'tradingDay'): string {
  const m = typeof value === 'string' ? DAY_RE.exec(value) : null;
  if (!m) throw InvalidInput.of(field, value, 'must be a date written YYYY-MM-DD');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw InvalidInput.of(field, value, 'is not a calendar date');
  }
  return value as string;
}

/** The trading day (UTC calendar date) containing an epoch-milliseconds instant. */
export function tradingDayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** `<strategy>-<YYYYMMDD>-<seq>`: unique per order, stable across replays. */
export function makeClientOrderId(strategy: string, tradingDay: string, sequence: number): string {
  validateKey(strategy, 'strategy');
  validateTradingDay(tradingDay);
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw InvalidInput.of('sequence', sequence, 'must be a positive integer');
  return `${strategy}-${tradingDay.replaceAll('-', '')}-${String(sequence).padStart(6, '0')}`;
}

const CLIENT_ORDER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateClientOrderId(value: unknown, field = 'clientOrderId'): string {
  if (typeof value !== 'string' || !CLIENT_ORDER_ID_RE.test(value)) {
    throw InvalidInput.of(field, value, 'must be 1-64 characters of letters, digits, "_", "." or "-"');
  }
  return value;
}

export const orderWorkflowId = (clientOrderId: string): string => `order-${validateClientOrderId(clientOrderId)}`;

export function clientOrderIdFromWorkflowId(workflowId: string): string {
  if (!workflowId.startsWith('order-')) throw InvalidInput.of('workflowId', workflowId, 'is not an order workflow ID');
  return validateClientOrderId(workflowId.slice('order-'.length));
}

export const sessionWorkflowId = (strategy: string, tradingDay: string): string =>
  `session-${validateKey(strategy, 'strategy')}-${validateTradingDay(tradingDay)}`;

export function parseSessionWorkflowId(workflowId: string): { strategy: string; tradingDay: string } {
  const m = /^session-(.+)-(\d{4}-\d{2}-\d{2})$/.exec(workflowId);
  if (!m) throw InvalidInput.of('workflowId', workflowId, 'is not a session workflow ID');
  return { strategy: validateKey(m[1], 'strategy'), tradingDay: validateTradingDay(m[2]) };
}
