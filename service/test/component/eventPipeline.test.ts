import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_CONTEXT, context, propagation, trace, TraceFlags } from '@opentelemetry/api';
// Test-only: the SDK's context manager and W3C propagator (transitive deps of @opentelemetry/sdk-node).
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Kafka, logLevel } from 'kafkajs';
import { freshDatabase } from '../../../lab/src/testing';
import { loadConfig } from '../../src/config/config';
import { ENVELOPE_CONTENT_TYPE, DLQ_HEADERS, parseEnvelope, toEnvelope } from '../../src/pipeline/envelope';
import { createKafkaClient } from '../../src/pipeline/kafkaClient';
import { OutboxRelay } from '../../src/pipeline/outboxRelay';
import type { PipelineHooks, ProcessOutcome } from '../../src/pipeline/ports';
import { OrderUseCases } from '../../src/orders/useCases';
import { migrate } from '../../src/store/migrate';
import { PgOrderRepository } from '../../src/store/orderRepository';
import { PgOutboxStore } from '../../src/store/outboxStore';
import { createPool } from '../../src/store/pool';
import { createLogger } from '../../src/telemetry/logger';
import { kafkaBrokers, startOwnBroker, uniqueTopic } from '../support/pipelineLab';

/** The test lab's brokers, looked up once (starts the lab when run outside scripts/runTests). */
let brokers: string[] = [];
before(async () => {
  brokers = await kafkaBrokers();
});
import { postJson, startTestService, type TestService, validOrder } from '../support/serviceHarness';
import { eventually, readTopic } from '../support/topicReader';

const quietLogger = createLogger({ level: 'error', service: 'pipeline-test', roles: ['test'] });

function pipelineEnv(
  topic: string,
  extra: Record<string, string> = {},
  kafka: readonly string[] = brokers,
): Record<string, string> {
  return {
    ROLES: 'api,relay,worker',
    KAFKA_BROKERS: kafka.join(','),
    ORDERS_TOPIC: topic,
    DLQ_TOPIC: `${topic}.dlq`,
    WORKER_GROUP_ID: `${topic}.fulfilment`,
    RELAY_POLL_MS: '200',
    RELAY_MIN_BACKOFF_MS: '100',
    RELAY_MAX_BACKOFF_MS: '1000',
    WORKER_FULFIL_LATENCY_MS: '5',
    WORKER_SESSION_TIMEOUT_MS: '6000',
    WORKER_MIN_BACKOFF_MS: '50',
    WORKER_MAX_BACKOFF_MS: '500',
    ...extra,
  };
}

/** Hooks that remember what the pipeline reported, to count effects independently of the database. */
function recordingHooks(): PipelineHooks & {
  processed: { type: string; outcome: ProcessOutcome }[];
  confirmedDelays: number[];
  deadLettered: string[];
  published: number;
} {
  const rec = {
    processed: [] as { type: string; outcome: ProcessOutcome }[],
    confirmedDelays: [] as number[],
    deadLettered: [] as string[],
    published: 0,
    onPublished: (n: number) => void (rec.published += n),
    onProcessed: (type: string, outcome: ProcessOutcome) => void rec.processed.push({ type, outcome }),
    onConfirmed: (s: number) => void rec.confirmedDelays.push(s),
    onDeadLettered: (reason: string) => void rec.deadLettered.push(reason),
  };
  return rec;
}

async function waitForJoinedWorker(svc: TestService): Promise<void> {
  await eventually('worker joined its group', async () => {
    const res = await fetch(`${svc.adminUrl}/readyz`);
    const body = (await res.json()) as { checks: Record<string, string> };
    return body.checks['kafka consumer'] === 'ok' ? true : undefined;
  });
}

async function orderStatus(svc: TestService, id: string): Promise<{ status: string; version: number }> {
  const [row] = await svc.query<{ status: string; version: number }>(
    'SELECT status, version FROM orders WHERE id = $1',
    [id],
  );
  assert.ok(row, `order ${id} exists`);
  return row;
}

async function createOrders(svc: TestService, count: number, gapMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: `c-${i % 7}` }));
    assert.equal(res.status, 201, `order ${i} accepted: ${JSON.stringify(res.json)}`);
    ids.push((res.json as { id: string }).id);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  return ids;
}

async function waitAllConfirmed(svc: TestService, ids: readonly string[], timeoutMs: number): Promise<void> {
  await eventually(
    `${ids.length} orders confirmed`,
    async () => {
      const [row] = await svc.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'confirmed'`,
        [ids],
      );
      return row!.n === ids.length ? true : undefined;
    },
    timeoutMs,
    200,
  );
}

function rawProducer(): ReturnType<Kafka['producer']> {
  return new Kafka({
    clientId: 'test-producer',
    brokers: brokers,
    logLevel: logLevel.NOTHING,
  }).producer({
    allowAutoTopicCreation: false,
  });
}

describe('event pipeline (real PostgreSQL and Kafka)', () => {
  it('confirms an order created over HTTP; its event on the topic is a valid envelope carrying the stored trace headers', async (t) => {
    const topic = uniqueTopic('orders');
    const hooks = recordingHooks();
    const svc = await startTestService(pipelineEnv(topic), { pipelineHooks: hooks });
    t.after(() => svc.close());
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await postJson(`${svc.baseUrl}/v1/orders`, validOrder(), { traceparent });
    assert.equal(res.status, 201);
    const id = (res.json as { id: string }).id;
    await eventually('order confirmed', async () =>
      (await orderStatus(svc, id)).status === 'confirmed' ? true : undefined,
    );
    assert.equal((await orderStatus(svc, id)).version, 2);
    const [row] = await svc.query<{ event_id: string; headers: Record<string, string>; published_at: Date }>(
      'SELECT event_id, headers, published_at FROM outbox WHERE aggregate_id = $1',
      [id],
    );
    assert.ok(row?.published_at, 'outbox row marked published');
    const messages = await readTopic(brokers, topic, (m) => m.some((x) => x.key === id));
    const message = messages.find((m) => m.key === id);
    assert.ok(message, 'event found on the topic under the order id key');
    const parsed = parseEnvelope(message.value);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.equal(parsed.envelope.id, row.event_id);
    assert.equal(parsed.envelope.type, 'order.created.v1');
    assert.equal(parsed.envelope.subject, id);
    assert.equal(parsed.envelope.source, '/orderlab/orders');
    assert.equal(parsed.envelope.data.status, 'pending');
    assert.equal(message.headers['content-type'], ENVELOPE_CONTENT_TYPE);
    // Whatever trace context the request stored travels unchanged. Without an OpenTelemetry SDK in
    // this process (the observability work adds it) the HTTP server extracts nothing and the row's
    // headers are empty; the next test proves the round trip with a known context.
    assert.equal(message.headers['traceparent'], row.headers['traceparent']);
    assert.deepEqual(
      hooks.processed.filter((p) => p.type === 'order.created.v1').map((p) => p.outcome),
      ['confirmed'],
    );
    assert.equal(hooks.confirmedDelays.length, 1);
    assert.ok(hooks.confirmedDelays[0]! >= 0 && hooks.confirmedDelays[0]! < 10);
  });

  it('carries the trace context active when the order was written from outbox.headers into Kafka headers', async (t) => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    t.after(() => {
      context.disable();
      propagation.disable();
    });
    const topic = uniqueTopic('orders');
    const svc = await startTestService(pipelineEnv(topic, { ROLES: 'api,relay' }));
    t.after(() => svc.close());
    const useCases = new OrderUseCases({
      repository: new PgOrderRepository(svc.service.pool),
      cursorSecret: svc.config.orders.cursorSecret,
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    const active = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    const { order } = await context.with(active, () =>
      useCases.createOrder({
        customerId: 'traced',
        currency: 'EUR',
        items: [{ sku: 'T', quantity: 1, unitPriceCents: 5 }],
      }),
    );
    const [row] = await svc.query<{ headers: Record<string, string> }>(
      'SELECT headers FROM outbox WHERE aggregate_id = $1',
      [order.id],
    );
    assert.equal(row?.headers['traceparent'], `00-${traceId}-${spanId}-01`);
    const messages = await readTopic(brokers, topic, (m) => m.some((x) => x.key === order.id));
    const message = messages.find((m) => m.key === order.id);
    assert.equal(message?.headers['traceparent'], `00-${traceId}-${spanId}-01`);
  });

  it('applies the same event delivered twice once', async (t) => {
    const topic = uniqueTopic('orders');
    const hooks = recordingHooks();
    // No relay: the test publishes the outbox row itself, twice.
    const svc = await startTestService(pipelineEnv(topic, { ROLES: 'api,worker' }), { pipelineHooks: hooks });
    t.after(() => svc.close());
    await waitForJoinedWorker(svc);
    const res = await postJson(`${svc.baseUrl}/v1/orders`, validOrder());
    const id = (res.json as { id: string }).id;
    const [row] = await svc.query<{
      event_id: string;
      aggregate_id: string;
      event_type: string;
      payload: unknown;
      created_at: Date;
    }>('SELECT event_id, aggregate_id, event_type, payload, created_at FROM outbox WHERE aggregate_id = $1', [
      id,
    ]);
    assert.ok(row);
    const value = JSON.stringify(
      toEnvelope(
        {
          eventId: row.event_id,
          aggregateId: row.aggregate_id,
          eventType: row.event_type,
          payload: row.payload,
          headers: {},
          createdAt: row.created_at,
        },
        '/orderlab/orders',
      ),
    );
    const producer = rawProducer();
    await producer.connect();
    t.after(() => producer.disconnect());
    await producer.send({ topic, messages: [{ key: id, value }] });
    await producer.send({ topic, messages: [{ key: id, value }] });
    await eventually('both deliveries processed', () =>
      Promise.resolve(hooks.processed.length >= 2 ? true : undefined),
    );
    assert.deepEqual(
      hooks.processed.map((p) => p.outcome),
      ['confirmed', 'duplicate'],
    );
    assert.deepEqual(await orderStatus(svc, id), { status: 'confirmed', version: 2 });
    const processed = await svc.query('SELECT * FROM processed_events WHERE event_id = $1', [row.event_id]);
    assert.equal(processed.length, 1);
    assert.equal(hooks.confirmedDelays.length, 1);
  });

  it('dead-letters poison messages with their reason and keeps processing the partition', async (t) => {
    const topic = uniqueTopic('orders');
    const hooks = recordingHooks();
    const svc = await startTestService(pipelineEnv(topic, { ROLES: 'api,worker' }), { pipelineHooks: hooks });
    t.after(() => svc.close());
    await waitForJoinedWorker(svc);
    const res = await postJson(`${svc.baseUrl}/v1/orders`, validOrder());
    const id = (res.json as { id: string }).id;
    const [row] = await svc.query<{ event_id: string; payload: unknown; created_at: Date }>(
      'SELECT event_id, payload, created_at FROM outbox WHERE aggregate_id = $1',
      [id],
    );
    assert.ok(row);
    const good = toEnvelope(
      {
        eventId: row.event_id,
        aggregateId: id,
        eventType: 'order.created.v1',
        payload: row.payload,
        headers: {},
        createdAt: row.created_at,
      },
      '/orderlab/orders',
    );
    const ghostOrder = '01900000-0000-7000-8000-000000000001';
    const ghost = {
      ...good,
      id: '01900000-0000-7000-8000-0000000000aa',
      subject: ghostOrder,
      data: { ...good.data, orderId: ghostOrder },
    };
    const producer = rawProducer();
    await producer.connect();
    t.after(() => producer.disconnect());
    // Same key for all: they share one partition, so the good one must get past the three bad ones.
    const sent = await producer.send({
      topic,
      messages: [
        { key: id, value: '{"not json' },
        { key: id, value: JSON.stringify({ ...good, type: 'order.shipped.v9' }) },
        {
          key: id,
          value: JSON.stringify(ghost),
          headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        },
        { key: id, value: JSON.stringify(good) },
      ],
    });
    const firstOffset = BigInt(sent[0]!.baseOffset!);
    await eventually('good order confirmed', async () =>
      (await orderStatus(svc, id)).status === 'confirmed' ? true : undefined,
    );
    const dlq = await readTopic(brokers, `${topic}.dlq`, (m) => m.length >= 3);
    assert.equal(dlq.length, 3);
    assert.deepEqual(
      dlq.map((m) => m.headers[DLQ_HEADERS.reason]),
      ['unparseable', 'unknown_type', 'order_not_found'],
    );
    dlq.forEach((m, i) => {
      assert.equal(m.headers[DLQ_HEADERS.sourceTopic], topic);
      assert.equal(m.headers[DLQ_HEADERS.sourcePartition], String(sent[0]!.partition));
      assert.equal(m.headers[DLQ_HEADERS.sourceOffset], String(firstOffset + BigInt(i)));
      assert.ok((m.headers[DLQ_HEADERS.error] ?? '').length > 0);
      assert.equal(m.key, id);
    });
    assert.equal(dlq[0]!.value?.toString(), '{"not json', 'original bytes kept');
    assert.equal(dlq[2]!.headers['traceparent'], '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.deepEqual(hooks.deadLettered, ['unparseable', 'unknown_type', 'order_not_found']);
    assert.equal(
      (await svc.query('SELECT 1 FROM processed_events')).length,
      1,
      'only the good event recorded',
    );
  });

  it('publishes every event exactly once and in per-order order with three relays at once', async (t) => {
    const topic = uniqueTopic('relays');
    const db = await freshDatabase('relays');
    const config = loadConfig({ DATABASE_URL: db.url, KAFKA_BROKERS: brokers.join(',') });
    const setupPool = createPool(config.database, 'relays-setup');
    await migrate(setupPool);
    const orders = 200;
    const eventsPerOrder = 6;
    // Interleaved: order k's n-th event has id n*orders+k, so every batch mixes many orders.
    await setupPool.query(
      `INSERT INTO outbox (event_id, aggregate_id, event_type, payload)
       SELECT gen_random_uuid(), agg.id, 'order.created.v1', jsonb_build_object('seq', n)
       FROM generate_series(0, $2 - 1) AS n
       CROSS JOIN LATERAL (SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(k), 12, '0'))::uuid AS id, k
                           FROM generate_series(1, $1) AS k) AS agg
       ORDER BY n, agg.k`,
      [orders, eventsPerOrder],
    );
    const kafka = createKafkaClient(config.kafka, quietLogger);
    await kafka.ensureTopics([{ name: topic, partitions: 6 }]);
    const counts = [0, 0, 0];
    const relays = counts.map((_, i) => {
      const pool = createPool(config.database, `relay-${i}`);
      const relay = new OutboxRelay({
        store: new PgOutboxStore(pool, { databaseUrl: db.url }),
        newPublisher: () => kafka.newPublisher(),
        topic,
        source: '/test',
        batchSize: 25,
        concurrency: 1,
        pollMs: 100,
        minBackoffMs: 100,
        maxBackoffMs: 1000,
        logger: quietLogger,
        hooks: { onPublished: (n) => void (counts[i]! += n) },
      });
      return { relay, pool };
    });
    relays.forEach((r) => r.relay.start());
    t.after(async () => {
      await Promise.all(relays.map((r) => r.relay.close()));
      await Promise.all([...relays.map((r) => r.pool.end()), setupPool.end()]);
      await db.drop();
    });
    const total = orders * eventsPerOrder;
    await eventually(
      'outbox drained',
      async () => {
        const [row] = (
          await setupPool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
          )
        ).rows;
        return row!.n === 0 ? true : undefined;
      },
      60000,
      100,
    );
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      total,
      'relays report each row published once',
    );
    counts.forEach((c, i) => assert.ok(c > 0, `relay ${i} published some rows (${counts.join('/')})`));
    const admin = new Kafka({ brokers: brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const inTopic = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    assert.equal(inTopic, total, 'the topic holds each event exactly once');
    const messages = await readTopic(brokers, topic, (m) => m.length >= total, 30000);
    const seqByOrder = new Map<string, number[]>();
    for (const m of messages.sort(
      (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
    )) {
      const envelope = JSON.parse(m.value!.toString()) as { subject: string; data: { seq: number } };
      const list = seqByOrder.get(envelope.subject) ?? [];
      list.push(envelope.data.seq);
      seqByOrder.set(envelope.subject, list);
    }
    assert.equal(seqByOrder.size, orders);
    for (const [order, seqs] of seqByOrder) {
      assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5], `events of ${order} in order`);
    }
  });

  it('loses no order when one of two workers is SIGKILLed', async (t) => {
    const topic = uniqueTopic('orders');
    const env = pipelineEnv(topic, { ROLES: 'api,relay' });
    const db = await freshDatabase('workers');
    const svc = await startTestService(env, { database: db });
    const mainJs = path.resolve(__dirname, '../../src/main.js');
    const workers: ChildProcess[] = [0, 1].map(() =>
      spawn(process.execPath, [mainJs], {
        env: {
          ...process.env,
          ...env,
          ROLES: 'worker',
          DATABASE_URL: db.url,
          ADMIN_PORT: '0',
          LOG_LEVEL: 'error',
          WORKER_FULFIL_LATENCY_MS: '30',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    t.after(async () => {
      await svc.close();
      for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
      await Promise.all(
        workers.map((w) =>
          w.exitCode === null && w.signalCode === null
            ? new Promise((r) => w.once('exit', r))
            : Promise.resolve(),
        ),
      );
      await db.drop();
    });
    const admin = new Kafka({ brokers: brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    await eventually(
      'two workers share the partitions',
      async () => {
        const { groups } = await admin.describeGroups([env['WORKER_GROUP_ID']!]);
        const g = groups[0];
        return g?.state === 'Stable' &&
          g.members.length === 2 &&
          g.members.every((m) => m.memberAssignment.length > 0)
          ? true
          : undefined;
      },
      40000,
      250,
    );
    const before = await createOrders(svc, 30, 20);
    workers[0]!.kill('SIGKILL');
    const afterKill = await createOrders(svc, 30, 20);
    const ids = [...before, ...afterKill];
    await waitAllConfirmed(svc, ids, 60000);
    const effects = await svc.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM processed_events WHERE order_id = ANY($1::uuid[]) AND outcome = 'confirmed'`,
      [ids],
    );
    assert.equal(effects[0]!.n, ids.length);
    const versions = await svc.query<{ version: number }>(
      'SELECT DISTINCT version FROM orders WHERE id = ANY($1::uuid[])',
      [ids],
    );
    assert.deepEqual(
      versions.map((v) => v.version),
      [2],
      'each order changed status exactly once',
    );
  });

  it('keeps accepting orders while the broker is down; afterwards every order is published and confirmed once', async (t) => {
    // This test kills its broker, so it runs one of its own, not the shared test lab's.
    const broker = await startOwnBroker();
    const topic = uniqueTopic('orders');
    const hooks = recordingHooks();
    const svc = await startTestService(pipelineEnv(topic, {}, broker.brokers), {
      pipelineHooks: hooks,
    }).catch(async (err: unknown) => {
      await broker.down();
      throw err;
    });
    // The service leaves its consumer group first, then the broker goes.
    t.after(async () => {
      await svc.close();
      await broker.down();
    });
    await waitForJoinedWorker(svc);
    const warm = await createOrders(svc, 3, 0);
    await waitAllConfirmed(svc, warm, 20000);
    await broker.kill();
    const duringOutage = await createOrders(svc, 30, 100);
    await eventually('relay recorded failed attempts', async () => {
      const [row] = await svc.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND attempts > 0 AND last_error IS NOT NULL`,
      );
      return row!.n > 0 ? true : undefined;
    });
    await broker.start();
    const afterReturn = await createOrders(svc, 5, 50);
    const ids = [...warm, ...duringOutage, ...afterReturn];
    await waitAllConfirmed(svc, ids, 120000);
    const [unpublished] = await svc.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    assert.equal(unpublished!.n, 0);
    const effects = await svc.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM processed_events WHERE order_id = ANY($1::uuid[]) AND outcome = 'confirmed'`,
      [ids],
    );
    assert.equal(effects[0]!.n, ids.length);
    assert.equal(
      hooks.processed.filter((p) => p.outcome === 'confirmed').length,
      ids.length,
      'one effect each',
    );
    const versions = await svc.query<{ version: number }>(
      'SELECT DISTINCT version FROM orders WHERE id = ANY($1::uuid[])',
      [ids],
    );
    assert.deepEqual(
      versions.map((v) => v.version),
      [2],
    );
    // An independent reader from the start of the topic sees every accepted order.
    const messages = await readTopic(
      broker.brokers,
      topic,
      (m) => new Set(m.map((x) => x.key)).size >= ids.length,
      30000,
    );
    const keys = messages.map((m) => m.key!);
    for (const id of ids) assert.ok(keys.includes(id), `order ${id} is on the topic`);
    t.diagnostic(
      `topic copies beyond one per order (at-least-once publishing): ${keys.length - new Set(keys).size}`,
    );
  });
});
