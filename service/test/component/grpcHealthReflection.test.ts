import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, status as Code } from '@grpc/grpc-js';
import descriptor from 'protobufjs/ext/descriptor';
import type { OrderMessage } from '../../src/grpc/orderMessages';
import { callUnary, healthClient, orderServiceClient, reflectionClient } from '../support/grpcClient';
import { lockOrderRow } from '../support/rowLock';
import { startTestService, type TestService } from '../support/serviceHarness';

const newOrder = (customer: string) => ({
  customer_id: customer,
  currency: 'EUR',
  items: [{ sku: 'SKU-1', quantity: 1, unit_price_cents: 100 }],
});

async function healthOf(client: Client, service: string): Promise<string | number> {
  const res = await callUnary<{ status: string }>(client, 'Check', { service });
  return res.error ? res.error.code : res.response!.status;
}

/** Sends reflection requests on one stream and collects one response per request. */
function reflect(client: Client, requests: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const stream = (
      client as unknown as {
        ServerReflectionInfo: () => NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
      }
    ).ServerReflectionInfo();
    const responses: Record<string, unknown>[] = [];
    stream.on('data', (m: Record<string, unknown>) => {
      responses.push(m);
      if (responses.length === requests.length) stream.end();
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(responses));
    for (const r of requests) stream.write(r);
  });
}

describe('gRPC health and reflection', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => {
    await svc?.close();
  });

  it('health answers SERVING for the server and order.v1.OrderService, NOT_FOUND for others', async () => {
    const health = healthClient(svc.grpcAddress);
    try {
      assert.equal(await healthOf(health, ''), 'SERVING');
      assert.equal(await healthOf(health, 'order.v1.OrderService'), 'SERVING');
      assert.equal(await healthOf(health, 'order.v9.Nope'), Code.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  it('reflection lists the services and serves the order proto by symbol', async () => {
    const client = reflectionClient(svc.grpcAddress);
    try {
      const [list, file] = await reflect(client, [
        { list_services: '*' },
        { file_containing_symbol: 'order.v1.OrderService' },
      ]);
      const names = (list!['list_services_response'] as { service: { name: string }[] }).service.map(
        (s) => s.name,
      );
      assert.ok(names.includes('order.v1.OrderService'), names.join(','));
      assert.ok(names.includes('grpc.health.v1.Health'), names.join(','));

      const protos = (file!['file_descriptor_response'] as { file_descriptor_proto: Buffer[] })
        .file_descriptor_proto;
      const decoded = protos.map(
        (bin) =>
          descriptor.FileDescriptorProto.decode(bin) as unknown as {
            name: string;
            package: string;
            service: { name: string; method: { name: string }[] }[];
          },
      );
      const orderFile = decoded.find((f) => f.package === 'order.v1');
      assert.ok(orderFile, decoded.map((f) => f.name).join(','));
      assert.deepEqual(
        orderFile.service.map((s) => [s.name, s.method.map((m) => m.name)]),
        [['OrderService', ['CreateOrder', 'GetOrder', 'ListOrders', 'CancelOrder']]],
      );
    } finally {
      client.close();
    }
  });
});

describe('gRPC shutdown', () => {
  it('health turns NOT_SERVING when stopping begins; in-flight calls finish before the server closes', async () => {
    const svc = await startTestService({
      SHUTDOWN_DRAIN_DELAY_MS: '300',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const orders = orderServiceClient(svc.grpcAddress);
    const health = healthClient(svc.grpcAddress);
    try {
      const created = await callUnary<OrderMessage>(orders, 'CreateOrder', newOrder('g-stop'));
      const id = created.response!.id;
      assert.equal(await healthOf(health, 'order.v1.OrderService'), 'SERVING');

      // Hold the order's row lock so CancelOrder stays in flight through the shutdown.
      const lock = await lockOrderRow(svc, id);
      try {
        const inFlight = callUnary<OrderMessage>(
          orders,
          'CancelOrder',
          { id },
          { deadline: Date.now() + 10_000 },
        );
        await lock.untilSomeoneWaits();

        let stopped: number | undefined;
        const stopping = svc.service.stop('test').then((code) => (stopped = code));
        // During the drain delay the server still answers, and says it is going away.
        assert.equal(await healthOf(health, ''), 'NOT_SERVING');
        assert.equal(await healthOf(health, 'order.v1.OrderService'), 'NOT_SERVING');

        await new Promise((r) => setTimeout(r, 600)); // past the drain delay: tryShutdown is waiting
        assert.equal(stopped, undefined, 'shutdown waits for the in-flight call');
        await lock.release();

        const cancelled = await inFlight;
        assert.equal(cancelled.error, undefined, cancelled.error?.details);
        assert.equal(cancelled.response!.status, 'ORDER_STATUS_CANCELLED');
        assert.equal(await stopping, 0);
      } finally {
        await lock.release();
      }
    } finally {
      orders.close();
      health.close();
      await svc.database.drop();
    }
  });

  it('a health Watch stream sees NOT_SERVING, then ends, and does not hold the shutdown', async () => {
    const svc = await startTestService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    const health = healthClient(svc.grpcAddress);
    try {
      const stream = (health as unknown as { Watch(req: unknown): NodeJS.EventEmitter }).Watch({
        service: 'order.v1.OrderService',
      });
      const seen: string[] = [];
      let firstUpdate!: () => void;
      const gotFirst = new Promise<void>((r) => (firstUpdate = r));
      const ended = new Promise<{ code: number }>((resolve) => {
        stream.on('status', (status: { code: number }) => resolve(status));
        stream.on('error', () => undefined); // the status event carries the outcome
      });
      stream.on('data', (m: { status: string }) => {
        seen.push(m.status);
        firstUpdate();
      });
      await gotFirst;

      const t0 = Date.now();
      assert.equal(await svc.service.stop('test'), 0);
      assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
      assert.equal((await ended).code, Code.OK);
      assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
    } finally {
      health.close();
      await svc.database.drop();
    }
  });

  it('when the shutdown deadline passes, in-flight calls are cancelled (forceShutdown) and stop reports 1', async () => {
    const svc = await startTestService({ SHUTDOWN_TIMEOUT_MS: '500' });
    const orders = orderServiceClient(svc.grpcAddress);
    try {
      const created = await callUnary<OrderMessage>(orders, 'CreateOrder', newOrder('g-force'));
      const id = created.response!.id;
      const lock = await lockOrderRow(svc, id);
      try {
        const inFlight = callUnary<OrderMessage>(
          orders,
          'CancelOrder',
          { id },
          { deadline: Date.now() + 10_000 },
        );
        await lock.untilSomeoneWaits();

        const t0 = Date.now();
        assert.equal(await svc.service.stop('test'), 1);
        const forced = await inFlight;
        assert.ok(Date.now() - t0 < 3000, 'the blocked call ended soon after the deadline');
        assert.ok(
          forced.error?.code === Code.CANCELLED || forced.error?.code === Code.UNAVAILABLE,
          `got ${forced.error?.code}`,
        );
      } finally {
        await lock.release();
      }
    } finally {
      orders.close();
      // The shutdown sequence carries on past its deadline: let it close the pool before dropping.
      for (let i = 0; i < 100 && svc.service.pool.totalCount > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      await svc.database.drop();
    }
  });
});
