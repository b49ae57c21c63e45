import type { LedgerEntry } from '../load/ledger';

/** Pure audit maths: percentiles, outcome and window classification, per-second series, goodput. */

export type Outcome = 'ok' | 'shed' | 'client_error' | 'server_error' | 'transport_error';

/** How a response counts: 503/429 with Retry-After is shedding; without it, a plain server error. */
export function classifyOutcome(entry: Pick<LedgerEntry, 'status' | 'retryAfter'>): Outcome {
  const { status } = entry;
  if (status === null) return 'transport_error';
  if (status >= 200 && status < 300) return 'ok';
  if ((status === 503 || status === 429) && entry.retryAfter !== undefined && entry.retryAfter !== '')
    return 'shed';
  if (status >= 500) return 'server_error';
  return 'client_error';
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** A time span the drill disturbed, in epoch ms; `end` is when the healing action finished. */
export interface FaultWindow {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

export type Phase = 'before' | 'fault' | 'recovery' | 'after';

/**
 * Where a moment falls relative to the fault windows: inside one → fault; within `recoveryMs` after
 * one ends → recovery; before the first → before; otherwise after.
 */
export function classifyWindow(at: number, faults: readonly FaultWindow[], recoveryMs: number): Phase {
  if (faults.length === 0) return 'before';
  for (const f of faults) if (at >= f.start && at <= f.end) return 'fault';
  for (const f of faults) if (at > f.end && at <= f.end + recoveryMs) return 'recovery';
  const firstStart = Math.min(...faults.map((f) => f.start));
  return at < firstStart ? 'before' : 'after';
}

export interface SecondBucket {
  /** Start of the second, epoch ms. */
  readonly at: number;
  readonly counts: Record<Outcome, number>;
  /** Latency percentiles of the requests that got 2xx in this second (NaN if none). */
  readonly okP50Ms: number;
  readonly okP95Ms: number;
  readonly okP99Ms: number;
  /** 2xx responses completed within the SLO latency. */
  readonly goodput: number;
}

const emptyCounts = (): Record<Outcome, number> => ({
  ok: 0,
  shed: 0,
  client_error: 0,
  server_error: 0,
  transport_error: 0,
});

/** Buckets entries per second of intended send time, from `from` to `to` (epoch ms, inclusive of both seconds). */
export function perSecond(
  entries: readonly LedgerEntry[],
  from: number,
  to: number,
  sloLatencyMs: number,
): SecondBucket[] {
  const first = Math.floor(from / 1000);
  const last = Math.floor(to / 1000);
  const seconds = Math.max(0, last - first + 1);
  const counts = Array.from({ length: seconds }, emptyCounts);
  const latencies: number[][] = Array.from({ length: seconds }, () => []);
  const good = new Array<number>(seconds).fill(0);
  for (const e of entries) {
    const i = Math.floor(e.intendedAt / 1000) - first;
    if (i < 0 || i >= seconds) continue;
    const outcome = classifyOutcome(e);
    (counts[i] as Record<Outcome, number>)[outcome] += 1;
    if (outcome === 'ok') {
      (latencies[i] as number[]).push(e.latencyMs);
      if (e.latencyMs <= sloLatencyMs) good[i] = (good[i] as number) + 1;
    }
  }
  return counts.map((c, i) => {
    const l = latencies[i] as number[];
    return {
      at: (first + i) * 1000,
      counts: c,
      okP50Ms: percentile(l, 50),
      okP95Ms: percentile(l, 95),
      okP99Ms: percentile(l, 99),
      goodput: good[i] as number,
    };
  });
}

/** Requests per second that succeeded within the SLO latency, over [from, to). */
export function goodputPerSecond(
  entries: readonly LedgerEntry[],
  from: number,
  to: number,
  sloLatencyMs: number,
): number {
  const seconds = (to - from) / 1000;
  if (seconds <= 0) return 0;
  const good = entries.filter(
    (e) =>
      e.intendedAt >= from && e.intendedAt < to && classifyOutcome(e) === 'ok' && e.latencyMs <= sloLatencyMs,
  ).length;
  return good / seconds;
}

export interface OutcomeSummary {
  readonly total: number;
  readonly counts: Record<Outcome, number>;
  readonly okP50Ms: number;
  readonly okP99Ms: number;
  readonly allP99Ms: number;
}

export function summarise(entries: readonly LedgerEntry[]): OutcomeSummary {
  const counts = emptyCounts();
  const ok: number[] = [];
  for (const e of entries) {
    const o = classifyOutcome(e);
    counts[o] += 1;
    if (o === 'ok') ok.push(e.latencyMs);
  }
  return {
    total: entries.length,
    counts,
    okP50Ms: percentile(ok, 50),
    okP99Ms: percentile(ok, 99),
    allP99Ms: percentile(
      entries.map((e) => e.latencyMs),
      99,
    ),
  };
}

/**
 * A non-2xx outcome a drill explains, e.g. "503 with Retry-After while Kafka is down". `phases`
 * limits where it is acceptable; `codes` limits transport errors to named codes.
 */
export interface ExplainedFailure {
  readonly outcome: Exclude<Outcome, 'ok'>;
  readonly phases: readonly Phase[];
  readonly codes?: readonly string[];
  /** Only for requests sent to these ledger targets (e.g. `single`, not `lb`); all when absent. */
  readonly targets?: readonly string[];
  readonly because: string;
}

export interface UnexplainedFailure {
  readonly entry: LedgerEntry;
  readonly outcome: Outcome;
  readonly phase: Phase;
}

/** Every failed request that no rule explains (a 500 is never explained unless a rule says so). */
export function unexplainedFailures(
  entries: readonly LedgerEntry[],
  rules: readonly ExplainedFailure[],
  faults: readonly FaultWindow[],
  recoveryMs: number,
): UnexplainedFailure[] {
  const out: UnexplainedFailure[] = [];
  for (const entry of entries) {
    const outcome = classifyOutcome(entry);
    if (outcome === 'ok') continue;
    const phase = classifyWindow(entry.intendedAt, faults, recoveryMs);
    const explained = rules.some(
      (r) =>
        r.outcome === outcome &&
        r.phases.includes(phase) &&
        (r.codes === undefined || (entry.errorCode !== undefined && r.codes.includes(entry.errorCode))) &&
        (r.targets === undefined || r.targets.includes(entry.target)),
    );
    if (!explained) out.push({ entry, outcome, phase });
  }
  return out;
}

/** Groups failures into short "N× 500 during fault" phrases for a verdict reason. */
export function describeFailures(failures: readonly UnexplainedFailure[], limit = 4): string {
  const groups = new Map<string, number>();
  for (const f of failures) {
    const what = f.entry.status !== null ? String(f.entry.status) : (f.entry.errorCode ?? 'no response');
    const key = `${what} ${f.phase === 'fault' ? 'during the fault' : `${f.phase} the fault`.replace('recovery the fault', 'in recovery')}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const parts = [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`);
  return (
    parts.slice(0, limit).join(', ') + (parts.length > limit ? `, +${parts.length - limit} more kinds` : '')
  );
}

/** First moment after `from` from which every request (by intended time) succeeded; undefined if never. */
export function recoveredAt(entries: readonly LedgerEntry[], from: number): number | undefined {
  const after = entries.filter((e) => e.intendedAt >= from).sort((a, b) => a.intendedAt - b.intendedAt);
  let candidate: number | undefined;
  for (const e of after) {
    if (classifyOutcome(e) === 'ok') candidate ??= e.intendedAt;
    else candidate = undefined;
  }
  return candidate;
}

/** Parses a Retry-After header (delta seconds or HTTP date) into seconds; undefined when absent or bad. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.round((at - now) / 1000));
}
