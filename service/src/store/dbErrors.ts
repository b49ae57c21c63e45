import { UnavailableError } from '../orders/errors';

const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
]);

const UNAVAILABLE_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** True when the error means "the database cannot answer now", not "this query is wrong". */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (
    typeof e.code === 'string' &&
    (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_SYSCALL_CODES.has(e.code))
  ) {
    return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout/i.test(
    message,
  );
}

/** Turns driver errors for a lost database into the use cases' UnavailableError (→ 503). */
export function translateDatabaseError(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? new UnavailableError('database', 1, { cause: err }) : err;
}
