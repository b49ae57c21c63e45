import { classifyOutcome, classifyWindow, percentile } from '../audit/maths';
import { check } from '../audit/verdict';
import type { Drill } from './drill';
import { SHED_IN_FAULT } from './expectations';
import { steadyLoadWithFault } from './common';
import { ALERTS, NOT_OVERLOAD_ENV, SERVICE_ENV, SLO_LATENCY_MS } from './knobs';

/** Added to every PostgreSQL reply on the way back to the service. */
export const DEFAULT_DB_LATENCY_MS = 150;

export const slowDependency: Drill = {
  name: 'slow-dependency',
  title: 'Latency between the service and PostgreSQL',
  objective:
    'A slow database must not make the service slow for everyone: statement timeouts, the pool wait bound and shedding keep accepted requests inside the SLO, or the latency burn-rate alert fires.',
  setup: {
    apiReplicas: 0,
    loadBalancer: false,
    pipeline: true,
    ownedApi: { viaLatencyProxy: true },
    serviceEnv: { ...NOT_OVERLOAD_ENV, [SERVICE_ENV.dbStatementTimeoutMs]: '1000' },
  },
  // Full length lets the latency burn-rate alert (for 2 m) fire if the SLO is not kept.
  defaults: { rate: 30, durationS: 300, shortDurationS: 40 },
  expectations: {
    explained: [
      SHED_IN_FAULT,
      {
        outcome: 'shed',
        phases: ['before', 'after'],
        because: 'shedding under pressure is allowed anywhere',
      },
    ],
    maxUnexplainedFailures: 0,
    minAcceptedShare: { share: 0.99, phases: ['before'] },
    recoversWithinS: 15,
    data: { confirmWithinS: 60 },
    traces: { minCompleteShare: 1 },
    alerts: [],
    recoveryGraceS: 10,
  },
  async run(ctx) {
    const latencyMs = DEFAULT_DB_LATENCY_MS;
    const { entries, window } = await steadyLoadWithFault(ctx, {
      name: `+${latencyMs} ms on every PostgreSQL reply`,
      inject: () => ctx.target.setDatabaseLatency(latencyMs),
      heal: () => ctx.target.setDatabaseLatency(0),
      url: ctx.target.connection().ownedApiUrl,
      target: 'owned-api',
      placement: ctx.args.short ? { at: 0.25, for: 0.35 } : { at: 0.15, for: 0.65 },
    });
    const ok = entries.filter(
      (e) => classifyOutcome(e) === 'ok' && classifyWindow(e.intendedAt, [window], 0) === 'fault',
    );
    const p99 = percentile(
      ok.map((e) => e.latencyMs),
      99,
    );
    const sloKept = ok.length > 0 && p99 <= SLO_LATENCY_MS;
    let alertFired = false;
    try {
      const series = await ctx.target
        .prometheus()
        .instant(
          `max_over_time(ALERTS{alertname="${ALERTS.latencyBurn}",alertstate="firing"}[${Math.ceil((Date.now() - window.start) / 1000)}s])`,
        );
      alertFired = series.some((s) => s.value > 0);
    } catch {
      alertFired = false;
    }
    return {
      checks: [
        check(
          `SLO kept (accepted p99 ≤ ${SLO_LATENCY_MS} ms) or ${ALERTS.latencyBurn} fired`,
          sloKept || alertFired,
          `accepted p99 during the fault ${Number.isNaN(p99) ? 'n/a' : `${Math.round(p99)} ms`} over ${ok.length} requests; ${ALERTS.latencyBurn} ${alertFired ? 'fired' : 'did not fire'}`,
        ),
      ],
      facts: { injectedLatencyMs: latencyMs, acceptedP99InFaultMs: Number.isNaN(p99) ? -1 : Math.round(p99) },
    };
  },
};
