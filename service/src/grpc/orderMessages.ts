import type { NewOrderInput, Order, OrderStatus } from '../orders/order';

/*
 * The shapes proto-loader produces for order.v1 with PROTO_LOADER_OPTIONS (snake_case keys, int64
 * as number, enums as names, defaults filled in). Written by hand to mirror order.proto, which
 * stays the contract at run time; the component tests fail if the two drift.
 */

export interface OrderItemMessage {
  sku: string;
  quantity: number;
  unit_price_cents: number;
}

export interface TimestampMessage {
  seconds: number;
  nanos: number;
}

export type OrderStatusName =
  | 'ORDER_STATUS_UNSPECIFIED'
  | 'ORDER_STATUS_PENDING'
  | 'ORDER_STATUS_CONFIRMED'
  | 'ORDER_STATUS_CANCELLED'
  | 'ORDER_STATUS_REJECTED';

export interface OrderMessage {
  id: string;
  customer_id: string;
  items: OrderItemMessage[];
  currency: string;
  total_cents: number;
  status: OrderStatusName;
  create_time: TimestampMessage;
  update_time: TimestampMessage;
  version: number;
}

export interface CreateOrderRequest {
  customer_id: string;
  items: OrderItemMessage[];
  currency: string;
  idempotency_key: string;
}

export interface GetOrderRequest {
  id: string;
}

export interface ListOrdersRequest {
  customer_id: string;
  page_size: number;
  page_token: string;
}

export interface ListOrdersResponse {
  orders: OrderMessage[];
  next_page_token: string;
}

export interface CancelOrderRequest {
  id: string;
}

const STATUS_NAMES: Readonly<Record<OrderStatus, OrderStatusName>> = {
  pending: 'ORDER_STATUS_PENDING',
  confirmed: 'ORDER_STATUS_CONFIRMED',
  cancelled: 'ORDER_STATUS_CANCELLED',
  rejected: 'ORDER_STATUS_REJECTED',
};

export function orderMessage(order: Order): OrderMessage {
  return {
    id: order.id,
    customer_id: order.customerId,
    items: order.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unit_price_cents: i.unitPriceCents })),
    currency: order.currency,
    total_cents: order.totalCents,
    status: STATUS_NAMES[order.status],
    create_time: timestamp(order.createdAt),
    update_time: timestamp(order.updatedAt),
    version: order.version,
  };
}

/** The create request as the use case takes it; the use case validates every field. */
export function newOrderInput(request: CreateOrderRequest): NewOrderInput {
  return {
    customerId: request.customer_id,
    currency: request.currency,
    items: request.items.map((i) => ({
      sku: i.sku,
      quantity: i.quantity,
      unitPriceCents: i.unit_price_cents,
    })),
  };
}

/** proto3 cannot tell an unset string from an empty one: empty means "no idempotency key". */
export function idempotencyKeyOf(request: CreateOrderRequest): string | undefined {
  return request.idempotency_key === '' ? undefined : request.idempotency_key;
}

export function timestamp(at: Date): TimestampMessage {
  const ms = at.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}
