import assert from 'node:assert/strict';
import type { PoolClient } from 'pg';
import type { TestService } from './serviceHarness';

/**
 * Holds an order's row lock on a connection of its own, so a call that changes the order stays in
 * flight until `release()`; `untilSomeoneWaits()` resolves once such a call is blocked on it.
 */
export async function lockOrderRow(
  svc: TestService,
  orderId: string,
): Promise<{ untilSomeoneWaits(): Promise<void>; release(): Promise<void> }> {
  const client: PoolClient = await svc.service.pool.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
  let released = false;
  return {
    async untilSomeoneWaits() {
      for (let i = 0; i < 100; i++) {
        const [row] = await svc.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (row!.n > 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail('no call ever waited on the row lock');
    },
    async release() {
      if (released) return;
      released = true;
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    },
  };
}
