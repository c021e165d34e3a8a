/**
 * Identifiers derived from business keys, with their inverses: client order
 * IDs, workflow IDs, reconciliation run IDs, journal keys, audit event keys and alert dedupe keys.
 * Every module that makes or reads one calls a function here; none writes the format inline.
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

/** YYYYMMDD, the trading day as client order IDs carry it. */
const compactDay = (tradingDay: string): string => validateTradingDay(tradingDay).replaceAll('-', '');

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/** `<strategy>-<YYYYMMDD>-<seq>`: unique per order, stable across replays. */
export function makeClientOrderId(strategy: string, tradingDay: string, sequence: number): string {
  validateKey(strategy, 'strategy');
  const day = compactDay(tradingDay);
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw InvalidInput.of('sequence', sequence, 'must be a positive integer');
  return `${strategy}-${day}-${String(sequence).padStart(6, '0')}`;
}

/** Inverse of `makeClientOrderId` for one strategy and day: the sequence numbers of those IDs among `clientOrderIds` (flatten IDs excluded). */
export function orderSequencesOf(strategy: string, tradingDay: string, clientOrderIds: Iterable<string>): number[] {
  const re = new RegExp(`^${escapeRe(strategy)}-${compactDay(tradingDay)}-(\\d{1,15})$`);
  const out: number[] = [];
  for (const id of clientOrderIds) {
    const m = re.exec(id);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

const CLIENT_ORDER_ID_MAX = 64;

/**
 * Client order ID of the order that flattens one market: `<strategy>-flat-<YYYYMMDD>-<tag>`, the
 * tag a short digest the caller makes from what must keep the ID stable (the kill switch's
 * reason and the market). The strategy part is shortened when the whole would exceed 64 characters.
 */
export function flattenClientOrderId(strategy: string, tradingDay: string, tag: string): string {
  if (!/^[0-9a-z]{1,16}$/.test(tag)) throw InvalidInput.of('tag', tag, 'must be 1-16 lowercase letters or digits');
  const tail = `-flat-${compactDay(tradingDay)}-${tag}`;
  return `${strategy.slice(0, CLIENT_ORDER_ID_MAX - tail.length)}${tail}`;
}

/** Whether a client order ID is one of the strategy's: an order it placed or a flatten order (strategy part not shortened). */
export function isStrategyClientOrderId(strategy: string, clientOrderId: string): boolean {
  return new RegExp(`^${escapeRe(strategy)}-(flat-)?\\d{8}-[0-9a-z]+$`).test(clientOrderId);
}

const CLIENT_ORDER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateClientOrderId(value: unknown, field = 'clientOrderId'): string {
  if (typeof value !== 'string' || !CLIENT_ORDER_ID_RE.test(value)) {
    throw InvalidInput.of(field, value, 'must be 1-64 characters of letters, digits, "_", "." or "-"');
  }
  return value;
}

const ORDER_PREFIX = 'order-';
const SESSION_PREFIX = 'session-';

export const orderWorkflowId = (clientOrderId: string): string => `${ORDER_PREFIX}${validateClientOrderId(clientOrderId)}`;

export function clientOrderIdFromWorkflowId(workflowId: string): string {
  if (!workflowId.startsWith(ORDER_PREFIX)) throw InvalidInput.of('workflowId', workflowId, 'is not an order workflow ID');
  return validateClientOrderId(workflowId.slice(ORDER_PREFIX.length));
}

export const sessionWorkflowId = (strategy: string, tradingDay: string): string =>
  `${SESSION_PREFIX}${validateKey(strategy, 'strategy')}-${validateTradingDay(tradingDay)}`;

export function parseSessionWorkflowId(workflowId: string): { strategy: string; tradingDay: string } {
  const m = /^session-(.+)-(\d{4}-\d{2}-\d{2})$/.exec(workflowId);
  if (!m) throw InvalidInput.of('workflowId', workflowId, 'is not a session workflow ID');
  return { strategy: validateKey(m[1], 'strategy'), tradingDay: validateTradingDay(m[2]) };
}

/** Whether a workflow ID names a trading session (what `parseSessionWorkflowId` accepts). */
export function isSessionWorkflowId(workflowId: string): boolean {
  try {
    parseSessionWorkflowId(workflowId);
    return true;
  } catch (e) {
    if (e instanceof InvalidInput) return false;
    throw e;
  }
}

/** `shadow-<strategy>-<YYYY-MM-DD>`: the shadow session of a strategy's trading day. */
export const shadowWorkflowId = (strategy: string, tradingDay: string): string => `shadow-${validateKey(strategy, 'strategy')}-${validateTradingDay(tradingDay)}`;

export function parseShadowWorkflowId(workflowId: string): { strategy: string; tradingDay: string } {
  const m = /^shadow-(.+)-(\d{4}-\d{2}-\d{2})$/.exec(workflowId);
  if (!m) throw InvalidInput.of('workflowId', workflowId, 'is not a shadow session workflow ID');
  return { strategy: validateKey(m[1], 'strategy'), tradingDay: validateTradingDay(m[2]) };
}

/**
 * `<workflow ID>/<first run ID>`: one shadow run. A shadow session started again the same day is a
 * new run (its quotes and warm states start afresh); continue-as-new keeps the run.
 */
export const shadowRunKey = (workflowId: string, firstRunId: string): string => `${workflowId}/${firstRunId}`;

/** `<shadow run>#<sequence>`: one decision of a shadow run, made in the workflow (the comparison's idempotency key). */
export const shadowDecisionKey = (shadowRun: string, sequence: number): string => {
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw InvalidInput.of('sequence', sequence, 'must be a whole number from 1');
  return `${shadowRun}#${sequence}`;
};

export function parseShadowDecisionKey(key: string): { shadowRun: string; sequence: number } {
  const m = /^(.+)#(\d+)$/.exec(key);
  if (!m) throw InvalidInput.of('decisionKey', key, 'is not a shadow decision key');
  return { shadowRun: m[1]!, sequence: Number(m[2]) };
}

const CLI_RUN_PREFIX = 'reconciliation-cli-';

/**
 * `reconciliation-cli-<UTC time to the second>-<nonce>`: a reconciliation run asked for from the
 * CLI; unique (the nonce is random), sortable, and says where it came from.
 */
export function cliReconciliationRunId(at: number, nonce: string): string {
  if (!/^[0-9a-f]{8}$/.test(nonce)) throw InvalidInput.of('nonce', nonce, 'must be 8 lowercase hex digits');
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${CLI_RUN_PREFIX}${stamp}-${nonce}`;
}

/** Inverse of `cliReconciliationRunId`: when it was asked for (to the second) and its nonce; null for another run ID. */
export function parseCliReconciliationRunId(runId: string): { at: number; nonce: string } | null {
  const m = /^reconciliation-cli-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{8})$/.exec(runId);
  if (!m) return null;
  const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(at) ? null : { at, nonce: m[7]! };
}

/**
 * Journal key of the daily reset of an account's trading day (`daily-reset:<account>:<day>`,
 * sequence 0): the reset is done once per day, whoever runs it.
 */
export const dailyResetJournalKey = (account: string, tradingDay: string): string => `daily-reset:${account}:${validateTradingDay(tradingDay)}`;

/** Inverse of `dailyResetJournalKey`; null for any other journal key. */
export function parseDailyResetJournalKey(key: string): { account: string; tradingDay: string } | null {
  const m = /^daily-reset:(.+):(\d{4}-\d{2}-\d{2})$/.exec(key);
  return m ? { account: m[1]!, tradingDay: m[2]! } : null;
}

/** Journal key of an operator request the CLI recorded before acting (`cli:<uuid>`, sequence 0). */
export const cliJournalKey = (uuid: string): string => `cli:${uuid}`;

/** Journal key of an operator request the dashboard recorded before acting (`dashboard-<request ID>`, sequence 0). */
export const dashboardJournalKey = (requestId: string): string => `dashboard-${requestId}`;

/** Audit event key of a position adopted from the venue by a reconciliation run. */
export const adoptionAuditKey = (runId: string, marketId: string): string => `ADOPT:${runId}:${marketId}`;

/**
 * Alert dedupe keys (an alert records its key before sending, so a retry sends at
 * most once). Each is `<TYPE>:<business key>`; the business key says what the alert is about
 * and, where an alert may rightly repeat, which repetition it is.
 */
export const AlertKey = {
  /** One per account and market: a market settles once. */
  marketSettled: (account: string, marketId: string): string => `MARKET_SETTLED:${account}:${marketId}`,
  /** One per account and trading day. */
  dailyReport: (account: string, tradingDay: string): string => `DAILY_REPORT:${account}:${tradingDay}`,
  /** A session's alert of `type`; `occasion` tells apart the repetitions the session means to send. */
  session: (type: string, strategy: string, tradingDay: string, occasion: string): string => `${type}:${strategy}:${tradingDay}:${occasion}`,
  /**
   * An order's alert of `type`: one per order and type; `occasion` tells apart a second alert of
   * the same type for the order (`cancel`: the venue has not confirmed our cancel).
   */
  order: (type: string, clientOrderId: string, occasion?: string): string => `${type}:${clientOrderId}${occasion === undefined ? '' : `:${occasion}`}`,
  /** One per shadow run: it halts once. */
  shadowMisaligned: (shadowRun: string): string => `SHADOW_MISALIGNED:${shadowRun}`,
  /** One per reconciliation run. */
  reconciliationMismatch: (runId: string): string => `RECONCILIATION_MISMATCH:${runId}`,
  /** The n-th reminder of a run still waiting for an operator. */
  reconciliationUnanswered: (runId: string, reminder: number): string => `RECONCILIATION_UNANSWERED:${runId}:${reminder}`,
  /** One per venue outage, named by when the connection was lost. */
  connectionLost: (venue: string, lostSince: number): string => `CONNECTION_LOST:${venue}:${lostSince}`,
  /**
   * A live check's alert of `type` for the account, one per cooldown window (`windowStart`, epoch
   * ms): a condition that holds is raised again each window, and the alert cooldown keeps it to
   * one email per cooldown.
   */
  monitor: (type: string, account: string, windowStart: number): string => `${type}:${account}:${windowStart}`,
} as const;

/**
 * The client order ID the records give a venue order that has none of its own (placed by hand on
 * the venue's site, or by another program): "ext-" and the venue order ID, so its fills are booked
 * like any other and never stop the fill sync. Deterministic: the same venue order always gets the
 * same ID, on every worker and after a restart. Venue order IDs that would not make a valid client
 * order ID (too long, or other characters) are refused rather than altered, so the inverse is exact.
 */
const EXTERNAL_PREFIX = 'ext-';

export function externalClientOrderId(venueOrderId: string): string {
  return validateClientOrderId(`${EXTERNAL_PREFIX}${venueOrderId}`, 'venueOrderId');
}

/** The venue order ID inside an external client order ID, or null for one this system made. */
export function venueOrderIdOfExternal(clientOrderId: string): string | null {
  return clientOrderId.startsWith(EXTERNAL_PREFIX) && clientOrderId.length > EXTERNAL_PREFIX.length ? clientOrderId.slice(EXTERNAL_PREFIX.length) : null;
}
