import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** Repo root from dist/service/test/support (compiled) or service/test/support (source). */
export const repoRoot = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../../..' : '../../..',
);
export const rulesDir = path.join(repoRoot, 'prometheus', 'rules');
export const ruleTestsDir = path.join(repoRoot, 'prometheus', 'tests');
export const dashboardsDir = path.join(repoRoot, 'dashboards');

export interface RuleFile {
  groups: {
    name: string;
    rules: {
      record?: string;
      alert?: string;
      expr: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }[];
  }[];
}

export function ruleFiles(): string[] {
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => path.join(rulesDir, f));
}

export function loadRules(): { file: string; rule: RuleFile['groups'][number]['rules'][number] }[] {
  return ruleFiles().flatMap((file) =>
    (parse(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((g) =>
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
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'))) {
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
 * Replaces Grafana variables the way Grafana does when "All" is selected (allValue `.*`).
 * `$__rate_interval` becomes `rateInterval` (Grafana: max(4 × scrape interval, step + scrape)).
 */
export function substituteGrafanaVariables(expr: string, rateInterval: string): string {
  return expr
    .replace(/\$__rate_interval/g, rateInterval)
    .replace(/\$__interval/g, rateInterval)
    .replace(/\$(job|role|instance)\b/g, '.*');
}
