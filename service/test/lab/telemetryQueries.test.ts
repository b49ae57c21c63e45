import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import autocannon from 'autocannon';
import { Lab, type LabConnection } from '../../../lab/src/lab';
import { testLabPortOffset } from '../../../lab/src/testing';
import { checkShippedQueries, countSeries, repoRoot } from '../../../scripts/telemetryQueries';
import { callUnary, orderServiceClient } from '../support/grpcClient';

/**
 * The proof that no panel shows "No data": a native lab with every role (api, relay, worker)
 * scraped by the real Prometheus, a short bounded load over HTTP and gRPC, then every dashboard
 * query and every recording rule must return at least one series.
 */
const LOAD_SECONDS = Number(process.env['TELEMETRY_LOAD_SECONDS'] ?? 20);
const RATE_INTERVAL = '20s'; // Grafana's $__rate_interval with the lab's 5 s scrape: 4 × 5 s.
const dir = path.join(repoRoot, '.lab', `telemetry-${process.pid}`);
let lab: Lab;
let connection: LabConnection;

before(async () => {
  lab = new Lab({
    dir,
    portOffset: testLabPortOffset() + 500,
    services: 'api,relay,worker',
    log: () => undefined,
  });
  await lab.up();
  connection = lab.connection();
});
after(async () => {
  // purge, not down + rm: in a clone the postgres user cannot enter, the data lives under /var/tmp.
  await lab?.purge();
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

it(
  'every dashboard query and recording rule returns data from the real Prometheus after a short load',
  { timeout: 300_000 },
  async () => {
    const api = connection.services['api'];
    assert.ok(api, 'the lab runs an api service');
    const prometheus = connection.prometheus.url;
    await waitFor(
      'all three service targets up',
      async () => (await countSeries(prometheus, 'up{job="orderlab"} == 1')).series === 3,
      60_000,
    );

    const grpc = orderServiceClient(api.grpcAddress);
    let grpcCalls = 0;
    const grpcLoad = (async () => {
      const until = Date.now() + LOAD_SECONDS * 1000;
      while (Date.now() < until) {
        await callUnary(grpc, 'CreateOrder', {
          customer_id: 'telemetry-grpc',
          currency: 'EUR',
          items: [{ sku: 'SKU-1', quantity: 1, unit_price_cents: 100 }],
        });
        await callUnary(grpc, 'GetOrder', { id: '00000000-0000-7000-8000-000000000000' });
        grpcCalls += 2;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const http = await autocannon({
      url: `${api.httpUrl}/v1/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: 'telemetry',
        currency: 'EUR',
        items: [{ sku: 'SKU-1', quantity: 1, unitPriceCents: 100 }],
      }),
      connections: 4,
      overallRate: 40,
      duration: LOAD_SECONDS,
    });
    await grpcLoad;
    grpc.close();
    await fetch(`${api.httpUrl}/v1/orders/does-not-exist`);
    assert.ok(http['2xx'] > 0 && grpcCalls > 0);

    // Rate windows need two scrapes after the load, the 1m rule groups one evaluation, and the
    // worker's confirmations must have been scraped. On timeout the check below names what is missing.
    await waitFor(
      'long-window SLIs and confirmations in Prometheus',
      async () =>
        (await countSeries(prometheus, 'slo:error_ratio:rate30d')).series === 3 &&
        (await countSeries(prometheus, 'orderlab_order_confirmation_delay_seconds_count > 0')).series > 0,
      120_000,
    ).catch(() => undefined);
    const results = await checkShippedQueries(prometheus, RATE_INTERVAL);
    const empty = results.filter((r) => r.series === 0);
    assert.deepEqual(
      empty.map((r) => `${r.source}: ${r.error ?? 'no series'} — ${r.expr.replace(/\s+/g, ' ')}`),
      [],
      `${empty.length}/${results.length} queries return no data`,
    );
  },
);
