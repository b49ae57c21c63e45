import { Pool, types } from 'pg';
import type { Config } from '../config/config';

// BIGINT (int8) comes back as a string by default; our amounts and sequence numbers are checked
// to stay within Number.MAX_SAFE_INTEGER, so parse them as numbers.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

/** A pg pool with the timeouts that make a lost database fail fast instead of hanging. */
export function createPool(db: Config['database'], applicationName: string): Pool {
  const pool = new Pool({
    connectionString: db.url,
    max: db.poolMax,
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
