import type { PrometheusClient, RangeSeries } from '../audit/prometheus';
import type { VersionWindow } from './canaryAnalysis';

/**
 * PromQL that splits the API's RED metrics by release: every series is joined on (job, instance)
 * with orderlab_build_info for its `version` label. The canary analysis, the release drills' report
 * and the Overview dashboard's "by version" panels use these.
 */

/** The API routes a release is judged on (not /openapi.json, not unmatched paths). */
export const JUDGED_ROUTES = 'route=~"/v1/.*"';

const byVersion = (metric: string, selector: string, window: string): string =>
  `increase(${metric}{${selector}}[${window}]) * on (job, instance) group_left (version) orderlab_build_info`;

export function versionQueries(window: string): { requests: string; errors: string; p99Seconds: string } {
  const count = 'http_server_request_duration_seconds_count';
  return {
    requests: `sum by (version) (${byVersion(count, JUDGED_ROUTES, window)})`,
    errors: `sum by (version) (${byVersion(count, `${JUDGED_ROUTES},status_code=~"5.."`, window)})`,
    p99Seconds: `histogram_quantile(0.99, sum by (version, le) (${byVersion(
      'http_server_request_duration_seconds_bucket',
      JUDGED_ROUTES,
      window,
    )}))`,
  };
}

/** Requests, errors and p99 per version over the last `windowS` seconds (at `at`, default now). */
export async function readVersionWindows(
  prometheus: PrometheusClient,
  windowS: number,
  at?: number,
): Promise<Map<string, VersionWindow>> {
  const q = versionQueries(`${Math.round(windowS)}s`);
  const [requests, errors, p99] = await Promise.all([
    prometheus.instant(q.requests, at),
    prometheus.instant(q.errors, at),
    prometheus.instant(q.p99Seconds, at),
  ]);
  const windows = new Map<string, VersionWindow>();
  for (const r of requests) {
    const version = r.labels['version'];
    if (version === undefined) continue;
    const seconds = p99.find((p) => p.labels['version'] === version)?.value;
    windows.set(version, {
      requests: Math.round(r.value),
      errors: Math.round(errors.find((e) => e.labels['version'] === version)?.value ?? 0),
      p99Ms: seconds === undefined || !Number.isFinite(seconds) ? undefined : seconds * 1000,
    });
  }
  return windows;
}

/** Per-version series over the drill for the report: request rate, error rate (req/s) and p99 (ms). */
export async function versionSeries(
  prometheus: PrometheusClient,
  from: number,
  to: number,
  stepS: number,
): Promise<{ rate: RangeSeries[]; errors: RangeSeries[]; p99Ms: RangeSeries[] }> {
  // Three scrapes (native lab: 5 s apart) per point: a two-sample window often holds one sample.
  const windowS = Math.max(stepS * 3, 15);
  const q = versionQueries(`${windowS}s`);
  const perSecond = (query: string) => `${query} / ${windowS}`;
  const [rate, errors, p99] = await Promise.all([
    prometheus.range(perSecond(q.requests), from, to, stepS),
    prometheus.range(perSecond(q.errors), from, to, stepS),
    prometheus.range(q.p99Seconds, from, to, stepS),
  ]);
  return {
    rate,
    errors,
    p99Ms: p99.map((s) => ({
      labels: s.labels,
      points: s.points
        .filter((p) => Number.isFinite(p.value))
        .map((p) => ({ at: p.at, value: p.value * 1000 })),
    })),
  };
}

/**
 * Seconds between two scrapes of the service (the jobs that carry orderlab_build_info): the
 * release drills' judgement windows and detection budget are built on it (native lab 5 s,
 * compose 10 s).
 */
export async function serviceScrapeIntervalS(prometheus: PrometheusClient): Promise<number> {
  const jobs = (await prometheus.instant('count by (job) (orderlab_build_info)'))
    .map((s) => s.labels['job'])
    .filter((j): j is string => j !== undefined);
  if (jobs.length === 0)
    throw new Error('prometheus has no orderlab_build_info yet: is the service scraped?');
  return prometheus.scrapeIntervalS(jobs);
}
