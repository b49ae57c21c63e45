/**
 * gRPC load — constant arrival rate (open model): RATE creations/s plus RATE × READS_PER_WRITE reads/s for
 * LOAD_DURATION, and the freshness probe. Pass = all three SLO thresholds hold at the expected traffic.
 *
 *   compose: docker compose --profile load run --rm k6 run /scripts/grpc/load.ts
 *   native:  k6 run loadtest/k6/grpc/load.ts   (settings: -e NAME=value, see docs/load-testing.md)
 */
import { buildOptions } from '../config/scenarios.ts';
import type { SeedData } from '../lib/runtime.ts';
import { settings, slo } from '../lib/runtime.ts';
import { createOrders } from '../lib/grpcOrders.ts';
import { summaryHandler } from '../lib/summary.ts';

export { createOrders, probeFreshness, readOrders, setup } from '../lib/grpcOrders.ts';

export const options = buildOptions('load', 'grpc', settings, slo);

/** Used when the CLI overrides the scenarios (e.g. `k6 run --vus 1 --iterations 1`). */
export default function (data: SeedData): void {
  createOrders(data);
}

export const handleSummary = summaryHandler('grpc', 'load', settings, slo);
