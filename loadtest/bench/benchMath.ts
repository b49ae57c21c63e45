/** The statistics and the regression rule of the benchmark: pure functions, unit-tested. */

export interface RoundSample {
  readonly round: number;
  readonly variant: string;
  readonly endpoint: string;
  /** 2xx responses per second over the measured window (goodput). */
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p975Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  /** 2xx responses in the step. */
  readonly okResponses: number;
  /** CPU seconds (user + system) the variant's process used during the step, when known. */
  readonly cpuSeconds?: number;
  /** Wall-clock seconds of the step (autocannon's measured duration). */
  readonly durationSeconds?: number;
  /** Share of all the machine's CPUs that were busy during the step (0..1), when known. */
  readonly machineBusy?: number;
}

/** Cores the variant's process used on average during the step (1 = one core all the time). */
export function variantCores(s: RoundSample): number | undefined {
  if (s.cpuSeconds === undefined || !s.durationSeconds || s.durationSeconds <= 0) return undefined;
  return s.cpuSeconds / s.durationSeconds;
}

/** What held a variant's throughput at saturation, as far as CPU readings can tell. */
export type BoundBy = 'event loop' | 'machine' | 'neither' | 'unknown';

/**
 * A Node process whose CPU reaches ~1 core is bound by its one JavaScript thread (GC and libuv
 * threads add a little, so the mark is 0.9): its req/s is 1 / (main-thread time per request), and
 * only a cheaper request raises it. Otherwise, with the machine's CPUs ~all busy, the process
 * lost the cores to the database and the load generator beside it: its req/s says how the
 * machine was shared, and CPU per request is the fairer comparison. Neither: latency-bound
 * (connections, pool, database waits).
 */
export function boundBy(cores: number | undefined, machineBusy: number | undefined): BoundBy {
  if (cores === undefined) return 'unknown';
  if (cores >= EVENT_LOOP_BOUND_CORES) return 'event loop';
  if (machineBusy === undefined) return 'unknown';
  return machineBusy >= MACHINE_BOUND_SHARE ? 'machine' : 'neither';
}
export const EVENT_LOOP_BOUND_CORES = 0.9;
export const MACHINE_BOUND_SHARE = 0.85;

/**
 * 2xx responses per CPU-second of the variant's own process: the work a request costs, far less
 * sensitive than req/s to other processes taking the cores. Undefined without a CPU reading.
 */
export function reqPerCpuSecond(s: RoundSample): number | undefined {
  if (s.cpuSeconds === undefined || s.cpuSeconds <= 0) return undefined;
  return s.okResponses / s.cpuSeconds;
}

export interface VariantSummary {
  readonly variant: string;
  readonly endpoint: string;
  readonly rounds: number;
  /** Median over rounds; the spread says how far single rounds strayed. */
  readonly reqPerSec: number;
  readonly reqPerSecMin: number;
  readonly reqPerSecMax: number;
  /** (max - min) / median of req/s across rounds, e.g. 0.08 = rounds within 8 %. */
  readonly relativeSpread: number;
  readonly p50Ms: number;
  readonly p975Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Median of 2xx per CPU-second of the variant's process; undefined without CPU readings. */
  readonly reqPerCpuSecond: number | undefined;
  /** Median cores the variant's process used, and share of the machine busy, over its rounds. */
  readonly cores: number | undefined;
  readonly machineBusy: number | undefined;
  readonly boundBy: BoundBy;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOrUndefined(values: readonly (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? median(known) : undefined;
}

export function summarise(samples: readonly RoundSample[]): VariantSummary[] {
  const groups = new Map<string, RoundSample[]>();
  for (const s of samples) {
    const key = `${s.variant}\u0000${s.endpoint}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()].map((group) => {
    const rps = group.map((s) => s.reqPerSec);
    const mid = median(rps);
    const min = Math.min(...rps);
    const max = Math.max(...rps);
    const cores = medianOrUndefined(group.map(variantCores));
    const machineBusy = medianOrUndefined(group.map((s) => s.machineBusy));
    return {
      variant: group[0]!.variant,
      endpoint: group[0]!.endpoint,
      rounds: group.length,
      reqPerSec: mid,
      reqPerSecMin: min,
      reqPerSecMax: max,
      relativeSpread: mid > 0 ? (max - min) / mid : 0,
      p50Ms: median(group.map((s) => s.p50Ms)),
      p975Ms: median(group.map((s) => s.p975Ms)),
      p99Ms: median(group.map((s) => s.p99Ms)),
      requests: group.reduce((sum, s) => sum + s.requests, 0),
      errors: group.reduce((sum, s) => sum + s.errors, 0),
      non2xx: group.reduce((sum, s) => sum + s.non2xx, 0),
      reqPerCpuSecond: medianOrUndefined(group.map(reqPerCpuSecond)),
      cores,
      machineBusy,
      boundBy: boundBy(cores, machineBusy),
    };
  });
}

/** A throughput ratio between two variants on one endpoint, with the target. */
export interface RatioDefinition {
  readonly name: string;
  readonly endpoint: string;
  readonly numerator: string;
  readonly denominator: string;
  /** The ratio the release targets (e.g. 0.85); reported, not enforced (the baseline is). */
  readonly target: number;
}

export interface RatioResult extends RatioDefinition {
  /** median(numerator req/s) / median(denominator req/s); undefined if a side is missing or zero. */
  readonly value: number | undefined;
  /** Ratio of the per-round ratios' extremes: how much the pairing of rounds moves it. */
  readonly roundMin: number | undefined;
  readonly roundMax: number | undefined;
  readonly meetsTarget: boolean | undefined;
  /** The same ratio of 2xx per CPU-second: what a request costs, robust to a busy machine. */
  readonly cpuValue: number | undefined;
}

export function computeRatios(
  definitions: readonly RatioDefinition[],
  samples: readonly RoundSample[],
): RatioResult[] {
  const summaries = summarise(samples);
  const find = (variant: string, endpoint: string) =>
    summaries.find((s) => s.variant === variant && s.endpoint === endpoint);
  return definitions.map((def) => {
    const num = find(def.numerator, def.endpoint);
    const den = find(def.denominator, def.endpoint);
    const value = num && den && den.reqPerSec > 0 ? num.reqPerSec / den.reqPerSec : undefined;
    // Pair each round with the same round of the other variant: interleaving puts them side by side.
    const perRound: number[] = [];
    for (const s of samples) {
      if (s.variant !== def.numerator || s.endpoint !== def.endpoint) continue;
      const other = samples.find(
        (o) => o.variant === def.denominator && o.endpoint === def.endpoint && o.round === s.round,
      );
      if (other && other.reqPerSec > 0) perRound.push(s.reqPerSec / other.reqPerSec);
    }
    return {
      ...def,
      value,
      roundMin: perRound.length > 0 ? Math.min(...perRound) : undefined,
      roundMax: perRound.length > 0 ? Math.max(...perRound) : undefined,
      meetsTarget: value === undefined ? undefined : value >= def.target,
      cpuValue:
        num?.reqPerCpuSecond !== undefined && den?.reqPerCpuSecond
          ? num.reqPerCpuSecond / den.reqPerCpuSecond
          : undefined,
    };
  });
}

export const GATES = ['throughput', 'cpu'] as const;
/** Which ratios the baseline holds: of req/s (throughput) or of 2xx per CPU-second (cpu). */
export type Gate = (typeof GATES)[number];

export interface Baseline {
  /** A ratio may fall this far (absolute) below its baseline before the run fails. */
  readonly tolerance: number;
  /** Absent in older files: throughput. */
  readonly gate?: Gate;
  readonly ratios: Record<string, number>;
  readonly recordedAt?: string;
  readonly note?: string;
}

export interface RegressionCheck {
  readonly name: string;
  readonly baseline: number | undefined;
  readonly current: number | undefined;
  /** current - baseline (negative = worse). */
  readonly delta: number | undefined;
  readonly verdict: 'ok' | 'regressed' | 'improved' | 'missing' | 'new';
}

/**
 * Compares measured ratios with the committed baseline. A ratio more than `tolerance` below its
 * baseline is a regression; more than `tolerance` above is reported as an improvement (time to
 * update the baseline). A ratio in the baseline but not measured is `missing` and fails too.
 */
export function compareWithBaseline(
  ratios: readonly { name: string; value: number | undefined }[],
  baseline: Baseline,
): { checks: RegressionCheck[]; failed: boolean } {
  const checks: RegressionCheck[] = [];
  for (const [name, base] of Object.entries(baseline.ratios)) {
    const current = ratios.find((r) => r.name === name)?.value;
    if (current === undefined) {
      checks.push({ name, baseline: base, current, delta: undefined, verdict: 'missing' });
      continue;
    }
    const delta = current - base;
    // Round to micro-units so 0.75 - 0.65 is not judged "beyond" a 0.10 tolerance by float noise.
    const beyond = (d: number) => Math.round(d * 1e6) / 1e6 > baseline.tolerance;
    const verdict = beyond(-delta) ? 'regressed' : beyond(delta) ? 'improved' : 'ok';
    checks.push({ name, baseline: base, current, delta, verdict });
  }
  for (const r of ratios) {
    if (!(r.name in baseline.ratios)) {
      checks.push({ name: r.name, baseline: undefined, current: r.value, delta: undefined, verdict: 'new' });
    }
  }
  return { checks, failed: checks.some((c) => c.verdict === 'regressed' || c.verdict === 'missing') };
}

/** The baseline a successful run would write with --update-baseline. */
export function baselineFrom(
  ratios: readonly { name: string; value: number | undefined }[],
  tolerance: number,
  gate: Gate,
  recordedAt: string,
  note: string,
): Baseline {
  const values: Record<string, number> = {};
  for (const r of ratios) {
    if (r.value === undefined) throw new Error(`cannot record a baseline: ratio ${r.name} was not measured`);
    values[r.name] = Math.round(r.value * 1000) / 1000;
  }
  return { tolerance, gate, ratios: values, recordedAt, note };
}

/** The ratio values a gate compares: req/s ratios or 2xx-per-CPU-second ratios. */
export function gateValues(
  ratios: readonly RatioResult[],
  gate: Gate,
): { name: string; value: number | undefined }[] {
  return ratios.map((r) => ({ name: r.name, value: gate === 'cpu' ? r.cpuValue : r.value }));
}

/** Rotates the variant order each round (A B C, B C A, C A B …) so no variant always goes first. */
export function roundOrder<T>(variants: readonly T[], round: number): T[] {
  if (variants.length === 0) return [];
  const shift = round % variants.length;
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}
