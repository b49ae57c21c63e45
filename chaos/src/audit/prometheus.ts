/** Minimal Prometheus HTTP API client (instant and range queries, rules) used by the audit. */

export interface SeriesPoint {
  readonly at: number; // epoch ms
  readonly value: number;
}

export interface RangeSeries {
  readonly labels: Record<string, string>;
  readonly points: SeriesPoint[];
}

export interface AlertRuleInfo {
  readonly name: string;
  /** The rule's `for` duration in seconds. */
  readonly forS: number;
  readonly state: string;
}

export class PrometheusClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  private async get<T>(path: string, params: Record<string, string>): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  }

  async ready(): Promise<boolean> {
    try {
      const response = await fetch(new URL('/-/ready', this.baseUrl), { signal: AbortSignal.timeout(2000) });
      return response.ok;
    } catch {
      return false;
    }
  }

  /** Instant query; returns the value of each series (empty when no data). */
  async instant(query: string, at?: number): Promise<{ labels: Record<string, string>; value: number }[]> {
    const data = await this.get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      '/api/v1/query',
      { query, ...(at !== undefined ? { time: String(at / 1000) } : {}) },
    );
    return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  async range(query: string, from: number, to: number, stepS: number): Promise<RangeSeries[]> {
    const data = await this.get<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(
      '/api/v1/query_range',
      { query, start: String(from / 1000), end: String(to / 1000), step: String(stepS) },
    );
    return data.result.map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => ({ at: t * 1000, value: Number(v) })),
    }));
  }

  /**
   * The longest scrape interval Prometheus uses for its active targets (of `jobs` when given), in
   * seconds: nothing about a target can change in Prometheus faster than that.
   */
  async scrapeIntervalS(jobs?: readonly string[]): Promise<number> {
    const data = await this.get<{
      activeTargets: { labels: Record<string, string>; scrapeInterval: string }[];
    }>('/api/v1/targets', { state: 'active' });
    const intervals = data.activeTargets
      .filter((t) => !jobs || jobs.includes(t.labels['job'] ?? ''))
      .map((t) => parsePrometheusDuration(t.scrapeInterval));
    if (intervals.length === 0)
      throw new Error(`prometheus scrapes no active target${jobs ? ` of job ${jobs.join(', ')}` : ''}`);
    return Math.max(...intervals);
  }

  async alertRules(): Promise<AlertRuleInfo[]> {
    const data = await this.get<{
      groups: { rules: { type: string; name: string; duration?: number; state?: string }[] }[];
    }>('/api/v1/rules', { type: 'alert' });
    return data.groups.flatMap((g) =>
      g.rules
        .filter((r) => r.type === 'alerting')
        .map((r) => ({ name: r.name, forS: r.duration ?? 0, state: r.state ?? 'unknown' })),
    );
  }
}

const DURATION_UNITS_S: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};

/** A Prometheus duration (`10s`, `1m30s`, `500ms`) in seconds. */
export function parsePrometheusDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`not a Prometheus duration: ${JSON.stringify(text)}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNITS_S[unit as string]!, 0);
}

/** Sums several series point-wise (by timestamp) into one. */
export function sumSeries(series: readonly RangeSeries[]): SeriesPoint[] {
  const byTime = new Map<number, number>();
  for (const s of series)
    for (const p of s.points) if (!Number.isNaN(p.value)) byTime.set(p.at, (byTime.get(p.at) ?? 0) + p.value);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([at, value]) => ({ at, value }));
}

export interface AlertTimeline {
  readonly name: string;
  /** First moment the alert was seen firing, epoch ms. */
  readonly firedAt?: number;
  /** First moment after firing when it was no longer firing. */
  readonly resolvedAt?: number;
  readonly pendingSeen: boolean;
}

/**
 * Reads an ALERTS range result (firing and pending series of one alert) into when it fired and
 * resolved. Pure: the step's points are the evidence.
 */
export function alertTimeline(
  name: string,
  series: readonly RangeSeries[],
  to: number,
  stepS: number,
): AlertTimeline {
  const firing = new Set<number>();
  let pendingSeen = false;
  for (const s of series) {
    if (s.labels['alertname'] !== name) continue;
    if (s.labels['alertstate'] === 'pending') pendingSeen = pendingSeen || s.points.some((p) => p.value > 0);
    if (s.labels['alertstate'] === 'firing') for (const p of s.points) if (p.value > 0) firing.add(p.at);
  }
  const firedAt = [...firing].sort((a, b) => a - b)[0];
  if (firedAt === undefined) return { name, pendingSeen };
  let resolvedAt: number | undefined;
  for (let t = firedAt; t <= to; t += stepS * 1000) {
    if (!firing.has(t)) {
      resolvedAt = t;
      break;
    }
  }
  return { name, firedAt, ...(resolvedAt !== undefined ? { resolvedAt } : {}), pendingSeen };
}
