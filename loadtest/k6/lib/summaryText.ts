/**
 * Readable end-of-test summary: the SLO verdicts first, then per-operation latency, then the
 * signs that the run itself was not valid (dropped iterations). Pure module: handleSummary
 * (lib/summary.ts) calls it in k6, node:test calls it with a recorded summary object.
 */
import type { Stage } from 'k6/options';
import { INFORMATIONAL_THRESHOLD } from '../config/scenarios.ts';
import { durationSeconds } from '../config/settings.ts';

export interface SummaryMetric {
  readonly type: string;
  readonly contains?: string;
  readonly values: Readonly<Record<string, number>>;
  readonly thresholds?: Readonly<Record<string, { readonly ok: boolean }>>;
}

export interface SummaryData {
  readonly metrics: Readonly<Record<string, SummaryMetric>>;
  readonly state?: { readonly testRunDurationMs?: number };
}

/** A write-rate ramp (per second), used to say at which rate a stress run ended. */
export interface RampDescription {
  readonly startRate: number;
  readonly stages: readonly Stage[];
}

export interface SummaryContext {
  readonly title: string;
  /** Threshold metric key → SLO label ('availability', 'latency', 'freshness'). */
  readonly sloLabels: Readonly<Record<string, string>>;
  readonly ramp?: RampDescription;
}

/** Arrival rate of a ramp after `seconds` (k6 interpolates linearly inside a stage). */
export function rateAt(ramp: RampDescription, seconds: number): number {
  let from = ramp.startRate;
  let elapsed = 0;
  for (const stage of ramp.stages) {
    const length = durationSeconds(stage.duration);
    if (seconds <= elapsed + length) {
      return length === 0 ? stage.target : from + ((stage.target - from) * (seconds - elapsed)) / length;
    }
    elapsed += length;
    from = stage.target;
  }
  return from;
}

/** The value a threshold expression compares: 'p(99)<250' → values['p(99)']. */
export function observedValue(
  expression: string,
  values: Readonly<Record<string, number>>,
): number | undefined {
  const match = /^\s*([a-z]+(?:\([\d.]+\))?)\s*(?:<=|>=|==|!=|<|>)/.exec(expression);
  if (match === null) return undefined;
  return values[match[1] ?? ''];
}

function formatNumber(value: number | undefined, isTime: boolean): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (isTime) return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(1)}ms`;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) < 0.01 ? value.toExponential(2) : value.toFixed(4);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      '  ' +
      row
        .map((cell, i) => pad(cell, widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
  );
}

/** Renders the summary text; the first line carries PASS or FAIL for people scanning CI logs. */
export function renderTextSummary(data: SummaryData, context: SummaryContext): string {
  const slo: string[][] = [['', 'SLO', 'threshold', 'observed', 'metric']];
  const other: string[][] = [];
  const operations: string[][] = [['operation', 'count', 'med', 'p(95)', 'p(99)', 'max']];
  let failed = 0;
  for (const [name, metric] of Object.entries(data.metrics)) {
    const isTime = metric.contains === 'time';
    const operation = /\{operation:([^}]+)\}$/.exec(name);
    if (operation !== null) {
      const v = metric.values;
      operations.push([
        operation[1] ?? name,
        formatNumber(v['count'], false),
        formatNumber(v['med'], true),
        formatNumber(v['p(95)'], true),
        formatNumber(v['p(99)'], true),
        formatNumber(v['max'], true),
      ]);
    }
    for (const [expression, result] of Object.entries(metric.thresholds ?? {})) {
      if (expression === INFORMATIONAL_THRESHOLD) continue;
      if (!result.ok) failed += 1;
      const row = [
        result.ok ? 'ok' : 'FAIL',
        context.sloLabels[name] ?? '',
        expression,
        formatNumber(observedValue(expression, metric.values), isTime),
        name,
      ];
      if (context.sloLabels[name] === undefined) other.push(row);
      else slo.push(row);
    }
  }
  const lines: string[] = [];
  const runSeconds = (data.state?.testRunDurationMs ?? 0) / 1000;
  lines.push(
    `orderlab k6 ${context.title}: ${failed === 0 ? 'PASS' : `FAIL (${failed} threshold(s) crossed)`}`,
  );
  lines.push(`  ran ${runSeconds.toFixed(1)}s`);
  lines.push('', 'SLO thresholds (config/slo.json)', ...table(slo));
  if (other.length > 0) lines.push('', 'Other thresholds', ...table(other));
  if (operations.length > 1) lines.push('', 'Latency per operation', ...table(operations));

  const bad = data.metrics['orderlab_slo_bad_requests']?.values;
  if (bad !== undefined) {
    lines.push(
      '',
      `Requests counted against availability: ${bad['passes'] ?? 0} of ${(bad['passes'] ?? 0) + (bad['fails'] ?? 0)}`,
    );
  }
  const checks = data.metrics['checks']?.values;
  if (checks !== undefined)
    lines.push(`Checks: ${checks['passes'] ?? 0} passed, ${checks['fails'] ?? 0} failed`);
  const dropped = data.metrics['dropped_iterations']?.values['count'] ?? 0;
  if (dropped > 0) {
    lines.push(
      `WARNING: ${dropped} iterations dropped: k6 could not start them (MAX_VUS reached), so the target rate was not offered.`,
    );
  }
  if (context.ramp !== undefined && runSeconds > 0) {
    lines.push(
      `Write rate when the run ended (${runSeconds.toFixed(0)}s): about ${rateAt(context.ramp, runSeconds).toFixed(1)} orders/s` +
        (failed > 0
          ? ' — the breakpoint lies at or below this rate (aborts are evaluated with a delay).'
          : '.'),
    );
  }
  return lines.join('\n') + '\n';
}
