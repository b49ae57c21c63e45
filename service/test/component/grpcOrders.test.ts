import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, status as Code } from '@grpc/grpc-js';
import type { FinishedCall } from '../../src/grpc/grpcServer';
import type { ListOrdersResponse, OrderMessage } from '../../src/grpc/orderMessages';
import { callUnary, orderServiceClient, violatedFields } from '../support/grpcClient';
import { postJson, startTestService, validOrder, type TestService } from '../support/serviceHarness';

let svc: TestService;
let client: Client;
const finished: FinishedCall[] = [];
const finishWaiters: (() => void)[] = [];

before(async () => {
  svc = await startTestService(
    {},
    {
      onGrpcCallFinished: (call) => {
        finished.push(call);
        for (const wake of finishWaiters.splice(0)) wake();
      },
    },
  );
  client = orderServiceClient(svc.grpcAddress);
});
after(async () => {
  client?.close();
  await svc?.close();
});

/** Resolves once the server has reported `count` finished calls in total. */
async function serverFinished(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (finished.length < count) {
    assert.ok(Date.now() < deadline, `server reported ${finished.length} of ${count} calls`);
    await new Promise<void>((resolve) => {
      finishWaiters.push(resolve);
      setTimeout(resolve, 100).unref();
    });
  }
}

function grpcOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer_id: 'cust-1',
    currency: 'EUR',
    items: [
      { sku: 'SKU-1', quantity: 2, unit_price_cents: 1250 },
      { sku: 'SKU-2', quantity: 1, unit_price_cents: 99 },
    ],
    ...overrides,
  };
}

async function rowCounts(): Promise<{ orders: number; outbox: number; keys: number }> {
  const [row] = await svc.query<{ orders: number; outbox: number; keys: number }>(
    `SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM outbox) AS outbox,
            (SELECT count(*)::int FROM idempotency_keys) AS keys`,
  );
  return row!;
}

describe('orders over gRPC', () => {
  it('creates, reads, lists and cancels an order; the outbox gets one event per change', async () => {
    const created = await callUnary<OrderMessage>(
      client,
      'CreateOrder',
      grpcOrder({ customer_id: 'g-flow' }),
    );
    assert.equal(created.error, undefined, created.error?.message);
    const order = created.response!;
    assert.equal(order.status, 'ORDER_STATUS_PENDING');
    assert.equal(order.total_cents, 2 * 1250 + 99);
    assert.equal(order.version, 1);
    assert.deepEqual(order.items, grpcOrder().items);
    assert.equal(created.headers.get('idempotent-replayed').length, 0);

    // The same order through HTTP: same fields, timestamps to the millisecond.
    const http = (await (await fetch(`${svc.baseUrl}/v1/orders/${order.id}`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(http['totalCents'], order.total_cents);
    const ms = (t: { seconds: number; nanos: number }) => t.seconds * 1000 + t.nanos / 1e6;
    assert.equal(ms(order.create_time), Date.parse(http['createdAt'] as string));
    assert.equal(ms(order.update_time), Date.parse(http['updatedAt'] as string));

    const read = await callUnary<OrderMessage>(client, 'GetOrder', { id: order.id });
    assert.deepEqual(read.response, order);

    const list = await callUnary<ListOrdersResponse>(client, 'ListOrders', { customer_id: 'g-flow' });
    assert.deepEqual(
      list.response!.orders.map((o) => o.id),
      [order.id],
    );
    assert.equal(list.response!.next_page_token, '');

    const cancelled = await callUnary<OrderMessage>(client, 'CancelOrder', { id: order.id });
    assert.equal(cancelled.response!.status, 'ORDER_STATUS_CANCELLED');
    assert.equal(cancelled.response!.version, 2);

    const again = await callUnary<OrderMessage>(client, 'CancelOrder', { id: order.id });
    assert.equal(again.error?.code, Code.FAILED_PRECONDITION);
    assert.deepEqual(
      (again.details['google.rpc.ErrorInfo'] as { reason: string }).reason,
      'INVALID_TRANSITION',
    );

    const events = await svc.query<{ event_type: string }>(
      'SELECT event_type FROM outbox WHERE aggregate_id = $1 ORDER BY id',
      [order.id],
    );
    assert.deepEqual(
      events.map((e) => e.event_type),
      ['order.created.v1', 'order.cancelled.v1'],
    );
  });

  it('pages with page tokens: newest first, no gaps, no repeats; page_size 0 means the default', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await callUnary<OrderMessage>(client, 'CreateOrder', grpcOrder({ customer_id: 'g-pager' }));
      ids.push(res.response!.id);
    }
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const res = await callUnary<ListOrdersResponse>(client, 'ListOrders', {
        customer_id: 'g-pager',
        page_size: 10,
        page_token: token,
      });
      assert.equal(res.error, undefined, res.error?.message);
      seen.push(...res.response!.orders.map((o) => o.id));
      token = res.response!.next_page_token;
      pages++;
    } while (token !== '' && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse());

    const byDefault = await callUnary<ListOrdersResponse>(client, 'ListOrders', { customer_id: 'g-pager' });
    assert.equal(byDefault.response!.orders.length, 20);
  });

  it('refuses bad list requests with INVALID_ARGUMENT naming the field', async () => {
    await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'g-cur-a' }));
    await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'g-cur-a' }));
    const first = await callUnary<ListOrdersResponse>(client, 'ListOrders', {
      customer_id: 'g-cur-a',
      page_size: 1,
    });
    const token = first.response!.next_page_token;
    assert.notEqual(token, '');
    const [body, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ s: 1 })).toString('base64url');
    const cases: [Record<string, unknown>, string][] = [
      [{ customer_id: 'g-cur-a', page_token: `${forged}.${sig}` }, 'page_token'],
      [
        { customer_id: 'g-cur-a', page_token: `${body}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}` },
        'page_token',
      ],
      [{ customer_id: 'g-cur-a', page_token: 'garbage' }, 'page_token'],
      [{ customer_id: 'g-cur-b', page_token: token }, 'page_token'],
      [{ customer_id: 'g-cur-a', page_size: -1 }, 'page_size'],
      [{ customer_id: 'g-cur-a', page_size: 101 }, 'page_size'],
      [{ page_size: 5 }, 'customer_id'],
    ];
    for (const [request, field] of cases) {
      const res = await callUnary(client, 'ListOrders', request);
      assert.equal(res.error?.code, Code.INVALID_ARGUMENT, JSON.stringify(request));
      assert.ok(
        violatedFields(res.details).includes(field),
        `${JSON.stringify(request)}: ${res.error?.details}`,
      );
      assert.match(res.error.details, new RegExp(field));
    }
  });

  describe('bad create requests get INVALID_ARGUMENT naming the field and write nothing', () => {
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ sku: `S${i}`, quantity: 1, unit_price_cents: 1 }));
    const item = (fields: Record<string, unknown>) => [
      { sku: 'a', quantity: 1, unit_price_cents: 1, ...fields },
    ];
    // The cases of ordersHttp.test.ts that proto can express (wrong types, fractions and unknown
    // fields cannot be sent; unset fields arrive as '' / 0 / []).
    const cases: { name: string; request: Record<string, unknown>; field: string }[] = [
      { name: 'empty request', request: {}, field: 'customer_id' },
      { name: 'missing customer_id', request: { currency: 'EUR', items: items(1) }, field: 'customer_id' },
      {
        name: 'customer_id over 64 characters',
        request: grpcOrder({ customer_id: 'c'.repeat(65) }),
        field: 'customer_id',
      },
      { name: 'missing items', request: { customer_id: 'c', currency: 'EUR' }, field: 'items' },
      { name: '101 items', request: grpcOrder({ items: items(101) }), field: 'items' },
      {
        name: 'negative quantity',
        request: grpcOrder({ items: item({ quantity: -1 }) }),
        field: 'items[0].quantity',
      },
      {
        name: 'unset quantity (0)',
        request: grpcOrder({ items: item({ quantity: 0 }) }),
        field: 'items[0].quantity',
      },
      {
        name: 'quantity above 10,000',
        request: grpcOrder({ items: item({ quantity: 10001 }) }),
        field: 'items[0].quantity',
      },
      {
        name: 'negative price',
        request: grpcOrder({ items: item({ unit_price_cents: -5 }) }),
        field: 'items[0].unit_price_cents',
      },
      {
        name: 'price above 2^53-1 (int64 sent as a string)',
        request: grpcOrder({ items: item({ unit_price_cents: '9007199254740993' }) }),
        field: 'items[0].unit_price_cents',
      },
      {
        name: 'total overflow',
        request: grpcOrder({ items: item({ quantity: 10000, unit_price_cents: 9007199254740991 }) }),
        field: 'items',
      },
      { name: 'empty sku', request: grpcOrder({ items: item({ sku: '' }) }), field: 'items[0].sku' },
      {
        name: 'sku with a space',
        request: grpcOrder({ items: item({ sku: 'a b' }) }),
        field: 'items[0].sku',
      },
      { name: 'missing currency', request: grpcOrder({ currency: '' }), field: 'currency' },
      { name: 'unknown currency', request: grpcOrder({ currency: 'XYZ' }), field: 'currency' },
      { name: 'lower-case currency', request: grpcOrder({ currency: 'eur' }), field: 'currency' },
      {
        name: 'idempotency_key over 255 characters',
        request: grpcOrder({ idempotency_key: 'k'.repeat(256) }),
        field: 'idempotency_key',
      },
      {
        name: 'idempotency_key with a control character',
        request: grpcOrder({ idempotency_key: 'a\u0001b' }),
        field: 'idempotency_key',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = await rowCounts();
        const res = await callUnary(client, 'CreateOrder', c.request);
        assert.equal(res.error?.code, Code.INVALID_ARGUMENT, res.error?.details ?? 'no error');
        assert.ok(
          violatedFields(res.details).includes(c.field),
          `expected a violation of ${c.field}, got ${JSON.stringify(res.details)}`,
        );
        assert.deepEqual(await rowCounts(), before);
      });
    }

    it('a request over GRPC_MAX_RECEIVE_BYTES is RESOURCE_EXHAUSTED', async () => {
      const before = await rowCounts();
      const res = await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'x'.repeat(70_000) }));
      assert.equal(res.error?.code, Code.RESOURCE_EXHAUSTED, res.error?.details);
      assert.deepEqual(await rowCounts(), before);
    });

    it('ids: not a UUID → INVALID_ARGUMENT (id); unknown → NOT_FOUND', async () => {
      const missing = '00000000-0000-7000-8000-000000000000';
      for (const method of ['GetOrder', 'CancelOrder']) {
        const bad = await callUnary(client, method, { id: "123' OR 1=1" });
        assert.equal(bad.error?.code, Code.INVALID_ARGUMENT, method);
        assert.deepEqual(violatedFields(bad.details), ['id']);
        const empty = await callUnary(client, method, {});
        assert.equal(empty.error?.code, Code.INVALID_ARGUMENT, method);
        const unknown = await callUnary(client, method, { id: missing });
        assert.equal(unknown.error?.code, Code.NOT_FOUND, method);
        assert.match(unknown.error.details, new RegExp(missing));
      }
    });
  });

  describe('idempotency keys are shared with HTTP', () => {
    it('same key and request over HTTP then gRPC (and back) → one order', async () => {
      const key = `shared-${Date.now()}`;
      const http = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'g-idem' }), {
        'Idempotency-Key': key,
      });
      assert.equal(http.status, 201);
      const before = await rowCounts();
      const grpc = await callUnary<OrderMessage>(
        client,
        'CreateOrder',
        grpcOrder({ customer_id: 'g-idem', idempotency_key: key }),
      );
      assert.equal(grpc.error, undefined, grpc.error?.details);
      assert.equal(grpc.response!.id, (http.json as { id: string }).id);
      assert.deepEqual(grpc.headers.get('idempotent-replayed'), ['true']);

      const key2 = `shared2-${Date.now()}`;
      const first = await callUnary<OrderMessage>(
        client,
        'CreateOrder',
        grpcOrder({ customer_id: 'g-idem', idempotency_key: key2 }),
      );
      const back = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'g-idem' }), {
        'Idempotency-Key': key2,
      });
      assert.equal(back.status, 201);
      assert.equal((back.json as { id: string }).id, first.response!.id);
      assert.equal(back.headers.get('idempotent-replayed'), 'true');
      const after = await rowCounts();
      assert.equal(after.orders, before.orders + 1, 'only the gRPC-first order is new');
    });

    it('same key with another request is refused both ways and writes nothing', async () => {
      const key = `shared-mismatch-${Date.now()}`;
      const http = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'g-idem-m' }), {
        'Idempotency-Key': key,
      });
      assert.equal(http.status, 201);
      const before = await rowCounts();
      const grpc = await callUnary(
        client,
        'CreateOrder',
        grpcOrder({ customer_id: 'g-idem-m', currency: 'USD', idempotency_key: key }),
      );
      assert.equal(grpc.error?.code, Code.ALREADY_EXISTS);
      assert.equal(
        (grpc.details['google.rpc.ErrorInfo'] as { reason: string }).reason,
        'IDEMPOTENCY_KEY_REUSED',
      );

      const key2 = `shared-mismatch2-${Date.now()}`;
      await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'g-idem-m', idempotency_key: key2 }));
      const afterGrpc = await rowCounts();
      const refused = await postJson(
        `${svc.baseUrl}/v1/orders`,
        validOrder({ customerId: 'g-idem-m', currency: 'USD' }),
        {
          'Idempotency-Key': key2,
        },
      );
      assert.equal(refused.status, 422);
      assert.deepEqual(await rowCounts(), afterGrpc);
      assert.equal(afterGrpc.orders, before.orders + 1);
    });
  });

  describe('deadlines', () => {
    it('a deadline already in the past → DEADLINE_EXCEEDED and no row', async () => {
      const before = await rowCounts();
      const res = await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'g-late' }), {
        deadline: Date.now() - 1000,
      });
      assert.equal(res.error?.code, Code.DEADLINE_EXCEEDED);
      assert.deepEqual(await rowCounts(), before);
    });

    it('a 1 ms deadline → DEADLINE_EXCEEDED; the server stops before writing', async () => {
      const before = await rowCounts();
      const seen = finished.length;
      const res = await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'g-1ms' }), {
        deadline: Date.now() + 1,
      });
      assert.equal(res.error?.code, Code.DEADLINE_EXCEEDED);
      // Wait for the server to finish the call before looking for rows.
      await serverFinished(seen + 1);
      const call = finished.at(-1)!;
      assert.equal(call.method, 'CreateOrder');
      assert.equal(call.code, Code.DEADLINE_EXCEEDED);
      assert.deepEqual(await rowCounts(), before);
      const [row] = await svc.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM orders WHERE customer_id = 'g-1ms'",
      );
      assert.equal(row!.n, 0);
    });

    it('a deadline shorter than GRPC_MIN_DEADLINE_MS is refused by the server at once', async () => {
      const strict = await startTestService({ GRPC_MIN_DEADLINE_MS: '2000' });
      const strictClient = orderServiceClient(strict.grpcAddress);
      try {
        const t0 = Date.now();
        const res = await callUnary(strictClient, 'CreateOrder', grpcOrder({ customer_id: 'g-short' }), {
          deadline: Date.now() + 1500,
        });
        assert.equal(res.error?.code, Code.DEADLINE_EXCEEDED);
        assert.match(res.error.details, /deadline too short/);
        assert.ok(Date.now() - t0 < 1000, 'answered before the client deadline');
        const [row] = await strict.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
        assert.equal(row!.n, 0);
        const ok = await callUnary(strictClient, 'CreateOrder', grpcOrder({ customer_id: 'g-short' }), {
          deadline: Date.now() + 5000,
        });
        assert.equal(ok.error, undefined, ok.error?.details);
      } finally {
        strictClient.close();
        await strict.close();
      }
    });
  });

  it('reports every call to the onCallFinished hook with method, code and duration', async () => {
    const seen = finished.length;
    await callUnary(client, 'GetOrder', { id: '00000000-0000-7000-8000-000000000000' });
    await callUnary(client, 'GetOrder', { id: 'nope' });
    await callUnary(client, 'CreateOrder', grpcOrder({ customer_id: 'x'.repeat(70_000) }));
    await serverFinished(seen + 3);
    const calls = finished.slice(seen);
    assert.deepEqual(
      calls.map((c) => [c.service, c.method, Code[c.code]]),
      [
        ['order.v1.OrderService', 'GetOrder', 'NOT_FOUND'],
        ['order.v1.OrderService', 'GetOrder', 'INVALID_ARGUMENT'],
        // grpc-js refuses an oversized request below the interceptors: seen only as a cancel.
        ['order.v1.OrderService', 'CreateOrder', 'CANCELLED'],
      ],
    );
    for (const c of calls)
      assert.ok(c.durationSeconds > 0 && c.durationSeconds < 5, String(c.durationSeconds));
  });
});
