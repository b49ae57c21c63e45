import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { IdempotencyMismatchError, NotFoundError, ValidationError } from './errors';
import { orderEvent } from './events';
import { newUuidV7, isUuid } from './ids';
import { type NewOrderInput, type Order, transition, validateNewOrder } from './order';
import type { OrderEvent } from './events';

/** What the order use cases need from storage (store/orderRepository.ts implements it with pg). */
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

export const LIST_LIMITS = { defaultLimit: 20, maxLimit: 100 } as const;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface OrderUseCasesDeps {
  readonly repository: OrderRepository;
  /** Secret that signs pagination cursors so a tampered cursor is refused, not misread. */
  readonly cursorSecret: string;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

export interface CreateOrderOutcome {
  readonly order: Order;
  /** False when an earlier request with the same Idempotency-Key created the order. */
  readonly created: boolean;
}

export interface ListOrdersQuery {
  readonly customerId: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ListOrdersResult {
  readonly orders: readonly Order[];
  readonly nextCursor: string | null;
}

/** The order service's use cases; HTTP and gRPC are thin doors onto these. */
export class OrderUseCases {
  private readonly repository: OrderRepository;
  private readonly cursorSecret: string;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(deps: OrderUseCasesDeps) {
    this.repository = deps.repository;
    this.cursorSecret = deps.cursorSecret;
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => newUuidV7());
  }

  async createOrder(input: NewOrderInput, idempotencyKey?: string): Promise<CreateOrderOutcome> {
    if (idempotencyKey !== undefined) checkIdempotencyKey(idempotencyKey);
    const totalCents = validateNewOrder(input);
    const at = this.now();
    const order: Order = {
      id: this.newId(),
      customerId: input.customerId,
      items: input.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
      currency: input.currency,
      totalCents,
      status: 'pending',
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    const event = orderEvent('order.created.v1', order, this.newId(), at);
    const idempotency =
      idempotencyKey === undefined ? undefined : { key: idempotencyKey, requestHash: requestHash(input) };
    const result = await this.repository.create(
      idempotency ? { order, event, idempotency } : { order, event },
    );
    if (result.created) return { order: result.order, created: true };
    if (result.requestHash !== idempotency?.requestHash) throw new IdempotencyMismatchError(idempotencyKey!);
    return { order: result.order, created: false };
  }

  async getOrder(id: string): Promise<Order> {
    checkOrderId(id);
    const order = await this.repository.findById(id);
    if (!order) throw new NotFoundError('order', id);
    return order;
  }

  async listOrders(query: ListOrdersQuery): Promise<ListOrdersResult> {
    const problems = [];
    if (query.customerId.length === 0) problems.push({ pointer: 'customerId', detail: 'is required' });
    const limit = query.limit ?? LIST_LIMITS.defaultLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMITS.maxLimit) {
      problems.push({ pointer: 'limit', detail: `must be an integer 1..${LIST_LIMITS.maxLimit}` });
    }
    let beforeSeq: number | undefined;
    if (query.cursor !== undefined && query.cursor !== '') {
      beforeSeq = this.decodeCursor(query.customerId, query.cursor);
      if (beforeSeq === undefined) {
        problems.push({ pointer: 'cursor', detail: 'is not a cursor this service issued for this customer' });
      }
    }
    if (problems.length > 0) throw new ValidationError(problems);
    const page = await this.repository.listByCustomer(query.customerId, limit, beforeSeq);
    const nextCursor =
      page.hasMore && page.lastSeq !== undefined ? this.encodeCursor(query.customerId, page.lastSeq) : null;
    return { orders: page.orders, nextCursor };
  }

  async cancelOrder(id: string): Promise<Order> {
    checkOrderId(id);
    const updated = await this.repository.changeStatus(id, (current) => {
      const at = this.now();
      const order = transition(current, 'cancelled', at);
      return { order, event: orderEvent('order.cancelled.v1', order, this.newId(), at) };
    });
    if (!updated) throw new NotFoundError('order', id);
    return updated;
  }

  private encodeCursor(customerId: string, seq: number): string {
    const body = Buffer.from(JSON.stringify({ s: seq }), 'utf8');
    return `${body.toString('base64url')}.${this.sign(customerId, body).toString('base64url')}`;
  }

  /** Returns undefined for anything not signed by this service for this customer. */
  private decodeCursor(customerId: string, cursor: string): number | undefined {
    const [bodyPart, sigPart, ...rest] = cursor.split('.');
    if (!bodyPart || !sigPart || rest.length > 0) return undefined;
    const body = Buffer.from(bodyPart, 'base64url');
    const sig = Buffer.from(sigPart, 'base64url');
    const expected = this.sign(customerId, body);
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return undefined;
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      const seq = (parsed as { s?: unknown }).s;
      return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(customerId: string, body: Buffer): Buffer {
    return createHmac('sha256', this.cursorSecret)
      .update(customerId)
      .update('\0')
      .update(body)
      .digest()
      .subarray(0, 16);
  }
}

function checkOrderId(id: string): void {
  if (!isUuid(id)) throw new ValidationError([{ pointer: 'id', detail: `'${truncate(id)}' is not a UUID` }]);
}

function checkIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
    throw new ValidationError([
      {
        pointer: 'Idempotency-Key',
        detail: `must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
      },
    ]);
  }
}

/** Hash of the request's meaning (field order and defaults do not matter). */
export function requestHash(input: NewOrderInput): string {
  const canonical = JSON.stringify([
    input.customerId,
    input.currency,
    input.items.map((i) => [i.sku, i.quantity, i.unitPriceCents]),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
