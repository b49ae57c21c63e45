import { asDomainError } from '../orders/errors';
import { problem, type Problem } from './problem';

export interface MappedProblem {
  readonly body: Problem;
  readonly headers: Record<string, string>;
}

/** The one mapping from errors to HTTP problems. Unknown errors become a bare 500. */
export function problemForError(err: unknown): MappedProblem {
  const plain = (body: Problem): MappedProblem => ({ body, headers: {} });
  const known = asDomainError(err);
  if (!known) return plain(problem(500, 'internal', 'Internal server error'));
  switch (known.kind) {
    case 'validation':
      return plain(
        problem(
          400,
          'validation',
          'Request is invalid',
          'See errors for each invalid field.',
          known.problems,
        ),
      );
    case 'not_found':
      return plain(problem(404, 'not-found', 'Not found', known.message));
    case 'idempotency_mismatch':
      return plain(problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', known.message));
    case 'conflict':
      return plain(problem(409, 'conflict', 'Conflict', known.message));
    case 'invalid_transition':
      return plain(problem(409, 'invalid-transition', 'Order status does not allow this', known.message));
    case 'overloaded':
      return {
        body: problem(
          503,
          'overloaded',
          'Service overloaded',
          `Request shed (${known.reason}); retry later.`,
        ),
        headers: { 'Retry-After': String(known.retryAfterSeconds) },
      };
    case 'unavailable':
      return {
        body: problem(
          503,
          'dependency-unavailable',
          'Service unavailable',
          `${known.dependency} is unavailable; retry later.`,
        ),
        headers: { 'Retry-After': String(known.retryAfterSeconds) },
      };
  }
}
