import { shutdownChecks } from '../audit/shutdownChecks';
import { classifyOutcome } from '../audit/maths';
import { check } from '../audit/verdict';
import type { LedgerEntry } from '../load/ledger';
import type { Drill } from './drill';
import { apiUrlOf } from './common';
import { SERVICE_ENV } from './knobs';

export const SHUTDOWN_TIMEOUT_MS = 10_000;
const DRAIN_DELAY_MS = 1000;

export const sigterm: Drill = {
  name: 'sigterm',
  title: 'SIGTERM under load: one process, then a rolling restart behind a load balancer',
  objective:
    'A single API process finishes its in-flight requests and exits 0 before its deadline; a rolling restart of two replicas behind the load balancer shows clients no failure at all.',
  setup: {
    apiReplicas: 2,
    loadBalancer: true,
    pipeline: true,
    ownedApi: { viaLatencyProxy: false },
    serviceEnv: {
      [SERVICE_ENV.shutdownTimeoutMs]: String(SHUTDOWN_TIMEOUT_MS),
      [SERVICE_ENV.shutdownDrainDelayMs]: String(DRAIN_DELAY_MS),
    },
  },
  defaults: { rate: 40, durationS: 60, shortDurationS: 30 },
  expectations: {
    explained: [
      {
        outcome: 'transport_error',
        phases: ['fault', 'recovery', 'after'],
        codes: ['ECONNREFUSED'],
        targets: ['single'],
        because: 'the lone process (no balancer) refuses new connections once it has closed its listener',
      },
      {
        outcome: 'shed',
        phases: ['fault', 'recovery', 'after'],
        targets: ['single'],
        because: 'the lone process answers 503 + Retry-After while it drains',
      },
    ],
    maxUnexplainedFailures: 0,
    minAcceptedShare: { share: 1, phases: ['before'] },
    data: { confirmWithinS: 60 },
    alerts: [],
    recoveryGraceS: 3,
  },
  async run(ctx) {
    const { rate, durationS } = ctx.args;
    const singleS = Math.max(8, Math.round(durationS * 0.4));
    const entries: LedgerEntry[] = [];

    // Part 1: one process, SIGTERM in the middle of its load.
    ctx.log(`part 1: SIGTERM to a single API process under ${rate}/s`);
    const stopSingle = new AbortController();
    const single = ctx.load({
      url: apiUrlOf(ctx, 'owned'),
      target: 'single',
      steps: [{ atS: 0, rate }],
      durationS: singleS,
      signal: stopSingle.signal,
    });
    await ctx.sleep(singleS / 2);
    const sigtermAt = Date.now();
    const termination = await ctx.target.terminateOwnedApi(SHUTDOWN_TIMEOUT_MS + 5000);
    ctx.markFault({ name: 'SIGTERM → exit (single process)', start: sigtermAt, end: Date.now() });
    ctx.log(
      `single process exited ${termination.seconds.toFixed(2)} s after SIGTERM with code ${termination.exitCode}`,
    );
    await ctx.sleep(1);
    stopSingle.abort();
    entries.push(...(await single).entries);

    // Part 2: rolling restart of two replicas behind nginx, load through the balancer.
    ctx.log(`part 2: rolling restart of ${ctx.target.apiComponents().join(', ')} behind the load balancer`);
    const stopLb = new AbortController();
    const lb = ctx.load({
      url: apiUrlOf(ctx),
      target: 'lb',
      steps: [{ atS: 0, rate }],
      durationS: 300,
      signal: stopLb.signal,
    });
    await ctx.sleep(3);
    const rollStart = Date.now();
    await ctx.target.rollingRestartApi((line) => ctx.log(`  ${line}`));
    ctx.markFault({ name: 'rolling restart (2 replicas)', start: rollStart, end: Date.now() });
    await ctx.sleep(3);
    stopLb.abort();
    const lbEntries = (await lb).entries;
    entries.push(...lbEntries);
    const lbFailed = lbEntries.filter((e) => classifyOutcome(e) !== 'ok').length;
    return {
      checks: [
        ...shutdownChecks(
          entries.filter((e) => e.target === 'single'),
          sigtermAt,
          termination,
          SHUTDOWN_TIMEOUT_MS,
        ),
        check(
          'rolling restart: zero client-visible failures',
          lbEntries.length > 0 && lbFailed === 0,
          `${lbEntries.length - lbFailed}/${lbEntries.length} requests through the balancer answered 2xx`,
        ),
      ],
      facts: {
        exitCode: termination.exitCode ?? 'none',
        exitSeconds: Number(termination.seconds.toFixed(2)),
        rollingRestartSeconds: Math.round((Date.now() - rollStart) / 100) / 10,
      },
    };
  },
};
