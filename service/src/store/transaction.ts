import type { Pool, PoolClient } from 'pg';

/** Runs `work` in one transaction on one pooled connection; rolls back on any error. */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A checked-out client whose connection dies between queries (e.g. while the relay waits for
  // Kafka inside its transaction) emits 'error'; unheard, that would crash the process. The next
  // query on it fails anyway, which is where the caller learns about it.
  const onConnectionError = (): void => {
    broken = true;
  };
  client.on('error', onConnectionError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // connection is gone; do not return it to the pool
    }
    throw err;
  } finally {
    client.removeListener('error', onConnectionError);
    client.release(broken);
  }
}
