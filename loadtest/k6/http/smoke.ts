/**
 * HTTP smoke — every endpoint once per iteration with 1 VU and a check per promise (`checks` must be 100 %).
 * Run it first, after every deploy: load on a broken build is wasted time.
 *
 *   compose: docker compose --profile load run --rm k6 run /scripts/http/smoke.ts
 *   native:  k6 run loadtest/k6/http/smoke.ts   (settings: -e NAME=value, see docs/load-testing.md)
 */
import { buildOptions } from '../config/scenarios.ts';
import type { SeedData } from '../lib/runtime.ts';
import { settings, slo } from '../lib/runtime.ts';
import { smokeJourney } from '../lib/httpOrders.ts';
import { summaryHandler } from '../lib/summary.ts';

export { setup, smokeJourney } from '../lib/httpOrders.ts';

export const options = buildOptions('smoke', 'http', settings, slo);

/** Used when the CLI overrides the scenarios (e.g. `k6 run --vus 1 --iterations 1`). */
export default function (data: SeedData): void {
  smokeJourney(data);
}

export const handleSummary = summaryHandler('http', 'smoke', settings, slo);
