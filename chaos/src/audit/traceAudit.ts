import type { LedgerEntry } from '../load/ledger';
import type { FaultWindow } from './maths';
import { check, type Check, skip } from './verdict';
import type { ServiceRole } from '../../../lab/src/ports';

/**
 * Trace audit: for acknowledged orders, Jaeger (read independently of the service, by the trace id
 * the load generator put in each request's traceparent) must hold one trace with every hop of the
 * order's way through the system.
 */
export const TRACE_HOPS = [
  'api server span',
  'api pg write',
  'relay producer span',
  'worker consumer span',
  'worker pg span',
] as const;
export type TraceHop = (typeof TRACE_HOPS)[number];

/** The parts of Jaeger's /api/traces/<id> answer the audit reads. */
export interface JaegerSpan {
  readonly spanID: string;
  readonly operationName: string;
  readonly references?: readonly { readonly refType: string; readonly spanID: string }[];
  readonly startTime: number;
  readonly duration: number;
  readonly tags: readonly { readonly key: string; readonly value: unknown }[];
  readonly processID: string;
}
export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string }>>;
}

interface SpanView {
  readonly span: JaegerSpan;
  readonly service: string;
  readonly kind: string;
  readonly parentId: string | undefined;
  readonly tags: Readonly<Record<string, unknown>>;
}

/** Role of the process that wrote a span, from its service name (orderlab-api, orderlab-relay …). */
function hasRole(service: string, role: ServiceRole): boolean {
  return service.split(/[-_.]/).includes(role);
}

/** A tag's value as text (Jaeger sends strings, numbers and booleans); '' when absent or structured. */
function tagText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

function views(trace: JaegerTrace): SpanView[] {
  return trace.spans.map((span) => {
    const tags = Object.fromEntries(span.tags.map((t) => [t.key, t.value]));
    return {
      span,
      service: trace.processes[span.processID]?.serviceName ?? '',
      kind: tagText(tags['span.kind']),
      parentId: span.references?.find((r) => r.refType === 'CHILD_OF')?.spanID,
      tags,
    };
  });
}

/**
 * The hops a trace lacks, in the order an order travels (all of them when the trace is absent):
 * the api's SERVER span (HTTP or gRPC), its pg span writing the order and its outbox row, the
 * relay's PRODUCER span, the worker's CONSUMER span, and a pg span of the worker under it.
 */
export function missingHops(trace: JaegerTrace | undefined): TraceHop[] {
  if (!trace) return [...TRACE_HOPS];
  const spans = views(trace);
  const server = spans.find((s) => hasRole(s.service, 'api') && s.kind === 'server');
  const pgWrite = spans.find(
    (s) =>
      hasRole(s.service, 'api') &&
      s.kind === 'client' &&
      /insert\s+into\s+outbox/i.test(tagText(s.tags['db.query.text'])),
  );
  const producer = spans.find((s) => hasRole(s.service, 'relay') && s.kind === 'producer');
  const consumers = spans.filter((s) => hasRole(s.service, 'worker') && s.kind === 'consumer');
  const consumerIds = new Set(consumers.map((s) => s.span.spanID));
  const workerPg = spans.find(
    (s) =>
      hasRole(s.service, 'worker') &&
      s.kind === 'client' &&
      s.parentId !== undefined &&
      consumerIds.has(s.parentId),
  );
  const present: Record<TraceHop, boolean> = {
    'api server span': server !== undefined,
    'api pg write': pgWrite !== undefined,
    'relay producer span': producer !== undefined,
    'worker consumer span': consumers.length > 0,
    'worker pg span': workerPg !== undefined,
  };
  return TRACE_HOPS.filter((hop) => !present[hop]);
}

/** How many times the worker consumed the order's message within this trace (redeliveries continue it). */
export function consumerSpanCount(trace: JaegerTrace | undefined): number {
  if (!trace) return 0;
  return views(trace).filter((s) => hasRole(s.service, 'worker') && s.kind === 'consumer').length;
}

/** One bar of a trace waterfall (times in ms from the trace's first span). */
export interface WaterfallRow {
  readonly service: string;
  readonly name: string;
  readonly kind: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly depth: number;
}

export function waterfallOf(trace: JaegerTrace): WaterfallRow[] {
  const spans = views(trace);
  const byId = new Map(spans.map((s) => [s.span.spanID, s]));
  const t0 = Math.min(...spans.map((s) => s.span.startTime));
  const depth = (s: SpanView, seen = 0): number => {
    const parent = s.parentId === undefined ? undefined : byId.get(s.parentId);
    return parent && seen < 32 ? 1 + depth(parent, seen + 1) : 0;
  };
  return spans
    .sort((a, b) => a.span.startTime - b.span.startTime)
    .map((s) => ({
      service: s.service,
      name: s.span.operationName,
      kind: s.kind,
      startMs: (s.span.startTime - t0) / 1000,
      durationMs: s.span.duration / 1000,
      depth: depth(s),
    }));
}

export interface TraceSample {
  readonly orderId: string;
  readonly traceId: string;
  readonly missing: readonly TraceHop[];
  /** A broken trace the fault explains. */
  readonly explained?: boolean;
  readonly spans: number;
  readonly link: string;
}

export interface TraceEvidence {
  readonly jaegerUrl: string;
  /** Acknowledged orders whose request carried a trace id. */
  readonly candidates: number;
  readonly sampled: number;
  readonly complete: number;
  /** Broken traces the fault explains (see `explainedBreaks` in the drill's expectations). */
  readonly explained: number;
  readonly explainedBecause?: string;
  /** Sampled traces where the worker consumed the message more than once (a redelivery kept the trace). */
  readonly redelivered: number;
  /** Broken traces counted by the first hop they lack (absent traces count as the first hop). */
  readonly brokenByHop: Readonly<Partial<Record<TraceHop, number>>>;
  /** Up to 20 broken ones (with a link each) and a few complete ones. */
  readonly examples: readonly TraceSample[];
  /** A complete sampled trace (or the most complete one) drawn in the report. */
  readonly waterfall?: {
    readonly traceId: string;
    readonly link: string;
    readonly rows: readonly WaterfallRow[];
  };
}

export interface TraceAuditOptions {
  readonly jaegerUrl: string;
  readonly entries: readonly LedgerEntry[];
  /** How many acknowledged orders to look up (all when there are fewer). */
  readonly sampleSize: number;
  readonly seed: number;
  /** How long incomplete traces are retried (spans arrive in batches, the worker may still be busy). */
  readonly settleS: number;
  /** Fault windows of the run, and which broken traces they explain (from the drill's expectations). */
  readonly faults?: readonly FaultWindow[];
  readonly explainedBreaks?: {
    readonly hops: readonly TraceHop[];
    readonly windowS: number;
    readonly because: string;
  };
  readonly log: (line: string) => void;
  readonly fetchTrace?: (traceId: string) => Promise<JaegerTrace | undefined>;
}

export async function fetchJaegerTrace(jaegerUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(new URL(`/api/traces/${traceId}`, jaegerUrl), {
    signal: AbortSignal.timeout(5000),
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} for trace ${traceId}`);
  const body = (await response.json()) as { data?: JaegerTrace[] | null };
  return body.data?.[0];
}

/**
 * A broken trace is explained when it lacks only the given hops and its order was acknowledged in
 * the `windowS` before a fault began (or during the first second of it).
 */
export function isExplainedBreak(
  missing: readonly TraceHop[],
  acknowledgedAt: number,
  faults: readonly FaultWindow[],
  explain: { readonly hops: readonly TraceHop[]; readonly windowS: number } | undefined,
): boolean {
  if (!explain || missing.length === 0) return false;
  if (!missing.every((hop) => explain.hops.includes(hop))) return false;
  return faults.some(
    (f) => acknowledgedAt >= f.start - explain.windowS * 1000 && acknowledgedAt <= f.start + 1000,
  );
}

/** Picks `size` entries spread evenly over the run (deterministic for a seed). */
export function sampleEvenly<T>(items: readonly T[], size: number, seed: number): T[] {
  if (items.length <= size) return [...items];
  const step = items.length / size;
  const offset = (seed % 997) / 997;
  return Array.from({ length: size }, (_, i) => items[Math.floor((i + offset) * step)] as T);
}

export async function collectTraceEvidence(options: TraceAuditOptions): Promise<TraceEvidence> {
  const fetchTrace = options.fetchTrace ?? ((id: string) => fetchJaegerTrace(options.jaegerUrl, id));
  const acked = options.entries.filter(
    (e): e is LedgerEntry & { orderId: string; traceId: string } =>
      e.orderId !== undefined && e.traceId !== undefined && e.status !== null && e.status < 300,
  );
  const sample = sampleEvenly(acked, options.sampleSize, options.seed);
  options.log(
    `audit: traces of ${sample.length} of ${acked.length} acknowledged orders in Jaeger (${options.jaegerUrl})`,
  );
  const results = new Map<string, { missing: TraceHop[]; trace: JaegerTrace | undefined }>();
  const deadline = Date.now() + options.settleS * 1000;
  let pending = sample;
  for (let round = 0; pending.length > 0; round++) {
    for (let i = 0; i < pending.length; i += 16) {
      await Promise.all(
        pending.slice(i, i + 16).map(async (e) => {
          const trace = await fetchTrace(e.traceId);
          results.set(e.traceId, { missing: missingHops(trace), trace });
        }),
      );
    }
    pending = pending.filter((e) => (results.get(e.traceId)?.missing.length ?? 1) > 0);
    if (pending.length === 0 || Date.now() >= deadline) break;
    if (round === 0)
      options.log(`  ${pending.length} trace(s) not complete yet: retrying for up to ${options.settleS} s`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const link = (traceId: string) => new URL(`/api/traces/${traceId}`, options.jaegerUrl).toString();
  const brokenByHop: Partial<Record<TraceHop, number>> = {};
  const examples: TraceSample[] = [];
  let complete = 0;
  let explained = 0;
  let redelivered = 0;
  let best: { traceId: string; trace: JaegerTrace; missing: number } | undefined;
  for (const e of sample) {
    const result = results.get(e.traceId) ?? { missing: [...TRACE_HOPS], trace: undefined };
    const first = result.missing[0];
    const isExplained = isExplainedBreak(
      result.missing,
      e.completedAt,
      options.faults ?? [],
      options.explainedBreaks,
    );
    if (consumerSpanCount(result.trace) > 1) redelivered++;
    if (first === undefined) complete++;
    else if (isExplained) explained++;
    else brokenByHop[first] = (brokenByHop[first] ?? 0) + 1;
    if (
      (first !== undefined && examples.filter((x) => x.missing.length > 0).length < 20) ||
      (first === undefined && examples.length < 3)
    )
      examples.push({
        orderId: e.orderId,
        traceId: e.traceId,
        missing: result.missing,
        ...(isExplained ? { explained: true } : {}),
        spans: result.trace?.spans.length ?? 0,
        link: link(e.traceId),
      });
    if (result.trace && (!best || result.missing.length < best.missing))
      best = { traceId: e.traceId, trace: result.trace, missing: result.missing.length };
  }
  return {
    jaegerUrl: options.jaegerUrl,
    candidates: acked.length,
    sampled: sample.length,
    complete,
    explained,
    redelivered,
    ...(options.explainedBreaks && explained > 0
      ? { explainedBecause: options.explainedBreaks.because }
      : {}),
    brokenByHop,
    examples,
    ...(best
      ? { waterfall: { traceId: best.traceId, link: link(best.traceId), rows: waterfallOf(best.trace) } }
      : {}),
  };
}

/** Verdict rows: the share of complete traces against the drill's expectation, and the broken ones by hop. */
export function traceChecks(
  evidence: TraceEvidence,
  expected: { readonly minCompleteShare: number } | undefined,
): Check[] {
  const name = 'every sampled acknowledged order is one trace api → relay → worker';
  if (evidence.sampled === 0) return [skip(name, 'no acknowledged order carried a trace id', false)];
  const share = (evidence.complete + evidence.explained) / evidence.sampled;
  const broken = Object.entries(evidence.brokenByHop)
    .map(([hop, n]) => `${n}× missing ${hop}`)
    .join(', ');
  const firstBroken = evidence.examples.find((x) => x.missing.length > 0 && !x.explained);
  const explained =
    evidence.explained > 0
      ? ` + ${evidence.explained} broken as the fault explains (${evidence.explainedBecause ?? 'explained'})`
      : '';
  const redelivered =
    evidence.redelivered > 0 ? `; ${evidence.redelivered} consumed more than once within their trace` : '';
  const detail =
    `${evidence.complete}/${evidence.sampled} complete${explained}${redelivered} (${(share * 100).toFixed(1)}%; ${evidence.sampled} of ${evidence.candidates} acknowledged orders sampled)` +
    (broken ? `; broken: ${broken}${firstBroken ? ` (e.g. ${firstBroken.link})` : ''}` : '');
  if (!expected) return [check(`${name} (advisory)`, share === 1, detail, false)];
  return [
    check(
      `${name} (≥ ${(expected.minCompleteShare * 100).toFixed(0)}%)`,
      share >= expected.minCompleteShare,
      detail,
    ),
  ];
}
