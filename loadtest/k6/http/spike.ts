/**
 * HTTP spike — RATE for SPIKE_WARM_DURATION, a jump to RATE × SPIKE_FACTOR in 10 s held for SPIKE_HOLD_DURATION,
 * back to RATE and SPIKE_RECOVERY_DURATION to recover. Expect shedding (503 + Retry-After) during the
 * spike; the questions are whether accepted requests stay fast and whether the service recovers.
 *
 *   compose: docker compose --profile load run --rm k6 run /scripts/http/spike.ts
 *   native:  k6 run loadtest/k6/http/spike.ts   (settings: -e NAME=value, see docs/load-testing.md)
 */
import { buildOptions, spikeStages } from '../config/scenarios.ts';
import type { SeedData } from '../lib/runtime.ts';
import { settings, slo } from '../lib/runtime.ts';
import { createOrders } from '../lib/httpOrders.ts';
import { summaryHandler } from '../lib/summary.ts';

export { createOrders, probeFreshness, readOrders, setup } from '../lib/httpOrders.ts';

export const options = buildOptions('spike', 'http', settings, slo);

/** Used when the CLI overrides the scenarios (e.g. `k6 run --vus 1 --iterations 1`). */
export default function (data: SeedData): void {
  createOrders(data);
}

export const handleSummary = summaryHandler('http', 'spike', settings, slo, {
  startRate: settings.writeRate,
  stages: spikeStages(settings),
});
