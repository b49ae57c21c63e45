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
}

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
