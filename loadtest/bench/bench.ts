/**
 * `npm run bench`: autocannon benchmark of the service with full observability, with telemetry off,
 * and a bare node:http + pg baseline, interleaved in one run; ratios compared with a committed
 * baseline. See docs/benchmarks.md and `npm run bench -- --help`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  type Baseline,
  baselineFrom,
  compareWithBaseline,
  computeRatios,
  gateValues,
  type RoundSample,
  roundOrder,
  summarise,
  variantCores,
} from './benchMath';
import { BENCH_HELP, type BenchOptions, type Endpoint, parseBenchArgs, UsageError } from './benchArgs';
import { createVariantDatabase, type VariantDatabase } from './benchDatabases';
import { cpuWindow, processCpuSeconds, readCpu } from './cpuAccounting';
import { acquirePostgres } from './benchPostgres';
import { type RunningVariant, startVariant } from './benchProcesses';
import {
  BASELINE_HEADER,
  baselineRows,
  type BenchReport,
  markdownReport,
  RATIO_HEADER,
  ratioRows,
  SUMMARY_HEADER,
  summaryRows,
  textTable,
} from './benchReport';
import { startOtlpSink, type OtlpSink } from './otlpSink';
import { BENCH_RATIOS, BENCH_VARIANTS, type BenchVariant, VARIANT_NAMES } from './variants';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const ORDER_BODY = JSON.stringify({
  customerId: 'bench-customer',
  currency: 'EUR',
  items: [
    { sku: 'SKU-BENCH-1', quantity: 2, unitPriceCents: 1250 },
    { sku: 'SKU-BENCH-2', quantity: 1, unitPriceCents: 4999 },
  ],
});

/** Creates orders for GET to read; bounded in count, 8 at a time. */
async function seedOrders(baseUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, async () => {
      const res = await fetch(`${baseUrl}/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: ORDER_BODY,
        signal: AbortSignal.timeout(10000),
      });
      if (res.status !== 201) throw new Error(`seeding ${baseUrl}: POST answered ${res.status}`);
      return ((await res.json()) as { id: string }).id;
    });
    ids.push(...(await Promise.all(batch)));
  }
  return ids;
}

function loadOptions(
  baseUrl: string,
  endpoint: Endpoint,
  ids: readonly string[],
  opts: BenchOptions,
  seconds: number,
) {
  let next = 0;
  const common = {
    url: baseUrl,
    connections: opts.connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
  };
  if (endpoint === 'post') {
    return {
      ...common,
      method: 'POST' as const,
      requests: [
        {
          method: 'POST' as const,
          path: '/v1/orders',
          headers: { 'content-type': 'application/json' },
          body: ORDER_BODY,
        },
      ],
    };
  }
  return {
    ...common,
    requests: [
      {
        method: 'GET' as const,
        // Walk the seeded orders so reads spread over rows like real traffic, not one hot row.
        setupRequest: (req: autocannon.Request) => ({
          ...req,
          path: `/v1/orders/${ids[next++ % ids.length]}`,
        }),
      },
    ],
  };
}

/** `  1.00 cores, machine 97 % busy` for a step's progress line, or nothing without readings. */
function coresNote(sample: RoundSample): string {
  const cores = variantCores(sample);
  if (cores === undefined) return '';
  const machine =
    sample.machineBusy === undefined ? '' : `, machine ${(sample.machineBusy * 100).toFixed(0)} % busy`;
  return `  ${cores.toFixed(2)} cores${machine}`;
}

async function measure(
  running: RunningVariant,
  endpoint: Endpoint,
  ids: readonly string[],
  opts: BenchOptions,
  seconds: number,
  round: number,
): Promise<RoundSample> {
  const baseUrl = `http://127.0.0.1:${running.ctx.ports.http}`;
  const counters = { variant: () => processCpuSeconds(running.child.pid) };
  const before = readCpu(counters);
  const result = await autocannon(loadOptions(baseUrl, endpoint, ids, opts, seconds));
  const after = readCpu(counters);
  const cpuBefore = before.processSeconds['variant'];
  const cpuAfter = after.processSeconds['variant'];
  const { machineBusy } = cpuWindow(before, after);
  return {
    okResponses: result['2xx'],
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuSeconds: cpuAfter - cpuBefore } : {}),
    durationSeconds: result.duration,
    ...(machineBusy !== undefined ? { machineBusy } : {}),
    round,
    variant: running.variant.name,
    endpoint,
    reqPerSec: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p975Ms: result.latency.p97_5,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** Scrapes each service's /metrics like Prometheus would, so the metrics endpoint's cost is in the figures. */
function startScraping(variants: readonly RunningVariant[], intervalMs: number): () => void {
  const timer = setInterval(() => {
    for (const v of variants) {
      if (!v.variant.scrapeMetrics) continue;
      fetch(`http://127.0.0.1:${v.ctx.ports.admin}/metrics`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

function readBaseline(file: string): Baseline | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Baseline;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function run(opts: BenchOptions): Promise<number> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const reportDir = path.resolve(repoRoot, opts.reportDir, stamp);
  mkdirSync(reportDir, { recursive: true });
  const variants: BenchVariant[] = BENCH_VARIANTS.filter((v) =>
    opts.variants ? opts.variants.includes(v.name) : !v.diagnostic,
  );
  const problems: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const running: RunningVariant[] = [];
  let sink: OtlpSink | undefined;
  let stopScraping = () => undefined as void;
  const interrupted = () => {
    log('interrupted: stopping variants');
    void Promise.allSettled(running.map((r) => r.stop())).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const samples: RoundSample[] = [];
  try {
    const postgres = await acquirePostgres(opts.pgAdminUrl, log);
    cleanups.push(() => postgres.release());
    const adminUrl = postgres.adminUrl;
    sink = await startOtlpSink(opts.portBase + 99);
    const seconds = opts.durationSeconds * opts.rounds * variants.length * opts.endpoints.length;
    log(
      `${variants.map((v) => v.name).join(', ')} × ${opts.endpoints.join(', ')}: ${opts.rounds} rounds × ` +
        `${opts.durationSeconds} s, -c ${opts.connections} (≈${Math.ceil(seconds / 60)} min of load + warm-up); report ${reportDir}`,
    );
    for (const [i, variant] of variants.entries()) {
      const db: VariantDatabase = await createVariantDatabase(adminUrl, variant.name);
      cleanups.push(() => db.drop());
      const base = opts.portBase + 10 * i;
      const ctx = {
        ports: { http: base, admin: base + 1, grpc: base + 2 },
        databaseUrl: db.url,
        poolMax: opts.poolMax,
        otlpEndpoint: sink.url,
      };
      log(`starting ${variant.name} on :${base} (database ${db.name})`);
      const r = await startVariant(variant, ctx, { repoRoot, logDir: reportDir, readyTimeoutMs: 30000 });
      running.push(r);
      for (const note of r.notes) log(`  note: ${note}`);
    }
    stopScraping = startScraping(running, 5000);

    const ids = new Map<string, string[]>();
    for (const r of running) {
      ids.set(r.variant.name, await seedOrders(`http://127.0.0.1:${r.ctx.ports.http}`, opts.seedOrders));
    }
    log(`seeded ${opts.seedOrders} orders per variant`);
    if (opts.warmupSeconds > 0) {
      for (const endpoint of opts.endpoints)
        for (const r of running) {
          await measure(r, endpoint, ids.get(r.variant.name)!, opts, opts.warmupSeconds, -1);
        }
      log(`warmed up (${opts.warmupSeconds} s per variant and endpoint)`);
    }
    for (let round = 0; round < opts.rounds; round++) {
      for (const endpoint of opts.endpoints) {
        for (const r of roundOrder(running, round)) {
          const sample = await measure(
            r,
            endpoint,
            ids.get(r.variant.name)!,
            opts,
            opts.durationSeconds,
            round,
          );
          samples.push(sample);
          log(
            `round ${round + 1}/${opts.rounds} ${endpoint.toUpperCase().padEnd(4)} ${r.variant.name.padEnd(13)} ` +
              `${sample.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${sample.p99Ms.toFixed(1)} ms` +
              coresNote(sample) +
              (sample.errors + sample.non2xx > 0 ? `  errors ${sample.errors} non-2xx ${sample.non2xx}` : ''),
          );
          if (r.child.exitCode !== null)
            throw new Error(`${r.variant.name} died during the run; see ${r.logPath}`);
        }
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    problems.push(`run aborted: ${(err as Error).message}`);
    log(`FAILED: ${(err as Error).message}`);
  } finally {
    stopScraping();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    for (const r of running) {
      const code = await r.stop();
      if (code !== 0) problems.push(`${r.variant.name} exited with ${code} after SIGTERM; see ${r.logPath}`);
    }
    await sink?.close();
    for (const c of cleanups.reverse()) await c().catch((e: Error) => problems.push(`cleanup: ${e.message}`));
  }

  const summaries = summarise(samples);
  for (const s of summaries) {
    const bad = s.errors + s.non2xx;
    if (bad > 0.01 * s.requests)
      problems.push(
        `${s.variant} ${s.endpoint}: ${bad} of ${s.requests} requests failed (>1%): figures are not comparable`,
      );
  }
  const ratios = computeRatios(
    BENCH_RATIOS.filter((d) => opts.endpoints.includes(d.endpoint)),
    samples,
  );
  const baselineFile = path.resolve(repoRoot, opts.baselinePath);
  const baseline = readBaseline(baselineFile);
  let baselineResult: BenchReport['baseline'] = null;
  const gate = opts.gate ?? baseline?.gate ?? 'throughput';
  if (opts.compare && baseline) {
    const tolerance = opts.tolerance ?? baseline.tolerance;
    if (opts.gate && opts.gate !== (baseline.gate ?? 'throughput'))
      problems.push(`--gate ${opts.gate} but the baseline holds ${baseline.gate ?? 'throughput'} ratios`);
    const { checks, failed } = compareWithBaseline(gateValues(ratios, baseline.gate ?? 'throughput'), {
      ...baseline,
      tolerance,
    });
    baselineResult = {
      path: opts.baselinePath,
      gate: baseline.gate ?? 'throughput',
      tolerance,
      checks,
      failed,
    };
  } else if (opts.compare) {
    problems.push(`no baseline at ${opts.baselinePath}: run with --update-baseline to record one`);
  }
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    settings: { ...opts, variants: variants.map((v) => v.name) },
    environment: {
      node: process.version,
      cpus: os.cpus().length,
      loadAverage: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
      platform: `${os.platform()} ${os.release()}`,
      otlpSink: sink?.stats,
    },
    variants: variants.map((v) => ({
      name: v.name,
      description: v.description,
      notes: running.find((r) => r.variant === v)?.notes ?? [],
    })),
    samples,
    summaries,
    ratios,
    baseline: baselineResult,
    problems,
  };
  writeFileSync(path.join(reportDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(reportDir, 'bench.md'), markdownReport(report));

  console.log(`\n${textTable(SUMMARY_HEADER, summaryRows(summaries))}\n`);
  console.log(`${textTable(RATIO_HEADER, ratioRows(ratios))}\n`);
  if (baselineResult) console.log(`${textTable(BASELINE_HEADER, baselineRows(baselineResult.checks))}\n`);
  for (const p of problems) console.log(`problem: ${p}`);

  const runFailed = problems.some(
    (p) => p.startsWith('run aborted') || p.includes('figures are not comparable'),
  );
  if (opts.updateBaseline && !runFailed) {
    const next = baselineFrom(
      gateValues(ratios, gate),
      opts.tolerance ?? baseline?.tolerance ?? 0.1,
      gate,
      startedAt.toISOString(),
      `${report.command}; ${os.cpus().length} CPUs; medians of ${opts.rounds} interleaved rounds`,
    );
    writeFileSync(baselineFile, `${JSON.stringify(next, null, 2)}\n`);
    log(`baseline written to ${opts.baselinePath}`);
  }
  const regressed = baselineResult?.failed ?? false;
  const verdict = runFailed ? 'FAILED' : regressed ? 'REGRESSION' : 'ok';
  const ratioText = ratios.map((r) => `${r.name} ${r.value?.toFixed(2) ?? '—'}`).join(', ');
  console.log(`bench ${verdict}: ${ratioText}; report ${path.join(reportDir, 'bench.md')}`);
  return runFailed || regressed ? 1 : 0;
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2), process.env, VARIANT_NAMES);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\n\n${BENCH_HELP}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(BENCH_HELP);
    return;
  }
  try {
    process.exitCode = await run(opts);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}`);
    process.exitCode = 2;
  }
}

void main();
