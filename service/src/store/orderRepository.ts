import { context, propagation } from '@opentelemetry/api';
import type { Pool, PoolClient } from 'pg';
import type { OrderEvent } from '../orders/events';
import type { Order } from '../orders/order';
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
import { createOrderQuery, type OrderRow, orderByIdQuery, SELECT_ORDER, toOrder } from './statements';
import { withTransaction } from './transaction';

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
    const { order, idempotency } = command;
    const result = await this.pool.query<{ created: number }>(createOrderQuery(command, outboxHeaders()));
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
    const result = await this.pool.query<OrderRow>(orderByIdQuery(id));
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
