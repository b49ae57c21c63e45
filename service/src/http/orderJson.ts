import type { Order } from '../orders/order';

/** An order as the HTTP API returns it (the OpenAPI `Order` schema). */
export function orderJson(order: Order): Record<string, unknown> {
  return {
    id: order.id,
    customerId: order.customerId,
    items: order.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    currency: order.currency,
    totalCents: order.totalCents,
    status: order.status,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    version: order.version,
  };
}
