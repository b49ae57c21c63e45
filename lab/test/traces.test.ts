import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  collectTraceEvidence,
  type JaegerTrace,
  missingHops,
  traceChecks,
} from '../../chaos/src/audit/traceAudit';
import type { LedgerEntry } from '../../chaos/src/load/ledger';
import { Lab } from '../src/lab';
import { findRepoRoot } from '../src/repo';
import { testLabPortOffset } from '../src/testing';

// The lab's services export traces to the lab's Jaeger: one order, one trace api → relay → worker.
// Own lab (it stops the worker), 100 ports above the shared test lab.
const repoRoot = findRepoRoot();
const TRACED_VERSION = '3.1.4-traces';
const lab = new Lab({
  dir: path.join(repoRoot, '.lab', 'test-traces'),
  portOffset: testLabPortOffset() + 100,
  services: 'api,relay,worker',
  // A release name of its own: the spans must carry it as service.version (issue 23).
  env: { ...process.env, SERVICE_VERSION: TRACED_VERSION },
  repoRoot,
  log: () => undefined,
});

before(async () => {
  await lab.up();
});
after(async () => {
  await lab.down();
});

interface JaegerTag {
  readonly key: string;
  readonly value: unknown;
}

const README_ORDER = {
  customerId: 'c-42',
  currency: 'EUR',
  items: [{ sku: 'BOOK-1', quantity: 2, unitPriceCents: 1250 }],
};

async function createOrder(traceparent?: string): Promise<string> {
  const response = await fetch(`${lab.connection().services.api?.httpUrl}/v1/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': `traces-${randomBytes(6).toString('hex')}`,
      ...(traceparent ? { traceparent } : {}),
    },
    body: JSON.stringify(README_ORDER),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { id: string }).id;
}

/** Jaeger search by the Kafka key the worker's consumer span carries (the order id). */
async function traceOfOrder(orderId: string, timeoutMs = 20_000): Promise<JaegerTrace> {
  const url = new URL('/api/traces', lab.connection().jaeger.queryUrl);
  url.searchParams.set('service', 'orderlab-worker');
  url.searchParams.set('tags', JSON.stringify({ 'messaging.kafka.message.key': orderId }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await fetch(url)).json()) as { data: JaegerTrace[] | null };
    const trace = body.data?.[0];
    if (trace && missingHops(trace).length === 0) return trace;
    if (Date.now() > deadline)
      throw new Error(
        `no complete trace for order ${orderId}: ${JSON.stringify(trace ? missingHops(trace) : 'none')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const ledgerEntry = (orderId: string, traceId: string): LedgerEntry => ({
  requestId: orderId,
  idempotencyKey: orderId,
  target: 'api',
  intendedAt: 0,
  sentAt: 0,
  completedAt: 1,
  status: 201,
  latencyMs: 1,
  orderId,
  traceId,
});

test('an order created as in the README is one trace in Jaeger spanning api → relay → worker', async () => {
  const orderId = await createOrder();
  const trace = await traceOfOrder(orderId);
  const services = new Set(Object.values(trace.processes).map((p) => p.serviceName));
  assert.deepEqual([...services].sort(), ['orderlab-api', 'orderlab-relay', 'orderlab-worker']);
  for (const traced of Object.values(trace.processes as Record<string, { tags?: JaegerTag[] }>))
    assert.equal(traced.tags?.find((t) => t.key === 'service.version')?.value, TRACED_VERSION);
  assert.ok(trace.spans.length >= 5, `${trace.spans.length} spans`);
});

test('the drill trace audit finds a complete trace by the client trace id, and names the hop when the worker never saw it', async () => {
  const traceId = randomBytes(16).toString('hex');
  const orderId = await createOrder(`00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  const complete = await collectTraceEvidence({
    jaegerUrl: lab.connection().jaeger.queryUrl,
    entries: [ledgerEntry(orderId, traceId)],
    sampleSize: 10,
    seed: 1,
    settleS: 20,
    log: () => undefined,
  });
  assert.equal(complete.complete, 1, JSON.stringify(complete.examples));
  assert.equal(traceChecks(complete, { minCompleteShare: 1 })[0]?.status, 'pass');

  // The order's message is published but no worker consumes it: the trace ends at the relay.
  assert.ok(await lab.stop('worker'));
  const brokenId = randomBytes(16).toString('hex');
  const brokenOrder = await createOrder(`00-${brokenId}-${randomBytes(8).toString('hex')}-01`);
  const broken = await collectTraceEvidence({
    jaegerUrl: lab.connection().jaeger.queryUrl,
    entries: [ledgerEntry(brokenOrder, brokenId)],
    sampleSize: 10,
    seed: 1,
    settleS: 4,
    log: () => undefined,
  });
  assert.deepEqual(broken.brokenByHop, { 'worker consumer span': 1 });
  const [verdict] = traceChecks(broken, { minCompleteShare: 1 });
  assert.equal(verdict?.status, 'fail');
  assert.match(verdict?.detail ?? '', /1× missing worker consumer span/);
  assert.ok(await lab.start('worker'));
});
