/**
 * The gRPC side of every scenario (order.v1.OrderService), mirroring lib/httpOrders.ts.
 *
 * Dependency: service/proto/order/v1/order.proto (CreateOrderRequest{customer_id, items[{sku,
 * quantity, unit_price_cents}], currency, idempotency_key}, GetOrderRequest{id},
 * ListOrdersRequest{customer_id, page_size, page_token}, CancelOrderRequest{id}). By default the
 * client asks the server for it through gRPC server reflection; set GRPC_PROTO and
 * GRPC_PROTO_IMPORT_PATH to load the file instead (it must then be visible inside the container).
 * Responses arrive as protojson: lowerCamelCase fields, enum values by name. Assumed beyond the
 * brief: responses carry the order either as the message or in an `order` field (both handled),
 * ListOrdersResponse has `next_page_token`, the status enum may be prefixed (ORDER_STATUS_…), and
 * cancelling an order that is already final answers FAILED_PRECONDITION.
 */
import { check, fail } from 'k6';
import exec from 'k6/execution';
import grpc from 'k6/net/grpc';
import { OPERATIONS, type OperationName } from '../config/names.ts';
import { GRPC_CODES, isBadGrpcCode } from '../config/slo.ts';
import {
  customerId,
  idempotencyKey,
  newOrderBody,
  newRunId,
  toGrpcCreateRequest,
  type NewOrderBody,
} from '../data/orders.ts';
import { followUntilProcessed } from './freshness.ts';
import { pick, settings, slo, sloBadRequests, type SeedData } from './runtime.ts';

const client = new grpc.Client();
if (settings.grpcProtoFile !== undefined) {
  client.load([settings.grpcProtoImportPath ?? '.'], settings.grpcProtoFile);
}

let connected = false;

/** Connects once per VU; a failed connect counts against availability like a refused request. */
function ensureConnected(): boolean {
  if (connected) return true;
  try {
    client.connect(settings.grpcAddress, {
      plaintext: true,
      reflect: settings.grpcProtoFile === undefined,
      timeout: '5s',
    });
    connected = true;
  } catch (error) {
    sloBadRequests.add(true, { operation: 'connect' });
    console.warn(`gRPC connect to ${settings.grpcAddress} failed: ${String(error)}`);
  }
  return connected;
}

interface Call {
  readonly status: number;
  readonly message: Record<string, unknown> | undefined;
}

function call(operation: OperationName, request: Record<string, unknown>): Call {
  if (!ensureConnected()) return { status: GRPC_CODES.UNAVAILABLE, message: undefined };
  const method = OPERATIONS[operation].grpcMethod;
  const response = client.invoke(method, request, {
    tags: { name: method, operation },
    timeout: settings.requestTimeout,
  });
  sloBadRequests.add(isBadGrpcCode(slo, response.status), { operation });
  const message = response.message as Record<string, unknown> | null | undefined;
  return { status: response.status, message: message ?? undefined };
}

function createOrder(body: NewOrderBody, key: string): Call {
  return call('createOrder', toGrpcCreateRequest(body, key));
}

function getOrder(id: string): Call {
  return call('getOrder', { id });
}

function listOrders(customer: string, pageSize: number, pageToken?: string): Call {
  return call('listOrders', { customer_id: customer, page_size: pageSize, page_token: pageToken ?? '' });
}

function cancelOrder(id: string): Call {
  return call('cancelOrder', { id });
}

/** The order in a response: the message itself or its `order` field, whichever the proto uses. */
function orderOf(result: Call): Record<string, unknown> | undefined {
  const inner = result.message?.['order'];
  return typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : result.message;
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
    const result = createOrder(newOrderBody(customer), idempotencyKey(runId, 'setup', i, 'seed'));
    const id = orderOf(result)?.['id'];
    if (result.status === grpc.StatusOK && typeof id === 'string') orderIds.push(id);
  }
  if (orderIds.length === 0) {
    exec.test.abort(
      `setup could not create any order at ${settings.grpcAddress} (is the API up? set GRPC_ADDR)`,
    );
  }
  console.log(
    `run ${runId}: ${orderIds.length} seed orders for ${customers.length} customers at ${settings.grpcAddress}`,
  );
  return { runId, customers, orderIds };
}

export function createOrders(data: SeedData): void {
  const result = createOrder(newOrderBody(customerFor(data)), keyFor(data.runId, 'write'));
  const id = orderOf(result)?.['id'];
  const created = check(result, {
    'create: OK with an id': (r) => r.status === grpc.StatusOK && typeof id === 'string',
  });
  if (created && Math.random() < settings.cancelRatio) {
    check(cancelOrder(String(id)), {
      'cancel: OK or FAILED_PRECONDITION': (r) =>
        r.status === grpc.StatusOK || r.status === grpc.StatusFailedPrecondition,
    });
  }
}

export function readOrders(data: SeedData): void {
  if (Math.random() < settings.listShare) {
    const customer = customerFor(data);
    const first = listOrders(customer, 20);
    check(first, { 'list: OK': (r) => r.status === grpc.StatusOK });
    const token = first.message?.['nextPageToken'];
    if (typeof token === 'string' && token.length > 0) {
      check(listOrders(customer, 20, token), {
        'list next page: OK': (r) => r.status === grpc.StatusOK,
      });
    }
    return;
  }
  const id = pick(data.orderIds);
  if (id === undefined) fail('setup returned no order ids');
  check(getOrder(id), { 'get: OK': (r) => r.status === grpc.StatusOK });
}

export function probeFreshness(data: SeedData): void {
  const result = createOrder(newOrderBody(customerFor(data)), keyFor(data.runId, 'probe'));
  const id = orderOf(result)?.['id'];
  if (result.status !== grpc.StatusOK || typeof id !== 'string') return; // availability counts it
  const acceptedAt = Date.now();
  followUntilProcessed(acceptedAt, () => orderOf(getOrder(id))?.['status'], 'grpc');
}

export function smokeJourney(data: SeedData): void {
  const customer = customerFor(data);
  const order = newOrderBody(customer);
  const key = keyFor(data.runId, 'smoke');

  const created = createOrder(order, key);
  const id = orderOf(created)?.['id'];
  check(created, { 'create: OK': (r) => r.status === grpc.StatusOK });
  if (typeof id !== 'string') fail(`CreateOrder returned no id (status ${created.status})`);

  const replay = createOrder(order, key);
  check(replay, { 'replay with the same key: same order': (r) => orderOf(r)?.['id'] === id });
  const conflicting = createOrder(newOrderBody(customer), key);
  check(conflicting, {
    'same key, other body: ALREADY_EXISTS, FAILED_PRECONDITION or INVALID_ARGUMENT': (r) =>
      r.status === grpc.StatusAlreadyExists ||
      r.status === grpc.StatusFailedPrecondition ||
      r.status === grpc.StatusInvalidArgument,
  });

  const read = getOrder(id);
  check(read, { 'get: OK and same id': (r) => r.status === grpc.StatusOK && orderOf(r)?.['id'] === id });
  const ids = (result: Call): unknown[] =>
    Array.isArray(result.message?.['orders'])
      ? (result.message['orders'] as Record<string, unknown>[]).map((o) => o?.['id'])
      : [];
  check(listOrders(customer, 100), {
    'list: OK and holds the new order': (r) => r.status === grpc.StatusOK && ids(r).includes(id),
  });
  const first = listOrders(customer, 1);
  const token = first.message?.['nextPageToken'];
  check(first, {
    'list page_size=1: one order and a next_page_token': (r) =>
      r.status === grpc.StatusOK && ids(r).length === 1 && typeof token === 'string' && token.length > 0,
  });
  if (typeof token === 'string' && token.length > 0) {
    check(listOrders(customer, 1, token), {
      'list next page: another order': (r) =>
        r.status === grpc.StatusOK && ids(r).length === 1 && ids(r)[0] !== ids(first)[0],
    });
  }

  const acceptedAt = Date.now();
  check(null, {
    'processed within the freshness SLO': () =>
      followUntilProcessed(acceptedAt, () => orderOf(getOrder(id))?.['status'], 'grpc'),
  });

  const toCancel = orderOf(createOrder(newOrderBody(customer), keyFor(data.runId, 'smoke-cancel')))?.['id'];
  if (typeof toCancel === 'string') {
    check(cancelOrder(toCancel), {
      'cancel: OK or FAILED_PRECONDITION': (r) =>
        r.status === grpc.StatusOK || r.status === grpc.StatusFailedPrecondition,
    });
  }
  check(getOrder('00000000-0000-7000-8000-000000000000'), {
    'unknown id: NOT_FOUND': (r) => r.status === grpc.StatusNotFound,
  });
  check(call('createOrder', { customer_id: customer, items: [], currency: 'EUR' }), {
    'invalid request: INVALID_ARGUMENT': (r) => r.status === grpc.StatusInvalidArgument,
  });
}
