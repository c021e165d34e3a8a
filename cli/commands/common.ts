/** Argument checks and option declarations several commands share. */
import type { Command } from 'commander';
import { validateKey, validateTradingDay } from '../../domain/ids';
import { validateMarketId } from '../../domain/market';
import { MAX_REASON_LENGTH, operatorTextProblem } from '../../domain/operator-request';
import type { CliContext } from '../context';
import type { ArgumentCheck } from '../exit-codes';

export const withJson = (cmd: Command): Command => cmd.option('--json', 'print JSON for scripts (money as exact decimal strings) instead of a table');

export const withOperator = (cmd: Command): Command => cmd.option('--operator <name>', 'who acts (default: the OPERATOR variable, else the OS user name)');

export const withTarget = (cmd: Command): Command =>
  cmd
    .option('--strategy <key>', 'strategy key of the session (default: SESSION_STRATEGY, else the configured one)')
    .option('--day <YYYY-MM-DD>', 'trading day of the session (default: today in TRADING_TIME_ZONE)');

export function checkDay(check: ArgumentCheck, value: string | undefined, field = '--day'): string | undefined {
  if (value === undefined) return undefined;
  return check.try(field, value, () => validateTradingDay(value, field));
}

export function checkStrategy(check: ArgumentCheck, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return check.try('--strategy', value, () => validateKey(value, '--strategy'));
}

export function checkMarket(check: ArgumentCheck, value: string | undefined, field = '--market'): string | undefined {
  if (value === undefined) return undefined;
  return check.try(field, value, () => validateMarketId(value, field));
}

export function checkWhole(check: ArgumentCheck, field: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) return check.bad(field, value, `must be a whole number from ${min} to ${max}`);
  return Number(value);
}

export function checkChoice<T extends string>(check: ArgumentCheck, field: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toUpperCase();
  if ((choices as readonly string[]).includes(v)) return v as T;
  return check.bad(field, value, `must be one of ${choices.join(', ')}`);
}

/** Checks a reason given on the command line (--reason), under the limit every surface applies. */
export function checkReason(check: ArgumentCheck, field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = operatorTextProblem(value, MAX_REASON_LENGTH);
  return problem === null ? value.trim() : check.bad(field, value, problem);
}

/** Checks --strategy and --day; the defaults are filled in by `resolveTarget` once every argument is checked. */
export function checkTarget(check: ArgumentCheck, opts: { strategy?: string; day?: string }): { strategy?: string; day?: string } {
  return { strategy: checkStrategy(check, opts.strategy), day: checkDay(check, opts.day) };
}

/** The session a command addresses: the given or configured strategy, the given day or today. */
export function resolveTarget(ctx: CliContext, t: { strategy?: string; day?: string }): { strategy: string; tradingDay: string } {
  return { strategy: t.strategy ?? ctx.config().session.strategy, tradingDay: t.day ?? ctx.today() };
}

/** Adds the answer to the row written before acting; a records failure is a warning (the action has happened). */
export async function journalOutcome(ctx: CliContext, key: string | null, outcome: { outcome: string; signalled?: string | null; failed?: string | null }): Promise<void> {
  if (key === null) return;
  try {
    const { recordOperatorActionOutcome } = await import('../../db');
    await recordOperatorActionOutcome(await ctx.records(), { workflowId: key, sequence: 0 }, outcome);
  } catch (e) {
    ctx.note(`warning: the outcome could not be added to journal entry ${key} (${e instanceof Error ? e.message : String(e)})`);
  }
}
