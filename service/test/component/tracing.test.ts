import { allSpans, spansOfTrace } from '../support/inMemoryTracing';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { testLab, uniqueTopic } from '../../../lab/src/testing';
import { MESSAGING_TRACER } from '../../src/pipeline/messagingSpans';
import { HTTP_TRACER } from '../../src/telemetry/httpTelemetry';
import { PG_TRACER } from '../../src/telemetry/pgTracing';
import { postJson, startTestService, validOrder, type TestService } from '../support/serviceHarness';

let svc: TestService;
const logLines: Record<string, unknown>[] = [];

before(async () => {
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
      logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  // A pool of 2: concurrent requests then wait for a connection, which must not mix their traces.
  svc = await startTestService({ LOG_LEVEL: 'info', PG_POOL_MAX: '2', PG_POOL_MIN: '2' }, { logStream });
});
after(async () => {
  await svc?.close();
});

function parentChainReaches(
  span: ReadableSpan,
  ancestor: ReadableSpan,
  byId: Map<string, ReadableSpan>,
): boolean {
  let current: ReadableSpan | undefined = span;
  for (let hops = 0; current && hops < 20; hops++) {
    const parentId: string | undefined = current.parentSpanContext?.spanId;
    if (parentId === ancestor.spanContext().spanId) return true;
    current = parentId ? byId.get(parentId) : undefined;
  }
  return false;
}

async function createOrderTrace(
  customerId: string,
): Promise<{ orderId: string; server: ReadableSpan; trace: ReadableSpan[] }> {
  const created = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId }));
  assert.equal(created.status, 201);
  const orderId = (created.json as { id: string }).id;
  const spans = await allSpans();
  // The newest POST /v1/orders server span is this request's (requests in this file are sequential).
  const server = spans
    .filter(
      (s) =>
        s.kind === SpanKind.SERVER &&
        s.attributes['http.route'] === '/v1/orders' &&
        s.name.startsWith('POST'),
    )
    .at(-1);
  assert.ok(server, `no HTTP server span among ${spans.map((s) => s.name).join(', ')}`);
  return { orderId, server, trace: await spansOfTrace(server.spanContext().traceId) };
}

const kafkaScope = (s: ReadableSpan) => s.instrumentationScope.name === MESSAGING_TRACER;
const isPgSpan = (s: ReadableSpan) => s.instrumentationScope.name === PG_TRACER;

/**
 * One order through a service running api, relay and worker against the test lab's Kafka; resolves
 * to the request's trace and the trace the worker's consumer span belongs to.
 */
let pipelineRun: Promise<{ requestTrace: ReadableSpan[]; trace: ReadableSpan[] }> | undefined;

/**
 * Runs once per file: closing a service shuts the process-wide tracing SDK down (as it must at a
 * real shutdown), so both pipeline tests read the same run.
 */
function pipelineTraceOfOneOrder(): Promise<{ requestTrace: ReadableSpan[]; trace: ReadableSpan[] }> {
  pipelineRun ??= runPipelineOnce();
  return pipelineRun;
}

async function runPipelineOnce(): Promise<{ requestTrace: ReadableSpan[]; trace: ReadableSpan[] }> {
  const topic = uniqueTopic('spans');
  const pipeline = await startTestService({
    ROLES: 'api,relay,worker',
    KAFKA_BROKERS: (await testLab()).kafka.brokers.join(','),
    ORDERS_TOPIC: topic,
    DLQ_TOPIC: `${topic}.dlq`,
    WORKER_GROUP_ID: `${topic}.fulfilment`,
    RELAY_POLL_MS: '100',
    WORKER_FULFIL_LATENCY_MS: '5',
    WORKER_SESSION_TIMEOUT_MS: '6000',
  });
  try {
    const created = await postJson(
      `${pipeline.baseUrl}/v1/orders`,
      validOrder({ customerId: 'trace-pipeline' }),
    );
    assert.equal(created.status, 201);
    const orderId = (created.json as { id: string }).id;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [row] = await pipeline.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [
        orderId,
      ]);
      if (row?.status === 'confirmed' || row?.status === 'rejected') break;
      assert.ok(Date.now() < deadline, `order still ${row?.status} after 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const spans = await allSpans();
    const server = spans
      .filter(
        (s) =>
          s.kind === SpanKind.SERVER &&
          s.attributes['http.route'] === '/v1/orders' &&
          s.name.startsWith('POST'),
      )
      .at(-1)!;
    const consumer = spans
      .filter((s) => s.kind === SpanKind.CONSUMER && kafkaScope(s) && s.name.includes(topic))
      .at(-1);
    assert.ok(
      consumer,
      `no consumer span for ${topic}; scopes: ${[...new Set(spans.map((s) => s.instrumentationScope.name + ':' + SpanKind[s.kind]))].join(', ')}`,
    );
    return {
      requestTrace: await spansOfTrace(server.spanContext().traceId),
      trace: await spansOfTrace(consumer.spanContext().traceId),
    };
  } finally {
    await pipeline.close();
  }
}

describe('one order over HTTP produces one trace', () => {
  it('HTTP server span (route, status) → the pg span writing order, items and outbox in one trace', async () => {
    const { orderId, server, trace } = await createOrderTrace('trace-1');
    const byId = new Map(trace.map((s) => [s.spanContext().spanId, s]));
    assert.equal(server.parentSpanContext, undefined, 'the HTTP server span is the root');
    assert.equal(server.resource.attributes['service.name'], 'orderlab-test-api');
    assert.ok(server.resource.attributes['service.instance.id']);

    const pgSpans = trace.filter(isPgSpan);
    const statements = pgSpans.map((s) => String(s.attributes['db.query.text'] ?? s.name));
    // The order, its lines and its outbox event are one statement (one transaction, one round trip).
    assert.equal(pgSpans.length, 1, `pg spans: ${statements.join(' | ')}`);
    for (const s of pgSpans)
      assert.ok(parentChainReaches(s, server, byId), `${s.name} is not under the HTTP span`);
    for (const table of ['orders', 'order_items', 'outbox'])
      assert.match(statements[0] ?? '', new RegExp(`INSERT INTO ${table}\\b`, 'i'), `writes ${table}`);
    const [pg] = pgSpans;
    assert.equal(pg?.kind, SpanKind.CLIENT);
    assert.equal(
      pg.parentSpanContext?.spanId,
      server.spanContext().spanId,
      "the pg span is the server span's child",
    );
    const database = new URL(svc.database.url).pathname.slice(1);
    assert.equal(pg.name, `pg.query:create_order ${database}`);
    assert.equal(pg.attributes['db.system.name'], 'postgresql');
    assert.equal(pg.attributes['db.namespace'], database);
    assert.equal(pg.attributes['server.port'], Number(new URL(svc.database.url).port));
    assert.equal(pg.status.code, SpanStatusCode.UNSET);
    assert.equal(server.name, 'POST /v1/orders');
    assert.equal(server.instrumentationScope.name, HTTP_TRACER);
    assert.equal(server.attributes['http.request.method'], 'POST');
    assert.equal(server.attributes['url.path'], '/v1/orders');
    assert.equal(server.attributes['http.response.status_code'], 201);
    assert.equal(server.attributes['server.port'], Number(new URL(svc.baseUrl).port));
    assert.equal(server.status.code, SpanStatusCode.UNSET, '2xx is not an error');

    // The outbox row carries this trace's context, which is what the relay continues.
    const [row] = await svc.query<{ headers: Record<string, string> }>(
      'SELECT headers FROM outbox WHERE aggregate_id = $1',
      [orderId],
    );
    assert.match(
      row?.headers['traceparent'] ?? '',
      new RegExp(`^00-${server.spanContext().traceId}-[0-9a-f]{16}-01$`),
    );
  });

  it("continues the caller's traceparent; a 404 names no route and is not an error", async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await fetch(`${svc.baseUrl}/v1/orders/0190a8e0-0000-7000-8000-000000000000`, {
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    assert.equal(res.status, 404);
    const [server] = (await spansOfTrace(callerTrace)).filter((s) => s.kind === SpanKind.SERVER);
    assert.ok(server, 'no server span in the caller trace');
    assert.equal(server.parentSpanContext?.spanId, callerSpan);
    assert.equal(server.name, 'GET /v1/orders/:id');
    assert.equal(server.attributes['http.response.status_code'], 404);
    assert.equal(server.status.code, SpanStatusCode.UNSET);
    const unknown = await fetch(`${svc.baseUrl}/no/such/route`, {
      headers: { traceparent: `00-${callerTrace.replace('4b', '5c')}-${callerSpan}-01` },
    });
    assert.equal(unknown.status, 404);
    const [unmatched] = await spansOfTrace(callerTrace.replace('4b', '5c'));
    assert.equal(unmatched?.name, 'GET', 'no route: the span is named by the method only');
    assert.equal(unmatched?.attributes['http.route'], undefined);
  });

  it('requests that waited for a pool connection each keep their own pg span (pool of 2, 24 waiting)', async () => {
    const created = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'trace-queue' }));
    assert.equal(created.status, 201);
    const orderId = (created.json as { id: string }).id;
    // Both connections taken: every request queues in pg-pool, and is handed its connection later by
    // whichever code releases one — here the test, outside any request's trace.
    const pool = svc.service.pool;
    const held = [await pool.connect(), await pool.connect()];
    const traceIds = Array.from({ length: 24 }, (_, i) => `${'ab'.repeat(12)}${String(i).padStart(8, '0')}`);
    const responses = Promise.all(
      traceIds.map(async (traceId) => {
        const res = await fetch(`${svc.baseUrl}/v1/orders/${orderId}`, {
          headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    const deadline = Date.now() + 10_000;
    while (pool.waitingCount < traceIds.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    const waited = pool.waitingCount;
    for (const client of held) client.release();
    const statuses = await responses;
    assert.equal(waited, traceIds.length, 'every request waited for a connection');
    assert.deepEqual(new Set(statuses), new Set([200]));
    for (const traceId of traceIds) {
      const spans = await spansOfTrace(traceId);
      const server = spans.find((s) => s.kind === SpanKind.SERVER);
      const pg = spans.filter(isPgSpan);
      assert.ok(server, `no server span in trace ${traceId}`);
      assert.equal(pg.length, 1, `trace ${traceId}: ${spans.map((s) => s.name).join(', ')}`);
      assert.equal(pg[0]?.parentSpanContext?.spanId, server.spanContext().spanId);
      assert.match(pg[0]?.name ?? '', /^pg\.query:order_by_id /);
    }
  });

  it('a failing query is an error span with the exception, in both pool.query and a checked-out client', async () => {
    const tracer = trace.getTracer('tracing-test');
    const parent = tracer.startSpan('test parent');
    const inParent = <T>(fn: () => Promise<T>) => context.with(trace.setSpan(context.active(), parent), fn);
    await assert.rejects(
      inParent(() => svc.service.pool.query('SELECT 1 / $1::int AS x', [0])),
      { code: '22012' },
    );
    const client = await svc.service.pool.connect();
    try {
      await assert.rejects(
        inParent(() => client.query('SELECT $1::int AS x', ['not a number'])),
        { code: '22P02' },
      );
      const ok = await inParent(() => client.query<{ x: number }>('SELECT $1::int AS x', [7]));
      assert.equal(ok.rows[0]?.x, 7);
    } finally {
      client.release();
    }
    parent.end();
    const pg = (await spansOfTrace(parent.spanContext().traceId)).filter(isPgSpan);
    assert.deepEqual(
      pg.map((s) => [s.name.split(' ')[0], s.status.code]),
      [
        ['pg.query:SELECT', SpanStatusCode.ERROR],
        ['pg.query:SELECT', SpanStatusCode.ERROR],
        ['pg.query:SELECT', SpanStatusCode.UNSET],
      ],
    );
    assert.match(pg[0]?.status.message ?? '', /division by zero/);
    assert.match(pg[1]?.status.message ?? '', /invalid input syntax for type integer/);
    assert.ok(
      pg[0]?.events.some((e) => e.name === 'exception'),
      'the exception is recorded',
    );
    assert.equal(pg[0]?.attributes['db.query.text'], 'SELECT 1 / $1::int AS x');
    assert.equal(pg[0]?.attributes['db.operation.name'], 'SELECT');
    assert.equal(pg[0]?.attributes['db.response.status_code'], '22012', 'the SQLSTATE');
    assert.equal(pg[2]?.attributes['db.response.status_code'], undefined);
  });

  it('callback-style queries are spans too, ended when the callback runs, which keeps its context', async () => {
    const tracer = trace.getTracer('tracing-test');
    const parent = tracer.startSpan('callback parent');
    const pool = svc.service.pool;
    const seen = await context.with(trace.setSpan(context.active(), parent), () =>
      Promise.all(
        ['SELECT 1 AS x', 'SELECT nope'].map(
          (text) =>
            new Promise<{ failed: boolean; activeSpan: string | undefined }>((resolve) => {
              pool.query(text, (err: Error | undefined) =>
                resolve({ failed: !!err, activeSpan: trace.getActiveSpan()?.spanContext().spanId }),
              );
            }),
        ),
      ),
    );
    parent.end();
    assert.deepEqual(
      seen.map((s) => s.failed),
      [false, true],
    );
    for (const s of seen)
      assert.equal(s.activeSpan, parent.spanContext().spanId, 'callback in the caller context');
    const pg = (await spansOfTrace(parent.spanContext().traceId)).filter(isPgSpan);
    assert.deepEqual(
      pg.map((s) => s.status.code).sort(),
      [SpanStatusCode.UNSET, SpanStatusCode.ERROR].sort(),
    );
    for (const s of pg) assert.equal(s.parentSpanContext?.spanId, parent.spanContext().spanId);
  });

  it('queries outside a trace (polls, probes, metric queries) or in an unsampled one make no pg span', async () => {
    const count = async () => (await allSpans()).filter(isPgSpan).length;
    const before = await count();
    await svc.service.pool.query('SELECT 1');
    const client = await svc.service.pool.connect();
    await client.query('SELECT 2').finally(() => client.release());
    // A caller that did not sample its trace (traceparent flags 00): its request is not recorded,
    // nor are its queries.
    const unsampled = trace.wrapSpanContext({
      traceId: 'cd'.repeat(16),
      spanId: 'ef'.repeat(8),
      traceFlags: 0,
    });
    const rows = await context.with(trace.setSpan(context.active(), unsampled), () =>
      svc.service.pool.query<{ x: number }>('SELECT 3 AS x'),
    );
    assert.equal(rows.rows[0]?.x, 3);
    assert.equal(await count(), before);
  });

  it('admin-port scrapes and probes make no spans', async () => {
    const before = (await allSpans()).length;
    await (await fetch(`${svc.adminUrl}/metrics`)).text();
    await (await fetch(`${svc.adminUrl}/livez`)).text();
    const spans = await allSpans();
    assert.deepEqual(
      spans
        .slice(before)
        .filter((s) => s.kind === SpanKind.SERVER)
        .map((s) => s.name),
      [],
    );
  });

  it('the access log line and error logs carry the request trace and span ids', async () => {
    const { server } = await createOrderTrace('trace-logs');
    const traceId = server.spanContext().traceId;
    const access = logLines.find((l) => l['message'] === 'request' && l['trace_id'] === traceId);
    assert.ok(access, 'no access line with the trace id');
    assert.equal(access['span_id'], server.spanContext().spanId);
    assert.equal(access['route'], '/v1/orders');
    assert.equal(access['method'], 'POST');
    assert.equal(access['status'], 201);
    assert.equal(typeof access['duration_ms'], 'number');
    assert.equal(access['service'], 'orderlab-test');
    assert.equal(access['role'], 'api');
    // Lines logged without a request have no trace id rather than a wrong one.
    const started = logLines.find((l) => l['message'] === 'database migrated');
    assert.ok(started);
    assert.equal(started['trace_id'], undefined);
  });

  it('the request histogram carries the trace id as an OpenMetrics exemplar', async () => {
    const { server } = await createOrderTrace('trace-exemplar');
    const res = await fetch(`${svc.adminUrl}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    const body = await res.text();
    const lines = body
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('http_server_request_duration_seconds_bucket{') && l.includes('route="/v1/orders"'),
      );
    assert.ok(
      lines.some((l) => l.includes(`# {trace_id="${server.spanContext().traceId}"}`)),
      `no exemplar for the last request in:\n${lines.join('\n')}`,
    );
  });

  it(
    'the relay publishes with a Kafka producer span and the worker consumes under it, with its pg spans',
    {
      timeout: 90_000,
    },
    async () => {
      const { trace: pipelineTrace } = await pipelineTraceOfOneOrder();
      const byId = new Map(pipelineTrace.map((s) => [s.spanContext().spanId, s]));
      const names = pipelineTrace.map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', ');
      const producer = pipelineTrace.find((s) => s.kind === SpanKind.PRODUCER && kafkaScope(s));
      const consumer = pipelineTrace.find((s) => s.kind === SpanKind.CONSUMER && kafkaScope(s));
      assert.ok(producer && consumer, `producer and consumer spans: ${names}`);
      assert.ok(
        parentChainReaches(consumer, producer, byId),
        'the consumer span continues the producer span',
      );
      const workerPg = pipelineTrace.filter((s) => isPgSpan(s) && parentChainReaches(s, consumer, byId));
      assert.ok(workerPg.length >= 1, `no pg spans under the consumer span: ${names}`);
    },
  );

  it(
    "relay producer span and worker consumer span join the request's trace",
    {
      timeout: 90_000,
    },
    async () => {
      const { requestTrace } = await pipelineTraceOfOneOrder();
      const names = requestTrace.map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', ');
      assert.ok(
        requestTrace.some((s) => s.kind === SpanKind.PRODUCER && kafkaScope(s)),
        `no Kafka producer span in the request's trace: ${names}`,
      );
      assert.ok(
        requestTrace.some((s) => s.kind === SpanKind.CONSUMER && kafkaScope(s)),
        `no Kafka consumer span in the request's trace: ${names}`,
      );
    },
  );
});
