/**
 * The operator's name and reason are held to one pair of limits (domain/operator-request.ts):
 * each surface that takes them accepts text exactly at the limit and refuses one character more,
 * with the same words, naming its own field.
 */
import { describe, expect, it } from 'vitest';
import { checkReason } from '../../cli/commands/common';
import { CliContext, type CliIo } from '../../cli/context';
import { ArgumentCheck, CliError } from '../../cli/exit-codes';
import { parseActionBody } from '../../dashboard/server';
import type { Executor } from '../../db/client';
import { recordOperatorAction } from '../../db/repositories/journal';
import { InvalidInput, type FieldProblem } from '../../domain/errors';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH } from '../../domain/operator-request';
import { validateOperatorRequest } from '../../workflows/validation';

const OVER_REASON = 'r'.repeat(MAX_REASON_LENGTH + 1);
const OVER_OPERATOR = 'o'.repeat(MAX_OPERATOR_LENGTH + 1);

function problemsOf(fn: () => unknown): FieldProblem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  return [];
}

async function asyncProblemsOf(fn: () => Promise<unknown>): Promise<FieldProblem[]> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  return [];
}

/** The journal refuses bad text before it touches the database, so no database is needed here. */
const noDatabase = {} as Executor;
const journalEntry = (operator: string, reason: string) => ({
  action: 'HALT' as const,
  operator,
  reason,
  workflowId: 'session-ema-mr-2026-01-05',
  sequence: 0,
  details: {},
  at: 0,
});

function cliReason(reason: string): FieldProblem[] {
  const check = new ArgumentCheck();
  checkReason(check, '--reason', reason);
  return check.problems;
}

function cliOperator(operator: string): string {
  const io: CliIo = { stdout: () => undefined, stderr: () => undefined, env: {}, progressStream: null, now: () => 0, osUser: () => null };
  return new CliContext(io).operator(operator);
}

describe('operator and reason limits, the same at every surface', () => {
  const refusal = { reason: `must be at most ${MAX_REASON_LENGTH} characters`, operator: `must be at most ${MAX_OPERATOR_LENGTH} characters` };

  it('a workflow signal', () => {
    expect(validateOperatorRequest({ operator: 'o'.repeat(MAX_OPERATOR_LENGTH), reason: 'r'.repeat(MAX_REASON_LENGTH) }, 'halt').reason).toHaveLength(MAX_REASON_LENGTH);
    expect(problemsOf(() => validateOperatorRequest({ operator: OVER_OPERATOR, reason: OVER_REASON }, 'halt'))).toEqual([
      { field: 'halt.operator', value: OVER_OPERATOR, problem: refusal.operator },
      { field: 'halt.reason', value: OVER_REASON, problem: refusal.reason },
    ]);
  });

  it('a dashboard action', () => {
    expect(parseActionBody({ operator: 'o'.repeat(MAX_OPERATOR_LENGTH), reason: 'r'.repeat(MAX_REASON_LENGTH) }).reason).toHaveLength(MAX_REASON_LENGTH);
    expect(problemsOf(() => parseActionBody({ operator: OVER_OPERATOR, reason: OVER_REASON }))).toEqual([
      { field: 'operator', value: OVER_OPERATOR, problem: refusal.operator },
      { field: 'reason', value: OVER_REASON, problem: refusal.reason },
    ]);
  });

  it('a CLI command', () => {
    expect(cliReason('r'.repeat(MAX_REASON_LENGTH))).toEqual([]);
    expect(cliReason(OVER_REASON)).toEqual([{ field: '--reason', value: OVER_REASON, problem: refusal.reason }]);
    expect(cliOperator('o'.repeat(MAX_OPERATOR_LENGTH))).toHaveLength(MAX_OPERATOR_LENGTH);
    expect(() => cliOperator(OVER_OPERATOR)).toThrow(CliError);
    expect(() => cliOperator(OVER_OPERATOR)).toThrow(`--operator: ${refusal.operator}`);
  });

  it('the operator journal', async () => {
    expect(await asyncProblemsOf(() => recordOperatorAction(noDatabase, journalEntry(OVER_OPERATOR, OVER_REASON)))).toEqual([
      { field: 'operator', value: OVER_OPERATOR, problem: refusal.operator },
      { field: 'reason', value: OVER_REASON, problem: refusal.reason },
    ]);
  });

  it('a blank reason is refused with the same words everywhere', () => {
    const blank = 'is required and must be non-empty text';
    expect(problemsOf(() => validateOperatorRequest({ operator: 'alice', reason: '  ' }, 'halt'))[0]?.problem).toBe(blank);
    expect(problemsOf(() => parseActionBody({ operator: 'alice', reason: '  ' }))[0]?.problem).toBe(blank);
    expect(cliReason('  ')[0]?.problem).toBe(blank);
  });
});
