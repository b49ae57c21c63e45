/**
 * gRPC stress — breakpoint search: the arrival rate ramps from STRESS_START_RATE to STRESS_MAX_RATE over
 * STRESS_RAMP_DURATION; every SLO threshold has abortOnFail (after 30 s), so the run stops near the
 * breakpoint and the summary prints the write rate at which it ended.
 *
 *   compose: docker compose --profile load run --rm k6 run /scripts/grpc/stress.ts
 *   native:  k6 run loadtest/k6/grpc/stress.ts   (settings: -e NAME=value, see docs/load-testing.md)
 */
import { buildOptions, stressStages } from '../config/scenarios.ts';
import type { SeedData } from '../lib/runtime.ts';
import { settings, slo } from '../lib/runtime.ts';
import { createOrders } from '../lib/grpcOrders.ts';
import { summaryHandler } from '../lib/summary.ts';

export { createOrders, probeFreshness, readOrders, setup } from '../lib/grpcOrders.ts';

export const options = buildOptions('stress', 'grpc', settings, slo);

/** Used when the CLI overrides the scenarios (e.g. `k6 run --vus 1 --iterations 1`). */
export default function (data: SeedData): void {
  createOrders(data);
}

export const handleSummary = summaryHandler('grpc', 'stress', settings, slo, {
  startRate: settings.stressStartRate,
  stages: stressStages(settings),
});
