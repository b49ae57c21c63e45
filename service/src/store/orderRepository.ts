import { context, propagation } from '@opentelemetry/api';
import type { Pool, PoolClient } from 'pg';
import type { OrderEvent } from '../orders/events';
import type { Order, OrderItem, OrderStatus } from '../orders/order';
import type {
  ConsumedEvent,
  CreateOrderCommand,
  CreateOrderResult,
  OnceResult,
  OrderPage,
  OrderRepository,
  StatusChange,
} from '../orders/ports';
import { translateDatabaseError } from './dbErrors';
import { withTransaction } from './transaction';

interface OrderRow {
  id: string;
  seq: number;
  customer_id: string;
  currency: string;
  total_cents: number;
  status: OrderStatus;
  version: number;
  created_at: Date;
  updated_at: Date;
  items: { sku: string; quantity: number; unit_price_cents: number }[];
}

const SELECT_ORDER = `
  SELECT o.id, o.seq, o.customer_id, o.currency, o.total_cents, o.status, o.version, o.created_at, o.updated_at,
         COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity,
                                   'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
                   FROM order_items i WHERE i.order_id = o.id), '[]'::json) AS items
  FROM orders o`;

/** PostgreSQL implementation of the use cases' OrderRepository. Returns plain domain objects. */
export class PgOrderRepository implements OrderRepository {
  constructor(private readonly pool: Pool) {}

  create(command: CreateOrderCommand): Promise<CreateOrderResult> {
    return this.createOrder(command).catch(rethrowTranslated);
  }

  findById(id: string): Promise<Order | null> {
    return this.findOrder(id).catch(rethrowTranslated);
  }

  listByCustomer(customerId: string, limit: number, beforeSeq?: number): Promise<OrderPage> {
    return this.listOrders(customerId, limit, beforeSeq).catch(rethrowTranslated);
  }

  changeStatus(id: string, change: StatusChange): Promise<Order | null> {
    return this.changeOrderStatus(id, change).catch(rethrowTranslated);
  }

  changeStatusOnce(consumed: ConsumedEvent, id: string, change: StatusChange): Promise<OnceResult> {
    return this.changeOrderStatusOnce(consumed, id, change).catch(rethrowTranslated);
  }

  recordProcessedEvent(consumed: ConsumedEvent, outcome: string): Promise<boolean> {
    return this.pool
      .query(
        `INSERT INTO processed_events (event_id, event_type, outcome) VALUES ($1, $2, $3)
         ON CONFLICT (event_id) DO NOTHING`,
        [consumed.eventId, consumed.eventType, outcome],
      )
      .then((r) => r.rowCount === 1)
      .catch(rethrowTranslated);
  }

  isEventProcessed(eventId: string): Promise<boolean> {
    return this.pool
      .query('SELECT 1 FROM processed_events WHERE event_id = $1', [eventId])
      .then((r) => r.rows.length > 0)
      .catch(rethrowTranslated);
  }

  private async createOrder(command: CreateOrderCommand): Promise<CreateOrderResult> {
    const { order, event, idempotency } = command;
    const result = await this.pool.query<{ created: number }>({
      name: 'create_order',
      text: CREATE_ORDER,
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
        idempotency?.key ?? null,
        idempotency?.requestHash ?? null,
        event.id,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(outboxHeaders()),
        event.occurredAt,
      ],
    });
    const outcome = result.rows[0]?.created === 1 ? 'created' : 'key-taken';
    if (outcome === 'created') return { created: true, order };
    // The key belongs to an earlier request: nothing was written; return that request's order.
    const existing = await this.pool.query<{ request_hash: string; order_id: string }>(
      'SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1',
      [idempotency!.key],
    );
    const row = existing.rows[0];
    if (!row) throw new Error('idempotency key vanished after conflict');
    const stored = await this.findOrder(row.order_id);
    if (!stored) throw new Error(`order ${row.order_id} of idempotency key is missing`);
    return { created: false, order: stored, requestHash: row.request_hash };
  }

  private async findOrder(id: string): Promise<Order | null> {
    // Named: parsed and planned once per connection, then only bound and executed.
    const result = await this.pool.query<OrderRow>({
      name: 'order_by_id',
      text: `${SELECT_ORDER} WHERE o.id = $1`,
      values: [id],
    });
    const row = result.rows[0];
    return row ? toOrder(row) : null;
  }

  private async listOrders(customerId: string, limit: number, beforeSeq?: number): Promise<OrderPage> {
    const result = await this.pool.query<OrderRow>(
      `${SELECT_ORDER} WHERE o.customer_id = $1 AND ($2::bigint IS NULL OR o.seq < $2)
       ORDER BY o.seq DESC LIMIT $3`,
      [customerId, beforeSeq ?? null, limit + 1],
    );
    const rows = result.rows.slice(0, limit);
    const last = rows.at(-1);
    return {
      orders: rows.map(toOrder),
      hasMore: result.rows.length > limit,
      ...(last ? { lastSeq: last.seq } : {}),
    };
  }

  private async changeOrderStatusOnce(
    consumed: ConsumedEvent,
    id: string,
    change: StatusChange,
  ): Promise<OnceResult> {
    try {
      return await withTransaction(this.pool, async (client): Promise<OnceResult> => {
        // Claim the event id first: a concurrent duplicate waits on the primary key, then finds it taken.
        const claimed = await client.query(
          `INSERT INTO processed_events (event_id, event_type, order_id, outcome) VALUES ($1, $2, $3, 'pending')
           ON CONFLICT (event_id) DO NOTHING`,
          [consumed.eventId, consumed.eventType, id],
        );
        if (claimed.rowCount === 0) return { kind: 'duplicate' };
        const locked = await client.query<OrderRow>(`${SELECT_ORDER} WHERE o.id = $1 FOR UPDATE OF o`, [id]);
        const row = locked.rows[0];
        if (!row) throw new OrderMissing(); // roll back the claim: the event was not applied
        const { order, event } = change(toOrder(row));
        await client.query('UPDATE orders SET status = $2, version = $3, updated_at = $4 WHERE id = $1', [
          order.id,
          order.status,
          order.version,
          order.updatedAt,
        ]);
        await client.query('UPDATE processed_events SET outcome = $2 WHERE event_id = $1', [
          consumed.eventId,
          order.status,
        ]);
        if (event) await insertOutboxEvent(client, event);
        return { kind: 'applied', order };
      });
    } catch (err) {
      if (err instanceof OrderMissing) return { kind: 'not_found' };
      throw err;
    }
  }

  private async changeOrderStatus(id: string, change: StatusChange): Promise<Order | null> {
    return withTransaction(this.pool, async (client) => {
      const locked = await client.query<OrderRow>(`${SELECT_ORDER} WHERE o.id = $1 FOR UPDATE OF o`, [id]);
      const row = locked.rows[0];
      if (!row) return null;
      const { order, event } = change(toOrder(row));
      await client.query('UPDATE orders SET status = $2, version = $3, updated_at = $4 WHERE id = $1', [
        order.id,
        order.status,
        order.version,
        order.updatedAt,
      ]);
      if (event) await insertOutboxEvent(client, event);
      return order;
    });
  }
}

class OrderMissing {}

/**
 * Creates an order in ONE statement: the idempotency claim, the order, its lines (unnest: one
 * statement whatever the item count) and the outbox event. A statement is its own transaction in
 * PostgreSQL, so the four writes commit together or not at all — the transactional outbox in one
 * round trip instead of seven (BEGIN, claim, order, lines, event, COMMIT and the pool's own).
 * Run as a named statement (parsed and planned once per connection).
 * With a key ($13), the claim comes first: a concurrent request with the same key waits on the
 * unique index until the first commits, then finds the key taken and writes nothing (`created` 0).
 */
const CREATE_ORDER = `
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
  SELECT count(*)::int AS created FROM admitted`;

/** The active trace context, stored with an outbox row so the relay's publish span continues it. */
function outboxHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/**
 * Stores an event for the relay. The active trace context is saved with it so the relay's
 * publish span continues the trace of the request that caused the event.
 */
export async function insertOutboxEvent(client: PoolClient, event: OrderEvent): Promise<void> {
  const headers = outboxHeaders();
  await client.query(
    `INSERT INTO outbox (event_id, aggregate_id, event_type, payload, headers, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      event.id,
      event.orderId,
      event.type,
      JSON.stringify(event.data),
      JSON.stringify(headers),
      event.occurredAt,
    ],
  );
}

function rethrowTranslated(err: unknown): never {
  throw translateDatabaseError(err);
}

function toOrder(row: OrderRow): Order {
  const items: OrderItem[] = row.items.map((i) => ({
    sku: i.sku,
    quantity: i.quantity,
    unitPriceCents: Number(i.unit_price_cents),
  }));
  return {
    id: row.id,
    customerId: row.customer_id,
    items,
    currency: row.currency,
    totalCents: row.total_cents,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}
