import { Pool, types } from 'pg';
import type { Config } from '../config/config';
import { TraceContextPool } from '../telemetry/pgTracing';

// BIGINT (int8) comes back as a string by default; our amounts and sequence numbers are checked
// to stay within Number.MAX_SAFE_INTEGER, so parse them as numbers.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

/**
 * A pg pool with the timeouts that make a lost database fail fast instead of hanging; a query that
 * waits for a connection stays in its request's trace (telemetry/pgTracing.ts).
 */
export function createPool(db: Config['database'], applicationName: string): Pool {
  const pool = new TraceContextPool({
    connectionString: db.url,
    max: db.poolMax,
    // Idle connections are closed after idleTimeoutMillis only above this many.
    min: Math.min(db.poolMin ?? 0, db.poolMax),
    connectionTimeoutMillis: db.connectTimeoutMs,
    idleTimeoutMillis: db.idleTimeoutMs,
    statement_timeout: db.statementTimeoutMs,
    query_timeout: db.statementTimeoutMs + 1000,
    application_name: applicationName,
    keepAlive: true,
  });
  // An idle client losing its connection (database restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Opens `count` connections at once and returns them to the pool, so the pool holds them before
 * load needs them (with `min`, they then stay open). Best effort: a database that is down now is
 * the readiness check's and the overload guard's business; resolves with how many opened.
 */
export async function warmPool(pool: Pool, count: number): Promise<number> {
  // All at once: a client released before the next connect would be handed out again.
  const opened = await Promise.allSettled(Array.from({ length: count }, () => pool.connect()));
  let ok = 0;
  for (const result of opened) {
    if (result.status === 'fulfilled') {
      result.value.release();
      ok++;
    }
  }
  return ok;
}
