import { classifyOutcome, classifyWindow } from '../audit/maths';
import { check } from '../audit/verdict';
import type { Drill } from './drill';
import { SHED_IN_FAULT } from './expectations';
import { steadyLoadWithFault } from './common';
import { ALERTS, NOT_OVERLOAD_ENV, SERVICE_ENV } from './knobs';

/** Outbox bound small enough that a short fault reaches it at the default rate. */
const OUTBOX_BOUND = 150;

export const brokerLoss: Drill = {
  name: 'broker-loss',
  title: 'Kafka is killed under load',
  objective:
    'Orders keep being accepted into the outbox while Kafka is gone, up to its bound, then shed with Retry-After; when Kafka returns the backlog drains, nothing acknowledged is lost and every order is confirmed once.',
  setup: {
    apiReplicas: 1,
    loadBalancer: false,
    pipeline: true,
    serviceEnv: { ...NOT_OVERLOAD_ENV, [SERVICE_ENV.outboxMaxBacklog]: String(OUTBOX_BOUND) },
  },
  // Full length lets the outbox age alert (age > 60 s for 2 m) fire during a 3.5-minute outage.
  defaults: { rate: 40, durationS: 360, shortDurationS: 45 },
  expectations: {
    explained: [SHED_IN_FAULT],
    maxUnexplainedFailures: 0,
    minAcceptedShare: { share: 0.99, phases: ['before'] },
    recoversWithinS: 12,
    data: { confirmWithinS: 60 },
    traces: { minCompleteShare: 1 },
    alerts: [
      {
        name: ALERTS.outboxStale,
        fires: true,
        resolves: true,
        because: 'the oldest unpublished outbox event ages while the relay cannot publish',
      },
    ],
    recoveryGraceS: 15,
  },
  async run(ctx) {
    const { entries, window } = await steadyLoadWithFault(ctx, {
      name: 'kafka killed (SIGKILL)',
      inject: () => ctx.target.kill('kafka'),
      heal: () => ctx.target.start('kafka'),
      placement: ctx.args.short ? { at: 0.2, for: 0.3 } : { at: 0.15, for: 0.6 },
      tailS: 20,
    });
    const inFault = entries.filter((e) => classifyWindow(e.intendedAt, [window], 0) === 'fault');
    const accepted = inFault.filter((e) => classifyOutcome(e) === 'ok').length;
    const shed = inFault.filter((e) => classifyOutcome(e) === 'shed').length;
    const expectedToReachBound = ctx.args.rate * ((window.end - window.start) / 1000) > OUTBOX_BOUND * 1.2;
    return {
      checks: [
        check(
          'orders accepted into the outbox while Kafka was down',
          accepted > 0,
          `${accepted}/${inFault.length} accepted during the fault (bound ${OUTBOX_BOUND})`,
        ),
        check(
          'shed with Retry-After once the outbox bound was reached',
          shed > 0,
          expectedToReachBound
            ? `${shed} shed with Retry-After after ${accepted} accepted`
            : `${shed} shed; the load (${ctx.args.rate}/s for ${((window.end - window.start) / 1000).toFixed(0)} s) may not reach the bound ${OUTBOX_BOUND}`,
          expectedToReachBound,
        ),
      ],
      facts: { outboxBound: OUTBOX_BOUND, acceptedDuringFault: accepted, shedDuringFault: shed },
    };
  },
};
