import { classifyOutcome } from '../audit/maths';
import { check } from '../audit/verdict';
import type { LedgerEntry } from '../load/ledger';
import {
  AVAILABILITY_FAST_BURN,
  type CanaryPolicy,
  detectionBudgetS,
  earliestPageS,
} from '../release/canaryAnalysis';
import { type CanaryRolloutResult, type RolloutEvent, runCanaryRollout } from '../release/canaryRollout';
import { collectReleaseEvidence, releaseControlOf } from '../release/releaseEvidence';
import { serviceScrapeIntervalS } from '../release/versionMetrics';
import { apiUrlOf } from './common';
import { DEFAULT_RELEASE_ARGS, type Drill, type DrillContext } from './drill';
import { ALERTS, NOT_OVERLOAD_ENV, RELEASE_VERSIONS, SERVICE_ENV } from './knobs';

/** After the rollback's weights change, requests already on the canary still finish there (with its added latency). */
const IN_FLIGHT_GRACE_S = 1;

export const canary: Drill = {
  name: 'canary',
  title: 'Canary release with automated analysis: a good version promoted, a bad one rolled back',
  objective:
    'A new version takes a small share of the traffic, an analysis loop compares it with the baseline from Prometheus (error ratio, p99, minimum requests) and promotes it step by step when healthy; a bad version is rolled back at once, within the stated detection time and long before the fast-burn page could fire, so client-visible failures stay within canary share × detection time.',
  setup: {
    apiReplicas: 1,
    loadBalancer: true,
    balancerReconfigured: true,
    pipeline: true,
    serviceEnv: {
      ...NOT_OVERLOAD_ENV,
      // A fixed in-flight cap: the analysis judges the release, not the adaptive limit's learning.
      [SERVICE_ENV.targetLatencyMs]: '0',
      [SERVICE_ENV.serviceVersion]: RELEASE_VERSIONS.baseline,
    },
  },
  defaults: { rate: 40, durationS: 120, shortDurationS: 60 },
  expectations: {
    explained: [
      {
        outcome: 'server_error',
        phases: ['fault', 'recovery'],
        because:
          'the bad release answers 500 on a share of the creations it serves (REGRESSION_ERROR_RATE) until the analysis rolls it back',
      },
    ],
    maxUnexplainedFailures: 0,
    data: { confirmWithinS: 60 },
    traces: { minCompleteShare: 1 },
    alerts: [],
    recoveryGraceS: IN_FLIGHT_GRACE_S,
  },
  async run(ctx) {
    const release = releaseControlOf(ctx, 'canary');
    const r = ctx.args.release ?? DEFAULT_RELEASE_ARGS;
    const { rate } = ctx.args;
    const scrapeS = await serviceScrapeIntervalS(ctx.target.prometheus());
    // Judging more often than Prometheus scrapes would count one sample as two healthy judgements.
    const intervalS = Math.max(r.intervalS, scrapeS);
    if (intervalS !== r.intervalS)
      ctx.log(`canary: judging every ${intervalS} s, the scrape interval (asked: ${r.intervalS} s)`);
    const policy: CanaryPolicy = {
      minRequests: r.minRequests,
      maxErrorRatioIncrease: r.maxErrorRatioIncrease,
      maxP99Factor: r.maxP99Factor,
      p99SlackMs: r.p99SlackMs,
      healthyJudgementsToPromote: 2,
    };
    const firstShare = r.plan[0]! / 100;
    const budgetS = detectionBudgetS({
      minRequests: r.minRequests,
      ratePerS: rate,
      share: firstShare,
      intervalS,
      scrapeIntervalS: scrapeS,
    });
    const pageS = earliestPageS(firstShare, r.badErrorRate);
    // Baseline-only traffic before each canary: a full judgement window, and the replica slot the
    // canary reuses has been gone longer than the shortest window (its old counters are not judged).
    const leadS = Math.max(2 * scrapeS, Math.round(ctx.args.durationS / 6));
    const [first, second] = release.releaseSlots();
    if (!first || !second) throw new Error('the canary drill needs two API replica slots');
    ctx.log(
      `canary: plan ${r.plan.join(' → ')} %, judged every ${intervalS} s (Prometheus scrapes every ${scrapeS} s) over ≤ ${r.windowS} s, ≥ ${r.minRequests} requests each; rollback when the error ratio exceeds the baseline's by > ${(r.maxErrorRatioIncrease * 100).toFixed(1)} points or p99 > max(${r.maxP99Factor}× baseline, baseline + ${r.p99SlackMs} ms)`,
    );
    ctx.log(
      `canary: stated detection time ≤ ${budgetS.toFixed(0)} s at ${r.plan[0]} % of ${rate}/s; the bad release's fast-burn page could fire after ${pageS === undefined ? 'never' : `${pageS.toFixed(0)} s`}`,
    );

    const stop = new AbortController();
    const loading = ctx.load({
      url: apiUrlOf(ctx),
      target: 'lb',
      steps: [{ atS: 0, rate }],
      durationS: 900,
      signal: stop.signal,
    });
    const events: { at: number; version: string; share: number; action: string; detail: string }[] = [];
    const rollout = (
      baseline: { component: string; version: string },
      next: { component: string; version: string; env: Record<string, string> },
    ): Promise<CanaryRolloutResult> =>
      runCanaryRollout({
        release,
        prometheus: ctx.target.prometheus(),
        baseline,
        canary: next,
        plan: r.plan,
        intervalS,
        windowS: Math.max(r.windowS, 2 * scrapeS),
        minWindowS: 2 * scrapeS,
        maxStepS: Math.max(60, 4 * budgetS),
        policy,
        retire: (component) => ctx.target.stop(component),
        log: ctx.log,
        onEvent: (e: RolloutEvent) => {
          events.push({
            at: e.at,
            version: next.version,
            share: e.share,
            action: e.action,
            detail: e.detail,
          });
          void ctx.annotate?.(`canary ${next.version}: ${e.action} at ${e.share} % — ${e.detail}`, [
            'release',
            'canary',
            e.action,
          ]);
        },
      });

    let good: CanaryRolloutResult | undefined;
    let bad: CanaryRolloutResult | undefined;
    try {
      await ctx.sleep(leadS);
      ctx.log(
        `run 1: good release ${RELEASE_VERSIONS.good} on ${second} beside ${first} (${RELEASE_VERSIONS.baseline})`,
      );
      good = await rollout(
        { component: first, version: RELEASE_VERSIONS.baseline },
        { component: second, version: RELEASE_VERSIONS.good, env: {} },
      );
      await ctx.sleep(leadS);
      ctx.log(
        `run 2: bad release ${RELEASE_VERSIONS.bad} on ${first} beside ${second} (${RELEASE_VERSIONS.good}): ${r.badErrorRate * 100} % errors, +${r.badLatencyMs} ms on POST /v1/orders`,
      );
      bad = await rollout(
        { component: second, version: RELEASE_VERSIONS.good },
        {
          component: first,
          version: RELEASE_VERSIONS.bad,
          env: {
            [SERVICE_ENV.regressionErrorRate]: String(r.badErrorRate),
            [SERVICE_ENV.regressionLatencyMs]: String(r.badLatencyMs),
            [SERVICE_ENV.regressionRoutes]: 'POST /v1/orders',
          },
        },
      );
      ctx.markFault({
        name: `bad canary ${RELEASE_VERSIONS.bad} in the balancer`,
        start: bad.firstTrafficAt,
        end: bad.decidedAt,
      });
      await ctx.sleep(leadS);
    } finally {
      stop.abort();
    }
    const { entries, start, end } = await loading;
    const evidence = await collectReleaseEvidence(ctx.target.prometheus(), start, end, events, scrapeS);
    const pageFired = await fastBurnFired(ctx, start, end);
    return {
      checks: canaryChecks({
        good,
        bad,
        entries,
        rate,
        budgetS,
        pageS,
        pageFired,
        badErrorRate: r.badErrorRate,
      }),
      facts: canaryFacts(good, bad, budgetS, pageS, rate),
      release: evidence,
    };
  },
};

async function fastBurnFired(ctx: DrillContext, from: number, to: number): Promise<boolean | undefined> {
  try {
    const seconds = Math.max(1, Math.ceil((Date.now() - from) / 1000));
    const found = await ctx.target
      .prometheus()
      .instant(
        `max_over_time(ALERTS{alertname="${ALERTS.availabilityBurn}",alertstate="firing"}[${seconds}s])`,
        Math.max(to, Date.now()),
      );
    return found.length > 0;
  } catch {
    return undefined;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function canaryChecks(input: {
  good: CanaryRolloutResult | undefined;
  bad: CanaryRolloutResult | undefined;
  entries: readonly LedgerEntry[];
  rate: number;
  budgetS: number;
  pageS: number | undefined;
  pageFired: boolean | undefined;
  badErrorRate: number;
}) {
  const { good, bad, entries, rate } = input;
  const failedBetween = (from: number, to: number) =>
    entries.filter((e) => e.intendedAt >= from && e.intendedAt <= to && classifyOutcome(e) !== 'ok');
  const checks = [
    check(
      'good release promoted step by step',
      good?.outcome === 'promoted',
      good
        ? `${good.outcome}: ${good.events.map((e) => `${e.action}@${e.share}%`).join(' → ')} in ${seconds(good.decidedAt - good.firstTrafficAt)}`
        : 'the first rollout did not finish',
    ),
  ];
  if (good) {
    const failed = failedBetween(good.readyAt, good.decidedAt);
    checks.push(
      check(
        'good release: zero client-visible failures while it was promoted',
        failed.length === 0,
        `${failed.length} of the requests sent during its rollout failed`,
      ),
    );
  }
  const detectionS = bad ? (bad.decidedAt - bad.firstTrafficAt) / 1000 : Number.NaN;
  checks.push(
    check(
      'bad release rolled back within the stated detection time',
      bad?.outcome === 'rolled back' && detectionS <= input.budgetS,
      bad
        ? `${bad.outcome} at ${bad.shareAtRollback ?? '?'} % after ${detectionS.toFixed(1)} s (stated ≤ ${input.budgetS.toFixed(0)} s): ${bad.events.at(-1)?.detail ?? ''}`
        : 'the second rollout did not finish',
    ),
  );
  if (bad) {
    const share = (bad.shareAtRollback ?? 0) / 100;
    const bound = Math.ceil(rate * share * (detectionS + IN_FLIGHT_GRACE_S));
    const failed = failedBetween(bad.firstTrafficAt, bad.decidedAt + IN_FLIGHT_GRACE_S * 1000);
    checks.push(
      check(
        'client-visible failures bounded by canary share × detection time',
        failed.length <= bound,
        `${failed.length} failed ≤ bound ⌈${rate}/s × ${share * 100} % × (${detectionS.toFixed(1)} + ${IN_FLIGHT_GRACE_S}) s⌉ = ${bound} (expected ≈ ${Math.round(bound * input.badErrorRate)} at its ${input.badErrorRate * 100} % error rate)`,
      ),
      check(
        'rolled back before the fast-burn page could fire',
        input.pageFired === false && (input.pageS === undefined || detectionS < input.pageS),
        `${ALERTS.availabilityBurn} ${input.pageFired === undefined ? 'unknown (Prometheus did not answer)' : input.pageFired ? 'FIRED' : 'did not fire'}; earliest it could at ${share * 100} % × ${input.badErrorRate * 100} % errors: ${input.pageS === undefined ? 'never' : `${input.pageS.toFixed(0)} s (5 m ratio > ${(AVAILABILITY_FAST_BURN.burnRate * AVAILABILITY_FAST_BURN.budget * 100).toFixed(2)} %, then for: ${AVAILABILITY_FAST_BURN.forS} s)`}; detected after ${detectionS.toFixed(1)} s`,
      ),
    );
  }
  return checks;
}

function canaryFacts(
  good: CanaryRolloutResult | undefined,
  bad: CanaryRolloutResult | undefined,
  budgetS: number,
  pageS: number | undefined,
  rate: number,
): Record<string, string | number> {
  const facts: Record<string, string | number> = {
    'stated detection time (s)': Number(budgetS.toFixed(1)),
    'earliest fast-burn page for the bad release (s)':
      pageS === undefined ? 'never' : Number(pageS.toFixed(0)),
  };
  if (good) {
    facts['good release: first traffic → 100 % (s)'] = Number(
      ((good.decidedAt - good.firstTrafficAt) / 1000).toFixed(1),
    );
    facts['good release: steps'] = good.events
      .map((e) => `${e.action} ${e.share}% +${((e.at - good.firstTrafficAt) / 1000).toFixed(1)}s`)
      .join(', ');
  }
  if (bad) {
    const detectionS = (bad.decidedAt - bad.firstTrafficAt) / 1000;
    facts['bad release: detection time (s)'] = Number(detectionS.toFixed(1));
    facts['bad release: failure bound'] = Math.ceil(
      rate * ((bad.shareAtRollback ?? 0) / 100) * (detectionS + IN_FLIGHT_GRACE_S),
    );
    facts['bad release: judgements'] = bad.events
      .map((e) => `${e.action} ${e.share}% +${((e.at - bad.firstTrafficAt) / 1000).toFixed(1)}s`)
      .join(', ');
  }
  return facts;
}
