/** Errors the exchange answers with: an HTTP status and the wire body `{error: {code, message, field?, value?}}`. */
import { describeValue, InvalidInput } from '../domain/errors';

export class ExchangeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly value?: unknown,
    /** Extra top-level members of the body (e.g. the existing `order` on a 409). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = code;
  }

  body(): Record<string, unknown> {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.value !== undefined) error.value = typeof this.value === 'string' ? this.value : describeValue(this.value);
    return { error, ...this.extra };
  }

  static invalid(field: string, value: unknown, problem: string): ExchangeError {
    return new ExchangeError(400, 'INVALID_INPUT', `${field}: ${problem} (got ${describeValue(value)})`, field, value);
  }

  /** The first bad field of a domain InvalidInput, as a 400. */
  static fromInvalidInput(e: InvalidInput, fieldPrefix = ''): ExchangeError {
    const p = e.problems[0];
    if (!p) return new ExchangeError(400, 'INVALID_INPUT', e.message);
    const field = fieldPrefix && !p.field.startsWith(fieldPrefix) ? `${fieldPrefix}${p.field}` : p.field;
    return new ExchangeError(400, 'INVALID_INPUT', e.message, field, p.value);
  }
}

export const notFound = (code: string, what: string, value: string): ExchangeError =>
  new ExchangeError(404, code, `${what} ${describeValue(value)} not found`);
