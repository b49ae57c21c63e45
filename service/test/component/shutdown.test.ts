import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { freshDatabase, type FreshDatabase } from '../../../lab/src/testing';
import { SHUTDOWN_ORDER } from '../../src/lifecycle/shutdownOrder';
import { kafkaBrokers, uniqueTopic } from '../support/pipelineLab';
import { startServiceProcess } from '../support/serviceProcess';
import { validOrder } from '../support/serviceHarness';

interface Outcome {
  sentAt: number;
  status?: number;
  error?: string;
  orderId?: string;
}

describe('graceful shutdown', () => {
  let db: FreshDatabase;
  before(async () => {
    db = await freshDatabase('shut');
  });
  after(async () => {
    await db?.drop();
  });

  /** A service process with the given roles on its own topics of the test lab's Kafka. */
  async function startPipelineProcess(roles: string) {
    const topic = uniqueTopic('shutdown');
    return startServiceProcess({
      DATABASE_URL: db.url,
      ROLES: roles,
      KAFKA_BROKERS: (await kafkaBrokers()).join(','),
      ORDERS_TOPIC: topic,
      DLQ_TOPIC: `${topic}.dlq`,
      WORKER_GROUP_ID: `${topic}.fulfilment`,
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
  }

  it('SIGTERM under steady load: readiness flips at once, in-flight work completes, exit 0 in time, nothing lost', async () => {
    const drainMs = 1000;
    const svc = await startServiceProcess({ DATABASE_URL: db.url, SHUTDOWN_DRAIN_DELAY_MS: String(drainMs) });
    const outcomes: Outcome[] = [];
    const inFlight: Promise<void>[] = [];
    const send = () => {
      const o: Outcome = { sentAt: Date.now() };
      outcomes.push(o);
      inFlight.push(
        fetch(`${svc.httpUrl}/v1/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(validOrder({ customerId: 'shutdown' })),
        }).then(
          async (res) => {
            o.status = res.status;
            const body = (await res.json()) as { id?: string };
            o.orderId = body.id;
          },
          (err: Error & { cause?: { code?: string } }) => {
            o.error = err.cause?.code ?? err.message;
          },
        ),
      );
    };
    // Open-model load: one request every 10 ms (100/s) regardless of responses, for at most 4 s.
    const loadStart = Date.now();
    const loader = setInterval(() => {
      if (Date.now() - loadStart > 12_000 || outcomes.length >= 600) clearInterval(loader);
      else send();
    }, 10);
    // Signal once a steady stream is flowing (at least 50 requests sent), however busy the machine is.
    for (const t0 = Date.now(); outcomes.length < 60 && Date.now() - t0 < 10_000;) {
      await new Promise((r) => setTimeout(r, 20));
    }

    const signalAt = Date.now();
    svc.child.kill('SIGTERM');
    // Open-loop readiness probes every 10 ms for 300 ms: each records when it was sent and what it got,
    // so a slow answer on a busy machine does not hide when readiness actually flipped.
    const probes: Promise<{ sentAt: number; status: number | undefined }>[] = [];
    for (let i = 0; i < 30; i++) {
      const sentAt = Date.now();
      probes.push(
        fetch(`${svc.adminUrl}/readyz`).then(
          async (res) => {
            await res.body?.cancel();
            return { sentAt, status: res.status };
          },
          () => ({ sentAt, status: undefined }),
        ),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    const readiness = await Promise.all(probes);
    const exit = await svc.exited();
    clearInterval(loader);
    await Promise.all(inFlight);

    assert.equal(exit.code, 0, svc.stdout().slice(-2000));
    const lateProbes = readiness.filter((p) => p.sentAt - signalAt >= 100);
    assert.ok(lateProbes.length > 0);
    assert.deepEqual(
      lateProbes.filter((p) => p.status !== 503).map((p) => `${p.sentAt - signalAt} ms: ${p.status}`),
      [],
      'a readiness probe sent 100 ms or more after SIGTERM did not get 503',
    );
    assert.ok(exit.at - signalAt <= drainMs + 3000, `exited ${exit.at - signalAt} ms after SIGTERM`);

    const beforeSignal = outcomes.filter((o) => o.sentAt < signalAt);
    assert.ok(beforeSignal.length >= 50, `only ${beforeSignal.length} requests before the signal`);
    const failedBefore = beforeSignal.filter((o) => o.status !== 201);
    assert.deepEqual(failedBefore, [], 'a request sent before SIGTERM failed');
    // After the signal: anything answered must be a success; refusals only once the listener closed.
    const answeredAfter = outcomes.filter((o) => o.sentAt >= signalAt && o.status !== undefined);
    assert.deepEqual(
      answeredAfter.filter((o) => o.status !== 201),
      [],
    );
    const duringDrain = outcomes.filter((o) => o.sentAt >= signalAt && o.sentAt < signalAt + drainMs - 100);
    assert.ok(
      duringDrain.length > 0 && duringDrain.every((o) => o.status === 201),
      'requests during the drain delay were not served',
    );
    // Only once the drain is over and the listener closed may a (deregistered) client be refused.
    const drainEnd = signalAt + drainMs;
    for (const o of outcomes.filter((x) => x.error)) {
      assert.ok(
        o.sentAt >= drainEnd - 50,
        `request sent ${o.sentAt - signalAt} ms after SIGTERM failed: ${o.error}`,
      );
      assert.match(o.error!, /ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET/);
    }

    const accepted = outcomes.filter((o) => o.status === 201).map((o) => o.orderId!);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const found = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM orders o JOIN outbox x ON x.aggregate_id = o.id WHERE o.id = ANY($1::uuid[])',
        [accepted],
      );
      assert.equal(found.rows[0]!.n, accepted.length, 'an accepted order or its event is missing');
    } finally {
      await client.end();
    }
  });

  it('a request stuck past the deadline makes the process exit 1 and the log names it', async () => {
    const svc = await startServiceProcess({
      DATABASE_URL: db.url,
      SHUTDOWN_TIMEOUT_MS: '1500',
      PG_STATEMENT_TIMEOUT_MS: '20000',
    });
    const created = await fetch(`${svc.httpUrl}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validOrder({ customerId: 'stuck' })),
    });
    const { id } = (await created.json()) as { id: string };
    // Hold the order's row lock so the cancel request waits inside the database.
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [id]);
      const stuck = fetch(`${svc.httpUrl}/v1/orders/${id}/cancel`, { method: 'POST' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      const signalAt = Date.now();
      svc.child.kill('SIGTERM');
      const exit = await svc.exited();
      assert.equal(exit.code, 1);
      assert.ok(exit.at - signalAt < 3000, `took ${exit.at - signalAt} ms`);
      const deadline = svc.logs().find((l) => l['message'] === 'shutdown deadline passed');
      assert.ok(deadline, svc.stdout());
      assert.match(
        String(deadline['pending']),
        new RegExp(`http server: 1 request\\(s\\) in flight: POST /v1/orders/${id}/cancel`),
      );
      await stuck;
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it('closes its parts in the stated order: servers, then the pipeline, then what they share', async () => {
    const svc = await startPipelineProcess('api,relay,worker');
    const created = await fetch(`${svc.httpUrl}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validOrder({ customerId: 'order-of-shutdown' })),
    });
    assert.equal(created.status, 201);
    svc.child.kill('SIGTERM');
    const exit = await svc.exited();
    assert.equal(exit.code, 0, svc.stdout().slice(-2000));
    const closed = svc
      .logs()
      .filter((l) => l['message'] === 'closed')
      .map((l) => String(l['component']));
    // Every part of an api+relay+worker process, in SHUTDOWN_ORDER (no tracing preload here: no telemetry).
    assert.deepEqual(
      closed,
      SHUTDOWN_ORDER.filter((name) => name !== 'telemetry'),
    );
  });

  it('a relay-only process starts no overload guard and closes relay, admin, health, pool', async () => {
    const svc = await startPipelineProcess('relay');
    const metrics = await (await fetch(`${svc.adminUrl}/metrics`)).text();
    assert.doesNotMatch(
      metrics,
      /^orderlab_concurrency_limit /m,
      'no overload guard in a relay-only process',
    );
    assert.match(metrics, /^orderlab_outbox_backlog_events /m, 'the database health feeds the outbox gauges');
    svc.child.kill('SIGTERM');
    assert.equal((await svc.exited()).code, 0, svc.stdout().slice(-2000));
    assert.deepEqual(
      svc
        .logs()
        .filter((l) => l['message'] === 'closed')
        .map((l) => l['component']),
      ['outbox relay', 'admin server', 'database health', 'database pool'],
    );
  });

  it('a second signal ends the process at once with exit 1', async () => {
    const svc = await startServiceProcess({ DATABASE_URL: db.url, SHUTDOWN_DRAIN_DELAY_MS: '5000' });
    svc.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const secondAt = Date.now();
    svc.child.kill('SIGINT');
    const exit = await svc.exited();
    assert.equal(exit.code, 1);
    assert.ok(exit.at - secondAt < 1000);
    const line = svc.logs().find((l) => l['message'] === 'second signal: exiting now');
    assert.equal(line?.['pending'], 'drain delay');
  });
});
