/**
 * The LIVE capital ramp in the records: the steps an account has entered, one row each, never
 * changed. The step in force is the highest share recorded (the ramp only moves up).
 */
import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../client';
import { liveCapitalSteps } from '../schema';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import type { Money } from '../../domain/money';
import { ACCOUNT_RE, mapErrors } from './common';

export interface LiveCapitalStep {
  account: string;
  /** Share of LIVE_CAPITAL_CAP, whole percent. */
  percent: number;
  capitalCap: Money;
  capital: Money;
  beganAt: number;
  reason: string;
}

function check(s: Pick<LiveCapitalStep, 'account'> & Partial<LiveCapitalStep>): void {
  const problems: FieldProblem[] = [];
  if (typeof s.account !== 'string' || !ACCOUNT_RE.test(s.account)) problems.push({ field: 'account', value: s.account, problem: 'must be 1-64 letters, digits, "_", "." or "-"' });
  if (s.percent !== undefined && (!Number.isSafeInteger(s.percent) || s.percent < 1 || s.percent > 100)) problems.push({ field: 'percent', value: s.percent, problem: 'must be a whole percentage from 1 to 100' });
  for (const k of ['capitalCap', 'capital'] as const) if (s[k] !== undefined && (!Number.isSafeInteger(s[k]) || s[k] <= 0)) problems.push({ field: k, value: s[k], problem: 'must be positive integer micros' });
  if (s.beganAt !== undefined && (!Number.isSafeInteger(s.beganAt) || s.beganAt < 0)) problems.push({ field: 'beganAt', value: s.beganAt, problem: 'must be epoch milliseconds' });
  if (s.reason !== undefined && (typeof s.reason !== 'string' || s.reason.trim() === '')) problems.push({ field: 'reason', value: s.reason, problem: 'must say why the step began' });
  if (problems.length > 0) throw new InvalidInput(problems);
}

/** The step in force for the account, or null before its first LIVE start. */
export async function currentLiveCapitalStep(ex: Executor, account: string): Promise<LiveCapitalStep | null> {
  check({ account });
  const [row] = await mapErrors(ex.select().from(liveCapitalSteps).where(eq(liveCapitalSteps.account, account)).orderBy(desc(liveCapitalSteps.percent)).limit(1));
  return row ? { account: row.account, percent: row.percent, capitalCap: row.capitalCap, capital: row.capital, beganAt: row.beganAt, reason: row.reason } : null;
}

/** Records entering a step; a repeat of the same step (a retried start) changes nothing and returns false. */
export async function recordLiveCapitalStep(ex: Executor, s: LiveCapitalStep): Promise<boolean> {
  check(s);
  const rows = await mapErrors(ex.insert(liveCapitalSteps).values(s).onConflictDoNothing().returning({ percent: liveCapitalSteps.percent }));
  return rows.length === 1;
}

/** Every step the account entered, oldest first. */
export async function listLiveCapitalSteps(ex: Executor, account: string): Promise<LiveCapitalStep[]> {
  check({ account });
  const rows = await mapErrors(ex.select().from(liveCapitalSteps).where(and(eq(liveCapitalSteps.account, account))).orderBy(liveCapitalSteps.percent));
  return rows.map((row) => ({ account: row.account, percent: row.percent, capitalCap: row.capitalCap, capital: row.capital, beganAt: row.beganAt, reason: row.reason }));
}
