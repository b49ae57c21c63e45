import {
  ConflictError,
  IdempotencyMismatchError,
  InvalidTransitionError,
  NotFoundError,
  OverloadedError,
  UnavailableError,
  ValidationError,
} from '../orders/errors';
import { problem, type Problem } from './problem';

export interface MappedProblem {
  readonly body: Problem;
  readonly headers: Record<string, string>;
}

/** The one mapping from errors to HTTP problems. Unknown errors become a bare 500. */
export function problemForError(err: unknown): MappedProblem {
  const plain = (body: Problem): MappedProblem => ({ body, headers: {} });
  if (err instanceof ValidationError) {
    return plain(
      problem(400, 'validation', 'Request is invalid', 'See errors for each invalid field.', err.problems),
    );
  }
  if (err instanceof NotFoundError) return plain(problem(404, 'not-found', 'Not found', err.message));
  if (err instanceof IdempotencyMismatchError) {
    return plain(problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', err.message));
  }
  if (err instanceof ConflictError) return plain(problem(409, 'conflict', 'Conflict', err.message));
  if (err instanceof InvalidTransitionError) {
    return plain(problem(409, 'invalid-transition', 'Order status does not allow this', err.message));
  }
  if (err instanceof OverloadedError) {
    return {
      body: problem(503, 'overloaded', 'Service overloaded', `Request shed (${err.reason}); retry later.`),
      headers: { 'Retry-After': String(err.retryAfterSeconds) },
    };
  }
  if (err instanceof UnavailableError) {
    return {
      body: problem(
        503,
        'dependency-unavailable',
        'Service unavailable',
        `${err.dependency} is unavailable; retry later.`,
      ),
      headers: { 'Retry-After': String(err.retryAfterSeconds) },
    };
  }
  return plain(problem(500, 'internal', 'Internal server error'));
}
