import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { type Client, status as Code } from '@grpc/grpc-js';
import type { OrderMessage } from '../../src/grpc/orderMessages';
import { callUnary, healthClient, orderServiceClient } from '../support/grpcClient';
import { lockOrderRow } from '../support/rowLock';
import { startTestService, type TestService } from '../support/serviceHarness';

describe('gRPC load shedding (the guard HTTP uses)', () => {
  let svc: TestService;
  let orders: Client;
  let health: Client;
  const logLines: Record<string, unknown>[] = [];
  before(async () => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        logLines.push(JSON.parse(line) as Record<string, unknown>);
    });
    svc = await startTestService(
      { SHED_MAX_IN_FLIGHT: '1', SHED_RETRY_AFTER_SECONDS: '2', LOG_LEVEL: 'info' },
      { logStream },
    );
    orders = orderServiceClient(svc.grpcAddress);
    health = healthClient(svc.grpcAddress);
  });
  after(async () => {
    orders?.close();
    health?.close();
    await svc?.close();
  });

  it('at the in-flight limit, order calls get RESOURCE_EXHAUSTED with retry info; health is never shed', async () => {
    const created = await callUnary<OrderMessage>(orders, 'CreateOrder', {
      customer_id: 'g-shed',
      currency: 'EUR',
      items: [{ sku: 'SKU-1', quantity: 1, unit_price_cents: 100 }],
    });
    const id = created.response!.id;
    const lock = await lockOrderRow(svc, id);
    try {
      // One CancelOrder blocked on the row lock fills the single in-flight slot.
      const blocked = callUnary<OrderMessage>(
        orders,
        'CancelOrder',
        { id },
        { deadline: Date.now() + 10_000 },
      );
      await lock.untilSomeoneWaits();
      const [before] = await svc.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');

      const shed = await callUnary(orders, 'CreateOrder', {
        customer_id: 'g-shed',
        currency: 'EUR',
        items: [{ sku: 'SKU-1', quantity: 1, unit_price_cents: 100 }],
      });
      assert.equal(shed.error?.code, Code.RESOURCE_EXHAUSTED, shed.error?.details);
      assert.match(shed.error.details, /concurrency/);
      assert.deepEqual(shed.details['google.rpc.RetryInfo'], { retry_delay: { seconds: 2, nanos: 0 } });
      assert.deepEqual(shed.error.metadata.get('grpc-retry-pushback-ms'), ['2000']);
      const read = await callUnary(orders, 'GetOrder', { id });
      assert.equal(read.error?.code, Code.RESOURCE_EXHAUSTED);
      const [after] = await svc.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
      assert.deepEqual(after, before, 'a shed create writes nothing');

      // HTTP and gRPC share the one guard.
      const http = await fetch(`${svc.baseUrl}/v1/orders/${id}`);
      assert.equal(http.status, 503);
      assert.equal(http.headers.get('retry-after'), '2');
      // A shed request writes no access line of its own; the once-a-second summary counts it.
      let summary: Record<string, unknown> | undefined;
      for (let waited = 0; !summary && waited < 3000; waited += 50) {
        summary = logLines.find((l) => l['message'] === 'requests shed');
        if (!summary) await sleep(50);
      }
      assert.ok(summary, 'a "requests shed" summary line within 3 s');
      assert.deepEqual(summary['by_reason'], { concurrency: 1 });
      assert.deepEqual(summary['by_route'], { 'GET /v1/orders/:id': 1 });
      assert.equal(
        logLines.filter((l) => l['message'] === 'request' && l['status'] === 503).length,
        0,
        'no per-request access line for a shed request',
      );

      const check = await callUnary<{ status: string }>(health, 'Check', {
        service: 'order.v1.OrderService',
      });
      assert.equal(check.response?.status, 'SERVING');

      await lock.release();
      assert.equal((await blocked).response?.status, 'ORDER_STATUS_CANCELLED');
      // The slot is free again once the blocked call has finished.
      const again = await callUnary<OrderMessage>(orders, 'GetOrder', { id });
      assert.equal(again.error, undefined, again.error?.details);
      const served = await fetch(`${svc.baseUrl}/v1/orders/${id}`);
      assert.equal(served.status, 200);
      for (let waited = 0; waited < 2000; waited += 50) {
        if (logLines.some((l) => l['message'] === 'request' && l['status'] === 200)) break;
        await sleep(50);
      }
      assert.ok(
        logLines.some(
          (l) => l['message'] === 'request' && l['route'] === '/v1/orders/:id' && l['status'] === 200,
        ),
        'an admitted request keeps its access line',
      );
    } finally {
      await lock.release();
    }
  });
});
