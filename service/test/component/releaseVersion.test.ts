import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { freshDatabase } from '../../../lab/src/testing';
import { startServiceProcess } from '../support/serviceProcess';
import { postJson, startTestService, validOrder, type TestService } from '../support/serviceHarness';

// The release a process runs is visible on its metrics and logs, and the drills-only regression
// switch makes the real binary a bad release on the chosen routes only (issue 23).

const ADDED_LATENCY_MS = 400;

async function scrape(svc: TestService): Promise<string> {
  return (await fetch(`${svc.adminUrl}/metrics`)).text();
}

function requestCount(body: string, labels: string): number {
  const match = new RegExp(`^http_server_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(
    body,
  );
  return match ? Number(match[1]) : 0;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

describe('a bad release (REGRESSION_* set on POST /v1/orders)', () => {
  let svc: TestService;
  const logLines: Record<string, unknown>[] = [];
  before(async () => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        logLines.push(JSON.parse(line) as Record<string, unknown>);
    });
    svc = await startTestService(
      {
        LOG_LEVEL: 'warn',
        SERVICE_VERSION: '2.0.0-bad',
        REGRESSION_ERROR_RATE: '0.5',
        REGRESSION_LATENCY_MS: String(ADDED_LATENCY_MS),
        REGRESSION_ROUTES: 'POST /v1/orders',
      },
      { logStream },
    );
  });
  after(async () => {
    await svc?.close();
  });

  it('fails exactly that share of creations with 500 after the added latency, before any order is stored', async () => {
    const results = [];
    for (let i = 0; i < 10; i++)
      results.push(
        await timed(() => postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'bad' }))),
      );
    const statuses = results.map((r) => r.value.status);
    assert.equal(statuses.filter((s) => s === 500).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 201).length, 5, statuses.join(','));
    for (const r of results) assert.ok(r.ms >= ADDED_LATENCY_MS, `a creation took ${r.ms.toFixed(0)} ms`);
    const failed = results.find((r) => r.value.status === 500)!.value;
    assert.deepEqual(failed.json, {
      type: '/problems/internal',
      title: 'Internal server error',
      status: 500,
    });
    const [row] = await svc.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders WHERE customer_id = 'bad'`,
    );
    assert.equal(row?.n, 5, 'only the answered-201 creations are stored');

    const body = await scrape(svc);
    assert.equal(requestCount(body, 'method="POST",route="/v1/orders",status_code="500"'), 5);
    assert.equal(requestCount(body, 'method="POST",route="/v1/orders",status_code="201"'), 5);
    const failures = logLines.filter((l) => l['message'] === 'request failed');
    assert.equal(failures.length, 5, 'each failure is logged once, at the edge');
    for (const line of failures) assert.equal(line['version'], '2.0.0-bad');
  });

  it('leaves the other routes alone: no errors, no added latency', async () => {
    // With a share of 0.5 no two creations in a row fail: one of the next two is accepted.
    let id: string | undefined;
    for (let i = 0; i < 2 && !id; i++) {
      const r = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'other-routes' }));
      if (r.status === 201) id = (r.json as { id: string }).id;
    }
    assert.ok(id, 'one of two creations is accepted');
    const orderUrl = `${svc.baseUrl}/v1/orders/${id}`;
    for (let i = 0; i < 5; i++) {
      const read = await timed(() => fetch(orderUrl));
      assert.equal(read.value.status, 200);
      await read.value.arrayBuffer();
      assert.ok(read.ms < ADDED_LATENCY_MS, `a read took ${read.ms.toFixed(0)} ms`);
    }
    assert.equal((await fetch(`${svc.baseUrl}/v1/orders?customerId=bad`)).status, 200);
    const body = await scrape(svc);
    assert.equal(requestCount(body, 'method="GET",route="/v1/orders/:id",status_code="200"'), 5);
    assert.equal(requestCount(body, 'method="GET",route="/v1/orders",status_code="200"'), 1);
    // The 5xx series exist from the start at 0 (ServiceMetrics.zeroHttpServerErrors): none counted one.
    const readErrors = [
      ...body.matchAll(
        /^http_server_request_duration_seconds_count\{method="GET",[^}]*status_code="5\d\d"\} (\d+)$/gm,
      ),
    ];
    assert.ok(readErrors.length > 0, 'the GET routes export their 5xx series');
    assert.deepEqual(
      readErrors.map((m) => Number(m[1])),
      readErrors.map(() => 0),
      'no read failed',
    );
  });

  it('labels the process with its release: orderlab_build_info and the warning at start', async () => {
    assert.match(await scrape(svc), /^orderlab_build_info\{version="2\.0\.0-bad"\} 1$/m);
    const warning = logLines.find((l) => l['message'] === 'release regression switch is on (drills only)');
    assert.ok(warning, 'the switch announces itself');
    assert.equal(warning['version'], '2.0.0-bad');
    assert.equal(warning['errorRate'], 0.5);
  });
});

describe('a good release (the switch off, the default)', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ SERVICE_VERSION: '2.0.0' });
  });
  after(async () => {
    await svc?.close();
  });

  it('answers every creation 201 with no added latency and reports its version', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await timed(() => postJson(`${svc.baseUrl}/v1/orders`, validOrder()));
      assert.equal(r.value.status, 201);
      assert.ok(r.ms < ADDED_LATENCY_MS, `a creation took ${r.ms.toFixed(0)} ms`);
    }
    const body = await scrape(svc);
    assert.equal(requestCount(body, 'method="POST",route="/v1/orders",status_code="500"'), 0);
    assert.match(body, /^orderlab_build_info\{version="2\.0\.0"\} 1$/m);
  });
});

describe('the regression switch refuses', () => {
  it('a route the API does not serve: the process exits 1 naming the routes it does', async () => {
    const database = await freshDatabase('regression_route');
    try {
      await assert.rejects(
        startServiceProcess({
          DATABASE_URL: database.url,
          REGRESSION_ERROR_RATE: '0.1',
          REGRESSION_ROUTES: 'POST /v1/order',
        }),
        /service exited early \(1\)[\s\S]*REGRESSION_ROUTES names POST \/v1\/order, which the API does not serve; choose from POST \/v1\/orders, GET \/v1\/orders/,
      );
    } finally {
      await database.drop();
    }
  });
});
