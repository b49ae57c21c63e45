import { escapeHtml, lineChart, stackedBarChart, type ChartFrame } from './charts';
import type { DrillReport } from './reportModel';
import { SLO_LATENCY_MS } from '../drills/knobs';

const OUTCOME_COLORS = {
  ok: '#2e7d32',
  shed: '#f9a825',
  client_error: '#1565c0',
  server_error: '#c62828',
  transport_error: '#6a1b9a',
} as const;

const fmtNumber = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || Number.isNaN(v) ? 'n/a' : (+v.toFixed(digits)).toLocaleString('en');

/** The self-contained HTML report (inline SVG and CSS, no scripts, nothing fetched). */
export function renderReportHtml(report: DrillReport): string {
  const { window, faults } = report;
  const frame = (id: string, title: string, yUnit: string, extra: Partial<ChartFrame> = {}): ChartFrame => ({
    id,
    title,
    xFrom: window.start,
    xTo: window.end,
    faults,
    yUnit,
    ...extra,
  });
  const ps = report.perSecond;
  const throughput = stackedBarChart(
    frame('chart-throughput', 'Throughput by outcome (by intended send second)', 'requests/s'),
    (Object.keys(OUTCOME_COLORS) as (keyof typeof OUTCOME_COLORS)[]).map((outcome) => ({
      name: outcome.replace('_', ' '),
      color: OUTCOME_COLORS[outcome],
      points: ps.map((b) => ({ x: b.at, y: b.counts[outcome] })),
    })),
    1000,
  );
  const latency = lineChart(
    frame('chart-latency', 'Latency of accepted requests from intended send time', 'ms', {
      reference: { y: SLO_LATENCY_MS, label: `SLO ${SLO_LATENCY_MS} ms` },
      emptyText: 'no request was accepted',
    }),
    [
      { name: 'p50', color: '#1565c0', points: ps.map((b) => ({ x: b.at, y: b.okP50Ms })) },
      { name: 'p95', color: '#ef6c00', points: ps.map((b) => ({ x: b.at, y: b.okP95Ms })) },
      { name: 'p99', color: '#c62828', points: ps.map((b) => ({ x: b.at, y: b.okP99Ms })) },
    ],
  );
  const backlog = lineChart(
    frame('chart-outbox', 'Outbox backlog (Prometheus)', 'rows', {
      emptyText: 'no data from Prometheus for the outbox backlog',
    }),
    [
      {
        name: 'unpublished rows',
        color: '#6d4c41',
        points: report.prometheus.outboxBacklog.map((p) => ({ x: p.at, y: p.value })),
      },
    ],
  );
  const lag = lineChart(
    frame('chart-lag', 'Consumer lag (Prometheus)', 'messages', {
      emptyText: 'no data from Prometheus for the consumer lag',
    }),
    [
      {
        name: 'worker lag',
        color: '#00838f',
        points: report.prometheus.consumerLag.map((p) => ({ x: p.at, y: p.value })),
      },
    ],
  );

  const v = report.verdict;
  const rows = report.checks
    .map(
      (c) =>
        `<tr class="check ${c.status}"><td>${escapeHtml(c.name)}</td><td class="status">${c.status.toUpperCase()}${c.required ? '' : ' (advisory)'}</td><td>${escapeHtml(c.detail)}</td></tr>`,
    )
    .join('');
  const s = report.summary;
  const facts = Object.entries(report.facts)
    .map(([k, val]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(val))}</td></tr>`)
    .join('');
  const slo = Object.entries(report.prometheus.slo)
    .map(([k, val]) => `<tr><th>${escapeHtml(k)}</th><td>${fmtNumber(val, 4)}</td></tr>`)
    .join('');
  const alerts = report.prometheus.alerts
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.name)}</td><td>${a.firedAt ? `${((a.firedAt - window.start) / 1000).toFixed(0)} s` : a.pendingSeen ? 'pending only' : 'no'}</td><td>${a.resolvedAt ? `${((a.resolvedAt - window.start) / 1000).toFixed(0)} s` : 'no'}</td></tr>`,
    )
    .join('');
  const faultRows = faults
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.name)}</td><td>${((f.start - window.start) / 1000).toFixed(1)} s</td><td>${((f.end - f.start) / 1000).toFixed(1)} s</td></tr>`,
    )
    .join('');
  const explained = report.expectations.explained
    .map(
      (r) =>
        `<li><b>${escapeHtml(r.outcome)}</b> in ${escapeHtml(r.phases.join(', '))}: ${escapeHtml(r.because)}</li>`,
    )
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drill ${escapeHtml(report.drill.name)}: ${v.label}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:820px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.verdict{display:inline-block;padding:4px 14px;border-radius:4px;font-weight:700;font-size:18px;color:#fff}
.verdict.PASS{background:#2e7d32}.verdict.FAIL{background:#c62828}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border:1px solid #e0e0e0;padding:4px 6px;text-align:left;vertical-align:top}
tr.fail td.status{color:#c62828;font-weight:700}tr.pass td.status{color:#2e7d32;font-weight:700}tr.skip td.status{color:#777}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}.unit{color:#777;font-weight:400}
.muted{color:#666}.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
</style></head><body>
<h1>Drill <code>${escapeHtml(report.drill.name)}</code> — ${escapeHtml(report.drill.title)}</h1>
<p><span class="verdict ${v.label}" id="verdict">${v.label}</span> <span class="muted">${escapeHtml(report.target)} target · ${escapeHtml(report.startedAt)} · ${((window.end - window.start) / 1000).toFixed(0)} s of load at ${report.args.rate || 'auto'} req/s · seed ${report.args.seed}${report.args.short ? ' · short form' : ''}</span></p>
<p>${escapeHtml(report.drill.objective)}</p>
<ul id="reasons">${v.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}${v.warnings.map((w) => `<li class="muted">warning: ${escapeHtml(w)}</li>`).join('')}</ul>
<h2>Verdict table</h2>
<table id="checks"><thead><tr><th>check</th><th>result</th><th>measured</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Charts</h2><p class="muted">Shaded: fault windows. Time axis: seconds since the load started.</p>
${throughput}${latency}${backlog}${lag}
<h2>Requests</h2>
<table><tr><th>total</th><td>${s.total}</td></tr><tr><th>2xx</th><td>${s.counts.ok}</td></tr><tr><th>shed (503/429 + Retry-After)</th><td>${s.counts.shed}</td></tr><tr><th>other 5xx</th><td>${s.counts.server_error}</td></tr><tr><th>4xx</th><td>${s.counts.client_error}</td></tr><tr><th>no response</th><td>${s.counts.transport_error}</td></tr><tr><th>accepted p50 / p99</th><td>${fmtNumber(s.okP50Ms, 0)} ms / ${fmtNumber(s.okP99Ms, 0)} ms</td></tr></table>
<div class="grid"><div><h2>Fault windows</h2><table><tr><th>fault</th><th>at</th><th>lasted</th></tr>${faultRows}</table></div>
<div><h2>Facts</h2><table>${facts}</table></div></div>
<h2>Explained failures</h2><ul>${explained || '<li>none: every request must succeed</li>'}</ul>
<h2>SLO figures (Prometheus, drill window)</h2><table>${slo || '<tr><td>no figures</td></tr>'}</table>
<h2>Alerts (Prometheus ALERTS)</h2><table><tr><th>alert</th><th>fired at</th><th>resolved at</th></tr>${alerts || '<tr><td colspan="3">none expected</td></tr>'}</table>
${report.prometheus.notes.length ? `<ul class="muted">${report.prometheus.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
${releaseSection(report, frame)}
${traceSection(report)}
<h2>Files</h2><p class="muted">${escapeHtml(report.files.json)} · ${escapeHtml(report.files.ledger)}</p>
</body></html>
`;
}

const KIND_COLORS: Record<string, string> = {
  server: '#1565c0',
  client: '#6d4c41',
  producer: '#2e7d32',
  consumer: '#f9a825',
};

/** Trace audit figures, the broken traces by hop with links, and a waterfall of one sampled trace. */
const VERSION_COLORS = ['#1565c0', '#2e7d32', '#c62828', '#6a1b9a', '#ef6c00'];

/** Release drills: each version's traffic, 5xx and p99 over time (Prometheus) and the rollout's decisions. */
function releaseSection(
  report: DrillReport,
  frame: (id: string, title: string, yUnit: string, extra?: Partial<ChartFrame>) => ChartFrame,
): string {
  const release = report.release;
  if (!release) return '';
  const color = (i: number) => VERSION_COLORS[i % VERSION_COLORS.length]!;
  const chart = (id: string, title: string, unit: string, pick: 'rate' | 'errors' | 'p99Ms') =>
    lineChart(
      frame(id, title, unit, { emptyText: 'no data from Prometheus by version' }),
      release.byVersion.map((v, i) => ({
        name: v.version,
        color: color(i),
        points: v[pick].map((p) => ({ x: p.at, y: p.value })),
      })),
    );
  const start = report.window.start;
  const rows = release.events
    .map(
      (e) =>
        `<tr class="release-event ${escapeHtml(e.action)}"><td>${((e.at - start) / 1000).toFixed(1)} s</td><td>${escapeHtml(e.version)}</td><td>${escapeHtml(e.action)}</td><td>${e.share} %</td><td>${escapeHtml(e.detail)}</td></tr>`,
    )
    .join('');
  return `<h2>Releases by version (Prometheus, joined on orderlab_build_info)</h2>
${chart('chart-version-rate', 'Requests by version', 'requests/s', 'rate')}${chart('chart-version-errors', '5xx by version', 'requests/s', 'errors')}${chart('chart-version-p99', 'p99 latency by version', 'ms', 'p99Ms')}
<h2>Rollout decisions</h2><table id="release-events"><tr><th>at</th><th>version</th><th>action</th><th>share after</th><th>why</th></tr>${rows || '<tr><td colspan="5">none</td></tr>'}</table>`;
}

function traceSection(report: DrillReport): string {
  const t = report.traces;
  if (!t) return '';
  const broken = Object.entries(t.brokenByHop)
    .map(([hop, n]) => `<tr><td>missing ${escapeHtml(hop)}</td><td>${n}</td></tr>`)
    .join('');
  const examples = t.examples
    .map(
      (x) =>
        `<tr><td><code>${escapeHtml(x.orderId)}</code></td><td><a href="${escapeHtml(x.link)}">${escapeHtml(x.traceId)}</a></td><td>${x.spans}</td><td>${x.missing.length ? escapeHtml(x.missing.join(', ')) + (x.explained ? ' (explained)' : '') : 'complete'}</td></tr>`,
    )
    .join('');
  let waterfall = '';
  if (t.waterfall && t.waterfall.rows.length > 0) {
    const rows = t.waterfall.rows;
    const end = Math.max(...rows.map((r) => r.startMs + r.durationMs), 1);
    const width = 800;
    const label = 300;
    const rowH = 16;
    const scale = (ms: number) => label + (ms / end) * (width - label - 10);
    const bars = rows
      .map((r, i) => {
        const y = i * rowH + 4;
        const x = scale(r.startMs);
        const w = Math.max(1.5, scale(r.startMs + r.durationMs) - x);
        const name =
          `${'  '.repeat(Math.min(r.depth, 6))}${r.service.replace(/^orderlab-/, '')}: ${r.name}`.slice(
            0,
            46,
          );
        return `<text x="2" y="${y + 11}" font-size="11" xml:space="preserve">${escapeHtml(name)}</text><rect class="span" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${KIND_COLORS[r.kind] ?? '#888'}"><title>${escapeHtml(`${r.service} ${r.name} (${r.kind}) +${r.startMs.toFixed(1)} ms, ${r.durationMs.toFixed(2)} ms`)}</title></rect>`;
      })
      .join('');
    waterfall = `<figure id="trace-waterfall"><figcaption>Waterfall of trace <a href="${escapeHtml(t.waterfall.link)}">${escapeHtml(t.waterfall.traceId)}</a> <span class="unit">(${end.toFixed(0)} ms end to end; blue server, brown pg, green producer, yellow consumer)</span></figcaption><svg width="${width}" height="${rows.length * rowH + 8}" viewBox="0 0 ${width} ${rows.length * rowH + 8}">${bars}</svg></figure>`;
  }
  return `<h2>Traces (Jaeger)</h2>
<p id="trace-summary">${t.complete}/${t.sampled} sampled acknowledged orders are one complete trace (${t.sampled} of ${t.candidates} sampled; read from ${escapeHtml(t.jaegerUrl)}).${t.redelivered > 0 ? ` ${t.redelivered} hold more than one worker consumer span: the message was delivered again and its trace continued.` : ''}${t.explained > 0 ? ` ${t.explained} more are broken as the fault explains: ${escapeHtml(t.explainedBecause ?? '')}.` : ''}</p>
${broken ? `<table id="trace-broken"><tr><th>broken at</th><th>traces</th></tr>${broken}</table>` : ''}
<table id="trace-examples"><tr><th>order</th><th>trace</th><th>spans</th><th>hops missing</th></tr>${examples}</table>
${waterfall}`;
}
