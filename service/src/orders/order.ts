import { ISO_4217_CURRENCIES } from './currencies';
import { type FieldProblem, InvalidTransitionError, ValidationError } from './errors';

export const ORDER_LIMITS = {
  minItems: 1,
  maxItems: 100,
  minQuantity: 1,
  maxQuantity: 10_000,
  maxSkuLength: 64,
  maxCustomerIdLength: 64,
} as const;

export type OrderStatus = 'pending' | 'confirmed' | 'cancelled' | 'rejected';

export interface OrderItem {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface Order {
  readonly id: string;
  readonly customerId: string;
  readonly items: readonly OrderItem[];
  readonly currency: string;
  readonly totalCents: number;
  readonly status: OrderStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Incremented on every status change; lets writers detect a concurrent update. */
  readonly version: number;
}

export interface NewOrderInput {
  readonly customerId: string;
  readonly items: readonly OrderItem[];
  readonly currency: string;
}

const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['confirmed', 'cancelled', 'rejected'],
  confirmed: [],
  cancelled: [],
  rejected: [],
};

const SKU_PATTERN = /^[\x21-\x7e]+$/; // printable ASCII, no spaces

/**
 * Checks every invariant of a new order and lists every problem at once, so a client fixes its
 * request in one round trip. Returns the total in minor units.
 */
export function validateNewOrder(input: NewOrderInput): number {
  const problems: FieldProblem[] = [];
  if (input.customerId.length === 0 || input.customerId.length > ORDER_LIMITS.maxCustomerIdLength) {
    problems.push({
      pointer: '/customerId',
      detail: `must be 1..${ORDER_LIMITS.maxCustomerIdLength} characters`,
    });
  }
  if (!ISO_4217_CURRENCIES.has(input.currency)) {
    problems.push({
      pointer: '/currency',
      detail: `'${input.currency}' is not an active ISO 4217 currency code`,
    });
  }
  const n = input.items.length;
  if (n < ORDER_LIMITS.minItems || n > ORDER_LIMITS.maxItems) {
    problems.push({
      pointer: '/items',
      detail: `must hold ${ORDER_LIMITS.minItems}..${ORDER_LIMITS.maxItems} items, got ${n}`,
    });
  }
  let total = 0n;
  input.items.forEach((item, i) => {
    const at = `/items/${i}`;
    if (item.sku.length === 0 || item.sku.length > ORDER_LIMITS.maxSkuLength || !SKU_PATTERN.test(item.sku)) {
      problems.push({
        pointer: `${at}/sku`,
        detail: `must be 1..${ORDER_LIMITS.maxSkuLength} printable characters without spaces`,
      });
    }
    if (
      !Number.isInteger(item.quantity) ||
      item.quantity < ORDER_LIMITS.minQuantity ||
      item.quantity > ORDER_LIMITS.maxQuantity
    ) {
      problems.push({
        pointer: `${at}/quantity`,
        detail: `must be an integer ${ORDER_LIMITS.minQuantity}..${ORDER_LIMITS.maxQuantity}`,
      });
    }
    if (!Number.isSafeInteger(item.unitPriceCents) || item.unitPriceCents < 0) {
      problems.push({
        pointer: `${at}/unitPriceCents`,
        detail: 'must be a non-negative integer in minor units',
      });
    }
    if (Number.isSafeInteger(item.quantity) && Number.isSafeInteger(item.unitPriceCents)) {
      total += BigInt(item.quantity) * BigInt(item.unitPriceCents);
    }
  });
  // Totals are stored as BIGINT and sent as JSON numbers: keep them exact in both.
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
    problems.push({ pointer: '/items', detail: 'order total exceeds the largest representable amount' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return Number(total);
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Returns the order in its new status, or throws when the lifecycle forbids the move. */
export function transition(order: Order, to: OrderStatus, at: Date): Order {
  if (!canTransition(order.status, to)) throw new InvalidTransitionError(order.status, to);
  return { ...order, status: to, updatedAt: at, version: order.version + 1 };
}
