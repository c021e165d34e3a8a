/**
 * Levels of automation (the reference's ladder a trader climbs as trust grows): alerts only (a
 * signal raises an alert with the order it would place), semi-automatic (the order waits for a
 * person's approval, and expires unapproved after a deadline), full automation.
 *
 * Pure: the config, the workflows, the CLI and the dashboard share these rules and words.
 */
import { InvalidInput, type FieldProblem } from './errors';
import { formatDecimal } from './money';

export const AUTOMATION_LEVELS = ['alerts-only', 'semi-auto', 'full'] as const;
export type AutomationLevel = (typeof AUTOMATION_LEVELS)[number];

/** What a session and its orders carry; absent from inputs recorded before levels existed (= full). */
export interface AutomationSettings {
  level: AutomationLevel;
  /** How long a semi-automatic order waits for an approval before it expires unsent. */
  approvalTimeoutMs: number;
}

export const DEFAULT_AUTOMATION_LEVEL: AutomationLevel = 'full';
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
export const MIN_APPROVAL_TIMEOUT_MS = 1_000;
export const MAX_APPROVAL_TIMEOUT_MS = 24 * 60 * 60_000;

export const FULL_AUTOMATION: AutomationSettings = { level: DEFAULT_AUTOMATION_LEVEL, approvalTimeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };

/** The level an input carries: absent (older histories) is full automation. */
export const automationOf = (settings: AutomationSettings | undefined): AutomationSettings => settings ?? FULL_AUTOMATION;

export function parseAutomationLevel(value: unknown, field: string): AutomationLevel {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (!(AUTOMATION_LEVELS as readonly unknown[]).includes(text)) throw InvalidInput.of(field, value, `must be one of ${AUTOMATION_LEVELS.join(', ')}`);
  return text as AutomationLevel;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration such as "90s", "5m", "1h" or "250ms"; a bare whole number is milliseconds. Must lie
 * between MIN_APPROVAL_TIMEOUT_MS and MAX_APPROVAL_TIMEOUT_MS.
 */
export function parseApprovalTimeout(value: unknown, field: string): number {
  const problem = 'must be a duration such as "90s", "5m" or "1h" (or whole milliseconds) from 1 second to 24 hours';
  let ms: number | null = null;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const m = /^(\d{1,9})\s*(ms|s|m|h)?$/.exec(value.trim().toLowerCase());
    if (m) ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  }
  if (ms === null || !Number.isSafeInteger(ms) || ms < MIN_APPROVAL_TIMEOUT_MS || ms > MAX_APPROVAL_TIMEOUT_MS) throw InvalidInput.of(field, value, problem);
  return ms;
}

/** Checks settings that reach a workflow from outside (its input); every bad field at once. */
export function validateAutomationSettings(value: unknown, field: string): AutomationSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw InvalidInput.of(field, value, 'must be an object with level and approvalTimeoutMs');
  const v = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  if (!(AUTOMATION_LEVELS as readonly unknown[]).includes(v.level)) problems.push({ field: `${field}.level`, value: v.level, problem: `must be one of ${AUTOMATION_LEVELS.join(', ')}` });
  const t = v.approvalTimeoutMs;
  if (!Number.isSafeInteger(t) || (t as number) < MIN_APPROVAL_TIMEOUT_MS || (t as number) > MAX_APPROVAL_TIMEOUT_MS) {
    problems.push({ field: `${field}.approvalTimeoutMs`, value: t, problem: 'must be whole milliseconds from 1 second to 24 hours' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return { level: v.level as AutomationLevel, approvalTimeoutMs: t as number };
}

/** Whether a session journals its level on start: it differs from the last one journaled for the strategy (none yet: only when not full). */
export function automationLevelChanged(current: AutomationLevel, lastJournaled: AutomationLevel | null | undefined): boolean {
  return lastJournaled == null ? current !== DEFAULT_AUTOMATION_LEVEL : lastJournaled !== current;
}

// ---- the approval of a semi-automatic order ----

/** Where a semi-automatic order stands with its approval. */
export type ApprovalPhase = 'NOT_REQUIRED' | 'AWAITING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'STOPPED';

export type ApprovalDecisionKind = 'APPROVE' | 'REJECT';

/**
 * What an approve or reject answers:
 * - SUBMITTED: approved, the risk check passed again, the order went to the venue;
 * - REFUSED_BY_RISK: approved, but the risk check at approval time refused it (never sent);
 * - REJECTED: the operator's rejection was applied (never sent);
 * - EXPIRED: the deadline passed first (never sent);
 * - ALREADY_DECIDED: another decision came first, or the order was stopped (halt, cancel);
 * - NOT_AWAITING: the order never waited for an approval (not semi-automatic).
 */
export const APPROVAL_OUTCOMES = ['SUBMITTED', 'REFUSED_BY_RISK', 'REJECTED', 'EXPIRED', 'ALREADY_DECIDED', 'NOT_AWAITING'] as const;
export type ApprovalOutcome = (typeof APPROVAL_OUTCOMES)[number];

/** Outcomes that mean the request was applied (exit code 0); the others were refused (exit code 3). */
export const APPLIED_APPROVAL_OUTCOMES: readonly ApprovalOutcome[] = ['SUBMITTED', 'REJECTED'];

/** The answer to a decision that arrives in a phase other than AWAITING. */
export function lateDecisionOutcome(phase: ApprovalPhase): ApprovalOutcome {
  switch (phase) {
    case 'EXPIRED':
      return 'EXPIRED';
    case 'NOT_REQUIRED':
      return 'NOT_AWAITING';
    case 'APPROVED':
    case 'REJECTED':
    case 'STOPPED':
      return 'ALREADY_DECIDED';
    case 'AWAITING':
      throw new Error('lateDecisionOutcome: the order is still awaiting');
  }
}

/** The journal's words for an order's approval ending, and the row's fixed sequence (one decision per order). */
export const APPROVAL_JOURNAL_SEQUENCE = 1;

export function describeExpiry(approvalTimeoutMs: number): string {
  return `not approved within ${formatDuration(approvalTimeoutMs)}: expired, never sent`;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** The order a session would have placed, as the ORDER_PROPOSED alert tells it. */
export interface ProposedOrder {
  clientOrderId: string;
  marketId: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  /** Integer micros. */
  limitPrice: number | null;
  intent: string;
  confidence: number;
  metadata: Record<string, string | number>;
}

/** One line per fact, money in decimal: what the person reads in the alert. */
export function describeProposedOrder(p: ProposedOrder): string {
  const price = p.limitPrice === null ? 'market' : formatDecimal(p.limitPrice);
  const reason = Object.entries(p.metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return [
    `${p.side} ${p.quantity} ${p.marketId} at ${price}`,
    `client order ID it would use: ${p.clientOrderId}`,
    `strategy's reason: ${p.intent}, confidence ${p.confidence}${reason ? ` (${reason})` : ''}`,
    'AUTOMATION_LEVEL=alerts-only: nothing was sent to the venue.',
  ].join('\n');
}
