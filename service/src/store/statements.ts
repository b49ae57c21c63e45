import type { QueryConfig } from 'pg';
import type { Order, OrderItem, OrderStatus } from '../orders/order';
import type { CreateOrderCommand } from '../orders/useCases';
import type { OutboxEventRow } from '../pipeline/envelope';

/*
 * The statements and row mappers of the order repository and the outbox store that the benches
 * run too (the bare baseline's create and get, the relay bench's raw drain): one copy, so a bench
 * measures exactly what the service runs.
 */

export interface OrderRow {
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

/** An order with its items as one row; callers add the WHERE (and ORDER BY, locking). */
export const SELECT_ORDER = `
  SELECT o.id, o.seq, o.customer_id, o.currency, o.total_cents, o.status, o.version, o.created_at, o.updated_at,
         COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity,
                                   'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
                   FROM order_items i WHERE i.order_id = o.id), '[]'::json) AS items
  FROM orders o`;

/**
 * Creates an order in ONE statement: the idempotency claim, the order, its lines (unnest: one
 * statement whatever the item count) and the outbox event. A statement is its own transaction in
 * PostgreSQL, so the four writes commit together or not at all — the transactional outbox in one
 * round trip instead of seven (BEGIN, claim, order, lines, event, COMMIT and the pool's own).
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

/**
 * The create statement for a command; `created` is 1, or 0 when the idempotency key was taken.
 * Named (as every per-request statement): parsed and planned once per connection.
 */
export function createOrderQuery(
  { order, event, idempotency }: CreateOrderCommand,
  outboxHeaders: Record<string, string>,
): QueryConfig {
  return {
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
      JSON.stringify(outboxHeaders),
      event.occurredAt,
    ],
  };
}

const ORDER_BY_ID = `${SELECT_ORDER} WHERE o.id = $1`;

/** One order by id (no row: no such order). */
export function orderByIdQuery(id: string): QueryConfig {
  return { name: 'order_by_id', text: ORDER_BY_ID, values: [id] };
}

export function toOrder(row: OrderRow): Order {
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

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  event_id: string;
  aggregate_id: string;
  event_type: string;
  payload: unknown;
  headers: Record<string, unknown>;
  created_at: Date;
}

/** The columns of `OutboxRow`, qualified by the alias `o`. */
export const OUTBOX_ROW_COLUMNS =
  'o.event_id, o.aggregate_id, o.event_type, o.payload, o.headers, o.created_at';

export function toOutboxEventRow(row: OutboxRow): OutboxEventRow {
  return {
    eventId: row.event_id,
    aggregateId: row.aggregate_id,
    eventType: row.event_type,
    payload: row.payload,
    headers: row.headers,
    createdAt: row.created_at,
  };
}
