import type { FaultWindow, OutcomeSummary, SecondBucket } from '../audit/maths';
import type { AlertTimeline, SeriesPoint } from '../audit/prometheus';
import type { TraceEvidence } from '../audit/traceAudit';
import type { Check, Verdict } from '../audit/verdict';
import type { DrillArgs, ReleaseEvidence } from '../drills/drill';
import type { DrillExpectations } from '../drills/expectations';

/** Everything report.json holds; report.html is rendered from exactly this. */
export interface DrillReport {
  readonly drill: { readonly name: string; readonly title: string; readonly objective: string };
  readonly target: string;
  readonly args: DrillArgs;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Load window (epoch ms). */
  readonly window: { readonly start: number; readonly end: number };
  readonly faults: readonly FaultWindow[];
  readonly expectations: DrillExpectations;
  readonly summary: OutcomeSummary;
  readonly facts: Readonly<Record<string, string | number>>;
  readonly perSecond: readonly SecondBucket[];
  /** Prometheus series over the drill window (empty when the metric is missing). */
  readonly prometheus: {
    readonly outboxBacklog: readonly SeriesPoint[];
    readonly consumerLag: readonly SeriesPoint[];
    readonly slo: Readonly<Record<string, number | null>>;
    readonly alerts: readonly AlertTimeline[];
    readonly notes: readonly string[];
  };
  /** Trace audit (Jaeger), when the target has one and the drill runs the pipeline. */
  readonly traces?: TraceEvidence;
  /** Release drills: traffic, errors and p99 per version (Prometheus) and the rollout's decisions. */
  readonly release?: ReleaseEvidence;
  readonly checks: readonly Check[];
  readonly verdict: Verdict;
  readonly files: { readonly ledger: string; readonly html: string; readonly json: string };
}
