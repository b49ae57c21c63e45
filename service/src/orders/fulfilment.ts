import { InvalidTransitionError, NotFoundError } from './errors';
import { type Order, transition } from './order';
import type { ConsumedEvent, OrderRepository } from './ports';

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
    private readonly deps: { repository: OrderRepository; step: FulfilmentStep; now?: () => Date },
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
