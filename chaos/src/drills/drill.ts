import type { LoadClient } from '../load/loadClient';
import type { FaultWindow } from '../audit/maths';
import type { SeriesPoint } from '../audit/prometheus';
import type { Check } from '../audit/verdict';
import type { LedgerEntry } from '../load/ledger';
import type { LoadProgress, RateStep } from '../load/openModelLoad';
import type { Target, TargetSetup } from '../targets/target';
import type { DrillExpectations } from './expectations';

export interface DrillArgs {
  /** Steady arrival rate, requests per second. */
  readonly rate: number;
  readonly durationS: number;
  readonly seed: number;
  /** Short form (CI): shorter phases, same checks. */
  readonly short: boolean;
  /** Release drills (canary, blue-green): the analysis and the bad release; defaults when absent. */
  readonly release?: ReleaseArgs;
}

/** What the release drills' flags set (npm run drill -- canary --help). */
export interface ReleaseArgs {
  /** Canary shares in percent, ascending, ending at 100. */
  readonly plan: readonly number[];
  /** Seconds between judgements. */
  readonly intervalS: number;
  /** Longest window a judgement looks back over. */
  readonly windowS: number;
  /** Requests each version needs in the window before it is judged. */
  readonly minRequests: number;
  /** Canary error ratio above the baseline's that rolls back (absolute). */
  readonly maxErrorRatioIncrease: number;
  /** Canary p99 above baseline p99 × this (and + p99SlackMs) rolls back. */
  readonly maxP99Factor: number;
  readonly p99SlackMs: number;
  /** The bad release: REGRESSION_ERROR_RATE and REGRESSION_LATENCY_MS of its replica. */
  readonly badErrorRate: number;
  readonly badLatencyMs: number;
}

export const DEFAULT_RELEASE_ARGS: ReleaseArgs = {
  plan: [10, 50, 100],
  intervalS: 5,
  windowS: 30,
  minRequests: 20,
  maxErrorRatioIncrease: 0.02,
  maxP99Factor: 2,
  p99SlackMs: 100,
  badErrorRate: 0.3,
  badLatencyMs: 250,
};

export interface DrillLoadOptions {
  readonly url: string;
  readonly target: string;
  readonly steps: readonly RateStep[];
  readonly durationS: number;
  readonly signal?: AbortSignal;
}

/** What a drill's code can use: the target, the load generator and the fault clock. */
export interface DrillContext {
  readonly target: Target;
  readonly args: DrillArgs;
  readonly log: (line: string) => void;
  /** The drill's HTTP client fleet (keep-alive connections shared by every load of the run). */
  readonly client: LoadClient;
  /** Starts open-model load (entries go to the ledger); resolves when it ends. */
  load(options: DrillLoadOptions): Promise<{ entries: LedgerEntry[]; start: number; end: number }>;
  /** Runs `inject`, keeps the fault for `forS`, runs `heal`; the window spans inject start → heal end. */
  fault(
    name: string,
    inject: () => Promise<void>,
    forS: number,
    heal: () => Promise<void>,
  ): Promise<FaultWindow>;
  /** Records a fault window the drill timed itself. */
  markFault(window: FaultWindow): void;
  sleep(seconds: number): Promise<void>;
  onProgress(p: LoadProgress): void;
  /** Marks a moment on the dashboards (Grafana annotation, when the target has Grafana). */
  annotate?(text: string, tags: readonly string[]): Promise<void>;
}

export interface DrillOutcome {
  /** Drill-specific checks (exit code, readiness, DLQ, …) added to the audit's. */
  readonly checks: Check[];
  /** Reference goodput (req/s) for the goodput check, e.g. the measured capacity. */
  readonly referenceGoodput?: number;
  /** Facts for the report (measured capacity, exit time, …). */
  readonly facts: Record<string, string | number>;
  /** Release drills: traffic, errors and p99 per version over time, and what the rollout did. */
  readonly release?: ReleaseEvidence;
}

export interface ReleaseEvidence {
  readonly byVersion: readonly {
    readonly version: string;
    readonly rate: readonly SeriesPoint[];
    readonly errors: readonly SeriesPoint[];
    readonly p99Ms: readonly SeriesPoint[];
  }[];
  readonly events: readonly {
    readonly at: number;
    readonly version: string;
    readonly share: number;
    readonly action: string;
    readonly detail: string;
  }[];
}

/** A drill: data (setup, defaults, expectations) next to the code that breaks and heals. */
export interface Drill {
  readonly name: string;
  readonly title: string;
  readonly objective: string;
  readonly setup: TargetSetup;
  readonly defaults: { readonly rate: number; readonly durationS: number; readonly shortDurationS: number };
  readonly expectations: DrillExpectations;
  run(ctx: DrillContext): Promise<DrillOutcome>;
}
