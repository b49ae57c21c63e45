import type { OrderEvent } from './events';
import type { Order } from './order';

/** What the use cases need from storage. The PostgreSQL adapter in store/ implements it. */
export interface OrderRepository {
  /**
   * Writes the order, its items, its outbox event and (when given) the idempotency key in one
   * transaction. When the key already exists nothing is written and the stored order is returned
   * with the request hash it was first used with.
   */
  create(command: CreateOrderCommand): Promise<CreateOrderResult>;
  findById(id: string): Promise<Order | null>;
  /** Newest first; `beforeSeq` continues after the last order of the previous page. */
  listByCustomer(customerId: string, limit: number, beforeSeq?: number): Promise<OrderPage>;
  /**
   * Locks the order, lets `change` decide its next state (or throw), and stores the result with
   * the event it returns, all in one transaction. Resolves to null when the order does not exist.
   */
  changeStatus(id: string, change: StatusChange): Promise<Order | null>;
  /**
   * changeStatus for a consumed event, effective once: records `consumed.eventId` as processed in
   * the same transaction as the change. When the id was already recorded nothing changes
   * (`duplicate`); when the order does not exist nothing is written (`not_found`).
   */
  changeStatusOnce(consumed: ConsumedEvent, id: string, change: StatusChange): Promise<OnceResult>;
  /** Records an event that has no effect beyond being seen; false when it was already recorded. */
  recordProcessedEvent(consumed: ConsumedEvent, outcome: string): Promise<boolean>;
  isEventProcessed(eventId: string): Promise<boolean>;
}

export interface ConsumedEvent {
  readonly eventId: string;
  readonly eventType: string;
}

export type OnceResult =
  | { readonly kind: 'applied'; readonly order: Order }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'not_found' };

export interface CreateOrderCommand {
  readonly order: Order;
  readonly event: OrderEvent;
  readonly idempotency?: { readonly key: string; readonly requestHash: string };
}

export type CreateOrderResult =
  | { readonly created: true; readonly order: Order }
  | { readonly created: false; readonly order: Order; readonly requestHash: string };

export interface OrderPage {
  readonly orders: readonly Order[];
  /** Sequence number of the last order returned, for the next page's cursor. */
  readonly lastSeq?: number;
  readonly hasMore: boolean;
}

export type StatusChange = (current: Order) => { order: Order; event?: OrderEvent };
