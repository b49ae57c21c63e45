import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lab } from '../../../lab/src/lab';
import { findRepoRoot } from '../../../lab/src/repo';
import { testLabPortOffset } from '../../../lab/src/testing';
import { postJson, startTestService, validOrder, type TestService } from '../support/serviceHarness';

// Stops and starts PostgreSQL, so it runs its own (PostgreSQL-only) lab, 40 ports above the shared one.
const repoRoot = findRepoRoot();
const lab = new Lab({
  dir: path.join(repoRoot, '.lab', 'test-database-loss'),
  portOffset: testLabPortOffset() + 40,
  services: '',
  repoRoot,
  log: () => undefined,
});

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

async function waitUntil(
  what: string,
  predicate: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const t0 = Date.now();
  while (!(await predicate())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

describe('database loss', () => {
  let svc: TestService;
  before(async () => {
    await lab.up(['postgres']);
    svc = await startTestService({
      DATABASE_URL: lab.connection().postgres.url,
      PG_CONNECT_TIMEOUT_MS: '1000',
      SHED_PROBE_INTERVAL_MS: '200',
    });
  });
  after(async () => {
    await svc?.close();
    await lab.down();
  });

  it('fails fast with 503 + Retry-After and readiness false while PostgreSQL is down, then recovers by itself', async () => {
    const ok = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'db-loss' }));
    assert.equal(ok.status, 201);
    const ready = async () => (await fetch(`${svc.adminUrl}/readyz`)).status;
    assert.equal(await ready(), 200);
    // PostgreSQL's own view: the pool holds its standing connections (PG_POOL_MIN = PG_POOL_MAX) idle.
    const standing = async (): Promise<number> => {
      const [row] = await svc.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [`${svc.config.service.name}-${svc.config.roles.join('+')}`],
      );
      return row!.n;
    };
    const poolMin = svc.config.database.poolMin ?? 0;
    assert.equal(poolMin, svc.config.database.poolMax, 'a fixed-size pool by default');
    assert.equal(await standing(), poolMin, 'every standing connection is open before any load');

    await lab.stop('postgres');
    const notReadyAfter = await waitUntil('readiness to turn 503', async () => (await ready()) === 503, 5000);

    // Every request while the database is away: 503 problem with Retry-After, answered quickly.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { value: res, ms } = await timed(() =>
        postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'db-loss' })),
      );
      latencies.push(ms);
      assert.equal(res.status, 503, JSON.stringify(res.json));
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      const read = await fetch(`${svc.baseUrl}/v1/orders/00000000-0000-7000-8000-000000000000`);
      assert.equal(read.status, 503);
      await read.body?.cancel();
    }
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(latencies.length * 0.95) - 1]!;
    assert.ok(p95 < 250, `503s took up to ${p95.toFixed(0)} ms (p95); a lost database must fail fast`);

    await lab.start('postgres');
    const recoveredAfter = await waitUntil(
      'orders to be accepted again',
      async () =>
        (await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'db-loss' }))).status === 201,
      15_000,
    );
    assert.equal(await ready(), 200);
    await waitUntil(
      `the pool to open its ${poolMin} standing connections again`,
      async () => (await standing()) >= poolMin,
      5000,
    );
    const [row] = await svc.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders WHERE customer_id = 'db-loss'`,
    );
    assert.ok(row!.n >= 2, 'orders before and after the outage are both stored');
    console.log(
      `database loss: readiness false after ${notReadyAfter} ms, 503 p95 ${p95.toFixed(1)} ms, recovered ${recoveredAfter} ms after restart`,
    );
  });
});
