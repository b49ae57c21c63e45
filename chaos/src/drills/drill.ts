import type { LoadClient } from '../load/loadClient';
import type { FaultWindow } from '../audit/maths';
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
}

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
}

export interface DrillOutcome {
  /** Drill-specific checks (exit code, readiness, DLQ, …) added to the audit's. */
  readonly checks: Check[];
  /** Reference goodput (req/s) for the goodput check, e.g. the measured capacity. */
  readonly referenceGoodput?: number;
  /** Facts for the report (measured capacity, exit time, …). */
  readonly facts: Record<string, string | number>;
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
