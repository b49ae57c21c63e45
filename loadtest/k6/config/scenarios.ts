/**
 * k6 options for every scenario, built from the run settings and the SLO definition. Pure module
 * (types only from k6), so loadtest/test/k6Options.test.ts checks rates, stages, executors and
 * thresholds without a k6 binary.
 *
 * Shape of every non-smoke run (open model: arrivals do not wait for responses, so a slow service
 * meets more concurrent requests instead of a politely slower client):
 *   writes     creations at the scenario's rate (a share of them cancelled right after)
 *   reads      GET by id and list at writes × READS_PER_WRITE, over orders made in setup()
 *   freshness  a slow probe that follows single orders until they reach a final status
 */
import type { Options, Scenario, Stage, Threshold } from 'k6/options';
import { EXEC, METRIC, OPERATIONS, OPERATION_NAMES, type Protocol, type ScenarioKind } from './names.ts';
import { durationSeconds, type RunSettings } from './settings.ts';
import { errorBudget, percentileFor, type SloDefinition } from './slo.ts';

/** Thresholds that always pass: they make k6 keep per-operation sub-metrics for the summary. */
export const INFORMATIONAL_THRESHOLD = 'max>=0';

/** Summary stats; p(99) is the latency SLO's percentile. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];

/**
 * Tags k6 attaches by itself. `url` is left out on purpose: it holds order ids, and with
 * Prometheus remote write every tag becomes a label (unbounded cardinality).
 */
export const SYSTEM_TAGS = [
  'proto',
  'subproto',
  'status',
  'method',
  'name',
  'group',
  'check',
  'error',
  'error_code',
  'tls_version',
  'scenario',
  'service',
  'expected_response',
];

/** How long the abort decision waits, so warm-up noise cannot end a run (stress / soak). */
export const ABORT_DELAY: Readonly<Record<ScenarioKind, string | undefined>> = {
  smoke: undefined,
  load: undefined,
  stress: '30s',
  spike: undefined,
  soak: '5m',
};

/** The SLO thresholds for one protocol; the same three lines in every scenario. */
export function sloThresholds(
  protocol: Protocol,
  slo: SloDefinition,
  abortDelay: string | undefined,
): Record<string, Threshold[]> {
  const line = (expression: string): Threshold =>
    abortDelay === undefined
      ? expression
      : { threshold: expression, abortOnFail: true, delayAbortEval: abortDelay };
  const create = OPERATIONS.createOrder;
  const latencyMetric =
    protocol === 'http'
      ? `http_req_duration{name:${create.http.name},method:${create.http.method},expected_response:true}`
      : `grpc_req_duration{name:${create.grpcMethod}}`;
  return {
    [METRIC.sloBadRequests]: [line(`rate<=${errorBudget(slo.availability.objective)}`)],
    [latencyMetric]: [
      line(`${percentileFor(slo.latency.objective)}<${Math.round(slo.latency.thresholdSeconds * 1000)}`),
    ],
    [METRIC.freshnessWithinSlo]: [line(`rate>=${slo.freshness.objective}`)],
  };
}

/** Per-operation sub-metrics, reported in the summary but never failing a run. */
export function informationalThresholds(protocol: Protocol): Record<string, Threshold[]> {
  const result: Record<string, Threshold[]> = {};
  for (const operation of OPERATION_NAMES) {
    const metric = protocol === 'http' ? 'http_req_duration' : 'grpc_req_duration';
    result[`${metric}{operation:${operation}}`] = [INFORMATIONAL_THRESHOLD];
  }
  return result;
}

/**
 * k6 arrival rates are integers per timeUnit: whole rates go per second, fractional ones per
 * minute (rounded, at least 1) so a 0.5/s probe is 30 per minute rather than 0 or 1 per second.
 */
export function arrivalUnit(perSecondRates: readonly number[]): { timeUnit: '1s' | '1m'; scale: number } {
  return perSecondRates.every((r) => Number.isInteger(r))
    ? { timeUnit: '1s', scale: 1 }
    : { timeUnit: '1m', scale: 60 };
}

function scaled(perSecond: number, scale: number): number {
  return Math.max(1, Math.round(perSecond * scale));
}

/** VUs to pre-allocate for a peak rate: enough for iterations of about half a second. */
export function preAllocatedVUs(peakPerSecond: number, iterationSeconds: number, maxVUs: number): number {
  return Math.min(maxVUs, Math.max(2, Math.ceil(peakPerSecond * iterationSeconds)));
}

const TYPICAL_ITERATION_SECONDS = 0.5;

function constantRate(
  exec: string,
  perSecond: number,
  duration: string,
  settings: RunSettings,
  iterationSeconds = TYPICAL_ITERATION_SECONDS,
): Scenario {
  const unit = arrivalUnit([perSecond]);
  const preAllocated = preAllocatedVUs(perSecond, iterationSeconds, settings.maxVUs);
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate: scaled(perSecond, unit.scale),
    timeUnit: unit.timeUnit,
    duration,
    preAllocatedVUs: preAllocated,
    maxVUs: Math.max(preAllocated, settings.maxVUs),
  };
}

/**
 * A spike pre-allocates for its peak (initialising VUs mid-spike would blur the spike); a stress
 * ramp for its start only, since k6 adds VUs up to maxVUs as the rate climbs.
 */
function rampingRate(
  exec: string,
  startPerSecond: number,
  stages: readonly Stage[],
  settings: RunSettings,
  preAllocateFor: 'start' | 'peak',
): Scenario {
  const unit = arrivalUnit([startPerSecond, ...stages.map((s) => s.target)]);
  const peak = Math.max(startPerSecond, ...stages.map((s) => s.target));
  const sizing = preAllocateFor === 'peak' ? peak : startPerSecond;
  const preAllocated = preAllocatedVUs(sizing, TYPICAL_ITERATION_SECONDS, settings.maxVUs);
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: scaled(startPerSecond, unit.scale),
    timeUnit: unit.timeUnit,
    stages: stages.map((s) => ({ duration: s.duration, target: scaled(s.target, unit.scale) })),
    preAllocatedVUs: preAllocated,
    maxVUs: Math.max(preAllocated, settings.maxVUs),
  };
}

/** Formats seconds as a k6 duration ('90s' → '1m30s'). */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || whole === 0 ? `${s}s` : ''}`;
}

/** Total length of a list of stages, in seconds. */
export function stagesSeconds(stages: readonly Stage[]): number {
  return stages.reduce((sum, stage) => sum + durationSeconds(stage.duration), 0);
}

/** Write-rate stages of the spike: warm at the base rate, jump, hold, drop back, watch recovery. */
export function spikeStages(settings: RunSettings): Stage[] {
  const base = settings.writeRate;
  const peak = base * settings.spikeFactor;
  return [
    { duration: settings.spikeWarmDuration, target: base },
    { duration: '10s', target: peak },
    { duration: settings.spikeHoldDuration, target: peak },
    { duration: '10s', target: base },
    { duration: settings.spikeRecoveryDuration, target: base },
  ];
}

/** Write-rate stages of the stress/breakpoint run: one linear ramp; thresholds end it. */
export function stressStages(settings: RunSettings): Stage[] {
  return [{ duration: settings.stressRampDuration, target: settings.stressMaxRate }];
}

function withReads(stages: readonly Stage[], readsPerWrite: number): Stage[] {
  return stages.map((s) => ({ duration: s.duration, target: s.target * readsPerWrite }));
}

/** Writes, reads (if READS_PER_WRITE > 0) and the freshness probe, all over the same window. */
function openModelScenarios(
  kind: Exclude<ScenarioKind, 'smoke'>,
  settings: RunSettings,
  slo: SloDefinition,
): Record<string, Scenario> {
  const probeSeconds = 2 * slo.freshness.thresholdSeconds;
  const scenarios: Record<string, Scenario> = {};
  let window: string;
  if (kind === 'stress' || kind === 'spike') {
    const start = kind === 'stress' ? settings.stressStartRate : settings.writeRate;
    const stages = kind === 'stress' ? stressStages(settings) : spikeStages(settings);
    const preAllocateFor = kind === 'spike' ? 'peak' : 'start';
    scenarios['writes'] = rampingRate(EXEC.writes, start, stages, settings, preAllocateFor);
    if (settings.readsPerWrite > 0) {
      scenarios['reads'] = rampingRate(
        EXEC.reads,
        start * settings.readsPerWrite,
        withReads(stages, settings.readsPerWrite),
        settings,
        preAllocateFor,
      );
    }
    window = formatDuration(stagesSeconds(stages));
  } else {
    const rate = kind === 'load' ? settings.writeRate : settings.soakRate;
    window = kind === 'load' ? settings.loadDuration : settings.soakDuration;
    scenarios['writes'] = constantRate(EXEC.writes, rate, window, settings);
    if (settings.readsPerWrite > 0) {
      scenarios['reads'] = constantRate(EXEC.reads, rate * settings.readsPerWrite, window, settings);
    }
  }
  // The probe waits up to twice the freshness threshold per order, so it needs more VUs per arrival.
  scenarios['freshness'] = constantRate(
    EXEC.freshness,
    settings.freshnessProbeRate,
    window,
    settings,
    probeSeconds + 1,
  );
  return scenarios;
}

/** The complete k6 `options` export for one scenario file. */
export function buildOptions(
  kind: ScenarioKind,
  protocol: Protocol,
  settings: RunSettings,
  slo: SloDefinition,
): Options {
  const scenarios: Record<string, Scenario> =
    kind === 'smoke'
      ? {
          smoke: {
            executor: 'per-vu-iterations',
            exec: EXEC.smoke,
            vus: 1,
            iterations: settings.smokeIterations,
            maxDuration: '2m',
          },
        }
      : openModelScenarios(kind, settings, slo);
  const thresholds: Record<string, Threshold[]> = {
    ...sloThresholds(protocol, slo, ABORT_DELAY[kind]),
    ...informationalThresholds(protocol),
  };
  // Smoke is a correctness gate before any load: every check must pass.
  if (kind === 'smoke') thresholds['checks'] = ['rate==1'];
  return {
    scenarios,
    thresholds,
    summaryTrendStats: SUMMARY_TREND_STATS,
    systemTags: SYSTEM_TAGS,
    tags: { protocol, test_kind: kind },
    setupTimeout: '2m',
    handleSummaryTimeout: '2m',
  };
}
