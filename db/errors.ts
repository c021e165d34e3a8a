/**
 * Typed record errors. Drivers report constraint failures as SQLSTATE codes with the table,
 * column and constraint in side fields (postgres-js and PGlite name them differently); this
 * module turns them into one error type that names the field and, where Postgres says it,
 * the offending value. Activities map `type` to a non-retryable ApplicationFailure.
 */
import { describeValue } from '../domain/errors';

export const RecordErrorType = {
  /** A unique key already holds a different record (23505). */
  DuplicateRecord: 'DuplicateRecord',
  /** A CHECK or NOT NULL constraint refused a value (23514, 23502). */
  ConstraintViolation: 'ConstraintViolation',
  /** A value Postgres cannot store in the column's type (22P02, 22003, 22007, 22008). */
  InvalidValue: 'InvalidValue',
  /** An idempotent write was retried with different content (same trade ID, other price...). */
  RecordConflict: 'RecordConflict',
  /** An update named a record that does not exist. */
  RecordNotFound: 'RecordNotFound',
  /** The audit log refused an UPDATE or DELETE (23001). */
  AppendOnly: 'AppendOnly',
  /** Serialization failure or deadlock that survived the retries (40001, 40P01). */
  TransientConflict: 'TransientConflict',
  /** Any other error reported by the server, with its SQLSTATE and message. */
  DatabaseError: 'DatabaseError',
} as const;
export type RecordErrorType = (typeof RecordErrorType)[keyof typeof RecordErrorType];

export interface RecordErrorDetail {
  table?: string | undefined;
  /** Column or logical field the error is about, when known. */
  field?: string | undefined;
  constraint?: string | undefined;
  value?: unknown;
  /** SQLSTATE from the server, when the error came from it. */
  code?: string | undefined;
}

export class RecordError extends Error {
  readonly table: string | undefined;
  readonly field: string | undefined;
  readonly constraint: string | undefined;
  readonly value: unknown;
  readonly code: string | undefined;

  constructor(
    readonly type: RecordErrorType,
    message: string,
    detail: RecordErrorDetail = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = type;
    this.table = detail.table;
    this.field = detail.field;
    this.constraint = detail.constraint;
    this.value = detail.value;
    this.code = detail.code;
  }
}

/** Same key, different content: names the fields that differ and both values of the first. */
export class RecordConflict extends RecordError {
  constructor(
    table: string,
    readonly key: string,
    readonly fields: string[],
    stored: unknown,
    offered: unknown,
  ) {
    super(
      RecordErrorType.RecordConflict,
      `${table} ${describeValue(key)} is already recorded with different ${fields.join(', ')} (stored ${describeValue(stored)}, got ${describeValue(offered)})`,
      { table, field: fields[0], value: offered },
    );
  }
}

export class RecordNotFound extends RecordError {
  constructor(table: string, field: string, key: string) {
    super(RecordErrorType.RecordNotFound, `${table}: no record with ${field} ${describeValue(key)}`, { table, field, value: key });
  }
}

interface PgErrorFields {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  table?: unknown;
  table_name?: unknown;
  column?: unknown;
  column_name?: unknown;
  constraint?: unknown;
  constraint_name?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The driver's error under drizzle's DrizzleQueryError wrapper, if any. */
function serverError(err: unknown): PgErrorFields | null {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as PgErrorFields).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return e as PgErrorFields;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Column from a constraint named `<table>_<column>_<suffix>` (the schema's naming rule). */
function fieldFromConstraint(table: string | undefined, constraint: string | undefined): string | undefined {
  if (!constraint) return undefined;
  let rest = table && constraint.startsWith(`${table}_`) ? constraint.slice(table.length + 1) : constraint;
  rest = rest.replace(/_(valid|positive|present|match|pk|pkey|key|idx)$/, '');
  return rest.length > 0 ? rest : undefined;
}

/** Maps a driver error to a RecordError; anything else is returned unchanged. */
export function toRecordError(err: unknown): unknown {
  if (err instanceof RecordError) return err;
  const pg = serverError(err);
  if (!pg) return err;
  const code = pg.code as string;
  const message = str(pg.message) ?? code;
  const table = str(pg.table) ?? str(pg.table_name);
  const constraint = str(pg.constraint) ?? str(pg.constraint_name);
  const column = str(pg.column) ?? str(pg.column_name);
  const detail = str(pg.detail);
  const where = table ? `${table}.` : '';

  switch (code) {
    case '23505': {
      // Key (trade_id)=(T-1) already exists.
      const m = detail ? /^Key \((.+?)\)=\((.*)\) already exists/.exec(detail) : null;
      const field = m?.[1] ?? fieldFromConstraint(table, constraint);
      const value = m?.[2];
      return new RecordError(
        RecordErrorType.DuplicateRecord,
        `${where}${field ?? constraint ?? '?'}: a record with this value already exists (got ${describeValue(value)})`,
        { table, field, constraint, value, code },
        { cause: err },
      );
    }
    case '23514': {
      const field = fieldFromConstraint(table, constraint);
      return new RecordError(
        RecordErrorType.ConstraintViolation,
        `${where}${field ?? '?'}: refused by check ${constraint ?? '?'}`,
        { table, field, constraint, code },
        { cause: err },
      );
    }
    case '23502':
      return new RecordError(RecordErrorType.ConstraintViolation, `${where}${column ?? '?'}: must not be null`, { table, field: column, value: null, code }, { cause: err });
    case '23001':
      return new RecordError(RecordErrorType.AppendOnly, message, { table, code }, { cause: err });
    case '22P02':
    case '22003':
    case '22007':
    case '22008': {
      const m = /: "(.*)"$/.exec(message);
      return new RecordError(RecordErrorType.InvalidValue, `${where}${column ?? '?'}: ${message}`, { table, field: column, value: m?.[1], code }, { cause: err });
    }
    case '40001':
    case '40P01':
      return new RecordError(RecordErrorType.TransientConflict, message, { table, code }, { cause: err });
    default:
      return new RecordError(RecordErrorType.DatabaseError, `${message} (SQLSTATE ${code})`, { table, field: column, constraint, code }, { cause: err });
  }
}

/** True for errors worth retrying the whole transaction for. */
export function isTransient(err: unknown): boolean {
  const pg = serverError(err);
  return pg !== null && (pg.code === '40001' || pg.code === '40P01');
}
