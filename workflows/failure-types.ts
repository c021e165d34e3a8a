/**
 * The failure type names workflows act on, and how a failure is put into words, in one place. An activity fails with an
 * ApplicationFailure whose `type` is a venue error kind, a record error type, a domain error type
 * or one of the activity layer's own (activities/errors.ts). Sandbox-safe: plain strings only;
 * test/workflows/failure-types.test.ts checks each against the enumeration it names.
 */

/** Venue error kinds (activities/venue/errors.ts) that workflows name. */
export const VenueFailure = {
  AUTH: 'AUTH',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;

/** The activity layer's own types (activities/errors.ts). */
export const ActivityFailure = {
  AMBIGUOUS_SUBMIT: 'AMBIGUOUS_SUBMIT',
} as const;

/** Domain error types (domain/errors.ts) that workflows name. */
export const DomainFailure = {
  InvalidInput: 'InvalidInput',
  InvalidConfig: 'InvalidConfig',
  UnknownMarket: 'UnknownMarket',
} as const;

/**
 * Record error types (db/errors.ts) that no retry can fix: the data itself is refused. The others
 * (TransientConflict, DatabaseError) are worth another attempt once the database recovers.
 */
export const PERMANENT_RECORD_FAILURES = ['DuplicateRecord', 'ConstraintViolation', 'InvalidValue', 'RecordConflict', 'RecordNotFound', 'AppendOnly'] as const;

/** Permanent record failures caused by malformed data from the caller: a bug in what was written. */
export const RECORD_DATA_BUGS: readonly (typeof PERMANENT_RECORD_FAILURES)[number][] = ['ConstraintViolation', 'InvalidValue'];

/** Non-retryable types for activities that write the records. */
export const RECORD_WRITE_NON_RETRYABLE: string[] = [DomainFailure.InvalidInput, ...PERMANENT_RECORD_FAILURES];

/**
 * A failure in words for a status, a note or a result: its message and its causes' (an
 * ActivityFailure says little; its cause says what failed), at most four deep.
 */
export function failureText(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e; x instanceof Error && parts.length < 4; x = x.cause) if (x.message) parts.push(x.message);
  return parts.length > 0 ? parts.join(': ') : String(e);
}
