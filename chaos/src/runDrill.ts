import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ackedOrderIds, collectDataEvidence, dataChecks } from './audit/dataAudit';
import { ledgerChecks } from './audit/ledgerChecks';
import { type FaultWindow, perSecond, summarise } from './audit/maths';
import { collectPrometheusEvidence, type PrometheusEvidence } from './audit/prometheusAudit';
import { collectTraceEvidence, type TraceEvidence, traceChecks } from './audit/traceAudit';
import { type Check, decideVerdict, fail, skip } from './audit/verdict';
import type { Drill, DrillArgs, DrillContext, DrillOutcome, ReleaseEvidence } from './drills/drill';
import { SLO_LATENCY_MS } from './drills/knobs';
import { type LedgerEntry, LedgerWriter } from './load/ledger';
import { LoadClient } from './load/loadClient';
import { DEFAULT_GENERATOR_NICE, raiseGeneratorPriority } from './load/generatorPriority';
import { runOpenModelLoad } from './load/openModelLoad';
import { renderReportHtml } from './report/html';
import type { DrillReport } from './report/reportModel';
import type { Target } from './targets/target';

export interface RunDrillOptions {
  readonly drill: Drill;
  readonly args: DrillArgs;
  readonly target: Target;
  readonly reportDir: string;
  readonly log: (line: string) => void;
  /** Seconds to wait for expected alerts to resolve after the load. */
  readonly alertResolveWaitS: number;
  /** Optional Grafana base URL for start/end annotations. */
  readonly grafanaUrl?: string;
  /** Nice value for the load generator's thread while the drill runs (0 = unchanged). */
  readonly generatorNice?: number;
}

export interface DrillRunResult {
  readonly report: DrillReport;
  readonly reportDir: string;
}

export function reportFolder(root: string, drillName: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  return path.join(root, `${drillName}-${stamp}`);
}

/** prepare → load + fault (drill code) → audit (ledger, DB + topic, Prometheus) → verdict → report. */
export async function runDrill(options: RunDrillOptions): Promise<DrillRunResult> {
  const { drill, args, target, log } = options;
  const dir = options.reportDir;
  mkdirSync(dir, { recursive: true });
  const files = {
    ledger: path.join(dir, 'ledger.ndjson'),
    json: path.join(dir, 'report.json'),
    html: path.join(dir, 'report.html'),
  };
  const ledger = new LedgerWriter(files.ledger);
  // One client fleet for the warm-up and every load of the drill: connections stay open between
  // phases, as a real fleet's pools do, instead of each phase opening hundreds at once.
  const client = new LoadClient();
  const startedAt = new Date();
  const entries: LedgerEntry[] = [];
  const faults: FaultWindow[] = [];
  let loadStart = Number.POSITIVE_INFINITY;
  let loadEnd = 0;
  const checks: Check[] = [];
  let outcome: DrillOutcome = { checks: [], facts: {} };
  let prometheusEvidence: PrometheusEvidence | undefined;
  let traces: TraceEvidence | undefined;
  let restorePriority = (): void => undefined;

  const ctx: DrillContext = {
    target,
    args,
    log,
    client,
    async load(load) {
      log(
        `load: ${load.steps.map((s) => `${s.rate}/s from ${s.atS} s`).join(', ')} → ${load.url} (${load.target})`,
      );
      let lastLine = 0;
      const result = await runOpenModelLoad({
        baseUrl: load.url,
        target: load.target,
        steps: load.steps,
        durationS: load.durationS,
        seed: args.seed + entries.length,
        client,
        onEntry: (e) => ledger.write(e),
        onProgress: (p) => {
          if (p.elapsedS - lastLine >= 5) {
            lastLine = p.elapsedS;
            log(
              `  ${load.target} ${p.elapsedS.toFixed(0).padStart(3)} s: ${p.completed} done (${p.ok} 2xx, ${p.failed} not), ${p.inFlight} in flight, ${p.rate}/s`,
            );
          }
        },
        ...(load.signal ? { signal: load.signal } : {}),
      });
      entries.push(...result.entries);
      loadStart = Math.min(loadStart, result.start);
      loadEnd = Math.max(loadEnd, result.end);
      return result;
    },
    async fault(name, inject, forS, heal) {
      const start = Date.now();
      log(`FAULT ${name}`);
      await inject();
      await sleep(Math.max(0, forS * 1000 - (Date.now() - start)));
      log(`HEAL  ${name}`);
      await heal();
      const window = { name, start, end: Date.now() };
      faults.push(window);
      log(`      healed after ${((window.end - start) / 1000).toFixed(1)} s`);
      return window;
    },
    markFault(window) {
      faults.push(window);
    },
    sleep: (seconds) => sleep(Math.max(0, seconds * 1000)),
    onProgress: () => undefined,
    annotate: (text, tags) => annotate(options.grafanaUrl, text, [drill.name, ...tags]),
  };

  try {
    log(`preparing ${target.kind} target: ${describeSetup(drill)}`);
    await target.prepare(drill.setup);
    restorePriority = raiseGeneratorPriority(options.generatorNice ?? DEFAULT_GENERATOR_NICE, log);
    await warmUp(target, args, log, client);
    await annotate(options.grafanaUrl, `drill ${drill.name} started`, [drill.name, 'drill', 'start']);
    outcome = await drill.run(ctx);
    await annotate(options.grafanaUrl, `drill ${drill.name} ended`, [drill.name, 'drill', 'end']);
    await ledger.close();

    log(`audit: ${entries.length} requests in the ledger, ${faults.length} fault window(s)`);
    checks.push(
      ...ledgerChecks({
        entries,
        faults,
        expectations: drill.expectations,
        loadStart,
        loadEnd,
        sloLatencyMs: SLO_LATENCY_MS,
        ...(outcome.referenceGoodput !== undefined ? { referenceGoodput: outcome.referenceGoodput } : {}),
      }),
    );
    checks.push(...outcome.checks);

    const conn = target.connection();
    if (drill.setup.pipeline) {
      const acked = ackedOrderIds(entries);
      log(`audit: reading PostgreSQL and ${conn.topic} for ${acked.length} acknowledged orders`);
      try {
        const evidence = await collectDataEvidence({
          postgresUrl: conn.postgresUrl,
          kafka: {
            brokers: conn.kafkaBrokers,
            ...(conn.kafkaHostAliases ? { hostAliases: conn.kafkaHostAliases } : {}),
          },
          topic: conn.topic,
          acked,
          confirmWithinS: drill.expectations.data.confirmWithinS,
          log,
        });
        checks.push(...dataChecks(evidence, drill.expectations.data.confirmWithinS));
      } catch (error) {
        checks.push(fail('data audit ran', `could not read PostgreSQL/Kafka: ${(error as Error).message}`));
      }
      if (conn.jaegerUrl) {
        try {
          traces = await collectTraceEvidence({
            jaegerUrl: conn.jaegerUrl,
            entries,
            sampleSize: args.short ? Number.POSITIVE_INFINITY : TRACE_SAMPLE,
            seed: args.seed,
            settleS: 20,
            faults,
            ...(drill.expectations.traces?.explainedBreaks
              ? { explainedBreaks: drill.expectations.traces.explainedBreaks }
              : {}),
            log,
          });
          checks.push(...traceChecks(traces, drill.expectations.traces));
        } catch (error) {
          checks.push(
            fail(
              'trace audit ran',
              `could not read Jaeger at ${conn.jaegerUrl}: ${(error as Error).message}`,
              drill.expectations.traces !== undefined,
            ),
          );
        }
      } else {
        checks.push(skip('trace audit', 'this target has no Jaeger query API', false));
      }
    } else {
      checks.push(skip('data audit', 'this drill runs no event pipeline', false));
    }

    log('audit: Prometheus series, SLO figures and alerts');
    prometheusEvidence = await collectPrometheusEvidence({
      prometheus: target.prometheus(),
      from: loadStart,
      to: loadEnd,
      faults,
      expectedAlerts: drill.expectations.alerts,
      resolveWaitS: options.alertResolveWaitS,
      ledgerRequests: entries.length,
      log,
    });
    checks.push(...prometheusEvidence.checks);
  } catch (error) {
    checks.push(fail('drill ran to the end', (error as Error).message));
    log(`drill error: ${(error as Error).stack ?? String(error)}`);
  } finally {
    restorePriority();
    client.close();
    await ledger.close().catch(() => undefined);
    try {
      await target.close();
    } catch (error) {
      checks.push(fail('target cleaned up', (error as Error).message));
    }
  }

  if (!Number.isFinite(loadStart)) {
    loadStart = startedAt.getTime();
    loadEnd = Date.now();
  }
  const report = assembleReport({
    drill,
    targetKind: target.kind,
    args,
    startedAt,
    entries,
    faults,
    window: { start: loadStart, end: loadEnd },
    facts: {
      ...outcome.facts,
      ...(Object.keys(drill.setup.serviceEnv).length > 0
        ? {
            'service environment': Object.entries(drill.setup.serviceEnv)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          }
        : {}),
    },
    prometheus: prometheusEvidence,
    ...(traces ? { traces } : {}),
    ...(outcome.release ? { release: outcome.release } : {}),
    checks,
    files,
  });
  writeReport(report);
  return { report, reportDir: dir };
}

export interface ReportInput {
  readonly drill: Pick<Drill, 'name' | 'title' | 'objective' | 'expectations'>;
  readonly targetKind: string;
  readonly args: DrillArgs;
  readonly startedAt: Date;
  readonly entries: readonly LedgerEntry[];
  readonly faults: readonly FaultWindow[];
  readonly window: { readonly start: number; readonly end: number };
  readonly facts: Readonly<Record<string, string | number>>;
  readonly prometheus: Omit<PrometheusEvidence, 'checks'> | undefined;
  readonly traces?: TraceEvidence;
  readonly release?: ReleaseEvidence;
  readonly checks: readonly Check[];
  readonly files: DrillReport['files'];
}

/** Builds the report (summary, per-second series, verdict) from what a run collected. */
export function assembleReport(input: ReportInput): DrillReport {
  const { drill, entries, window } = input;
  return {
    drill: { name: drill.name, title: drill.title, objective: drill.objective },
    target: input.targetKind,
    args: input.args,
    startedAt: input.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    window,
    faults: input.faults,
    expectations: drill.expectations,
    summary: summarise(entries),
    facts: input.facts,
    perSecond: perSecond(entries, window.start, window.end, SLO_LATENCY_MS),
    prometheus: {
      outboxBacklog: input.prometheus?.outboxBacklog ?? [],
      consumerLag: input.prometheus?.consumerLag ?? [],
      slo: input.prometheus?.slo ?? {},
      alerts: input.prometheus?.alerts ?? [],
      notes: input.prometheus?.notes ?? [],
    },
    ...(input.traces ? { traces: input.traces } : {}),
    ...(input.release ? { release: input.release } : {}),
    checks: input.checks,
    verdict: decideVerdict(input.checks),
    files: input.files,
  };
}

export function writeReport(report: DrillReport): void {
  writeFileSync(report.files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(report.files.html, renderReportHtml(report));
}

/**
 * A few seconds of load before the measured run (not in the ledger): a freshly started process
 * JIT-compiles and fills its pools, and its first event-loop stalls would otherwise be charged to the drill.
 */
async function warmUp(
  target: Target,
  args: DrillArgs,
  log: (line: string) => void,
  client: LoadClient,
): Promise<void> {
  const conn = target.connection();
  const url = conn.apiUrl ?? conn.ownedApiUrl;
  if (!url) return;
  const rate = Math.min(Math.max(args.rate, 10), 50);
  const result = await runOpenModelLoad({
    baseUrl: url,
    steps: [{ atS: 0, rate }],
    durationS: WARM_UP_S,
    seed: args.seed + 99,
    client,
  });
  const ok = result.entries.filter((e) => e.status !== null && e.status < 300).length;
  log(`warm-up: ${ok}/${result.entries.length} accepted in ${WARM_UP_S} s at ${rate}/s (not audited)`);
}

const WARM_UP_S = 4;
/** Acknowledged orders whose traces a full-length drill looks up (short drills look up all). */
const TRACE_SAMPLE = 500;

function describeSetup(drill: Drill): string {
  const s = drill.setup;
  return [
    s.apiReplicas > 0
      ? `${s.apiReplicas} api replica(s)${s.loadBalancer ? ' behind a load balancer' : ''}`
      : '',
    s.ownedApi ? `an owned api process${s.ownedApi.viaLatencyProxy ? ' through the latency proxy' : ''}` : '',
    s.pipeline ? 'relay + worker' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Drill start/end annotations in Grafana when one answers (compose); silently skipped otherwise. */
async function annotate(
  grafanaUrl: string | undefined,
  text: string,
  tags: readonly string[],
): Promise<void> {
  if (!grafanaUrl) return;
  try {
    await fetch(new URL('/api/annotations', grafanaUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ time: Date.now(), tags, text }),
      signal: AbortSignal.timeout(2000),
    });
  } catch {
    // Grafana is optional
  }
}
