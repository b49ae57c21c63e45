import type { ExplainedFailure, Phase } from '../audit/maths';
import type { TraceHop } from '../audit/traceAudit';

/**
 * What a drill promises, as data: the audit turns each field into verdict checks. Fields left out
 * are not checked. Times are seconds, latencies milliseconds.
 */
export interface DrillExpectations {
  /** Non-2xx outcomes the fault explains; anything else (a 500, a reset) fails the drill. */
  readonly explained: readonly ExplainedFailure[];
  /** Unexplained failures tolerated (0 for every drill here). */
  readonly maxUnexplainedFailures: number;
  /** p99 latency of accepted (2xx) requests, from intended send time, in the phases named. */
  readonly acceptedP99?: { readonly maxMs: number; readonly phases: readonly Phase[] };
  /** Share of requests accepted in the phases named (e.g. >= 0.99 before the fault). */
  readonly minAcceptedShare?: { readonly share: number; readonly phases: readonly Phase[] };
  /** After the last fault ends, every request succeeds again within this many seconds. */
  readonly recoversWithinS?: number;
  /** Failures during the fault answer fast (no 30 s hangs): p99 latency of non-2xx in the fault. */
  readonly failFastP99Ms?: number;
  /** During the fault at least this share of requests is shed with Retry-After (the shedding works). */
  readonly minShedShareInFault?: number;
  /** Goodput (2xx within the SLO latency per second) during the fault relative to before it. */
  readonly minGoodputRatioInFault?: number;
  /** Data audit: acknowledged orders exist, are in the topic and confirmed once within this time. */
  readonly data: { readonly confirmWithinS: number };
  /**
   * Trace audit (Jaeger): at least this share of the sampled acknowledged orders is one complete
   * trace (HTTP server span → pg write → relay producer → worker consumer → worker pg). Without it
   * the figures are reported as advisory only (e.g. overload, where the exporter drops spans by design).
   */
  readonly traces?: TraceExpectation;
  /** Prometheus alerts (ALERTS series) that must fire during the drill and resolve afterwards. */
  readonly alerts: readonly ExpectedAlert[];
  /** Seconds after a fault ends that count as recovery (where recovery-only failures are explained). */
  readonly recoveryGraceS: number;
}

export interface TraceExpectation {
  readonly minCompleteShare: number;
  /**
   * Broken traces the fault explains: only these hops are missing and the order was acknowledged
   * within `windowS` before a fault began (e.g. the spans a SIGKILLed process had not exported yet).
   * They count towards the share, and the report gives their number apart.
   */
  readonly explainedBreaks?: {
    readonly hops: readonly TraceHop[];
    readonly windowS: number;
    readonly because: string;
  };
}

export interface ExpectedAlert {
  readonly name: string;
  readonly fires: boolean;
  readonly resolves: boolean;
  /** Why this alert must fire in this drill (shown in the report and the docs). */
  readonly because: string;
  /**
   * Its condition outlives the fault (e.g. dead letters counted over 15 m): judged over the time from
   * the fault to the end of the audit, and the audit waits (bounded) for it to fire.
   */
  readonly outlivesFault?: boolean;
}

/** Shedding with Retry-After is what the service is supposed to do under pressure, anywhere. */
export const SHED_ANYWHERE: ExplainedFailure = {
  outcome: 'shed',
  phases: ['before', 'fault', 'recovery', 'after'],
  because: '503 with Retry-After is load shedding, decided before any DB work',
};

export const SHED_IN_FAULT: ExplainedFailure = {
  outcome: 'shed',
  phases: ['fault', 'recovery'],
  because: '503 with Retry-After while the dependency is down or just back',
};
