import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, type FreshDatabase } from '../../../lab/src/testing';
import { loadConfig } from '../../src/config/config';
import { migrate } from '../../src/store/migrate';
import { MIGRATIONS } from '../../src/store/migrations';
import { createPool } from '../../src/store/pool';

describe('migrations', () => {
  let db: FreshDatabase;
  before(async () => {
    db = await freshDatabase('mig');
  });
  after(async () => {
    await db?.drop();
  });

  it('apply once even when two processes run them at the same time, and are a no-op the second time', async () => {
    const config = loadConfig({ DATABASE_URL: db.url });
    const a = createPool(config.database, 'mig-a');
    const b = createPool(config.database, 'mig-b');
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const latest = Math.max(...MIGRATIONS.map((m) => m.version));
      assert.deepEqual([...ra.applied, ...rb.applied].sort(), MIGRATIONS.map((m) => m.version).sort());
      assert.equal(ra.current, latest);
      assert.equal(rb.current, latest);
      const again = await migrate(a);
      assert.deepEqual(again.applied, []);
      const rows = await a.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.rows.map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
      const tables = await a.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      for (const t of ['idempotency_keys', 'order_items', 'orders', 'outbox']) {
        assert.ok(
          tables.rows.some((r) => r.table_name === t),
          `missing table ${t}`,
        );
      }
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('roll back a failing migration whole and report which one failed', async () => {
    const config = loadConfig({ DATABASE_URL: db.url });
    const pool = createPool(config.database, 'mig-bad');
    try {
      const bad = {
        version: 9999,
        name: 'broken',
        sql: 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;',
      };
      await assert.rejects(migrate(pool, [...MIGRATIONS, bad]), /migration 9999 \(broken\) failed/);
      const half = await pool.query<{ t: string | null }>(`SELECT to_regclass('public.half_done') AS t`);
      assert.equal(half.rows[0]?.t, null);
    } finally {
      await pool.end();
    }
  });
});
