/**
 * What the operator CLI's exit status means, for scripts: one table, shown in `--help`.
 */
import { describeValue, type FieldProblem } from '../domain/errors';

export const ExitCode = {
  /** Done. */
  OK: 0,
  /** Operational failure: Temporal or the records unreachable, workflow or record not found. */
  FAILURE: 1,
  /** Bad usage: unknown command or option, bad or missing argument, bad configuration. */
  USAGE: 2,
  /** Refused by policy: pre-flight no-go, reconciliation halted trading and waits for a decision. */
  REFUSED: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  done',
  '  1  operational failure (Temporal or the records unreachable, workflow or record not found; a halt, resume, kill or cancel that some target did not answer)',
  '  2  bad usage (unknown command or option, bad argument or configuration; each is named with its value)',
  '  3  refused by policy or by the target (pre-flight no-go, a reconciliation that halted trading and waits for a decision; a control request every target refused, or with nothing running to act on)',
].join('\n');

/** A failure the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Bad arguments, every one named with the value it got: "--day: must be ... (got "x")". */
export function badArguments(problems: readonly FieldProblem[]): CliError {
  const lines = problems.map((p) => `  ${p.field}: ${p.problem} (got ${describeValue(p.value)})`);
  return new CliError(ExitCode.USAGE, `bad arguments:\n${lines.join('\n')}`);
}

/** Collects argument problems so that one run reports all of them. */
export class ArgumentCheck {
  readonly problems: FieldProblem[] = [];

  bad(field: string, value: unknown, problem: string): undefined {
    this.problems.push({ field, value, problem });
    return undefined;
  }

  /** Runs a validator; an InvalidInput becomes problems under `field`. */
  try<T>(field: string, value: unknown, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      const problems = (e as { problems?: FieldProblem[] }).problems;
      if (!Array.isArray(problems)) throw e;
      for (const p of problems) this.problems.push({ field, value, problem: p.problem });
      return undefined;
    }
  }

  /** Throws the collected problems, if any. */
  done(): void {
    if (this.problems.length > 0) throw badArguments(this.problems);
  }
}
