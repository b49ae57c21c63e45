/** The small set of typed errors the use cases raise; http/ and grpc/ each map them once. */

export interface FieldProblem {
  /** JSON pointer into the request (e.g. `/items/3/quantity`), or a parameter name. */
  readonly pointer: string;
  readonly detail: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
}

export type DomainErrorKind =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'idempotency_mismatch'
  | 'invalid_transition'
  | 'overloaded'
  | 'unavailable';

export class ValidationError extends DomainError {
  readonly kind = 'validation';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(problems.map((p) => `${p.pointer}: ${p.detail}`).join('; '));
  }
}

export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} not found`);
  }
}

/** Same Idempotency-Key reused with a different request body. */
export class IdempotencyMismatchError extends DomainError {
  readonly kind = 'idempotency_mismatch';
  constructor(readonly key: string) {
    super(`Idempotency-Key ${key} was already used with a different request`);
  }
}

/** A request for the same key is still being processed by another caller. */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

export class InvalidTransitionError extends DomainError {
  readonly kind = 'invalid_transition';
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`order cannot go from ${from} to ${to}`);
  }
}

/** Raised before any work when the service sheds load; carries the reason and a retry hint. */
export class OverloadedError extends DomainError {
  readonly kind = 'overloaded';
  constructor(
    readonly reason: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`service overloaded (${reason})`);
  }
}

/** A dependency (database, broker) is unreachable; the caller may retry later. */
export class UnavailableError extends DomainError {
  readonly kind = 'unavailable';
  constructor(
    readonly dependency: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} unavailable`, options);
  }
}

/** Every domain error, told apart by `kind`: the HTTP and gRPC mappings switch over it exhaustively. */
export type KnownDomainError =
  | ValidationError
  | NotFoundError
  | IdempotencyMismatchError
  | ConflictError
  | InvalidTransitionError
  | OverloadedError
  | UnavailableError;

/** The error as one of the domain's, or undefined for anything else (a bug, a driver error). */
export function asDomainError(err: unknown): KnownDomainError | undefined {
  // DomainError is abstract and every subclass is in the union above.
  return err instanceof DomainError ? (err as KnownDomainError) : undefined;
}
