/**
 * handleSummary for every scenario: the readable text to stdout and, under RESULTS_DIR, the full
 * k6 summary as JSON plus the same text (`<protocol>-<kind>-<UTC timestamp>.json|.txt`).
 * k6 does not create RESULTS_DIR: it must exist (compose mounts it; natively `mkdir -p reports/k6`).
 */
import type { Protocol, ScenarioKind } from '../config/names.ts';
import { sloThresholds } from '../config/scenarios.ts';
import type { RunSettings } from '../config/settings.ts';
import type { SloDefinition } from '../config/slo.ts';
import { renderTextSummary, type RampDescription, type SummaryData } from './summaryText.ts';

const SLO_LABELS = ['availability', 'latency', 'freshness'];

export function summaryHandler(
  protocol: Protocol,
  kind: ScenarioKind,
  settings: RunSettings,
  slo: SloDefinition,
  ramp?: RampDescription,
): (data: SummaryData) => Record<string, string> {
  const sloLabels: Record<string, string> = {};
  Object.keys(sloThresholds(protocol, slo, undefined)).forEach(
    (key, i) => (sloLabels[key] = SLO_LABELS[i] ?? key),
  );
  return (data) => {
    const title = `${protocol}-${kind}`;
    const text = renderTextSummary(data, { title, sloLabels, ...(ramp === undefined ? {} : { ramp }) });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = `${settings.resultsDir}/${title}-${stamp}`;
    return { stdout: text, [`${base}.json`]: JSON.stringify(data, null, 2), [`${base}.txt`]: text };
  };
}
