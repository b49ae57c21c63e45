import { check } from '../audit/verdict';
import type { Drill } from './drill';
import { SHED_IN_FAULT } from './expectations';
import { pollStatuses, steadyLoadWithFault } from './common';
import { ALERTS, NOT_OVERLOAD_ENV } from './knobs';

export const dbLoss: Drill = {
  name: 'db-loss',
  title: 'PostgreSQL stops under load',
  objective:
    'With the database gone the API fails fast with 503 + Retry-After (no 30 s hangs), readiness turns false, and it recovers by itself when PostgreSQL returns, without a restart.',
  setup: { apiReplicas: 1, loadBalancer: false, pipeline: true, serviceEnv: NOT_OVERLOAD_ENV },
  defaults: { rate: 30, durationS: 60, shortDurationS: 40 },
  expectations: {
    explained: [
      SHED_IN_FAULT,
      {
        outcome: 'server_error',
        phases: ['fault'],
        because: '503 while PostgreSQL is down (accepted even without Retry-After only inside the fault)',
      },
    ],
    maxUnexplainedFailures: 0,
    minAcceptedShare: { share: 0.99, phases: ['before'] },
    failFastP99Ms: 2500,
    recoversWithinS: 15,
    data: { confirmWithinS: 60 },
    traces: { minCompleteShare: 1 },
    alerts: [
      {
        name: ALERTS.availabilityBurn,
        fires: false,
        resolves: false,
        because:
          'a short outage burns budget; the page fires only if it lasts (checked when the drill is long enough)',
      },
    ],
    recoveryGraceS: 10,
  },
  async run(ctx) {
    const api = ctx.target.apiComponents()[0] ?? 'api-1';
    const adminUrl = ctx.target.connection().apiAdminUrls[api];
    const pidBefore = await ctx.target.pidOf(api);
    let inFault = false;
    let readinessDuringFault: number[] = [];
    const { window } = await steadyLoadWithFault(ctx, {
      name: 'postgres stopped',
      inject: async () => {
        await ctx.target.stop('postgres');
        inFault = true;
        if (adminUrl) {
          // Watch readiness while the fault lasts.
          void pollStatuses(`${adminUrl}/readyz`, 500, () => !inFault).then(
            (s) => (readinessDuringFault = s),
          );
        }
      },
      heal: async () => {
        inFault = false;
        await ctx.target.start('postgres');
      },
    });
    await ctx.sleep(0.6);
    const pidAfter = await ctx.target.pidOf(api);
    // Only a real answer counts: "no answer" means the process is gone, not that it reports unready.
    const notReady = readinessDuringFault.filter((s) => s !== 200 && s !== 0).length;
    const alive = pidAfter !== undefined;
    return {
      checks: [
        check(
          'readiness false while PostgreSQL is down',
          notReady > 0 && readinessDuringFault.at(-1) !== 200,
          `/readyz answered ${summariseStatuses(readinessDuringFault)} during the fault`,
          adminUrl !== undefined,
        ),
        check(
          'recovered without a restart',
          pidBefore === undefined || pidBefore === pidAfter,
          pidBefore === undefined
            ? 'process id not visible on this target'
            : alive
              ? `api pid ${pidBefore} before and ${pidAfter} after`
              : `the api process (pid ${pidBefore}) is gone: it exited during the fault (see its log)`,
        ),
      ],
      facts: { faultSeconds: Math.round((window.end - window.start) / 100) / 10 },
    };
  },
};

function summariseStatuses(statuses: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.entries()].map(([s, n]) => `${n}× ${s === 0 ? 'no answer' : s}`).join(', ') || 'nothing';
}
