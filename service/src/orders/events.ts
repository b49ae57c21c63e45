import type { Order } from './order';

/** Event types published on `orders.v1`; the AsyncAPI document describes their payloads. */
export type OrderEventType =
  'order.created.v1' | 'order.cancelled.v1' | 'order.confirmed.v1' | 'order.rejected.v1';

/**
 * A domain event as the use cases record it in the outbox. The relay wraps it in the
 * CloudEvents-style envelope; the use cases never see Kafka.
 */
export interface OrderEvent {
  readonly id: string;
  readonly type: OrderEventType;
  readonly orderId: string;
  readonly occurredAt: Date;
  readonly data: OrderEventData;
}

export interface OrderEventData {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: Order['status'];
  readonly currency: string;
  readonly totalCents: number;
  readonly items: Order['items'];
  readonly version: number;
  /** When the order was accepted; lets consumers measure acceptance → confirmation delay. */
  readonly acceptedAt: string;
}

export function orderEvent(type: OrderEventType, order: Order, id: string, at: Date): OrderEvent {
  return {
    id,
    type,
    orderId: order.id,
    occurredAt: at,
    data: {
      orderId: order.id,
      customerId: order.customerId,
      status: order.status,
      currency: order.currency,
      totalCents: order.totalCents,
      items: order.items,
      version: order.version,
      acceptedAt: order.createdAt.toISOString(),
    },
  };
}
