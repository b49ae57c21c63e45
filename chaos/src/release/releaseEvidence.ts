import { setTimeout as sleep } from 'node:timers/promises';
import type { PrometheusClient } from '../audit/prometheus';
import type { DrillContext, ReleaseEvidence } from '../drills/drill';
import type { ReleaseControl } from '../targets/target';
import { versionSeries } from './versionMetrics';

/** The target's release control, or a clear error naming what the drill needs. */
export function releaseControlOf(ctx: DrillContext, drill: string): ReleaseControl {
  const release = ctx.target.release;
  if (!release)
    throw new Error(
      `the ${drill} drill needs a target that runs API replicas as versions behind a weighted balancer; the ${ctx.target.kind} target has none`,
    );
  return release;
}

/**
 * Per-version request rate, 5xx rate and p99 over the drill, read from Prometheus after the load
 * (once a scrape after its last second has happened).
 */
export async function collectReleaseEvidence(
  prometheus: PrometheusClient,
  from: number,
  to: number,
  events: ReleaseEvidence['events'],
  scrapeIntervalS: number,
): Promise<ReleaseEvidence> {
  const wait = to + (scrapeIntervalS + 1) * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
  const series = await versionSeries(prometheus, from, to, 5);
  const versions = [...new Set(series.rate.map((s) => s.labels['version'] ?? ''))].filter(Boolean).sort();
  const pick = (list: typeof series.rate, version: string) =>
    list.find((s) => s.labels['version'] === version)?.points ?? [];
  return {
    byVersion: versions.map((version) => ({
      version,
      rate: pick(series.rate, version),
      errors: pick(series.errors, version),
      p99Ms: pick(series.p99Ms, version),
    })),
    events,
  };
}
