import type { RatioResult, RegressionCheck, RoundSample, VariantSummary } from './benchMath';

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly settings: Record<string, unknown>;
  readonly environment: Record<string, unknown>;
  readonly variants: readonly { name: string; description: string; notes: readonly string[] }[];
  readonly samples: readonly RoundSample[];
  readonly summaries: readonly VariantSummary[];
  readonly ratios: readonly RatioResult[];
  readonly baseline: {
    path: string;
    gate: string;
    tolerance: number;
    checks: readonly RegressionCheck[];
    failed: boolean;
  } | null;
  readonly problems: readonly string[];
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits);

export function summaryRows(summaries: readonly VariantSummary[]): string[][] {
  return summaries.map((s) => [
    s.endpoint.toUpperCase(),
    s.variant,
    fmt(s.reqPerSec),
    `${fmt(s.reqPerSecMin)}–${fmt(s.reqPerSecMax)} (±${fmt((s.relativeSpread * 100) / 2, 1)}%)`,
    fmt(s.p50Ms, 1),
    fmt(s.p975Ms, 1),
    fmt(s.p99Ms, 1),
    fmt(s.reqPerCpuSecond),
    `${fmt(s.cores, 2)} / ${s.machineBusy === undefined ? '—' : `${fmt(s.machineBusy * 100)} %`}`,
    s.boundBy,
    `${s.errors}/${s.non2xx}`,
  ]);
}

export const SUMMARY_HEADER = [
  'endpoint',
  'variant',
  'req/s (median)',
  'rounds min–max',
  'p50 ms',
  'p97.5 ms',
  'p99 ms',
  '2xx per CPU-s',
  'cores / machine busy',
  'bound by',
  'errors/non-2xx',
];

export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function ratioRows(ratios: readonly RatioResult[]): string[][] {
  return ratios.map((r) => [
    r.name,
    fmt(r.value, 3),
    `${fmt(r.roundMin, 3)}–${fmt(r.roundMax, 3)}`,
    `≥ ${r.target}`,
    r.meetsTarget === undefined ? '—' : r.meetsTarget ? 'met' : 'MISSED',
    fmt(r.cpuValue, 3),
  ]);
}

export const RATIO_HEADER = ['ratio (req/s)', 'median', 'per-round range', 'target', 'met?', 'per CPU-s'];

export function baselineRows(checks: readonly RegressionCheck[]): string[][] {
  return checks.map((c) => [
    c.name,
    fmt(c.baseline, 3),
    fmt(c.current, 3),
    c.delta === undefined ? '—' : `${c.delta >= 0 ? '+' : ''}${c.delta.toFixed(3)}`,
    c.verdict,
  ]);
}

export const BASELINE_HEADER = ['ratio', 'baseline', 'now', 'Δ', 'verdict'];

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Horizontal bar chart of median req/s per endpoint and variant, with the min–max of the rounds. */
export function barChartSvg(summaries: readonly VariantSummary[]): string {
  const rowHeight = 26;
  const labelWidth = 170;
  const barWidth = 460;
  const top = 30;
  const max = Math.max(1, ...summaries.map((s) => s.reqPerSecMax));
  const colours: Record<string, string> = {
    observed: '#d95f02',
    'telemetry-off': '#7570b3',
    bare: '#1b9e77',
  };
  const height = top + summaries.length * rowHeight + 20;
  const x = (v: number) => labelWidth + (v / max) * barWidth;
  const bars = summaries.map((s, i) => {
    const y = top + i * rowHeight;
    const colour = colours[s.variant] ?? '#666';
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(`${s.endpoint.toUpperCase()} ${s.variant}`)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${(x(s.reqPerSec) - labelWidth).toFixed(1)}" height="16" fill="${colour}"/>`,
      `<line x1="${x(s.reqPerSecMin).toFixed(1)}" x2="${x(s.reqPerSecMax).toFixed(1)}" y1="${y + 11}" y2="${y + 11}" stroke="#000" stroke-width="1.5"/>`,
      `<text x="${(x(s.reqPerSecMax) + 6).toFixed(1)}" y="${y + 15}">${fmt(s.reqPerSec)} req/s</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 110}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${labelWidth}" y="16" font-weight="bold">median req/s (2xx) per variant; black line = min–max over rounds</text>`,
    ...bars,
    '</svg>',
  ].join('\n');
}

export function markdownReport(report: BenchReport): string {
  const s = report.settings;
  const parts = [
    `# Benchmark ${report.startedAt}`,
    '',
    `Command: \`${report.command}\``,
    '',
    `${String(s['rounds'])} interleaved rounds × ${String(s['durationSeconds'])} s per endpoint and variant, ` +
      `${String(s['connections'])} connections, ${String(s['warmupSeconds'])} s warm-up, pg pool ${String(s['poolMax'])}. Node ${String(report.environment['node'])}, ` +
      `${String(report.environment['cpus'])} CPUs, load average at start ${String(report.environment['loadAverage'])}.`,
    '',
    '## Variants',
    '',
    ...report.variants.map(
      (v) => `- **${v.name}**: ${v.description}${v.notes.length > 0 ? ` — _${v.notes.join('; ')}_` : ''}`,
    ),
    '',
    '## Throughput and latency (median over rounds)',
    '',
    markdownTable(SUMMARY_HEADER, summaryRows(report.summaries)),
    '',
    barChartSvg(report.summaries),
    '',
    '## Ratios',
    '',
    markdownTable(RATIO_HEADER, ratioRows(report.ratios)),
    '',
  ];
  if (report.baseline) {
    parts.push(
      `## Against the baseline (${report.baseline.path}, ${report.baseline.gate} ratios, tolerance ${report.baseline.tolerance})`,
      '',
      markdownTable(BASELINE_HEADER, baselineRows(report.baseline.checks)),
      '',
      report.baseline.failed ? '**REGRESSION** beyond the tolerance.' : 'No regression beyond the tolerance.',
      '',
    );
  }
  if (report.problems.length > 0) parts.push('## Problems', '', ...report.problems.map((p) => `- ${p}`), '');
  parts.push(
    '## Rounds',
    '',
    markdownTable(
      ['round', 'endpoint', 'variant', 'req/s', 'p50', 'p97.5', 'p99', 'requests', 'errors', 'non-2xx'],
      report.samples.map((x) => [
        String(x.round + 1),
        x.endpoint,
        x.variant,
        fmt(x.reqPerSec),
        fmt(x.p50Ms, 1),
        fmt(x.p975Ms, 1),
        fmt(x.p99Ms, 1),
        String(x.requests),
        String(x.errors),
        String(x.non2xx),
      ]),
    ),
    '',
  );
  return parts.join('\n');
}
