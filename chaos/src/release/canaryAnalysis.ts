/**
 * The canary analysis: one judgement from what Prometheus says about the canary and the baseline
 * over the same window. Pure, so every decision is unit-tested; the drill's loop reads Prometheus,
 * calls `judgeCanary` and moves the balancer.
 */

/** One version's API traffic over the analysis window. */
export interface VersionWindow {
  readonly requests: number;
  /** 5xx answers (shed 503s included: the availability SLO counts them as bad). */
  readonly errors: number;
  /** p99 latency in ms from the histogram; undefined when there were no requests. */
  readonly p99Ms: number | undefined;
}

export interface CanaryPolicy {
  /** Requests each version must have served in the window before it is judged at all. */
  readonly minRequests: number;
  /** Roll back when the canary's error ratio exceeds the baseline's by more than this (absolute, 0..1). */
  readonly maxErrorRatioIncrease: number;
  /** Roll back when the canary's p99 exceeds both the baseline's × this factor … */
  readonly maxP99Factor: number;
  /** … and the baseline's + this many ms (so 3 ms against 2 ms is not a regression). */
  readonly p99SlackMs: number;
  /** Consecutive healthy judgements at one step before promoting to the next. */
  readonly healthyJudgementsToPromote: number;
}

export const DEFAULT_CANARY_POLICY: CanaryPolicy = {
  minRequests: 20,
  maxErrorRatioIncrease: 0.02,
  maxP99Factor: 1.5,
  p99SlackMs: 50,
  healthyJudgementsToPromote: 2,
};

export type CanaryDecision =
  | { readonly action: 'hold'; readonly reason: 'too few requests' | 'healthy'; readonly detail: string }
  | { readonly action: 'promote'; readonly detail: string }
  | {
      readonly action: 'rollback';
      readonly because: readonly ('error ratio' | 'p99 latency')[];
      readonly detail: string;
    };

export function errorRatio(w: VersionWindow): number {
  return w.requests > 0 ? w.errors / w.requests : 0;
}

/**
 * Compares canary and baseline: too few requests on either side → hold; an error ratio or a p99
 * beyond the policy → roll back at once; otherwise healthy, promoted after
 * `healthyJudgementsToPromote` healthy judgements in a row (`healthyStreak` counts the earlier ones).
 */
export function judgeCanary(
  input: { readonly canary: VersionWindow; readonly baseline: VersionWindow; readonly healthyStreak: number },
  policy: CanaryPolicy = DEFAULT_CANARY_POLICY,
): CanaryDecision {
  const { canary, baseline } = input;
  const shown = describe(canary, baseline);
  if (canary.requests < policy.minRequests || baseline.requests < policy.minRequests)
    return {
      action: 'hold',
      reason: 'too few requests',
      detail: `${shown}; each needs ≥ ${policy.minRequests} requests before it is judged`,
    };
  const because: ('error ratio' | 'p99 latency')[] = [];
  if (errorRatio(canary) > errorRatio(baseline) + policy.maxErrorRatioIncrease) because.push('error ratio');
  if (
    canary.p99Ms !== undefined &&
    baseline.p99Ms !== undefined &&
    canary.p99Ms > Math.max(baseline.p99Ms * policy.maxP99Factor, baseline.p99Ms + policy.p99SlackMs)
  )
    because.push('p99 latency');
  if (because.length > 0)
    return { action: 'rollback', because, detail: `${because.join(' and ')}: ${shown}` };
  const streak = input.healthyStreak + 1;
  if (streak >= policy.healthyJudgementsToPromote)
    return { action: 'promote', detail: `healthy ${streak}× in a row: ${shown}` };
  return {
    action: 'hold',
    reason: 'healthy',
    detail: `healthy ${streak} of ${policy.healthyJudgementsToPromote}: ${shown}`,
  };
}

function describe(canary: VersionWindow, baseline: VersionWindow): string {
  const side = (name: string, w: VersionWindow) =>
    `${name} ${w.errors}/${w.requests} errors (${(errorRatio(w) * 100).toFixed(1)} %), p99 ${
      w.p99Ms === undefined ? 'n/a' : `${w.p99Ms.toFixed(0)} ms`
    }`;
  return `${side('canary', canary)} vs ${side('baseline', baseline)}`;
}

/** The next canary share after `current` in the plan (e.g. 10 → 50 → 100); undefined at the last. */
export function nextShare(plan: readonly number[], current: number): number | undefined {
  const i = plan.indexOf(current);
  if (i === -1) throw new Error(`share ${current} % is not in the plan ${plan.join(' → ')}`);
  return plan[i + 1];
}

/** Checks a promotion plan: ascending percentages in 1..100, ending at 100. */
export function parseSharePlan(text: string): number[] {
  const plan = text
    .split(/[,→> ]+/)
    .filter(Boolean)
    .map(Number);
  const problems: string[] = [];
  if (plan.length === 0) problems.push('name at least one share');
  if (plan.some((p) => !Number.isInteger(p) || p < 1 || p > 100))
    problems.push('shares are whole percents 1..100');
  if (plan.some((p, i) => i > 0 && p <= plan[i - 1]!)) problems.push('shares must increase');
  if (plan.at(-1) !== 100) problems.push('the last share must be 100 (the canary takes all traffic)');
  if (problems.length > 0) throw new Error(`bad canary plan "${text}": ${problems.join('; ')}`);
  return plan;
}

/** Availability SLO figures the fast-burn page is built on (prometheus/rules/slo-alerts.yml). */
export interface FastBurnPage {
  /** Error budget: 1 − objective (0.001 for 99.9 %). */
  readonly budget: number;
  /** Burn rate that pages (14.4×). */
  readonly burnRate: number;
  /** Short window of the page in seconds (5 m); the long one (1 h) only fills more slowly. */
  readonly shortWindowS: number;
  /** The alert's `for:` in seconds. */
  readonly forS: number;
}

export const AVAILABILITY_FAST_BURN: FastBurnPage = {
  budget: 0.001,
  burnRate: 14.4,
  shortWindowS: 300,
  forS: 120,
};

/**
 * Earliest time (s after the canary starts) the fast-burn page could fire while a canary with this
 * error ratio takes this share of the traffic and the baseline has none: the short window's ratio
 * climbs linearly to share × ratio, must pass burnRate × budget, then hold for `for:`. Undefined when
 * it never gets there. (The 1 h window climbs 12× more slowly, so this is a lower bound.)
 */
export function earliestPageS(
  share: number,
  canaryErrorRatio: number,
  page = AVAILABILITY_FAST_BURN,
): number | undefined {
  const steady = share * canaryErrorRatio;
  const threshold = page.burnRate * page.budget;
  if (steady <= threshold) return undefined;
  return (page.shortWindowS * threshold) / steady + page.forS;
}

/**
 * How long the analysis may take to see a bad canary, stated before the drill runs: the time the
 * canary needs for `minRequests` at its share, two scrapes (increase() needs two samples of a new
 * series), and two judgement intervals (one until the data is there, one for the query itself).
 */
export function detectionBudgetS(input: {
  readonly minRequests: number;
  readonly ratePerS: number;
  /** Canary share, 0..1. */
  readonly share: number;
  readonly intervalS: number;
  readonly scrapeIntervalS: number;
}): number {
  if (!(input.ratePerS > 0 && input.share > 0))
    throw new Error('the canary needs traffic: rate and share > 0');
  return input.minRequests / (input.ratePerS * input.share) + 2 * input.scrapeIntervalS + 2 * input.intervalS;
}
