import type { FaultWindow } from '../audit/maths';

/** Inline SVG charts for the self-contained report: no scripts, no fonts, no network. */

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface ChartFrame {
  readonly id: string;
  readonly title: string;
  readonly xFrom: number;
  readonly xTo: number;
  readonly faults: readonly FaultWindow[];
  readonly yUnit: string;
  /** Horizontal reference line, e.g. the SLO latency. */
  readonly reference?: { readonly y: number; readonly label: string };
  /** Shown instead of the plot when there is nothing to draw. */
  readonly emptyText?: string;
}

const W = 760;
const H = 220;
const PAD = { left: 56, right: 12, top: 26, bottom: 26 };

export const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const fmtY = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : `${+v.toFixed(2)}`;

function frameSvg(frame: ChartFrame, yMax: number, body: string, legend: readonly ChartSeries[]): string {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const span = Math.max(1, frame.xTo - frame.xFrom);
  const sx = (x: number): number => PAD.left + ((x - frame.xFrom) / span) * iw;
  const sy = (y: number): number => PAD.top + ih - (y / yMax) * ih;
  const faults = frame.faults
    .map((f) => {
      const x1 = Math.max(PAD.left, sx(f.start));
      const x2 = Math.min(W - PAD.right, sx(f.end));
      return `<rect class="fault" x="${x1.toFixed(1)}" y="${PAD.top}" width="${Math.max(2, x2 - x1).toFixed(1)}" height="${ih}" fill="#d33" fill-opacity="0.12"><title>${escapeHtml(f.name)}</title></rect>`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => {
      const y = sy(yMax * t);
      return `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/><text x="${PAD.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${fmtY(yMax * t)}</text>`;
    })
    .join('');
  const xTicks = Array.from({ length: 7 }, (_, i) => {
    const x = frame.xFrom + (span * i) / 6;
    return `<text x="${sx(x).toFixed(1)}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#555">${Math.round((x - frame.xFrom) / 1000)} s</text>`;
  }).join('');
  const reference = frame.reference
    ? `<line class="reference" x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(frame.reference.y).toFixed(1)}" y2="${sy(frame.reference.y).toFixed(1)}" stroke="#333" stroke-dasharray="5 4"/><text x="${W - PAD.right - 4}" y="${(sy(frame.reference.y) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#333">${escapeHtml(frame.reference.label)}</text>`
    : '';
  const legendSvg = legend
    .map(
      (s, i) =>
        `<rect x="${PAD.left + i * 120}" y="6" width="10" height="10" fill="${s.color}"/><text x="${PAD.left + i * 120 + 14}" y="15" font-size="11" fill="#333">${escapeHtml(s.name)}</text>`,
    )
    .join('');
  const empty = frame.emptyText
    ? `<text class="empty" x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="13" fill="#888">${escapeHtml(frame.emptyText)}</text>`
    : '';
  return `<figure class="chart" id="${frame.id}"><figcaption>${escapeHtml(frame.title)} <span class="unit">(${escapeHtml(frame.yUnit)})</span></figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(frame.title)}">${ticks}${faults}${body}${reference}${xTicks}${legendSvg}${empty}</svg></figure>`;
}

/** Lines (one path per series); gaps (NaN) break the line. */
export function lineChart(frame: ChartFrame, series: readonly ChartSeries[]): string {
  const drawable = series.filter((s) => s.points.some((p) => Number.isFinite(p.y)));
  if (drawable.length === 0)
    return frameSvg({ ...frame, emptyText: frame.emptyText ?? 'no data' }, 1, '', series);
  const maxY = Math.max(
    ...drawable.flatMap((s) => s.points.filter((p) => Number.isFinite(p.y)).map((p) => p.y)),
    frame.reference ? frame.reference.y * 1.1 : 0,
  );
  const yMax = niceMax(maxY);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const span = Math.max(1, frame.xTo - frame.xFrom);
  const body = drawable
    .map((s) => {
      let d = '';
      let pen = false;
      for (const p of s.points) {
        if (!Number.isFinite(p.y) || p.x < frame.xFrom || p.x > frame.xTo) {
          pen = false;
          continue;
        }
        const x = PAD.left + ((p.x - frame.xFrom) / span) * iw;
        const y = PAD.top + ih - (Math.min(p.y, yMax) / yMax) * ih;
        d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
        pen = true;
      }
      return `<path class="series" data-series="${escapeHtml(s.name)}" d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`;
    })
    .join('');
  return frameSvg({ ...frame, emptyText: undefined }, yMax, body, series);
}

/** Stacked bars per x (e.g. requests per second by outcome); one path per series. */
export function stackedBarChart(frame: ChartFrame, series: readonly ChartSeries[], barMs: number): string {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const totals = xs.map((x) => series.reduce((sum, s) => sum + (s.points.find((p) => p.x === x)?.y ?? 0), 0));
  if (xs.length === 0 || Math.max(...totals) <= 0)
    return frameSvg({ ...frame, emptyText: frame.emptyText ?? 'no requests' }, 1, '', series);
  const yMax = niceMax(Math.max(...totals));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const span = Math.max(1, frame.xTo - frame.xFrom);
  const bw = Math.max(1, (barMs / span) * iw - 1);
  const base = new Map<number, number>(xs.map((x) => [x, 0]));
  const body = series
    .map((s) => {
      let d = '';
      for (const p of s.points) {
        if (!(p.y > 0)) continue;
        const below = base.get(p.x) ?? 0;
        const x = PAD.left + ((p.x - frame.xFrom) / span) * iw;
        const y0 = PAD.top + ih - (below / yMax) * ih;
        const h = (p.y / yMax) * ih;
        d += `M${x.toFixed(1)},${y0.toFixed(1)}h${bw.toFixed(1)}v${(-h).toFixed(1)}h${(-bw).toFixed(1)}Z`;
        base.set(p.x, below + p.y);
      }
      return d === ''
        ? ''
        : `<path class="series" data-series="${escapeHtml(s.name)}" d="${d}" fill="${s.color}"/>`;
    })
    .join('');
  return frameSvg(frame, yMax, body, series);
}
