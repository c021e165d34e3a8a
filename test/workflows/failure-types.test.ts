/**
 * Every failure type a workflow names must be one an activity can actually fail with: a name
 * that matches nothing (the old 'RecordError') silently turns "stop retrying" into "retry forever".
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActivityFailureType } from '../../activities/errors';
import { VenueErrorKind } from '../../activities/venue/errors';
import { RecordErrorType } from '../../db/errors';
import { ErrorType } from '../../domain/errors';
import { ActivityFailure, DomainFailure, PERMANENT_RECORD_FAILURES, RECORD_WRITE_NON_RETRYABLE, VenueFailure, failureText } from '../../workflows/failure-types';

const KNOWN = new Set<string>([...Object.values(ActivityFailureType), ...Object.values(VenueErrorKind), ...Object.values(RecordErrorType), ...Object.values(ErrorType)]);
const root = join(import.meta.dirname, '..', '..', 'workflows');

describe('failure type names', () => {
  it('each named type is one the activities produce', () => {
    for (const name of [...Object.values(VenueFailure), ...Object.values(ActivityFailure), ...Object.values(DomainFailure), ...RECORD_WRITE_NON_RETRYABLE]) {
      expect(KNOWN, name).toContain(name);
    }
  });

  it('the permanent record failures are every record type except the retryable ones', () => {
    const retryable = Object.values(RecordErrorType).filter((t) => !(PERMANENT_RECORD_FAILURES as readonly string[]).includes(t));
    expect(retryable.sort()).toEqual(['DatabaseError', 'TransientConflict']);
  });

  it('no workflow names a failure type as a string literal the activities never produce', () => {
    const unknown: string[] = [];
    for (const file of readdirSync(root).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const list of text.matchAll(/nonRetryableErrorTypes:\s*\[([^\]]*)\]/g)) {
        for (const m of list[1]!.matchAll(/'([^']+)'/g)) if (!KNOWN.has(m[1]!)) unknown.push(`${file}: ${m[1]}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('the check itself catches a name that matches nothing', () => {
    expect(KNOWN.has('RecordError')).toBe(false);
  });
});

describe('failureText', () => {
  it('joins a failure with its causes, skipping empty messages, at most four deep', () => {
    const root = new Error('SMTP refused: 554');
    const activity = new Error('Activity task failed', { cause: new Error('', { cause: root }) });
    expect(failureText(activity)).toBe('Activity task failed: SMTP refused: 554');
    let deep = new Error('e5');
    for (const m of ['e4', 'e3', 'e2', 'e1']) deep = new Error(m, { cause: deep });
    expect(failureText(deep)).toBe('e1: e2: e3: e4');
    expect(failureText('not an error')).toBe('not an error');
  });
});
