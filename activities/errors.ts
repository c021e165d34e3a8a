/**
 * The one place where errors leave an activity. Every activity runs through
 * `runActivity`, which turns what the layers below throw into an ApplicationFailure whose `type`
 * is stable and whose nonRetryable flag says whether repeating the call can ever help:
 *
 * - VenueError: type = its kind (AUTH, BAD_REQUEST, RATE_LIMITED, ...); retry semantics from
 *   `temporalSemantics` (AUTH and BAD_REQUEST non-retryable, the rest retryable).
 * - RecordError: type = its record type (RecordConflict, DuplicateRecord, ...); a serialization
 *   conflict or an unmapped server error (connection lost, too many clients) is retryable,
 *   anything the data itself caused is not.
 * - DomainError: type = its domain type (InvalidInput, UnknownMarket, InvalidConfig, ...),
 *   always non-retryable: the same input fails the same way.
 * - A submission whose outcome is unknown: AMBIGUOUS_SUBMIT (see `submitFailure`).
 * - Anything else is a bug or an outage we cannot classify: INTERNAL, retryable, so a fixed
 *   and redeployed worker picks the work up again.
 * ApplicationFailure and cancellation pass through untouched.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { RecordError, RecordErrorType, toRecordError } from '../db/errors';
import { DomainError, InvalidInput } from '../domain/errors';
import { isVenueError, temporalSemantics, type VenueError } from './venue/errors';

/** Failure types made here that are not a venue kind, a record type or a domain type. */
export const ActivityFailureType = {
  /** The venue may or may not hold the order: the workflow must look it up before resubmitting. */
  AMBIGUOUS_SUBMIT: 'AMBIGUOUS_SUBMIT',
  /** An error nobody typed: retried, and worth a look in the logs. */
  INTERNAL: 'INTERNAL',
} as const;
export type ActivityFailureType = (typeof ActivityFailureType)[keyof typeof ActivityFailureType];

/** Record errors worth another attempt: the same write may succeed once the server recovers. */
const RETRYABLE_RECORD_TYPES: ReadonlySet<RecordErrorType> = new Set<RecordErrorType>([RecordErrorType.TransientConflict, RecordErrorType.DatabaseError]);

function detailsOf(e: Error): Record<string, unknown> {
  if (isVenueError(e)) return e.toJSON();
  if (e instanceof RecordError) return { table: e.table, field: e.field, constraint: e.constraint, code: e.code };
  if (e instanceof InvalidInput) return { problems: e.problems.map((p) => ({ field: p.field, problem: p.problem })) };
  return {};
}

function failure(e: Error, type: string, nonRetryable: boolean, message = e.message): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable, details: [detailsOf(e)], cause: e });
}

/** The ApplicationFailure for any error thrown inside an activity. */
export function toActivityFailure(error: unknown): Error {
  if (error instanceof ApplicationFailure || error instanceof CancelledFailure) return error;
  if (isVenueError(error)) {
    const s = temporalSemantics(error);
    return failure(error, s.type, s.nonRetryable);
  }
  const mapped = toRecordError(error);
  if (mapped instanceof RecordError) return failure(mapped, mapped.type, !RETRYABLE_RECORD_TYPES.has(mapped.type));
  if (error instanceof DomainError) return failure(error, error.type, true);
  if (error instanceof Error) return failure(error, ActivityFailureType.INTERNAL, false, `${error.name}: ${error.message}`);
  return ApplicationFailure.create({ message: String(error), type: ActivityFailureType.INTERNAL, nonRetryable: false });
}

/**
 * A failed submission as the order workflow must see it: an unknown outcome (the venue client
 * lost the answer, or the call timed out) is AMBIGUOUS_SUBMIT, so the workflow looks the order up
 * instead of letting the activity resend blindly.
 */
export function submitFailure(error: unknown): Error {
  if (isVenueError(error) && (error.kind === 'AMBIGUOUS_SUBMIT' || error.kind === 'TIMEOUT')) {
    return failure(error as VenueError, ActivityFailureType.AMBIGUOUS_SUBMIT, true);
  }
  return toActivityFailure(error);
}

/** Runs an activity body and converts whatever it throws (`map` chooses the conversion). */
export async function runActivity<T>(body: () => Promise<T>, map: (e: unknown) => Error = toActivityFailure): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw map(e);
  }
}
