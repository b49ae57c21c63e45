/**
 * The bare baseline of the benchmark: node:http + pg and nothing else, running the statements the
 * service runs for POST /v1/orders (no Idempotency-Key) and GET /v1/orders/{id} — taken from the
 * module the repository uses (service/src/store/statements.ts), same pool factory and size. No
 * validation, no framework, no telemetry: the gap to this is what Express, validation, the domain
 * layer and observability cost together.
 *
 *   node dist/loadtest/bench/bareBaseline.js --port 18720 --database-url postgres://… [--pool-max 10]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import { orderEvent } from '../../service/src/orders/events';
import { newUuidV7 } from '../../service/src/orders/ids';
import type { Order } from '../../service/src/orders/order';
import { orderJson } from '../../service/src/http/orderJson';
import { createPool } from '../../service/src/store/pool';
import { createOrderQuery, type OrderRow, orderByIdQuery, toOrder } from '../../service/src/store/statements';

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
  // As the service: no Idempotency-Key; with no tracer the propagated trace context is `{}`.
  await pool.query(createOrderQuery({ order, event }, {}));
  return order;
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
      send(res, 201, JSON.stringify(orderJson(order)), { location: `/v1/orders/${order.id}` });
      return;
    }
    if (req.method === 'GET' && url.startsWith('/v1/orders/')) {
      const result = await pool.query<OrderRow>(orderByIdQuery(url.slice('/v1/orders/'.length)));
      const row = result.rows[0];
      if (row) send(res, 200, JSON.stringify(orderJson(toOrder(row))));
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
