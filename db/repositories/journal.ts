/**
 * The decision journal: operator actions (who, when, why), circuit-breaker trips and lifts,
 * and trading sessions. Each write is idempotent by a key made from business keys.
 */
import { and, asc, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../client';
import { RecordConflict, RecordNotFound } from '../errors';
import { breakerEvents, OPERATOR_ACTIONS, operatorActions, SESSION_MODES, SESSION_STATUSES, tradingSessions } from '../schema';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { validateTradingDay } from '../../domain/ids';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../../domain/operator-request';
import type { BreakerKind, BreakerTrip } from '../../domain/breakers';
import { appendAudit } from './audit';
import { differingFields, mapErrors, transaction } from './common';

export type OperatorActionKind = (typeof OPERATOR_ACTIONS)[number];

export interface OperatorActionRecord {
  action: OperatorActionKind;
  operator: string;
  reason: string;
  /** The workflow that received it and its sequence there: the idempotency key. */
  workflowId: string;
  sequence: number;
  details: Record<string, string | number | boolean | null>;
  at: number;
}

/**
 * Detail keys a surface adds after it has acted (what it reached); a replay of the request is
 * compared without them, since it carries only what was asked.
 */
export const OPERATOR_OUTCOME_KEYS = ['signalled', 'failed', 'outcome'] as const;

const withoutOutcome = (details: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(details ?? {}).filter(([k]) => !(OPERATOR_OUTCOME_KEYS as readonly string[]).includes(k)));

const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

/**
 * Journals an action under its key. An exact replay inserts nothing (its outcome keys aside); the
 * same key with other content is a RecordConflict.
 */
export async function recordOperatorAction(ex: Executor, a: OperatorActionRecord): Promise<{ inserted: boolean }> {
  const problems: FieldProblem[] = [];
  if (!(OPERATOR_ACTIONS as readonly string[]).includes(a.action)) problems.push({ field: 'action', value: a.action, problem: `must be one of ${OPERATOR_ACTIONS.join(', ')}` });
  for (const [field, max] of [['operator', MAX_OPERATOR_LENGTH], ['reason', MAX_REASON_LENGTH]] as const) {
    const problem = operatorTextProblem(a[field], max);
    if (problem !== null) problems.push({ field, value: a[field], problem });
  }
  if (!text(a.workflowId, 200)) problems.push({ field: 'workflowId', value: a.workflowId, problem: 'must be a workflow ID' });
  if (!Number.isSafeInteger(a.sequence) || a.sequence < 0 || a.sequence > 2_147_483_647) problems.push({ field: 'sequence', value: a.sequence, problem: 'must be a non-negative 32-bit integer' });
  if (!Number.isSafeInteger(a.at) || a.at < 0) problems.push({ field: 'at', value: a.at, problem: 'must be epoch milliseconds' });
  if (problems.length > 0) throw new InvalidInput(problems);
  const row = { workflowId: a.workflowId, sequence: a.sequence, action: a.action, operator: a.operator, reason: a.reason, details: a.details ?? {}, occurredAt: a.at };
  return transaction(ex, async (tx) => {
    const [inserted] = await tx.insert(operatorActions).values(row).onConflictDoNothing().returning({ id: operatorActions.id });
    if (!inserted) {
      const [stored] = await tx
        .select()
        .from(operatorActions)
        .where(and(eq(operatorActions.workflowId, a.workflowId), eq(operatorActions.sequence, a.sequence)));
      const asked = { ...stored!, details: withoutOutcome(stored!.details) };
      const diff = differingFields(asked, { ...asked, ...row, details: withoutOutcome(row.details) }, ['action', 'operator', 'reason', 'details']);
      if (diff.length > 0) {
        const f = diff[0] as keyof typeof row;
        throw new RecordConflict('operator_actions', `${a.workflowId}#${a.sequence}`, diff, asked[f], row[f]);
      }
      return { inserted: false };
    }
    await appendAudit(tx, [
      {
        eventKey: `OPERATOR_ACTION:${a.workflowId}:${a.sequence}`,
        kind: 'OPERATOR_ACTION',
        occurredAt: a.at,
        payload: { action: a.action, operator: a.operator, reason: a.reason, workflowId: a.workflowId, details: a.details ?? {} },
      },
    ]);
    return { inserted: true };
  });
}

/** The journaled action under a key, or null. */
export async function loadOperatorAction(ex: Executor, key: { workflowId: string; sequence: number }) {
  const [row] = await mapErrors(
    ex
      .select()
      .from(operatorActions)
      .where(and(eq(operatorActions.workflowId, key.workflowId), eq(operatorActions.sequence, key.sequence))),
  );
  return row ?? null;
}

/** Adds what an already journaled action reached (the OPERATOR_OUTCOME_KEYS) to its row. */
export async function recordOperatorActionOutcome(
  ex: Executor,
  key: { workflowId: string; sequence: number },
  outcome: Partial<Record<(typeof OPERATOR_OUTCOME_KEYS)[number], string | null>>,
): Promise<void> {
  const extra = Object.fromEntries(Object.entries(outcome).filter(([k]) => (OPERATOR_OUTCOME_KEYS as readonly string[]).includes(k)));
  await transaction(ex, async (tx) => {
    const [stored] = await tx
      .select()
      .from(operatorActions)
      .where(and(eq(operatorActions.workflowId, key.workflowId), eq(operatorActions.sequence, key.sequence)));
    if (!stored) throw new RecordNotFound('operator_actions', 'workflow_id', `${key.workflowId}#${key.sequence}`);
    await tx
      .update(operatorActions)
      .set({ details: { ...stored.details, ...extra } })
      .where(eq(operatorActions.id, stored.id));
  });
}

export async function listOperatorActions(ex: Executor, filter: { from?: number; to?: number; action?: OperatorActionKind; limit?: number } = {}) {
  const where: SQL[] = [];
  if (filter.from !== undefined) where.push(gte(operatorActions.occurredAt, filter.from));
  if (filter.to !== undefined) where.push(lt(operatorActions.occurredAt, filter.to));
  if (filter.action !== undefined) where.push(eq(operatorActions.action, filter.action));
  return mapErrors(
    ex
      .select()
      .from(operatorActions)
      .where(and(...where))
      .orderBy(desc(operatorActions.occurredAt), desc(operatorActions.id))
      .limit(filter.limit ?? 500),
  );
}

/** Levels of automation: the level last journaled (AUTOMATION_LEVEL) for a strategy, or null when none was. */
export async function lastAutomationLevel(ex: Executor, strategy: string): Promise<string | null> {
  const [row] = await mapErrors(
    ex
      .select({ details: operatorActions.details })
      .from(operatorActions)
      .where(and(eq(operatorActions.action, 'AUTOMATION_LEVEL'), sql`${operatorActions.details}->>'strategy' = ${strategy}`))
      .orderBy(desc(operatorActions.occurredAt), desc(operatorActions.id))
      .limit(1),
  );
  const level = row?.details.level;
  return typeof level === 'string' ? level : null;
}

export interface BreakerChange {
  strategy: string;
  tradingDay: string;
  change: 'TRIPPED' | 'LIFTED';
  trips: BreakerTrip[];
  at: number;
  /**
   * Names this change, unique per change (the session gives `<runId>:<n>`). Without it the row is
   * keyed by its times alone, and two changes at one instant collapse into one row.
   */
  changeKey?: string;
}

const CHANGE_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$/;

const numText = (v: number | null): string | null => (v === null ? null : String(v));

/** One row per trip in the change; a retried write adds nothing. */
export async function recordBreakerChange(ex: Executor, c: BreakerChange): Promise<{ inserted: number }> {
  const problems: FieldProblem[] = [];
  if (!text(c.strategy, 48)) problems.push({ field: 'strategy', value: c.strategy, problem: 'must be a strategy name' });
  try {
    validateTradingDay(c.tradingDay);
  } catch {
    problems.push({ field: 'tradingDay', value: c.tradingDay, problem: 'must be a date written YYYY-MM-DD' });
  }
  if (c.change !== 'TRIPPED' && c.change !== 'LIFTED') problems.push({ field: 'change', value: c.change, problem: 'must be TRIPPED or LIFTED' });
  if (!Array.isArray(c.trips) || c.trips.length === 0) problems.push({ field: 'trips', value: c.trips, problem: 'must list at least one trip' });
  if (!Number.isSafeInteger(c.at) || c.at < 0) problems.push({ field: 'at', value: c.at, problem: 'must be epoch milliseconds' });
  if (c.changeKey !== undefined && (typeof c.changeKey !== 'string' || !CHANGE_KEY_RE.test(c.changeKey))) {
    problems.push({ field: 'changeKey', value: c.changeKey, problem: 'must be 1-128 letters, digits, ":", ".", "_" or "-"' });
  }
  (Array.isArray(c.trips) ? c.trips : []).forEach((t, i) => {
    if (!text(t.kind, 32)) problems.push({ field: `trips[${i}].kind`, value: t.kind, problem: 'must be a breaker kind' });
    if (!text(t.reason, MAX_REASON_LENGTH)) problems.push({ field: `trips[${i}].reason`, value: t.reason, problem: 'must say why' });
    if (!Number.isSafeInteger(t.since)) problems.push({ field: `trips[${i}].since`, value: t.since, problem: 'must be epoch milliseconds' });
  });
  if (problems.length > 0) throw new InvalidInput(problems);
  const rows = c.trips.map((t) => ({
    eventKey: c.changeKey === undefined ? `${c.strategy}:${c.change}:${t.kind}:${t.since}:${c.at}` : `${c.strategy}:${c.change}:${t.kind}:${t.since}:${c.changeKey}`,
    strategy: c.strategy,
    tradingDay: c.tradingDay,
    change: c.change,
    kind: t.kind,
    reason: t.reason,
    observed: numText(t.observed),
    limitValue: numText(t.limit),
    since: t.since,
    operator: t.operator,
    occurredAt: c.at,
  }));
  return transaction(ex, async (tx) => {
    const inserted = await tx.insert(breakerEvents).values(rows).onConflictDoNothing().returning({ key: breakerEvents.eventKey });
    await appendAudit(
      tx,
      rows.map((r) => ({ eventKey: `BREAKER:${r.eventKey}`, kind: 'BREAKER' as const, strategy: c.strategy, occurredAt: c.at, payload: { ...r } })),
    );
    return { inserted: inserted.length };
  });
}

/** Trips in force for a strategy: per kind, the newest event, if it is a trip. Halts outlive sessions. */
export async function loadActiveTrips(ex: Executor, strategy: string): Promise<BreakerTrip[]> {
  const rows = await mapErrors(ex.select().from(breakerEvents).where(eq(breakerEvents.strategy, strategy)).orderBy(asc(breakerEvents.id)));
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) latest.set(r.kind, r);
  return [...latest.values()]
    .filter((r) => r.change === 'TRIPPED')
    .sort((a, b) => a.since - b.since)
    .map((r) => ({
      kind: r.kind as BreakerKind,
      reason: r.reason,
      observed: r.observed === null ? null : Number(r.observed),
      limit: r.limitValue === null ? null : Number(r.limitValue),
      since: r.since,
      operator: r.operator,
    }));
}

export async function listBreakerEvents(ex: Executor, filter: { strategy?: string; since?: number; limit?: number } = {}) {
  const where: SQL[] = [];
  if (filter.strategy !== undefined) where.push(eq(breakerEvents.strategy, filter.strategy));
  if (filter.since !== undefined) where.push(gte(breakerEvents.occurredAt, filter.since));
  return mapErrors(
    ex
      .select()
      .from(breakerEvents)
      .where(and(...where))
      .orderBy(desc(breakerEvents.id))
      .limit(filter.limit ?? 500),
  );
}

export type SessionMode = (typeof SESSION_MODES)[number];
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export interface SessionStart {
  sessionId: string;
  strategy: string;
  tradingDay: string;
  account?: string;
  mode: SessionMode;
  startedAt: number;
}

/** Records a session as RUNNING; starting it again with the same terms changes nothing. */
export async function startSession(ex: Executor, s: SessionStart): Promise<{ inserted: boolean }> {
  const problems: FieldProblem[] = [];
  if (!text(s.sessionId, 200)) problems.push({ field: 'sessionId', value: s.sessionId, problem: 'must be a workflow ID' });
  if (!text(s.strategy, 48)) problems.push({ field: 'strategy', value: s.strategy, problem: 'must be a strategy name' });
  if (!(SESSION_MODES as readonly string[]).includes(s.mode)) problems.push({ field: 'mode', value: s.mode, problem: `must be one of ${SESSION_MODES.join(', ')}` });
  if (!Number.isSafeInteger(s.startedAt)) problems.push({ field: 'startedAt', value: s.startedAt, problem: 'must be epoch milliseconds' });
  try {
    validateTradingDay(s.tradingDay);
  } catch {
    problems.push({ field: 'tradingDay', value: s.tradingDay, problem: 'must be a date written YYYY-MM-DD' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  const row = { sessionId: s.sessionId, strategy: s.strategy, tradingDay: s.tradingDay, account: s.account ?? 'paper', mode: s.mode, status: 'RUNNING', startedAt: s.startedAt };
  return transaction(ex, async (tx) => {
    const [inserted] = await tx.insert(tradingSessions).values(row).onConflictDoNothing().returning({ id: tradingSessions.sessionId });
    if (inserted) return { inserted: true };
    const [stored] = await tx.select().from(tradingSessions).where(eq(tradingSessions.sessionId, s.sessionId));
    const diff = differingFields(stored!, { ...stored!, ...row }, ['strategy', 'tradingDay', 'account', 'mode']);
    if (diff.length > 0) {
      const f = diff[0] as keyof typeof row;
      throw new RecordConflict('trading_sessions', s.sessionId, diff, stored![f], row[f]);
    }
    return { inserted: false };
  });
}

/** Sets a session's status (and end time and summary when it ends). */
export async function updateSession(
  ex: Executor,
  sessionId: string,
  update: { status: SessionStatus; at: number; summary?: Record<string, unknown> },
): Promise<void> {
  if (!(SESSION_STATUSES as readonly string[]).includes(update.status)) throw InvalidInput.of('status', update.status, `must be one of ${SESSION_STATUSES.join(', ')}`);
  if (!Number.isSafeInteger(update.at)) throw InvalidInput.of('at', update.at, 'must be epoch milliseconds');
  const ended = update.status === 'STOPPED' || update.status === 'COMPLETED';
  const rows = await mapErrors(
    ex
      .update(tradingSessions)
      .set({ status: update.status, ...(ended ? { endedAt: update.at } : {}), ...(update.summary ? { summary: update.summary } : {}) })
      .where(eq(tradingSessions.sessionId, sessionId))
      .returning({ id: tradingSessions.sessionId }),
  );
  if (rows.length === 0) throw new RecordNotFound('trading_sessions', 'session_id', sessionId);
}

export async function listSessions(ex: Executor, filter: { strategy?: string; tradingDay?: string; limit?: number } = {}) {
  const where: SQL[] = [];
  if (filter.strategy !== undefined) where.push(eq(tradingSessions.strategy, filter.strategy));
  if (filter.tradingDay !== undefined) where.push(eq(tradingSessions.tradingDay, validateTradingDay(filter.tradingDay)));
  return mapErrors(
    ex
      .select()
      .from(tradingSessions)
      .where(and(...where))
      .orderBy(desc(tradingSessions.startedAt))
      .limit(filter.limit ?? 200),
  );
}
