/**
 * Typed domain errors. Each carries a stable `type` string: the workflow layer turns a
 * DomainError into an ApplicationFailure of the same type, so retries and alerts key on it.
 */
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  InvalidOrderTransition: 'InvalidOrderTransition',
  FillExceedsOrder: 'FillExceedsOrder',
  FillMismatch: 'FillMismatch',
  UnknownMarket: 'UnknownMarket',
  InvalidRiskLimits: 'InvalidRiskLimits',
  InvalidConfig: 'InvalidConfig',
  ArithmeticOverflow: 'ArithmeticOverflow',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export class DomainError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** One bad field: its name, the value it got, and what was expected. */
export interface FieldProblem {
  field: string;
  value: unknown;
  problem: string;
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 80)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Bad input from outside: names every bad field and the value it got. */
export class InvalidInput extends DomainError {
  constructor(
    readonly problems: FieldProblem[],
    type: ErrorType = ErrorType.InvalidInput,
  ) {
    super(type, problems.map((p) => `${p.field}: ${p.problem} (got ${describeValue(p.value)})`).join('; '));
  }

  static of(field: string, value: unknown, problem: string): InvalidInput {
    return new InvalidInput([{ field, value, problem }]);
  }
}

export class UnknownMarket extends DomainError {
  constructor(readonly marketId: string) {
    super(ErrorType.UnknownMarket, `unknown market ${describeValue(marketId)}`);
  }
}

export class ArithmeticOverflow extends DomainError {
  constructor(what: string, value: unknown) {
    super(ErrorType.ArithmeticOverflow, `${what} is outside the safe integer range (got ${describeValue(value)})`);
  }
}
