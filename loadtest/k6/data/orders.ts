/**
 * Test data: order bodies, customer ids and idempotency keys. Pure module (node:test checks that
 * bodies satisfy the service's rules and keys never repeat).
 */

export interface OrderItemBody {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface NewOrderBody {
  readonly customerId: string;
  readonly items: readonly OrderItemBody[];
  readonly currency: string;
}

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
export const SKU_COUNT = 200;

/** A random integer in [min, max]. */
function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** A run id that keeps keys and customers of concurrent or repeated runs apart. */
export function newRunId(now: number, random: () => number = Math.random): string {
  return `${now.toString(36)}${Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
}

export function customerId(runId: string, index: number): string {
  return `k6-${runId}-c${index}`;
}

/**
 * Idempotency key unique per request: the run, the scenario and its iteration number across all
 * VUs (k6's exec.scenario.iterationInTest) identify the iteration; the purpose tells apart several
 * creations in one iteration.
 */
export function idempotencyKey(runId: string, scenario: string, iteration: number, purpose: string): string {
  return `k6-${runId}-${scenario}-${iteration}-${purpose}`;
}

/** An order of 1..3 lines over a fixed catalogue of SKUs, prices 1.00..99.99. */
export function newOrderBody(customer: string, random: () => number = Math.random): NewOrderBody {
  const lines = between(random, 1, 3);
  const items: OrderItemBody[] = [];
  for (let i = 0; i < lines; i += 1) {
    items.push({
      sku: `SKU-${String(between(random, 1, SKU_COUNT)).padStart(4, '0')}`,
      quantity: between(random, 1, 5),
      unitPriceCents: between(random, 100, 9999),
    });
  }
  return {
    customerId: customer,
    items,
    currency: CURRENCIES[between(random, 0, CURRENCIES.length - 1)] ?? 'EUR',
  };
}

/** The same order in the gRPC request's field names (proto snake_case). */
export function toGrpcCreateRequest(body: NewOrderBody, key: string): Record<string, unknown> {
  return {
    customer_id: body.customerId,
    items: body.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      unit_price_cents: item.unitPriceCents,
    })),
    currency: body.currency,
    idempotency_key: key,
  };
}

/** 'confirmed', 'CONFIRMED' and 'ORDER_STATUS_CONFIRMED' (a proto enum name) all mean confirmed. */
export function normalizeStatus(status: unknown): string {
  return typeof status === 'string' ? status.toLowerCase().replace(/^order_status_/, '') : '';
}

/**
 * Final for the freshness SLO: the pipeline has processed the order. A rejection by the simulated
 * payment step is the pipeline doing its job, not a stale order.
 */
export function isProcessed(status: unknown): boolean {
  const s = normalizeStatus(status);
  return s === 'confirmed' || s === 'rejected' || s === 'cancelled';
}
