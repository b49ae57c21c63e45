import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { problemForError } from '../../src/http/errorMapping';
import {
  IdempotencyMismatchError,
  InvalidTransitionError,
  NotFoundError,
  OverloadedError,
  UnavailableError,
  ValidationError,
} from '../../src/orders/errors';
import { isDatabaseUnavailable, translateDatabaseError } from '../../src/store/dbErrors';

describe('problemForError', () => {
  it('maps each domain error to its status', () => {
    const cases: [unknown, number][] = [
      [new ValidationError([{ pointer: '/a', detail: 'x' }]), 400],
      [new NotFoundError('order', 'x'), 404],
      [new InvalidTransitionError('confirmed', 'cancelled'), 409],
      [new IdempotencyMismatchError('k'), 422],
      [new OverloadedError('concurrency', 1), 503],
      [new UnavailableError('database', 2), 503],
    ];
    for (const [err, status] of cases) assert.equal(problemForError(err).body.status, status);
  });

  it('sends Retry-After when shedding or a dependency is away', () => {
    assert.deepEqual(problemForError(new OverloadedError('event_loop', 3)).headers, { 'Retry-After': '3' });
    assert.deepEqual(problemForError(new UnavailableError('database', 1)).headers, { 'Retry-After': '1' });
  });

  it('hides internals of unknown errors', () => {
    const mapped = problemForError(
      new Error('password authentication failed for user "orderlab" at 10.0.0.5'),
    );
    assert.equal(mapped.body.status, 500);
    assert.doesNotMatch(JSON.stringify(mapped.body), /password|10\.0\.0\.5/);
  });
});

describe('database error translation', () => {
  it('treats connection loss and timeouts as unavailable, query bugs as bugs', () => {
    assert.equal(isDatabaseUnavailable({ code: 'ECONNREFUSED' }), true);
    assert.equal(isDatabaseUnavailable({ code: '57P01' }), true);
    assert.equal(isDatabaseUnavailable({ code: '57014' }), true);
    assert.equal(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')), true);
    assert.equal(isDatabaseUnavailable({ code: '23505' }), false);
    assert.equal(isDatabaseUnavailable({ code: '42P01' }), false);
    assert.ok(translateDatabaseError({ code: 'ECONNREFUSED' }) instanceof UnavailableError);
  });
});
