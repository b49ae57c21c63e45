import { context, propagation } from '@opentelemetry/api';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { OrderEvent } from '../orders/events';
import type { Order } from '../orders/order';
import type { ConsumedEvent, FulfilmentRepository, OnceResult } from '../orders/fulfilment';
import type {
  CreateOrderCommand,
  CreateOrderResult,
  OrderPage,
  OrderRepository,
  StatusChange,
} from '../orders/useCases';
import { translateDatabaseError } from './dbErrors';
import { createOrderQuery, type OrderRow, orderByIdQuery, SELECT_ORDER, toOrder } from './statements';
import { withTransaction } from './transaction';

/** PostgreSQL implementation of the use cases' repositories. Returns plain domain objects. */
export class PgOrderRepository implements OrderRepository, FulfilmentRepository {
  constructor(private readonly pool: Pool) {}

  async create(command: CreateOrderCommand): Promise<CreateOrderResult> {
    const { order, idempotency } = command;
    const result = await this.query<{ created: number }>(createOrderQuery(command, outboxHeaders()));
    if (result.rows[0]?.created === 1) return { created: true, order };
    // The key belongs to an earlier request: nothing was written; return that request's order.
    const existing = await this.query<{ request_hash: string; order_id: string }>({
      text: 'SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1',
      values: [idempotency!.key],
    });
    const row = existing.rows[0];
    if (!row) throw new Error('idempotency key vanished after conflict');
    const stored = await this.findById(row.order_id);
    if (!stored) throw new Error(`order ${row.order_id} of idempotency key is missing`);
    return { created: false, order: stored, requestHash: row.request_hash };
  }

  async findById(id: string): Promise<Order | null> {
    const row = (await this.query<OrderRow>(orderByIdQuery(id))).rows[0];
    return row ? toOrder(row) : null;
  }

  async listByCustomer(customerId: string, limit: number, beforeSeq?: number): Promise<OrderPage> {
    const result = await this.query<OrderRow>({
      text: `${SELECT_ORDER} WHERE o.customer_id = $1 AND ($2::bigint IS NULL OR o.seq < $2)
             ORDER BY o.seq DESC LIMIT $3`,
      values: [customerId, beforeSeq ?? null, limit + 1],
    });
    const rows = result.rows.slice(0, limit);
    const last = rows.at(-1);
    return {
      orders: rows.map(toOrder),
      hasMore: result.rows.length > limit,
      ...(last ? { lastSeq: last.seq } : {}),
    };
  }

  changeStatus(id: string, change: StatusChange): Promise<Order | null> {
    return this.transaction(async (client) => {
      const current = await lockOrder(client, id);
      return current ? storeChange(client, current, change) : null;
    });
  }

  changeStatusOnce(consumed: ConsumedEvent, id: string, change: StatusChange): Promise<OnceResult> {
    return this.transaction(async (client): Promise<OnceResult> => {
      const current = await lockOrder(client, id);
      if (!current) return { kind: 'not_found' }; // nothing written: the event was not applied
      // Claimed under the order's lock: a concurrent duplicate waits on it, then finds the id taken.
      const claimed = await client.query(
        `INSERT INTO processed_events (event_id, event_type, order_id, outcome) VALUES ($1, $2, $3, 'pending')
         ON CONFLICT (event_id) DO NOTHING`,
        [consumed.eventId, consumed.eventType, id],
      );
      if (claimed.rowCount === 0) return { kind: 'duplicate' };
      const order = await storeChange(client, current, change);
      await client.query('UPDATE processed_events SET outcome = $2 WHERE event_id = $1', [
        consumed.eventId,
        order.status,
      ]);
      return { kind: 'applied', order };
    });
  }

  async recordProcessedEvent(consumed: ConsumedEvent, outcome: string): Promise<boolean> {
    const result = await this.query({
      text: `INSERT INTO processed_events (event_id, event_type, outcome) VALUES ($1, $2, $3)
             ON CONFLICT (event_id) DO NOTHING`,
      values: [consumed.eventId, consumed.eventType, outcome],
    });
    return result.rowCount === 1;
  }

  async isEventProcessed(eventId: string): Promise<boolean> {
    const result = await this.query({
      text: 'SELECT 1 FROM processed_events WHERE event_id = $1',
      values: [eventId],
    });
    return result.rows.length > 0;
  }

  // Every statement goes through one of these two: a lost database becomes UnavailableError here.

  private query<R extends QueryResultRow>(config: QueryConfig): Promise<QueryResult<R>> {
    return this.pool.query<R>(config).catch(rethrowTranslated);
  }

  private transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work).catch(rethrowTranslated);
  }
}

/** The order, locked for the rest of the transaction; undefined when there is no such order. */
async function lockOrder(client: PoolClient, id: string): Promise<Order | undefined> {
  const row = (await client.query<OrderRow>(`${SELECT_ORDER} WHERE o.id = $1 FOR UPDATE OF o`, [id])).rows[0];
  return row ? toOrder(row) : undefined;
}

/** The one status-change path: `change` decides (or throws, rolling back), the result is stored with its event. */
async function storeChange(client: PoolClient, current: Order, change: StatusChange): Promise<Order> {
  const { order, event } = change(current);
  await client.query('UPDATE orders SET status = $2, version = $3, updated_at = $4 WHERE id = $1', [
    order.id,
    order.status,
    order.version,
    order.updatedAt,
  ]);
  if (event) await insertOutboxEvent(client, event);
  return order;
}

/** The active trace context, stored with an outbox row so the relay's publish span continues it. */
function outboxHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** Stores an event for the relay, with the trace context of the change that caused it. */
async function insertOutboxEvent(client: PoolClient, event: OrderEvent): Promise<void> {
  await client.query(
    `INSERT INTO outbox (event_id, aggregate_id, event_type, payload, headers, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      event.id,
      event.orderId,
      event.type,
      JSON.stringify(event.data),
      JSON.stringify(outboxHeaders()),
      event.occurredAt,
    ],
  );
}

function rethrowTranslated(err: unknown): never {
  throw translateDatabaseError(err);
}
