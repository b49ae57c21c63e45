import { setTimeout as sleep } from 'node:timers/promises';
import type { PrometheusClient } from '../audit/prometheus';
import type { ReleaseControl } from '../targets/target';
import {
  type CanaryDecision,
  type CanaryPolicy,
  judgeCanary,
  nextShare,
  type VersionWindow,
} from './canaryAnalysis';
import { readVersionWindows } from './versionMetrics';

/** One thing the rollout did or decided, for the report, the log and the dashboard annotations. */
export interface RolloutEvent {
  readonly at: number;
  /** Canary share (percent) in force after the event. */
  readonly share: number;
  readonly action: 'start' | 'hold' | 'promote' | 'complete' | 'rollback';
  readonly detail: string;
  readonly canary?: VersionWindow;
  readonly baseline?: VersionWindow;
}

export interface CanaryRolloutOptions {
  readonly release: ReleaseControl;
  readonly prometheus: PrometheusClient;
  readonly baseline: { readonly component: string; readonly version: string };
  readonly canary: {
    readonly component: string;
    readonly version: string;
    readonly env: Readonly<Record<string, string>>;
  };
  /** Canary shares in percent, ascending, ending at 100 (e.g. [10, 50, 100]). */
  readonly plan: readonly number[];
  /** Seconds between judgements (at least the scrape interval: nothing new in between). */
  readonly intervalS: number;
  /** Longest window judged; a step younger than this is judged over its own age (≥ minWindowS). */
  readonly windowS: number;
  /** Shortest window (two scrapes, or increase() has nothing to compare). */
  readonly minWindowS: number;
  /** A step with no verdict (too few requests) for this long is rolled back: no evidence, no promotion. */
  readonly maxStepS: number;
  readonly policy: CanaryPolicy;
  /** Retires a replica taken out of the balancer (the baseline after promotion, the canary after rollback). */
  readonly retire: (component: string) => Promise<void>;
  readonly log: (line: string) => void;
  /** Told of every event as it happens (e.g. Grafana annotations). */
  readonly onEvent?: (event: RolloutEvent) => void;
}

export interface CanaryRolloutResult {
  readonly outcome: 'promoted' | 'rolled back';
  readonly events: readonly RolloutEvent[];
  /** The canary replica was ready (before it had any traffic). */
  readonly readyAt: number;
  /** The balancer first sent it traffic. */
  readonly firstTrafficAt: number;
  /** The final weights were in force (100 % canary, or 0 % after a rollback). */
  readonly decidedAt: number;
  /** Canary share in force when a rollback was decided. */
  readonly shareAtRollback?: number;
}

/**
 * Starts the canary, gives it the plan's first share, judges every `intervalS` from Prometheus and
 * promotes step by step while healthy, or takes all its traffic away at the first bad judgement.
 */
export async function runCanaryRollout(o: CanaryRolloutOptions): Promise<CanaryRolloutResult> {
  const events: RolloutEvent[] = [];
  const record = (event: RolloutEvent): void => {
    events.push(event);
    o.log(
      `  canary ${o.canary.version} ${String(event.share).padStart(3)} %: ${event.action} — ${event.detail}`,
    );
    o.onEvent?.(event);
  };
  const weights = (share: number) => ({ [o.baseline.component]: 100 - share, [o.canary.component]: share });

  await o.release.startRelease(o.canary.component, { SERVICE_VERSION: o.canary.version, ...o.canary.env });
  const readyAt = Date.now();
  let share = o.plan[0]!;
  await o.release.setWeights(weights(share));
  const firstTrafficAt = Date.now();
  record({
    at: firstTrafficAt,
    share,
    action: 'start',
    detail: `${o.canary.component} ready as ${o.canary.version} beside ${o.baseline.component} (${o.baseline.version})`,
  });
  let stepStart = firstTrafficAt;
  let healthyStreak = 0;

  for (;;) {
    await sleep(o.intervalS * 1000);
    const ageS = (Date.now() - stepStart) / 1000;
    const windowS = Math.min(o.windowS, Math.max(o.minWindowS, ageS));
    let decision: CanaryDecision;
    let canary: VersionWindow = { requests: 0, errors: 0, p99Ms: undefined };
    let baseline: VersionWindow = canary;
    try {
      const windows = await readVersionWindows(o.prometheus, windowS);
      canary = windows.get(o.canary.version) ?? canary;
      baseline = windows.get(o.baseline.version) ?? baseline;
      decision = judgeCanary({ canary, baseline, healthyStreak }, o.policy);
    } catch (error) {
      decision = {
        action: 'hold',
        reason: 'too few requests',
        detail: `Prometheus: ${(error as Error).message}`,
      };
    }
    if (decision.action === 'hold' && decision.reason === 'too few requests' && ageS > o.maxStepS)
      decision = {
        action: 'rollback',
        because: [],
        detail: `no verdict within ${o.maxStepS} s at ${share} % (${decision.detail})`,
      };

    if (decision.action === 'rollback') {
      const shareAtRollback = share;
      await o.release.setWeights(weights(0));
      const decidedAt = Date.now();
      record({ at: decidedAt, share: 0, action: 'rollback', detail: decision.detail, canary, baseline });
      await o.retire(o.canary.component);
      return { outcome: 'rolled back', events, readyAt, firstTrafficAt, decidedAt, shareAtRollback };
    }
    if (decision.action === 'hold') {
      healthyStreak = decision.reason === 'healthy' ? healthyStreak + 1 : 0;
      record({ at: Date.now(), share, action: 'hold', detail: decision.detail, canary, baseline });
      continue;
    }
    const next = nextShare(o.plan, share);
    if (next === undefined) throw new Error(`promotion past the last share ${share} %`);
    share = next;
    await o.release.setWeights(weights(share));
    stepStart = Date.now();
    healthyStreak = 0;
    if (share === 100) {
      record({ at: stepStart, share, action: 'complete', detail: decision.detail, canary, baseline });
      await o.retire(o.baseline.component);
      return { outcome: 'promoted', events, readyAt, firstTrafficAt, decidedAt: stepStart };
    }
    record({ at: stepStart, share, action: 'promote', detail: decision.detail, canary, baseline });
  }
}
