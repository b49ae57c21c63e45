/**
 * Follows one accepted order until the pipeline has processed it (relay → Kafka → worker) and
 * records whether that took less than the freshness SLO threshold. The measured delay starts when
 * the creation response arrived and ends at the first read showing a final status, so it
 * overstates the true delay by up to one poll interval plus one read.
 */
import { sleep } from 'k6';
import { isProcessed } from '../data/orders.ts';
import { confirmationDelay, freshnessWithinSlo, settings, slo } from './runtime.ts';

/** Polls `readStatus` until the order is processed or twice the threshold passed; true if within SLO. */
export function followUntilProcessed(
  acceptedAt: number,
  readStatus: () => unknown,
  protocol: string,
): boolean {
  const thresholdMs = slo.freshness.thresholdSeconds * 1000;
  const deadline = acceptedAt + 2 * thresholdMs;
  while (Date.now() < deadline) {
    if (isProcessed(readStatus())) {
      const delay = Date.now() - acceptedAt;
      confirmationDelay.add(delay, { protocol });
      const within = delay <= thresholdMs;
      freshnessWithinSlo.add(within, { protocol });
      return within;
    }
    sleep(settings.freshnessPollMs / 1000);
  }
  freshnessWithinSlo.add(false, { protocol });
  return false;
}
