import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LatencyProxy } from '../../../chaos/src/infra/latencyProxy';
import { freshDatabase, type FreshDatabase } from '../../../lab/src/testing';
import { loadConfig } from '../../src/config/config';
import { OrderUseCases } from '../../src/orders/useCases';
import { DatabaseHealth } from '../../src/store/databaseHealth';
import { migrate } from '../../src/store/migrate';
import { PgOrderRepository } from '../../src/store/orderRepository';
import { createPool } from '../../src/store/pool';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The real test-lab PostgreSQL, reached through a TCP proxy the test slows down and cuts. */
describe('database health against PostgreSQL', () => {
  let db: FreshDatabase;
  let proxy: LatencyProxy;
  before(async () => {
    db = await freshDatabase('health');
    const direct = createPool(loadConfig({ DATABASE_URL: db.url }).database, 'health-setup');
    try {
      await migrate(direct);
      const orders = new OrderUseCases({
        repository: new PgOrderRepository(direct),
        cursorSecret: 'x'.repeat(32),
      });
      for (const sku of ['A-1', 'B-2']) {
        await orders.createOrder({
          customerId: 'health',
          currency: 'EUR',
          items: [{ sku, quantity: 1, unitPriceCents: 100 }],
        });
      }
    } finally {
      await direct.end();
    }
    const upstream = new URL(db.url);
    proxy = new LatencyProxy(await freePort(), upstream.hostname, Number(upstream.port));
    await proxy.start();
  });
  after(async () => {
    await proxy?.close();
    await db?.drop();
  });

  it('reads availability and the outbox backlog, marks a slow database unavailable, then a lost one', async () => {
    const url = new URL(db.url);
    url.host = proxy.address;
    const config = loadConfig({ DATABASE_URL: url.toString(), PG_CONNECT_TIMEOUT_MS: '1000' }).database;
    const pool = createPool({ ...config, poolMax: 1 }, 'health-test');
    const health = new DatabaseHealth({ pool, intervalMs: 60_000, timeoutMs: 300 });
    const flips: boolean[] = [];
    health.onAvailabilityChange((available) => flips.push(available));
    try {
      await health.probe();
      assert.equal(health.current.available, true);
      assert.equal(health.current.backlog?.count, 2, 'the two orders wrote two unpublished outbox rows');

      // Slow: answers take 1.5 s, the timeout is 300 ms.
      proxy.latencyMs = 1500;
      const slow = health.probe();
      assert.equal(health.probe(), slow, 'a probe waiting for its answer is joined, not doubled');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(health.current.available, false, 'no answer within the timeout');
      assert.equal(health.current.backlog?.count, 2, 'the last answer is kept');
      await slow;
      assert.equal(health.current.available, true, 'the late answer still counts');

      // Lost: the proxy cuts every connection and refuses new ones.
      proxy.latencyMs = 0;
      await proxy.close();
      const cutAt = Date.now();
      await health.probe();
      assert.equal(health.current.available, false);
      assert.equal(health.current.backlog?.count, 2);
      assert.ok(health.stalenessSeconds() >= (Date.now() - cutAt) / 1000);
      assert.deepEqual(flips, [false, true, false], 'listeners hear each flip once');
    } finally {
      await pool.end().catch(() => undefined);
    }
  });
});
