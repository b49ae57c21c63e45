import { InvalidTransitionError, NotFoundError } from './errors';
import { type Order, transition } from './order';
import type { StatusChange } from './useCases';

/** What fulfilment needs from storage (store/orderRepository.ts implements it with pg). */
export interface FulfilmentRepository {
  findById(id: string): Promise<Order | null>;
  /**
   * A status change for a consumed event, effective once: locks the order, records
   * `consumed.eventId` as processed and stores the change in one transaction. When the id was
   * already recorded nothing changes (`duplicate`); when the order does not exist nothing is
   * written (`not_found`).
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

/** The payment/inventory step an order passes before it is confirmed. */
export interface FulfilmentStep {
  attempt(order: Order, eventId: string): Promise<'approved' | 'declined'>;
}

export type FulfilmentResult =
  | { readonly outcome: 'confirmed' | 'rejected'; readonly order: Order }
  | { readonly outcome: 'duplicate' }
  | { readonly outcome: 'skipped'; readonly reason: 'cancelled' };

/**
 * Fulfils accepted orders, once per event: the effect and the event id are stored in one
 * transaction, so a redelivered event changes nothing. Throws NotFoundError for an unknown order
 * and InvalidTransitionError for an order already settled by another event (both never succeed).
 */
export class FulfilOrders {
  private readonly now: () => Date;

  constructor(
    private readonly deps: { repository: FulfilmentRepository; step: FulfilmentStep; now?: () => Date },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  async onOrderCreated(eventId: string, orderId: string): Promise<FulfilmentResult> {
    const { repository, step } = this.deps;
    const consumed: ConsumedEvent = { eventId, eventType: 'order.created.v1' };
    // Cheap early exit so a redelivery does not run the (slow) fulfilment step again.
    if (await repository.isEventProcessed(eventId)) return { outcome: 'duplicate' };
    const order = await repository.findById(orderId);
    if (!order) throw new NotFoundError('order', orderId);
    // A customer may cancel before fulfilment: a normal race, not a broken message.
    if (order.status === 'cancelled') return this.skipCancelled(consumed);
    const verdict = order.status === 'pending' ? await step.attempt(order, eventId) : 'approved';
    const target = verdict === 'approved' ? 'confirmed' : 'rejected';
    try {
      const result = await repository.changeStatusOnce(consumed, orderId, (current) => ({
        order: transition(current, target, this.now()),
      }));
      if (result.kind === 'not_found') throw new NotFoundError('order', orderId);
      if (result.kind === 'duplicate') return { outcome: 'duplicate' };
      return { outcome: target, order: result.order };
    } catch (err) {
      if (err instanceof InvalidTransitionError && err.from === 'cancelled')
        return this.skipCancelled(consumed);
      throw err;
    }
  }

  /** Events with no effect on the worker's side are only recorded, so they count as seen once. */
  async recordOnly(eventId: string, eventType: string): Promise<'recorded' | 'duplicate'> {
    const fresh = await this.deps.repository.recordProcessedEvent({ eventId, eventType }, 'recorded');
    return fresh ? 'recorded' : 'duplicate';
  }

  private async skipCancelled(consumed: ConsumedEvent): Promise<FulfilmentResult> {
    const fresh = await this.deps.repository.recordProcessedEvent(consumed, 'skipped_cancelled');
    return fresh ? { outcome: 'skipped', reason: 'cancelled' } : { outcome: 'duplicate' };
  }
}
