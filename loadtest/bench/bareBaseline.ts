/**
 * The bare baseline of the benchmark: node:http + pg and nothing else, running EXACTLY the SQL the
 * service runs for POST /v1/orders (no Idempotency-Key) and GET /v1/orders/{id} — the same single
 * statement, same pool factory and size. No validation, no framework, no telemetry: the gap
 * to this is what Express, validation, the domain layer and observability cost together.
 *
 *   node dist/loadtest/bench/bareBaseline.js --port 18720 --database-url postgres://… [--pool-max 10]
 *
 * A unit test checks these statements against service/src/store/orderRepository.ts.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import { orderEvent } from '../../service/src/orders/events';
import { newUuidV7 } from '../../service/src/orders/ids';
import type { Order } from '../../service/src/orders/order';
import { createPool } from '../../service/src/store/pool';

export const BARE_SQL = {
  createOrder: `
  WITH claim AS (
    INSERT INTO idempotency_keys (key, request_hash, order_id)
    SELECT $13::text, $14::text, $1::uuid WHERE $13::text IS NOT NULL
    ON CONFLICT (key) DO NOTHING
    RETURNING 1
  ), admitted AS (
    SELECT 1 WHERE $13::text IS NULL OR EXISTS (SELECT 1 FROM claim)
  ), new_order AS (
    INSERT INTO orders (id, customer_id, currency, total_cents, status, version, created_at, updated_at)
    SELECT $1::uuid, $2::text, $3::char(3), $4::bigint, $5::text, $6::int, $7::timestamptz, $8::timestamptz
    FROM admitted
  ), new_items AS (
    INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents)
    SELECT $1::uuid, t.line, t.sku, t.quantity, t.price
    FROM admitted, unnest($9::smallint[], $10::text[], $11::int[], $12::bigint[]) AS t(line, sku, quantity, price)
  ), new_event AS (
    INSERT INTO outbox (event_id, aggregate_id, event_type, payload, headers, created_at)
    SELECT $15::uuid, $1::uuid, $16::text, $17::jsonb, $18::jsonb, $19::timestamptz
    FROM admitted
  )
  SELECT count(*)::int AS created FROM admitted`,
  selectOrder: `
  SELECT o.id, o.seq, o.customer_id, o.currency, o.total_cents, o.status, o.version, o.created_at, o.updated_at,
         COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity,
                                   'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
                   FROM order_items i WHERE i.order_id = o.id), '[]'::json) AS items
  FROM orders o`,
  byId: ' WHERE o.id = $1',
} as const;

interface CreateBody {
  customerId: string;
  currency: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
}

async function createOrder(pool: Pool, body: CreateBody): Promise<Order> {
  const at = new Date();
  const order: Order = {
    id: newUuidV7(),
    customerId: body.customerId,
    items: body.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    currency: body.currency,
    totalCents: body.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
    status: 'pending',
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  const event = orderEvent('order.created.v1', order, newUuidV7(), at);
  // One statement, as the service: no Idempotency-Key ($13, $14 null); the service stores the
  // propagated trace context in the headers, with no tracer that is `{}` too.
  await pool.query({
    name: 'create_order',
    text: BARE_SQL.createOrder,
    values: [
      order.id,
      order.customerId,
      order.currency,
      order.totalCents,
      order.status,
      order.version,
      order.createdAt,
      order.updatedAt,
      order.items.map((_, i) => i),
      order.items.map((i) => i.sku),
      order.items.map((i) => i.quantity),
      order.items.map((i) => i.unitPriceCents),
      null,
      null,
      event.id,
      event.type,
      JSON.stringify(event.data),
      '{}',
      event.occurredAt,
    ],
  });
  return order;
}

interface OrderRow {
  id: string;
  customer_id: string;
  currency: string;
  total_cents: number;
  status: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  items: { sku: string; quantity: number; unit_price_cents: number }[];
}

function orderJson(o: Order): string {
  return JSON.stringify({
    id: o.id,
    customerId: o.customerId,
    items: o.items,
    currency: o.currency,
    totalCents: o.totalCents,
    status: o.status,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
    version: o.version,
  });
}

function rowJson(r: OrderRow): string {
  return JSON.stringify({
    id: r.id,
    customerId: r.customer_id,
    items: r.items.map((i) => ({
      sku: i.sku,
      quantity: i.quantity,
      unitPriceCents: Number(i.unit_price_cents),
    })),
    currency: r.currency,
    totalCents: r.total_cents,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    version: r.version,
  });
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function createBareServer(pool: Pool): http.Server {
  const byIdSql = BARE_SQL.selectOrder + BARE_SQL.byId;
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/v1/orders') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let body: CreateBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CreateBody;
      } catch {
        send(res, 400, '{"title":"Malformed JSON"}');
        return;
      }
      const order = await createOrder(pool, body);
      send(res, 201, orderJson(order), { location: `/v1/orders/${order.id}` });
      return;
    }
    if (req.method === 'GET' && url.startsWith('/v1/orders/')) {
      // Named like the service's, so both are parsed and planned once per connection.
      const result = await pool.query<OrderRow>({
        name: 'order_by_id',
        text: byIdSql,
        values: [url.slice('/v1/orders/'.length)],
      });
      const row = result.rows[0];
      if (row) send(res, 200, rowJson(row));
      else send(res, 404, '{"title":"Not found"}');
      return;
    }
    if (url === '/readyz') {
      send(res, 200, '{"status":"ready"}');
      return;
    }
    send(res, 404, '{"title":"Not found"}');
  };
  // Same server timeouts as the service's defaults (service/src/config/config.ts).
  return http.createServer(
    { headersTimeout: 10000, requestTimeout: 30000, keepAliveTimeout: 5000 },
    (req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, '{"title":"Internal error"}');
        else res.destroy();
      });
    },
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'database-url': { type: 'string' },
      'pool-max': { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.port || !values['database-url']) {
    console.log(
      'bareBaseline --port P --database-url postgres://… [--host 127.0.0.1] [--pool-max 10]\n' +
        'node:http + pg serving POST /v1/orders and GET /v1/orders/{id} with the service SQL.',
    );
    process.exit(values.help ? 0 : 2);
  }
  const pool = createPool(
    {
      url: values['database-url'],
      poolMax: Number(values['pool-max']),
      // A fixed-size pool, as the service's default (PG_POOL_MIN = PG_POOL_MAX).
      poolMin: Number(values['pool-max']),
      connectTimeoutMs: 2000,
      statementTimeoutMs: 2000,
      idleTimeoutMs: 10000,
      migrateOnStart: false,
    },
    'orderlab-bare-baseline',
  );
  const server = createBareServer(pool);
  server.listen(Number(values.port), values.host, () => {
    console.log(`bare baseline listening on http://${values.host}:${values.port}`);
  });
  const stop = (): void => {
    server.close(() => void pool.end().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) main();
