/**
 * gRPC soak — constant arrival rate SOAK_RATE (default 80 % of RATE) for SOAK_DURATION (default 2h): memory, pool,
 * outbox backlog and consumer lag must stay flat. Thresholds abort after 5 min of evaluation delay.
 *
 *   compose: docker compose --profile load run --rm k6 run /scripts/grpc/soak.ts
 *   native:  k6 run loadtest/k6/grpc/soak.ts   (settings: -e NAME=value, see docs/load-testing.md)
 */
import { buildOptions } from '../config/scenarios.ts';
import type { SeedData } from '../lib/runtime.ts';
import { settings, slo } from '../lib/runtime.ts';
import { createOrders } from '../lib/grpcOrders.ts';
import { summaryHandler } from '../lib/summary.ts';

export { createOrders, probeFreshness, readOrders, setup } from '../lib/grpcOrders.ts';

export const options = buildOptions('soak', 'grpc', settings, slo);

/** Used when the CLI overrides the scenarios (e.g. `k6 run --vus 1 --iterations 1`). */
export default function (data: SeedData): void {
  createOrders(data);
}

export const handleSummary = summaryHandler('grpc', 'soak', settings, slo);
