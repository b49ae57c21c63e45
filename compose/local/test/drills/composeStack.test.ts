import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { missingHops, type JaegerTrace } from '../../../../chaos/src/audit/traceAudit';
import { parseCliArgs } from '../../../../chaos/src/cliArgs';
import { executeDrill, summaryLine } from '../../../../chaos/src/cli';
import { runQuick } from '../../../../lab/src/processes';
import { findRepoRoot } from '../../../../lab/src/repo';
import { callUnary, orderServiceClient } from '../../../../service/test/support/grpcClient';
import { engineUnavailableReason, stopEngineIfOurs } from '../../src/engine';
import { NOT_RUN_HERE } from '../../src/localImages';
import { memoryByService, stackServices } from '../../src/stack';

/**
 * The compose stack for real (issue 21): `npm run compose:local -- up` builds the stand-ins and runs
 * the repo's unchanged compose files; then the API over HTTP and gRPC through the LB on 127.0.0.1,
 * the worker's confirmation, every Prometheus target and rule, the order's trace in Jaeger, drills
 * (sigterm and blue-green, short, unless ORDERLAB_COMPOSE_DRILL names others) with memory sampled
 * per service, and `down -v` leaving nothing behind.
 * Runs with the drills (one at a time, after the other tests). ORDERLAB_COMPOSE_TEST=0 skips it.
 */
const repoRoot = findRepoRoot();
const cli = path.join(repoRoot, 'dist', 'compose', 'local', 'src', 'cli.js');
const skipReason =
  process.env['ORDERLAB_COMPOSE_TEST'] === '0' ? 'ORDERLAB_COMPOSE_TEST=0' : engineUnavailableReason();
const HTTP = 'http://127.0.0.1:8080';
const GRPC = '127.0.0.1:50051';
const PROMETHEUS = 'http://127.0.0.1:9090';
const JAEGER = 'http://127.0.0.1:16686';
// Compose drills, short: sigterm (rolling restart behind the compose LB) and blue-green (the LB's
// weights rewritten and reloaded) by default. ORDERLAB_COMPOSE_DRILL=<name>[,<name>…] runs others
// (broker-loss, db-loss, worker-crash, canary), =0 none.
const drillList = process.env['ORDERLAB_COMPOSE_DRILL'] ?? 'sigterm,blue-green';
const composeDrills =
  drillList === '0'
    ? []
    : drillList
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean);
const PROJECT_LABEL = 'label=com.docker.compose.project=orderlab';

let grpc: Client | undefined;
let up = false;

function runCli(...args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => process.stdout.write(`  ${d.toString()}`));
    child.stderr.on('data', (d: Buffer) => process.stdout.write(`  ${d.toString()}`));
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}

async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

before(async () => {
  if (skipReason) return;
  assert.equal(await runCli('up'), 0, 'npm run compose:local -- up');
  up = true;
  grpc = orderServiceClient(GRPC);
});

after(async () => {
  grpc?.close();
  if (up) await runCli('down', '--keep-engine');
  if (!skipReason) await stopEngineIfOurs((line) => console.log(line));
});

const order = (customerId: string) => ({
  customerId,
  currency: 'EUR',
  items: [{ sku: 'BOOK-1', quantity: 2, unitPriceCents: 1250 }],
});

interface OrderBody {
  id: string;
  status: string;
}

let httpOrderId = '';

test(
  'HTTP through the LB: create, replay, get, list, cancel; the worker confirms the order',
  { skip: skipReason },
  async () => {
    const key = `compose-${randomBytes(6).toString('hex')}`;
    const request = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(order('c-compose')),
    };
    const created = await json<OrderBody>(`${HTTP}/v1/orders`, request);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const replay = await fetch(`${HTTP}/v1/orders`, request);
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(((await replay.json()) as OrderBody).id, created.body.id);
    httpOrderId = created.body.id;

    const confirmed = await eventually('worker confirms the order', 30_000, async () => {
      const got = await json<OrderBody>(`${HTTP}/v1/orders/${httpOrderId}`);
      return got.status === 200 && got.body.status === 'confirmed' ? got.body : undefined;
    });
    assert.equal(confirmed.id, httpOrderId);

    const list = await json<{ orders: OrderBody[] }>(`${HTTP}/v1/orders?customerId=c-compose`);
    assert.equal(list.status, 200);
    assert.ok(list.body.orders.some((o) => o.id === httpOrderId));

    const cancel = await json<{ type?: string }>(`${HTTP}/v1/orders/${httpOrderId}/cancel`, {
      method: 'POST',
    });
    assert.equal(cancel.status, 409, 'a confirmed order cannot be cancelled');

    const malformed = await fetch(`${HTTP}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"customerId":',
    });
    assert.equal(malformed.status, 400);
  },
);

test('gRPC through the LB: create, get, list, cancel', { skip: skipReason }, async () => {
  const client = grpc as Client;
  const created = await callUnary<{ id: string; status: string }>(client, 'CreateOrder', {
    customer_id: 'g-compose',
    currency: 'EUR',
    items: [{ sku: 'SKU-1', quantity: 1, unit_price_cents: 500 }],
  });
  assert.equal(created.error, undefined, created.error?.message);
  const id = created.response!.id;
  const got = await callUnary<{ id: string }>(client, 'GetOrder', { id });
  assert.equal(got.response?.id, id);
  const list = await callUnary<{ orders: { id: string }[] }>(client, 'ListOrders', {
    customer_id: 'g-compose',
  });
  assert.ok(list.response?.orders.some((o) => o.id === id));
  const cancelled = await callUnary<{ status: string }>(client, 'CancelOrder', { id });
  // Cancelled while pending, or refused once the worker has confirmed it: both are the contract.
  if (cancelled.error)
    assert.equal(cancelled.error.code, 9, cancelled.error.message); // FAILED_PRECONDITION
  else assert.equal(cancelled.response?.status, 'ORDER_STATUS_CANCELLED');
  const missing = await callUnary(client, 'GetOrder', { id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(missing.error?.code, 5); // NOT_FOUND
});

test(
  'Prometheus: every target of a service run here is up, the others are the ones not run here; all rules loaded',
  { skip: skipReason },
  async () => {
    interface Target {
      labels: { job: string; instance: string };
      health: string;
      lastError: string;
    }
    const { runHere } = await stackServices(repoRoot);
    const targets = await eventually('every target scraped once', 60_000, async () => {
      const body = (await json<{ data: { activeTargets: Target[] } }>(`${PROMETHEUS}/api/v1/targets`)).body;
      const t = body.data.activeTargets;
      return t.every((x) => x.health !== 'unknown') && t.filter((x) => x.health === 'up').length >= 6
        ? t
        : undefined;
    });
    const host = (t: Target) => t.labels.instance.split(':')[0] as string;
    for (const t of targets) {
      const service = host(t) === 'localhost' ? 'prometheus' : host(t);
      if (service in NOT_RUN_HERE)
        assert.notEqual(t.health, 'up', `${t.labels.instance} should not run here`);
      else {
        assert.ok(runHere.includes(service), `target ${t.labels.instance} is a service of the stack`);
        assert.equal(t.health, 'up', `${t.labels.job} ${t.labels.instance}: ${t.lastError}`);
      }
    }
    const jobs = new Set(targets.filter((t) => t.health === 'up').map((t) => t.labels.job));
    assert.deepEqual([...jobs].sort(), ['jaeger', 'orderlab', 'prometheus']);

    const ruleDir = path.join(repoRoot, 'prometheus', 'rules');
    const expected = readdirSync(ruleDir)
      .filter((f) => f.endsWith('.yml'))
      .flatMap(
        (f) =>
          (
            parse(readFileSync(path.join(ruleDir, f), 'utf8')) as {
              groups: { name: string; rules: unknown[] }[];
            }
          ).groups,
      );
    const rules = (
      await json<{ data: { groups: { name: string; rules: { health: string }[] }[] } }>(
        `${PROMETHEUS}/api/v1/rules`,
      )
    ).body.data.groups;
    assert.deepEqual(rules.map((g) => g.name).sort(), expected.map((g) => g.name).sort());
    assert.equal(rules.flatMap((g) => g.rules).length, expected.flatMap((g) => g.rules).length);
  },
);

test(
  "Jaeger's query API holds the order's trace spanning api → relay → worker",
  { skip: skipReason },
  async () => {
    const url = new URL('/api/traces', JAEGER);
    url.searchParams.set('service', 'orderlab-worker');
    url.searchParams.set('tags', JSON.stringify({ 'messaging.kafka.message.key': httpOrderId }));
    const trace = await eventually('a complete trace of the HTTP order', 30_000, async () => {
      const body = (await json<{ data: JaegerTrace[] | null }>(url.toString())).body;
      const found = body.data?.[0];
      return found && missingHops(found).length === 0 ? found : undefined;
    });
    const services = new Set(Object.values(trace.processes).map((p) => p.serviceName));
    assert.deepEqual([...services].sort(), ['orderlab-api', 'orderlab-relay', 'orderlab-worker']);
  },
);

for (const composeDrill of composeDrills)
  test(
    `drill ${composeDrill} (short) passes against the compose stack; memory per service stays under its limit`,
    { skip: skipReason, timeout: 600_000 },
    async () => {
      const peaks: Record<string, { usedBytes: number; limitBytes: number }> = {};
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          for (const [service, m] of Object.entries(await memoryByService())) {
            const peak = peaks[service];
            if (!peak || m.usedBytes > peak.usedBytes) peaks[service] = m;
          }
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      })();
      const args = parseCliArgs([
        composeDrill,
        '--short',
        '--target',
        'compose',
        '--report-dir',
        'reports/drills',
      ]);
      const result = await executeDrill(args, (line) => console.log(`  ${line}`)).finally(() => {
        sampling = false;
      });
      await sampler;
      console.log(summaryLine(result));
      const file = path.join(repoRoot, 'reports', 'compose-local', `memory-${composeDrill}.json`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(peaks, null, 2)}\n`);
      for (const [service, m] of Object.entries(peaks))
        console.log(
          `  memory ${service}: peak ${(m.usedBytes / 2 ** 20).toFixed(0)} MiB of ${(m.limitBytes / 2 ** 20).toFixed(0)} MiB`,
        );
      assert.equal(
        result.report.verdict.label,
        'PASS',
        `${result.report.verdict.reasons.join(' | ')} (report ${result.report.files.html})`,
      );
      for (const [service, m] of Object.entries(peaks))
        assert.ok(
          m.usedBytes < m.limitBytes * 0.9,
          `${service}: peak ${m.usedBytes} B is within 10 % of its limit ${m.limitBytes} B`,
        );
    },
  );

test('`down -v` leaves no container, network or volume of the project', { skip: skipReason }, async () => {
  assert.equal(await runCli('down', '--keep-engine'), 0);
  up = false;
  for (const kind of ['ps -a', 'network ls', 'volume ls']) {
    const result = runQuick('docker', [...kind.split(' '), '-q', '--filter', PROJECT_LABEL]);
    assert.equal(result.status, 0, result.output);
    assert.equal(result.output.trim(), '', `docker ${kind} still lists: ${result.output.trim()}`);
  }
});
