import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  collectTraceEvidence,
  consumerSpanCount,
  isExplainedBreak,
  type JaegerTrace,
  missingHops,
  sampleEvenly,
  TRACE_HOPS,
  traceChecks,
  waterfallOf,
} from '../../src/audit/traceAudit';
import type { LedgerEntry } from '../../src/load/ledger';

/** A real answer of the lab's Jaeger (/api/traces/<id>) for one order created over HTTP. */
const REAL: JaegerTrace = JSON.parse(
  readFileSync(
    path.join(__dirname, '..', '..', '..', '..', 'chaos', 'test', 'fixtures', 'jaegerOrderTrace.json'),
    'utf8',
  ),
) as JaegerTrace;

const kindOf = (trace: JaegerTrace, spanID: string) =>
  trace.spans.find((s) => s.spanID === spanID)?.tags.find((t) => t.key === 'span.kind')?.value;
const serviceOf = (trace: JaegerTrace, processID: string) => trace.processes[processID]?.serviceName ?? '';
/** What Jaeger holds when the relay drops the traceparent: the worker's spans land in another trace. */
const withoutWorker = (trace: JaegerTrace): JaegerTrace => ({
  ...trace,
  spans: trace.spans.filter((s) => !serviceOf(trace, s.processID).endsWith('worker')),
});

test('a real order trace holds every hop: api server, pg write, relay producer, worker consumer and pg', () => {
  assert.deepEqual(missingHops(REAL), []);
});

test('broken propagation names the missing hop (relay drops the traceparent → no worker spans)', () => {
  assert.deepEqual(missingHops(withoutWorker(REAL)), ['worker consumer span', 'worker pg span']);
  const noProducer = { ...REAL, spans: REAL.spans.filter((s) => kindOf(REAL, s.spanID) !== 'producer') };
  assert.deepEqual(missingHops(noProducer), ['relay producer span']);
  const noOutboxWrite = {
    ...REAL,
    spans: REAL.spans.filter(
      (s) => !s.tags.some((t) => t.key === 'db.query.text' && /outbox/i.test(String(t.value))),
    ),
  };
  assert.deepEqual(missingHops(noOutboxWrite), ['api pg write']);
  assert.deepEqual(missingHops(undefined), [...TRACE_HOPS]);
});

test('a redelivered message shows as a second worker consumer span in the same trace', () => {
  const consumer = REAL.spans.find((s) =>
    s.tags.some((t) => t.key === 'span.kind' && t.value === 'consumer'),
  )!;
  assert.equal(consumerSpanCount(REAL), 1);
  assert.equal(consumerSpanCount({ ...REAL, spans: [...REAL.spans, { ...consumer, spanID: 'again' }] }), 2);
  assert.equal(consumerSpanCount(undefined), 0);
});

test('the audit counts complete and broken traces by first missing hop and FAILs below the expectation', async () => {
  const entries: LedgerEntry[] = Array.from({ length: 10 }, (_, i) => ({
    requestId: `r-${i}`,
    idempotencyKey: `k-${i}`,
    target: 'api',
    intendedAt: i,
    sentAt: i,
    completedAt: i + 5,
    status: 201,
    latencyMs: 5,
    orderId: `order-${i}`,
    traceId: `trace-${i}`,
  }));
  // trace-3 lost its worker hop, trace-7 never reached Jaeger.
  const fetchTrace = (id: string) =>
    Promise.resolve(id === 'trace-7' ? undefined : id === 'trace-3' ? withoutWorker(REAL) : REAL);
  const evidence = await collectTraceEvidence({
    jaegerUrl: 'http://127.0.0.1:1',
    entries: [...entries, { ...entries[0]!, requestId: 'shed', status: 503, orderId: undefined }],
    sampleSize: Number.POSITIVE_INFINITY,
    seed: 1,
    settleS: 0,
    log: () => undefined,
    fetchTrace,
  });
  assert.equal(evidence.sampled, 10, 'only acknowledged orders are sampled');
  assert.equal(evidence.complete, 8);
  assert.deepEqual(evidence.brokenByHop, { 'worker consumer span': 1, 'api server span': 1 });
  assert.ok(
    evidence.examples.some(
      (x) => x.traceId === 'trace-3' && x.link === 'http://127.0.0.1:1/api/traces/trace-3',
    ),
  );
  const [strict] = traceChecks(evidence, { minCompleteShare: 1 });
  assert.equal(strict?.status, 'fail');
  assert.match(
    strict?.detail ?? '',
    /8\/10 complete .*1× missing worker consumer span, 1× missing api server span/,
  );
  assert.equal(traceChecks(evidence, { minCompleteShare: 0.8 })[0]?.status, 'pass');
  const [advisory] = traceChecks(evidence, undefined);
  assert.equal(advisory?.required, false);
  assert.equal(evidence.waterfall?.rows.length, REAL.spans.length, 'a complete trace is drawn');
});

test('waterfall rows start at 0, are ordered by start and nest pg spans under their parents', () => {
  const rows = waterfallOf(REAL);
  assert.equal(rows[0]?.startMs, 0);
  assert.ok(rows.every((r, i) => i === 0 || r.startMs >= (rows[i - 1]?.startMs ?? 0)));
  const consumer = rows.find((r) => r.kind === 'consumer');
  const workerPg = rows.filter((r) => r.service.endsWith('worker') && r.kind === 'client');
  assert.ok(consumer && workerPg.length > 0 && workerPg.every((r) => r.depth === consumer.depth + 1));
});

test('sampling spreads evenly over the run and keeps everything when the sample is large enough', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  assert.equal(sampleEvenly(items, 1000, 3).length, 100);
  const sample = sampleEvenly(items, 10, 3);
  assert.equal(sample.length, 10);
  assert.ok(sample[0]! < 10 && sample[9]! >= 90);
});

test('a break the fault explains: only the named hops missing, acknowledged just before a fault began', () => {
  const faults = [{ name: 'worker killed', start: 10_000, end: 20_000 }];
  const explain = { hops: ['worker consumer span', 'worker pg span'] as const, windowS: 2 };
  const workerHops = ['worker consumer span', 'worker pg span'] as const;
  assert.equal(isExplainedBreak(workerHops, 9_700, faults, explain), true);
  assert.equal(isExplainedBreak(workerHops, 10_500, faults, explain), true, 'the first second of the fault');
  assert.equal(isExplainedBreak(workerHops, 7_500, faults, explain), false, 'before the window');
  assert.equal(
    isExplainedBreak(workerHops, 15_000, faults, explain),
    false,
    'redelivered later: must be whole',
  );
  assert.equal(isExplainedBreak(['relay producer span'], 9_700, faults, explain), false, 'another hop');
  assert.equal(isExplainedBreak([], 9_700, faults, explain), false, 'complete is not a break');
  assert.equal(isExplainedBreak(workerHops, 9_700, faults, undefined), false, 'nothing explained by default');
});

test('explained breaks count towards the share and are reported apart from the broken ones', async () => {
  const entries: LedgerEntry[] = Array.from({ length: 10 }, (_, i) => ({
    requestId: `r-${i}`,
    idempotencyKey: `k-${i}`,
    target: 'api',
    intendedAt: i * 1000,
    sentAt: i * 1000,
    completedAt: i * 1000 + 5,
    status: 201,
    latencyMs: 5,
    orderId: `order-${i}`,
    traceId: `trace-${i}`,
  }));
  // trace-4 (acknowledged 0.995 s before the kill) lost its worker spans; trace-8 lost them later.
  const fetchTrace = (id: string) =>
    Promise.resolve(id === 'trace-4' || id === 'trace-8' ? withoutWorker(REAL) : REAL);
  const evidence = await collectTraceEvidence({
    jaegerUrl: 'http://127.0.0.1:1',
    entries,
    sampleSize: Number.POSITIVE_INFINITY,
    seed: 1,
    settleS: 0,
    faults: [{ name: 'worker killed', start: 5_000, end: 6_000 }],
    explainedBreaks: {
      hops: ['worker consumer span', 'worker pg span'],
      windowS: 2,
      because: 'spans died with it',
    },
    log: () => undefined,
    fetchTrace,
  });
  assert.equal(evidence.complete, 8);
  assert.equal(evidence.explained, 1);
  assert.deepEqual(evidence.brokenByHop, { 'worker consumer span': 1 });
  assert.ok(evidence.examples.some((x) => x.traceId === 'trace-4' && x.explained === true));
  const [row] = traceChecks(evidence, { minCompleteShare: 1 });
  assert.equal(row?.status, 'fail', 'the unexplained one still fails');
  assert.match(
    row?.detail ?? '',
    /8\/10 complete \+ 1 broken as the fault explains \(spans died with it\) \(90\.0%/,
  );
  assert.match(row?.detail ?? '', /e\.g\. http:\/\/127\.0\.0\.1:1\/api\/traces\/trace-8/);
  assert.equal(traceChecks(evidence, { minCompleteShare: 0.9 })[0]?.status, 'pass');
});
