import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { callUnary, orderServiceClient } from '../support/grpcClient';
import { postJson, startTestService, validOrder, type TestService } from '../support/serviceHarness';

let svc: TestService;
before(async () => {
  // A 50 ms database health probe, so the backlog gauge soon reflects each request (default 500 ms).
  svc = await startTestService({ SHED_PROBE_INTERVAL_MS: '50' });
});
after(async () => {
  await svc?.close();
});

async function scrape(accept?: string): Promise<{ contentType: string; body: string }> {
  const res = await fetch(`${svc.adminUrl}/metrics`, accept ? { headers: { accept } } : {});
  assert.equal(res.status, 200);
  return { contentType: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('/metrics on the admin port', () => {
  it('labels requests by route template (never a raw path) and passes promtool check metrics', async () => {
    const created = await postJson(`${svc.baseUrl}/v1/orders`, validOrder());
    assert.equal(created.status, 201);
    const id = (created.json as { id: string }).id;
    assert.equal((await fetch(`${svc.baseUrl}/v1/orders/${id}`)).status, 200);
    assert.equal((await fetch(`${svc.baseUrl}/v1/orders/0190a8e0-0000-7000-8000-000000000000`)).status, 404);
    assert.equal((await fetch(`${svc.baseUrl}/no/such/${id}`)).status, 404);
    assert.equal((await fetch(`${svc.baseUrl}/v1/orders/${id}`, { method: 'DELETE' })).status, 405);

    const { contentType, body } = await scrape();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.ok(!body.includes(id), 'a raw order id leaked into a label');
    const count = (labels: string) =>
      Number(
        new RegExp(`^http_server_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(body)?.[1],
      );
    assert.equal(count('method="POST",route="/v1/orders",status_code="201"'), 1);
    assert.equal(count('method="GET",route="/v1/orders/:id",status_code="200"'), 1);
    assert.equal(count('method="GET",route="/v1/orders/:id",status_code="404"'), 1);
    assert.equal(count('method="GET",route="unmatched",status_code="404"'), 1);
    assert.equal(count('method="DELETE",route="/v1/orders/:id",status_code="405"'), 1);
    // Present at 0 before any error, so the first 5xx of a fresh replica is an increase Prometheus sees.
    assert.equal(count('method="POST",route="/v1/orders",status_code="500"'), 0);
    assert.equal(count('method="GET",route="/v1/orders/:id",status_code="503"'), 0);
    assert.match(body, /^http_server_request_duration_seconds_bucket\{le="0\.25",method="POST"/m);
    assert.doesNotMatch(body, /route="\/metrics"|route="\/livez"/, 'admin traffic is not RED traffic');

    const lint = spawnSync(process.env['PROMTOOL'] ?? 'promtool', ['check', 'metrics'], {
      input: body,
      encoding: 'utf8',
    });
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  });

  it('labels gRPC calls by full method and status name', async () => {
    const client = orderServiceClient(svc.grpcAddress);
    try {
      const created = await callUnary(client, 'CreateOrder', {
        customer_id: 'grpc-metrics',
        currency: 'EUR',
        items: [{ sku: 'SKU-1', quantity: 1, unit_price_cents: 100 }],
      });
      assert.equal(created.error, undefined);
      const missing = await callUnary(client, 'GetOrder', { id: '0190a8e0-0000-7000-8000-000000000000' });
      assert.equal(missing.error?.code, 5);
    } finally {
      client.close();
    }
    const { body } = await scrape();
    assert.match(
      body,
      /^grpc_server_request_duration_seconds_count\{method="\/order\.v1\.OrderService\/CreateOrder",code="OK"\} 1$/m,
    );
    assert.match(
      body,
      /^grpc_server_request_duration_seconds_count\{method="\/order\.v1\.OrderService\/GetOrder",code="NOT_FOUND"\} 1$/m,
    );
    assert.match(
      body,
      /^grpc_server_request_duration_seconds_bucket\{le="0\.25",method="\/order\.v1\.OrderService\/CreateOrder",code="OK"\} [01]$/m,
    );
  });

  it('reports pool gauges and the outbox backlog from the database', async () => {
    const [row] = await svc.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    assert.ok(row!.n >= 1);
    // The gauge shows the database health's last probe: wait (bounded) for one after the count.
    let body = '';
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1]);
    for (let i = 0; i < 100; i++) {
      body = (await scrape()).body;
      if (value('orderlab_outbox_backlog_events') === row!.n) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(value('orderlab_outbox_backlog_events'), row!.n);
    assert.ok(value('orderlab_outbox_oldest_unpublished_age_seconds') >= 0);
    assert.ok(value('orderlab_db_pool_connections') >= 1);
    assert.equal(value('orderlab_db_pool_max_connections'), svc.config.database.poolMax);
    assert.equal(value('orderlab_db_pool_waiting_clients'), 0);
    assert.ok(value('nodejs_eventloop_lag_p99_seconds') >= 0);
  });

  it('serves OpenMetrics when asked, then the text format again', async () => {
    const om = await scrape('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5');
    assert.match(om.contentType, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.match(om.body, /^# TYPE orderlab_shed_requests counter$/m);
    assert.match(om.body, /# EOF\n$/);
    const text = await scrape('text/plain');
    assert.match(text.body, /^# TYPE orderlab_shed_requests_total counter$/m);
  });
});
