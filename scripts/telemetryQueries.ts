import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * The PromQL the repo ships — dashboard panel queries and Prometheus rules — and a check that
 * each returns data from a live Prometheus. Used by the unit tests (static checks), the lab test
 * (live check) and `npm run check:queries`.
 */

/** Repo root from dist/scripts (compiled) or scripts (source). */
export const repoRoot = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..',
);
export const rulesDir = path.join(repoRoot, 'prometheus', 'rules');
export const ruleTestsDir = path.join(repoRoot, 'prometheus', 'tests');
export const dashboardsDir = path.join(repoRoot, 'dashboards');

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function ruleFiles(): string[] {
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(rulesDir, f));
}

export function loadRules(): { file: string; rule: Rule }[] {
  return ruleFiles().flatMap((file) =>
    (parse(readFileSync(file, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) =>
      g.rules.map((rule) => ({ file, rule })),
    ),
  );
}

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

interface PanelJson {
  title?: string;
  targets?: { expr?: string }[];
  panels?: PanelJson[];
}

/** Every PromQL expression of every panel (rows included) of every dashboard. */
export function dashboardQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const file of readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const dashboard = JSON.parse(readFileSync(path.join(dashboardsDir, file), 'utf8')) as {
      title: string;
      panels: PanelJson[];
    };
    const walk = (panels: PanelJson[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? [])
          if (t.expr) out.push({ dashboard: dashboard.title, panel: p.title ?? '', expr: t.expr });
        walk(p.panels ?? []);
      }
    };
    walk(dashboard.panels);
  }
  return out;
}

/**
 * Replaces Grafana variables the way Grafana does with "All" selected (allValue `.*`);
 * `$__rate_interval` becomes `rateInterval` (Grafana: max(4 × scrape interval, step + scrape)).
 */
export function substituteGrafanaVariables(expr: string, rateInterval: string): string {
  return expr
    .replace(/\$__rate_interval/g, rateInterval)
    .replace(/\$__interval/g, rateInterval)
    .replace(/\$(job|role|instance)\b/g, '.*');
}

export interface QueryCheck {
  readonly source: string;
  readonly expr: string;
  readonly series: number;
  readonly error?: string;
}

/** Every shipped expression with where it comes from; alerts are excluded (they return data only when firing). */
export function shippedQueries(rateInterval: string): { source: string; expr: string }[] {
  return [
    ...dashboardQueries().map((q) => ({
      source: `dashboard "${q.dashboard}" / panel "${q.panel}"`,
      expr: substituteGrafanaVariables(q.expr, rateInterval),
    })),
    ...loadRules()
      .filter(({ rule }) => rule.record)
      .map(({ file, rule }) => ({
        source: `${path.basename(file)} / record ${rule.record}${rule.labels?.['slo'] ? `{slo="${rule.labels['slo']}"}` : ''}`,
        expr: rule.expr,
      })),
  ];
}

/** Runs one instant query; resolves to the number of series (or the error Prometheus gave). */
export async function countSeries(
  prometheusUrl: string,
  expr: string,
  timeoutMs = 10_000,
): Promise<QueryCheck> {
  try {
    const res = await fetch(`${prometheusUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success')
      return { source: '', expr, series: 0, error: body.error ?? `HTTP ${res.status}` };
    return { source: '', expr, series: body.data?.result.length ?? 0 };
  } catch (err) {
    return { source: '', expr, series: 0, error: (err as Error).message };
  }
}

export async function checkShippedQueries(
  prometheusUrl: string,
  rateInterval: string,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<QueryCheck[]> {
  const queries = shippedQueries(rateInterval);
  const results: QueryCheck[] = [];
  for (const q of queries) {
    results.push({ ...(await countSeries(prometheusUrl, q.expr)), source: q.source });
    onProgress(results.length, queries.length);
  }
  return results;
}
