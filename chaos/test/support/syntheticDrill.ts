import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataChecks } from '../../src/audit/dataAudit';
import { ledgerChecks } from '../../src/audit/ledgerChecks';
import type { FaultWindow } from '../../src/audit/maths';
import { seededRandom } from '../../src/load/openModelLoad';
import type { LedgerEntry } from '../../src/load/ledger';
import { brokerLoss } from '../../src/drills/brokerLoss';
import { assembleReport, writeReport } from '../../src/runDrill';
import type { DrillReport } from '../../src/report/reportModel';

/**
 * A recorded-shape broker-loss run, synthesised: 60 s at 40/s, Kafka gone from 15 s to 35 s
 * (orders accepted until the outbox bound, then shed with Retry-After), backlog and lag rising and
 * draining. Goes through the real audit and report code.
 */
export function syntheticBrokerLossReport(
  dir: string,
  start = Date.parse('2026-11-24T00:00:00Z'),
): DrillReport {
  mkdirSync(dir, { recursive: true });
  const random = seededRandom(42);
  const faults: FaultWindow[] = [
    { name: 'kafka killed (SIGKILL)', start: start + 15_000, end: start + 35_000 },
  ];
  const entries: LedgerEntry[] = [];
  for (let i = 0; i < 60 * 40; i++) {
    const at = start + i * 25;
    const t = (at - start) / 1000;
    const shed = t >= 19 && t < 35;
    const latency = Math.round(
      (shed ? 3 : t >= 15 && t < 40 ? 35 : 18) + random() * (t > 35 && t < 38 ? 120 : 25),
    );
    entries.push({
      requestId: `syn-${i}`,
      idempotencyKey: `drill-syn-${i}`,
      target: 'api',
      intendedAt: at,
      sentAt: at + 1,
      completedAt: at + latency,
      status: shed ? 503 : 201,
      latencyMs: latency,
      ...(shed
        ? { retryAfter: '1', errorCode: 'https://orderlab.dev/problems/overloaded' }
        : { orderId: `order-${i}` }),
    });
  }
  const end = start + 60_000;
  const acked = entries.filter((e) => e.orderId).map((e) => e.orderId as string);
  const evidence = {
    acked,
    dbStatus: new Map(acked.map((id) => [id, 'confirmed'])),
    confirmations: new Map(acked.map((id) => [id, 1])),
    inTopic: new Map(acked.map((id) => [id, 1])),
    confirmationSource: 'processed_events.order_id',
    topicMessages: acked.length,
  };
  const series = (f: (t: number) => number) =>
    Array.from({ length: 33 }, (_, k) => ({
      at: start - 4000 + k * 2000,
      value: Math.max(0, Math.round(f((k * 2000 - 4000) / 1000))),
    }));
  const backlog = series((t) => (t < 15 ? 2 : t < 19 ? (t - 15) * 40 : t < 35 ? 150 : 150 - (t - 35) * 30));
  const lag = series((t) => (t < 35 ? 1 : t < 42 ? 150 - (t - 35) * 20 : 1));
  const checks = [
    ...ledgerChecks({
      entries,
      faults,
      expectations: brokerLoss.expectations,
      loadStart: start,
      loadEnd: end,
      sloLatencyMs: 250,
    }),
    ...dataChecks(evidence, 60),
    {
      name: `alert ${brokerLoss.expectations.alerts[0]?.name} fired`,
      status: 'pass' as const,
      required: true,
      detail: 'fired (synthetic)',
    },
  ];
  const files = {
    ledger: path.join(dir, 'ledger.ndjson'),
    json: path.join(dir, 'report.json'),
    html: path.join(dir, 'report.html'),
  };
  writeFileSync(files.ledger, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const report = assembleReport({
    drill: brokerLoss,
    targetKind: 'native (synthetic fixture)',
    args: { rate: 40, durationS: 60, seed: 42, short: false },
    startedAt: new Date(start),
    entries,
    faults,
    window: { start, end },
    facts: { outboxBound: 150, acceptedDuringFault: 160, shedDuringFault: 640 },
    prometheus: {
      outboxBacklog: backlog,
      consumerLag: lag,
      slo: { 'availability (non-5xx share)': 0.733, 'order creation p99 (s)': 0.142 },
      alerts: [
        {
          name: 'OrderlabOutboxBacklogHigh',
          firedAt: start + 24_000,
          resolvedAt: start + 48_000,
          pendingSeen: true,
        },
      ],
      notes: [],
    },
    checks,
    files,
  });
  writeReport(report);
  return report;
}
