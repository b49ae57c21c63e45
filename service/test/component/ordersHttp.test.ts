import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postJson, startTestService, validOrder, type TestService } from '../support/serviceHarness';

interface OrderJson {
  id: string;
  customerId: string;
  status: string;
  totalCents: number;
  version: number;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
}
interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { pointer: string; detail: string }[];
}

let svc: TestService;

before(async () => {
  svc = await startTestService();
});
after(async () => {
  await svc?.close();
});

async function rowCounts(): Promise<{ orders: number; items: number; outbox: number; keys: number }> {
  const [row] = await svc.query<{ orders: number; items: number; outbox: number; keys: number }>(
    `SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_items) AS items,
            (SELECT count(*)::int FROM outbox) AS outbox, (SELECT count(*)::int FROM idempotency_keys) AS keys`,
  );
  return row!;
}

function assertProblem(
  res: { status: number; headers: Headers; json: unknown },
  status: number,
): ProblemJson {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = res.json as ProblemJson;
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.type, 'string');
  return body;
}

describe('orders over HTTP', () => {
  it('creates, reads, lists and cancels an order; the outbox gets one event per change', async () => {
    const created = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'flow-1' }));
    assert.equal(created.status, 201);
    const order = created.json as OrderJson;
    assert.equal(order.status, 'pending');
    assert.equal(order.totalCents, 2 * 1250 + 99);
    assert.equal(created.headers.get('location'), `/v1/orders/${order.id}`);

    const read = await fetch(`${svc.baseUrl}/v1/orders/${order.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(await read.json(), order);

    const list = await fetch(`${svc.baseUrl}/v1/orders?customerId=flow-1`);
    const page = (await list.json()) as { orders: OrderJson[]; nextCursor: string | null };
    assert.deepEqual(
      page.orders.map((o) => o.id),
      [order.id],
    );
    assert.equal(page.nextCursor, null);

    const cancelled = await postJson(`${svc.baseUrl}/v1/orders/${order.id}/cancel`, '');
    assert.equal(cancelled.status, 200);
    assert.equal((cancelled.json as OrderJson).status, 'cancelled');
    assert.equal((cancelled.json as OrderJson).version, 2);

    const again = await postJson(`${svc.baseUrl}/v1/orders/${order.id}/cancel`, '');
    assertProblem(again, 409);

    const events = await svc.query<{ event_type: string; payload: { status: string } }>(
      'SELECT event_type, payload FROM outbox WHERE aggregate_id = $1 ORDER BY id',
      [order.id],
    );
    assert.deepEqual(
      events.map((e) => [e.event_type, e.payload.status]),
      [
        ['order.created.v1', 'pending'],
        ['order.cancelled.v1', 'cancelled'],
      ],
    );
  });

  it('pages through a customer’s orders with cursors: newest first, no gaps, no repeats', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 45; i++) {
      const res = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'pager' }));
      ids.push((res.json as OrderJson).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = `customerId=pager&limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await fetch(`${svc.baseUrl}/v1/orders?${qs}`);
      assert.equal(res.status, 200);
      const page = (await res.json()) as { orders: OrderJson[]; nextCursor: string | null };
      seen.push(...page.orders.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse());
  });

  it('refuses a tampered cursor, a cursor of another customer, and bad list parameters', async () => {
    await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'cur-a' }));
    await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'cur-a' }));
    const first = (await (await fetch(`${svc.baseUrl}/v1/orders?customerId=cur-a&limit=1`)).json()) as {
      nextCursor: string;
    };
    assert.ok(first.nextCursor);
    const [body, sig] = first.nextCursor.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ s: 1 })).toString('base64url');
    const flipped = `${body}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
    const cases: [string, string][] = [
      [`customerId=cur-a&cursor=${forged}.${sig}`, 'cursor'],
      [`customerId=cur-a&cursor=${flipped}`, 'cursor'],
      [`customerId=cur-a&cursor=garbage`, 'cursor'],
      [`customerId=cur-b&cursor=${encodeURIComponent(first.nextCursor)}`, 'cursor'],
      [`customerId=cur-a&limit=0`, 'limit'],
      [`customerId=cur-a&limit=101`, 'limit'],
      [`customerId=cur-a&limit=ten`, 'limit'],
      [`limit=5`, 'customerId'],
      [`customerId=cur-a&sort=desc`, 'sort'],
    ];
    for (const [qs, pointer] of cases) {
      const res = await fetch(`${svc.baseUrl}/v1/orders?${qs}`);
      const problem = assertProblem(
        { status: res.status, headers: res.headers, json: await res.json() },
        400,
      );
      assert.ok(
        problem.errors?.some((e) => e.pointer === pointer),
        `${qs}: expected a problem at ${pointer}, got ${JSON.stringify(problem.errors)}`,
      );
    }
  });

  describe('bad input gets a clear 4xx problem and writes nothing', () => {
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ sku: `S${i}`, quantity: 1, unitPriceCents: 1 }));
    const cases: { name: string; body: unknown; status: number; pointer?: string; contentType?: string }[] = [
      { name: 'malformed JSON', body: '{"customerId": "c", ', status: 400 },
      { name: 'JSON that is not an object', body: '[1,2,3]', status: 400, pointer: '/' },
      { name: 'empty body', body: '', status: 400, pointer: '/' },
      { name: 'null body', body: 'null', status: 400 },
      {
        name: 'missing customerId',
        body: { currency: 'EUR', items: items(1) },
        status: 400,
        pointer: '/customerId',
      },
      { name: 'missing items', body: { customerId: 'c', currency: 'EUR' }, status: 400, pointer: '/items' },
      {
        name: 'wrong type for customerId',
        body: validOrder({ customerId: 42 }),
        status: 400,
        pointer: '/customerId',
      },
      { name: 'items as object', body: validOrder({ items: { sku: 'a' } }), status: 400, pointer: '/items' },
      { name: 'no items', body: validOrder({ items: [] }), status: 400, pointer: '/items' },
      { name: '101 items', body: validOrder({ items: items(101) }), status: 400, pointer: '/items' },
      {
        name: 'negative quantity',
        body: validOrder({ items: [{ sku: 'a', quantity: -1, unitPriceCents: 1 }] }),
        status: 400,
        pointer: '/items/0/quantity',
      },
      {
        name: 'fractional quantity',
        body: validOrder({ items: [{ sku: 'a', quantity: 1.5, unitPriceCents: 1 }] }),
        status: 400,
        pointer: '/items/0/quantity',
      },
      {
        name: 'quantity above 10,000',
        body: validOrder({ items: [{ sku: 'a', quantity: 10001, unitPriceCents: 1 }] }),
        status: 400,
        pointer: '/items/0/quantity',
      },
      {
        name: 'quantity as string',
        body: validOrder({ items: [{ sku: 'a', quantity: '2', unitPriceCents: 1 }] }),
        status: 400,
        pointer: '/items/0/quantity',
      },
      {
        name: 'negative price',
        body: validOrder({ items: [{ sku: 'a', quantity: 1, unitPriceCents: -5 }] }),
        status: 400,
        pointer: '/items/0/unitPriceCents',
      },
      {
        name: 'fractional price',
        body: validOrder({ items: [{ sku: 'a', quantity: 1, unitPriceCents: 9.99 }] }),
        status: 400,
        pointer: '/items/0/unitPriceCents',
      },
      {
        name: 'total overflow',
        body: validOrder({ items: [{ sku: 'a', quantity: 10000, unitPriceCents: 9007199254740991 }] }),
        status: 400,
        pointer: '/items',
      },
      { name: 'unknown currency', body: validOrder({ currency: 'XYZ' }), status: 400, pointer: '/currency' },
      {
        name: 'lower-case currency',
        body: validOrder({ currency: 'eur' }),
        status: 400,
        pointer: '/currency',
      },
      {
        name: 'unknown top-level field',
        body: validOrder({ discount: 10 }),
        status: 400,
        pointer: '/discount',
      },
      {
        name: 'unknown item field',
        body: validOrder({ items: [{ sku: 'a', quantity: 1, unitPriceCents: 1, color: 'red' }] }),
        status: 400,
        pointer: '/items/0/color',
      },
      { name: 'oversized body', body: `{"customerId":"${'x'.repeat(70_000)}"}`, status: 413 },
      { name: 'not JSON content type', body: 'customerId=c', status: 415, contentType: 'text/plain' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = await rowCounts();
        const res = await postJson(
          `${svc.baseUrl}/v1/orders`,
          c.body,
          c.contentType ? { 'content-type': c.contentType } : {},
        );
        const problem = assertProblem(res, c.status);
        if (c.pointer) {
          assert.ok(
            problem.errors?.some((e) => e.pointer === c.pointer),
            `expected a problem at ${c.pointer}, got ${JSON.stringify(problem.errors)}`,
          );
        }
        assert.deepEqual(await rowCounts(), before);
      });
    }

    it('invalid UUIDs in paths, unknown routes and wrong methods', async () => {
      const before = await rowCounts();
      const notUuid = await fetch(`${svc.baseUrl}/v1/orders/123'%20OR%201=1`);
      assertProblem({ status: notUuid.status, headers: notUuid.headers, json: await notUuid.json() }, 400);
      const cancelNotUuid = await postJson(`${svc.baseUrl}/v1/orders/nope/cancel`, '');
      assertProblem(cancelNotUuid, 400);
      const missing = await fetch(`${svc.baseUrl}/v1/orders/00000000-0000-7000-8000-000000000000`);
      assertProblem({ status: missing.status, headers: missing.headers, json: await missing.json() }, 404);
      const cancelMissing = await postJson(
        `${svc.baseUrl}/v1/orders/00000000-0000-7000-8000-000000000000/cancel`,
        '',
      );
      assertProblem(cancelMissing, 404);
      const unknown = await fetch(`${svc.baseUrl}/v2/things`);
      assertProblem({ status: unknown.status, headers: unknown.headers, json: await unknown.json() }, 404);
      const wrong = await fetch(`${svc.baseUrl}/v1/orders`, { method: 'DELETE' });
      const wrongBody = assertProblem(
        { status: wrong.status, headers: wrong.headers, json: await wrong.json() },
        405,
      );
      assert.equal(wrong.headers.get('allow'), 'GET, POST');
      assert.match(wrongBody.detail ?? '', /DELETE/);
      const put = await fetch(`${svc.baseUrl}/v1/orders/00000000-0000-7000-8000-000000000000`, {
        method: 'PUT',
      });
      assertProblem({ status: put.status, headers: put.headers, json: await put.json() }, 405);
      assert.deepEqual(await rowCounts(), before);
    });

    it('invalid Idempotency-Key header', async () => {
      const before = await rowCounts();
      const res = await postJson(`${svc.baseUrl}/v1/orders`, validOrder(), {
        'Idempotency-Key': 'k'.repeat(256),
      });
      assertProblem(res, 400);
      assert.deepEqual(await rowCounts(), before);
    });
  });

  it('stores SQL-looking strings literally', async () => {
    const sneaky = "x'); DROP TABLE orders; --";
    const res = await postJson(
      `${svc.baseUrl}/v1/orders`,
      validOrder({ customerId: sneaky, items: [{ sku: "1;DELETE'FROM", quantity: 1, unitPriceCents: 5 }] }),
    );
    assert.equal(res.status, 201);
    const id = (res.json as OrderJson).id;
    const [row] = await svc.query<{ customer_id: string; sku: string }>(
      'SELECT o.customer_id, i.sku FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = $1',
      [id],
    );
    assert.deepEqual(row, { customer_id: sneaky, sku: "1;DELETE'FROM" });
    const list = await fetch(`${svc.baseUrl}/v1/orders?customerId=${encodeURIComponent(sneaky)}`);
    assert.equal(((await list.json()) as { orders: unknown[] }).orders.length, 1);
  });

  describe('idempotency', () => {
    it('50 concurrent POSTs with one key and body create exactly one order and get the same response', async () => {
      const key = `concurrent-${Date.now()}`;
      const body = validOrder({ customerId: 'idem-50' });
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          postJson(`${svc.baseUrl}/v1/orders`, body, { 'Idempotency-Key': key }),
        ),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(50).fill(201),
      );
      const ids = new Set(responses.map((r) => (r.json as OrderJson).id));
      assert.equal(ids.size, 1);
      for (const r of responses) assert.deepEqual(r.json, responses[0]!.json);
      assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1);
      const [counts] = await svc.query<{ orders: number; outbox: number }>(
        `SELECT (SELECT count(*)::int FROM orders WHERE customer_id = 'idem-50') AS orders,
                (SELECT count(*)::int FROM outbox o JOIN orders r ON r.id = o.aggregate_id WHERE r.customer_id = 'idem-50') AS outbox`,
      );
      assert.deepEqual(counts, { orders: 1, outbox: 1 });
    });

    it('same key with another body is refused with 422 and writes nothing', async () => {
      const key = `mismatch-${Date.now()}`;
      const first = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'idem-m' }), {
        'Idempotency-Key': key,
      });
      assert.equal(first.status, 201);
      const before = await rowCounts();
      const second = await postJson(
        `${svc.baseUrl}/v1/orders`,
        validOrder({ customerId: 'idem-m', currency: 'USD' }),
        {
          'Idempotency-Key': key,
        },
      );
      assertProblem(second, 422);
      assert.deepEqual(await rowCounts(), before);
    });

    it('same body with the fields in another order counts as the same request', async () => {
      const key = `reordered-${Date.now()}`;
      const a = await postJson(`${svc.baseUrl}/v1/orders`, validOrder({ customerId: 'idem-r' }), {
        'Idempotency-Key': key,
      });
      const b = await postJson(
        `${svc.baseUrl}/v1/orders`,
        { items: validOrder().items, currency: 'EUR', customerId: 'idem-r' },
        { 'Idempotency-Key': key },
      );
      assert.equal(b.status, 201);
      assert.equal((a.json as OrderJson).id, (b.json as OrderJson).id);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
    });
  });

  it('serves its OpenAPI 3.1 document, and the document is valid', async () => {
    const res = await fetch(`${svc.baseUrl}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    const { validate } = await import('@readme/openapi-parser');
    const result = await validate(structuredClone(doc) as never);
    assert.equal(result.valid, true, JSON.stringify(result));
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/v1/orders',
      '/v1/orders/{id}',
      '/v1/orders/{id}/cancel',
    ]);
  });

  it('answers /livez and /readyz on the admin port, not on the API port', async () => {
    assert.equal((await fetch(`${svc.adminUrl}/livez`)).status, 200);
    const ready = await fetch(`${svc.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok' } });
    assert.equal((await fetch(`${svc.baseUrl}/readyz`)).status, 404);
  });
});
