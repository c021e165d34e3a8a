/**
 * The strategy state each market was left in by the last session of a strategy (the warm-up a new
 * day's session carries on from). One row per account, strategy key and market, replaced as the
 * session goes; a write never moves a market's state back to an older quote.
 */
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { strategyStates } from '../schema';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { ACCOUNT_RE, mapErrors } from './common';

export interface StoredStrategyState {
  account: string;
  strategy: string;
  marketId: string;
  strategyName: string;
  params: Record<string, unknown>;
  state: unknown;
  /** Time of the last quote stepped into the state. */
  quotedAt: number;
  tradingDay: string;
  sessionId: string;
}

function check(rows: readonly Partial<StoredStrategyState>[]): void {
  const problems: FieldProblem[] = [];
  rows.forEach((r, i) => {
    const at = (f: string) => `strategyStates[${i}].${f}`;
    if (typeof r.account !== 'string' || !ACCOUNT_RE.test(r.account)) problems.push({ field: at('account'), value: r.account, problem: 'must be 1-64 letters, digits, "_", "." or "-"' });
    for (const f of ['strategy', 'marketId', 'strategyName', 'tradingDay', 'sessionId'] as const) {
      if (typeof r[f] !== 'string' || r[f] === '') problems.push({ field: at(f), value: r[f], problem: 'must be a non-empty string' });
    }
    if (typeof r.params !== 'object' || r.params === null || Array.isArray(r.params)) problems.push({ field: at('params'), value: r.params, problem: 'must be an object' });
    if (typeof r.state !== 'object' || r.state === null) problems.push({ field: at('state'), value: r.state, problem: 'must be an object' });
    if (!Number.isSafeInteger(r.quotedAt) || (r.quotedAt as number) <= 0) problems.push({ field: at('quotedAt'), value: r.quotedAt, problem: 'must be epoch milliseconds' });
  });
  if (problems.length > 0) throw new InvalidInput(problems);
}

/** Writes each market's state, replacing an older one; a state older than the stored one is ignored (a late retry). */
export async function saveStrategyStates(ex: Executor, rows: readonly StoredStrategyState[]): Promise<void> {
  if (rows.length === 0) return;
  check(rows);
  await mapErrors(
    ex
      .insert(strategyStates)
      .values(rows.map((r) => ({ ...r })))
      .onConflictDoUpdate({
        target: [strategyStates.account, strategyStates.strategy, strategyStates.marketId],
        set: {
          strategyName: sql`excluded.strategy_name`,
          params: sql`excluded.params`,
          state: sql`excluded.state`,
          quotedAt: sql`excluded.quoted_at`,
          tradingDay: sql`excluded.trading_day`,
          sessionId: sql`excluded.session_id`,
          recordedAt: sql`now()`,
        },
        setWhere: lte(strategyStates.quotedAt, sql`excluded.quoted_at`),
      }),
  );
}

/** The stored states of the strategy key in the given markets (those it has). */
export async function loadStrategyStates(ex: Executor, input: { account: string; strategy: string; marketIds: readonly string[] }): Promise<StoredStrategyState[]> {
  if (input.marketIds.length === 0) return [];
  const rows = await mapErrors(
    ex
      .select()
      .from(strategyStates)
      .where(and(eq(strategyStates.account, input.account), eq(strategyStates.strategy, input.strategy), inArray(strategyStates.marketId, [...input.marketIds]))),
  );
  return rows.map(({ recordedAt: _recordedAt, ...r }) => r);
}
