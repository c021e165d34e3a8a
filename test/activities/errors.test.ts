import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { RecordConflict, RecordError } from '../../db/errors';
import { runActivity, submitFailure, toActivityFailure } from '../../activities/errors';
import { VenueError } from '../../activities/venue/errors';
import { InvalidInput, UnknownMarket } from '../../domain/errors';

const venueError = (kind: ConstructorParameters<typeof VenueError>[0]) => new VenueError(kind, 'boom', { venue: 'paper', operation: 'placeOrder' });

function asFailure(e: Error): ApplicationFailure {
  expect(e).toBeInstanceOf(ApplicationFailure);
  return e as ApplicationFailure;
}

describe('toActivityFailure', () => {
  it('types venue errors by kind; AUTH and BAD_REQUEST are final', () => {
    for (const [kind, nonRetryable] of [['AUTH', true], ['BAD_REQUEST', true], ['RATE_LIMITED', false], ['UNAVAILABLE', false], ['TIMEOUT', false]] as const) {
      const f = asFailure(toActivityFailure(venueError(kind)));
      expect(f.type).toBe(kind);
      expect(f.nonRetryable).toBe(nonRetryable);
    }
  });

  it('types record errors by record type; transient ones are retried', () => {
    const conflict = asFailure(toActivityFailure(new RecordConflict('fills', 'T-1', ['price'], 1, 2)));
    expect(conflict.type).toBe('RecordConflict');
    expect(conflict.nonRetryable).toBe(true);
    const transient = asFailure(toActivityFailure(new RecordError('TransientConflict', 'deadlock')));
    expect(transient.type).toBe('TransientConflict');
    expect(transient.nonRetryable).toBe(false);
  });

  it('maps a raw driver error through its SQLSTATE', () => {
    const f = asFailure(toActivityFailure(Object.assign(new Error('dup'), { code: '23505', detail: 'Key (trade_id)=(T-1) already exists.', table: 'fills' })));
    expect(f.type).toBe('DuplicateRecord');
    expect(f.nonRetryable).toBe(true);
  });

  it('types domain errors by their type, never retried, and keeps the bad fields', () => {
    const f = asFailure(toActivityFailure(InvalidInput.of('quantity', -1, 'must be positive')));
    expect(f.type).toBe('InvalidInput');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('quantity');
    expect(JSON.stringify(f.details)).toContain('quantity');
    expect(asFailure(toActivityFailure(new UnknownMarket('X'))).type).toBe('UnknownMarket');
  });

  it('retries untyped errors as INTERNAL and passes ApplicationFailure through', () => {
    const f = asFailure(toActivityFailure(new TypeError('x is undefined')));
    expect(f.type).toBe('INTERNAL');
    expect(f.nonRetryable).toBe(false);
    const own = ApplicationFailure.nonRetryable('mine', 'MINE');
    expect(toActivityFailure(own)).toBe(own);
  });
});

describe('submitFailure', () => {
  it('makes an unknown submission outcome AMBIGUOUS_SUBMIT and leaves the rest alone', async () => {
    for (const kind of ['AMBIGUOUS_SUBMIT', 'TIMEOUT'] as const) {
      const f = asFailure(submitFailure(venueError(kind)));
      expect(f.type).toBe('AMBIGUOUS_SUBMIT');
    }
    expect(asFailure(submitFailure(venueError('BAD_REQUEST'))).type).toBe('BAD_REQUEST');
    await expect(runActivity(() => Promise.reject(venueError('TIMEOUT')), submitFailure)).rejects.toMatchObject({ type: 'AMBIGUOUS_SUBMIT' });
  });
});
