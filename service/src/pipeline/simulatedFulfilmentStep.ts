import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Order } from '../orders/order';
import type { FulfilmentStep } from '../orders/fulfilment';

/**
 * Stands in for payment and inventory: waits `latencyMs`, then declines a `failureRate` share of
 * orders. The decision hashes the seed with the event id, so it is random across orders but the
 * same for a redelivered event and for a rerun with the same seed.
 */
export class SimulatedFulfilmentStep implements FulfilmentStep {
  constructor(private readonly options: { latencyMs: number; failureRate: number; seed: string }) {}

  async attempt(_order: Order, eventId: string): Promise<'approved' | 'declined'> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    return declines(this.options.seed, eventId, this.options.failureRate) ? 'declined' : 'approved';
  }
}

/** Deterministic Bernoulli draw: the first 32 bits of sha256(seed:eventId) as a fraction. */
export function declines(seed: string, eventId: string, failureRate: number): boolean {
  if (failureRate <= 0) return false;
  if (failureRate >= 1) return true;
  const draw = createHash('sha256').update(`${seed}:${eventId}`).digest().readUInt32BE(0) / 2 ** 32;
  return draw < failureRate;
}
