/**
 * The HTTP side of every scenario: one function per traffic kind (writes, reads, freshness probe,
 * smoke journey) and setup(). Scenario files only pick options and re-export these.
 *
 * Every request carries `name` (the route template, so ids never become labels) and `operation`
 * tags, and is recorded in orderlab_slo_bad_requests. The response callback makes k6's own
 * http_req_failed agree with the availability SLO: 4xx other than 429 are the client's problem.
 */
import { check, fail } from 'k6';
import exec from 'k6/execution';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { OPERATIONS, type OperationName } from '../config/names.ts';
import { expectedHttpStatusRanges, isBadHttpStatus } from '../config/slo.ts';
import { customerId, idempotencyKey, newOrderBody, newRunId, type NewOrderBody } from '../data/orders.ts';
import { followUntilProcessed } from './freshness.ts';
import { parseObject, pick, settings, slo, sloBadRequests, type SeedData } from './runtime.ts';

http.setResponseCallback(http.expectedStatuses(...expectedHttpStatusRanges(slo)));

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

interface Call {
  readonly res: RefinedResponse<ResponseType | undefined>;
  readonly body: Record<string, unknown> | undefined;
}

function call(
  operation: OperationName,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Call {
  const route = OPERATIONS[operation].http;
  const res = http.request(route.method, url, payload === undefined ? null : JSON.stringify(payload), {
    headers: { ...JSON_HEADERS, ...headers },
    tags: { name: route.name, operation },
    timeout: settings.requestTimeout,
  });
  sloBadRequests.add(isBadHttpStatus(slo, res.status), { operation });
  return { res, body: parseObject(res.body) };
}

function createOrder(body: NewOrderBody, key: string): Call {
  return call('createOrder', `${settings.baseUrl}/v1/orders`, body, { 'Idempotency-Key': key });
}

function getOrder(id: string): Call {
  return call('getOrder', `${settings.baseUrl}/v1/orders/${encodeURIComponent(id)}`);
}

function listOrders(customer: string, limit: number, cursor?: string): Call {
  const query =
    `customerId=${encodeURIComponent(customer)}&limit=${limit}` +
    (cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`);
  return call('listOrders', `${settings.baseUrl}/v1/orders?${query}`);
}

function cancelOrder(id: string): Call {
  return call('cancelOrder', `${settings.baseUrl}/v1/orders/${encodeURIComponent(id)}/cancel`, {});
}

function keyFor(runId: string, purpose: string): string {
  return idempotencyKey(runId, exec.scenario.name, exec.scenario.iterationInTest, purpose);
}

function customerFor(data: SeedData): string {
  return pick(data.customers) ?? customerId(data.runId, 0);
}

/** Creates the orders the read traffic looks up; aborts the run if the API cannot create any. */
export function setup(): SeedData {
  const runId = newRunId(Date.now());
  const customers = Array.from({ length: settings.customers }, (_, i) => customerId(runId, i));
  const orderIds: string[] = [];
  for (let i = 0; i < settings.seedOrders; i += 1) {
    const customer = customers[i % customers.length] ?? customerId(runId, 0);
    const { res, body } = createOrder(newOrderBody(customer), idempotencyKey(runId, 'setup', i, 'seed'));
    if (res.status === 201 && typeof body?.['id'] === 'string') orderIds.push(body['id']);
  }
  if (orderIds.length === 0) {
    exec.test.abort(`setup could not create any order at ${settings.baseUrl} (is the API up? set BASE_URL)`);
  }
  console.log(
    `run ${runId}: ${orderIds.length} seed orders for ${customers.length} customers at ${settings.baseUrl}`,
  );
  return { runId, customers, orderIds };
}

/** Writes: one creation; a share of them is cancelled right away (200, or 409 if already final). */
export function createOrders(data: SeedData): void {
  const { res, body } = createOrder(newOrderBody(customerFor(data)), keyFor(data.runId, 'write'));
  const created = check(res, {
    'create: 201 with an id': (r) => r.status === 201 && typeof body?.['id'] === 'string',
  });
  if (created && Math.random() < settings.cancelRatio) {
    const cancel = cancelOrder(String(body?.['id']));
    check(cancel.res, { 'cancel: 200 or 409': (r) => r.status === 200 || r.status === 409 });
  }
}

/** Reads: GET by id of a seed order, or a customer's first page (and the next one if there is one). */
export function readOrders(data: SeedData): void {
  if (Math.random() < settings.listShare) {
    const customer = customerFor(data);
    const first = listOrders(customer, 20);
    check(first.res, { 'list: 200': (r) => r.status === 200 });
    const cursor = first.body?.['nextCursor'];
    if (typeof cursor === 'string' && cursor.length > 0) {
      check(listOrders(customer, 20, cursor).res, {
        'list next page: 200': (r) => r.status === 200,
      });
    }
    return;
  }
  const id = pick(data.orderIds);
  if (id === undefined) fail('setup returned no order ids');
  const { res } = getOrder(id);
  check(res, { 'get: 200': (r) => r.status === 200 });
}

/** Freshness probe: create one order and follow it until the pipeline has processed it. */
export function probeFreshness(data: SeedData): void {
  const { res, body } = createOrder(newOrderBody(customerFor(data)), keyFor(data.runId, 'probe'));
  const id = body?.['id'];
  if (res.status !== 201 || typeof id !== 'string') return; // not accepted: availability counts it
  const acceptedAt = Date.now();
  followUntilProcessed(acceptedAt, () => getOrder(id).body?.['status'], 'http');
}

/** Smoke: the whole contract once per iteration, with a check per promise. */
export function smokeJourney(data: SeedData): void {
  const customer = customerFor(data);
  const order = newOrderBody(customer);
  const key = keyFor(data.runId, 'smoke');
  const expectedTotal = order.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);

  const created = createOrder(order, key);
  const id = created.body?.['id'];
  check(created.res, {
    'create: 201': (r) => r.status === 201,
    'create: pending with computed total': () =>
      created.body?.['status'] === 'pending' && created.body?.['totalCents'] === expectedTotal,
  });
  if (typeof id !== 'string') fail(`create returned no id (status ${created.res.status})`);

  const replay = createOrder(order, key);
  check(replay.res, { 'replay with the same key: same order': () => replay.body?.['id'] === id });
  const conflicting = createOrder(newOrderBody(customer), key);
  check(conflicting.res, { 'same key, other body: 409 or 422': (r) => r.status === 409 || r.status === 422 });

  const read = getOrder(id);
  check(read.res, { 'get: 200 and same id': (r) => r.status === 200 && read.body?.['id'] === id });
  const ids = (body: Record<string, unknown> | undefined): unknown[] =>
    Array.isArray(body?.['orders'])
      ? (body['orders'] as Record<string, unknown>[]).map((o) => o?.['id'])
      : [];
  const all = listOrders(customer, 100);
  check(all.res, {
    'list: 200 and holds the new order': (r) => r.status === 200 && ids(all.body).includes(id),
  });
  const first = listOrders(customer, 1);
  const cursor = first.body?.['nextCursor'];
  check(first.res, {
    'list limit=1: one order and a nextCursor': (r) =>
      r.status === 200 && ids(first.body).length === 1 && typeof cursor === 'string' && cursor.length > 0,
  });
  if (typeof cursor === 'string' && cursor.length > 0) {
    const next = listOrders(customer, 1, cursor);
    check(next.res, {
      'list next page: another order': (r) =>
        r.status === 200 && ids(next.body).length === 1 && ids(next.body)[0] !== ids(first.body)[0],
    });
  }

  const acceptedAt = Date.now();
  check(null, {
    'processed within the freshness SLO': () =>
      followUntilProcessed(acceptedAt, () => getOrder(id).body?.['status'], 'http'),
  });

  const toCancel = createOrder(newOrderBody(customer), keyFor(data.runId, 'smoke-cancel'));
  const cancelId = toCancel.body?.['id'];
  if (typeof cancelId === 'string') {
    const cancelled = cancelOrder(cancelId);
    check(cancelled.res, { 'cancel: 200 or 409': (r) => r.status === 200 || r.status === 409 });
  }

  const missing = getOrder('00000000-0000-7000-8000-000000000000');
  check(missing.res, {
    'unknown id: 404 problem+json': (r) =>
      r.status === 404 && String(r.headers['Content-Type'] ?? '').includes('application/problem+json'),
  });
  const invalid = call('createOrder', `${settings.baseUrl}/v1/orders`, { customerId: customer, items: [] });
  check(invalid.res, { 'invalid body: 400 or 422': (r) => r.status === 400 || r.status === 422 });
}
