import type { Drill } from './drill';
import { steadyLoadWithFault } from './common';
import { ALERTS, NOT_OVERLOAD_ENV } from './knobs';

export const workerCrash: Drill = {
  name: 'worker-crash',
  title: 'The fulfilment worker is SIGKILLed mid-batch',
  objective:
    'Killing the consumer between its DB transaction and its offset commit must neither lose an order nor confirm one twice: processed_events makes the effect exactly once.',
  setup: { apiReplicas: 1, loadBalancer: false, pipeline: true, serviceEnv: NOT_OVERLOAD_ENV },
  defaults: { rate: 40, durationS: 60, shortDurationS: 40 },
  expectations: {
    explained: [],
    maxUnexplainedFailures: 0,
    minAcceptedShare: { share: 0.99, phases: ['before', 'fault', 'recovery', 'after'] },
    data: { confirmWithinS: 60 },
    traces: {
      minCompleteShare: 1,
      explainedBreaks: {
        hops: ['worker consumer span', 'worker pg span'],
        // OTEL_BSP_SCHEDULE_DELAY (1 s) plus the pipeline's own delay from acknowledgement to the worker.
        windowS: 2,
        because:
          'SIGKILL ends the worker before its batch span processor exports (every 1 s): the spans of messages it had just processed and committed die with it',
      },
    },
    alerts: [
      {
        name: ALERTS.consumerLag,
        fires: true,
        resolves: true,
        because: 'events pile up in the topic while no consumer runs',
      },
    ],
    recoveryGraceS: 10,
  },
  async run(ctx) {
    await steadyLoadWithFault(ctx, {
      name: 'worker killed (SIGKILL)',
      inject: () => ctx.target.kill('worker'),
      heal: () => ctx.target.start('worker'),
    });
    return { checks: [], facts: {} };
  },
};
