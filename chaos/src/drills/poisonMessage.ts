import { randomUUID } from 'node:crypto';
import { drillKafka, readTopic } from '../audit/kafkaTopic';
import { check } from '../audit/verdict';
import type { Drill } from './drill';
import { apiUrlOf } from './common';
import { ALERTS, DLQ_REASON_HEADER, NOT_OVERLOAD_ENV } from './knobs';

/** Two bad events: bytes that are not JSON, and a well-formed envelope whose data breaks the contract. */
export function poisonMessages(marker: string): { key: string; value: string; kind: string }[] {
  return [
    { key: `${marker}-garbage`, value: `{not json ${marker}`, kind: 'not JSON' },
    {
      key: `${marker}-bad-data`,
      value: JSON.stringify({
        id: randomUUID(),
        type: 'order.created.v1',
        source: 'orderlab/drills',
        time: new Date().toISOString(),
        subject: `${marker}-bad-data`,
        data: { id: `${marker}-bad-data`, totalCents: 'not a number' },
      }),
      kind: 'envelope with invalid data',
    },
  ];
}

export const poisonMessage: Drill = {
  name: 'poison-message',
  title: 'A poison event lands in the order topic',
  objective:
    'A malformed event goes to the dead-letter topic with its reason in the x-dlq-reason header; the worker does not stall on it and orders behind it are still confirmed.',
  setup: { apiReplicas: 1, loadBalancer: false, pipeline: true, serviceEnv: NOT_OVERLOAD_ENV },
  defaults: { rate: 30, durationS: 45, shortDurationS: 30 },
  expectations: {
    explained: [],
    maxUnexplainedFailures: 0,
    minAcceptedShare: { share: 0.99, phases: ['before', 'fault', 'recovery', 'after'] },
    data: { confirmWithinS: 60 },
    traces: { minCompleteShare: 1 },
    alerts: [
      {
        name: ALERTS.dlqGrowth,
        fires: true,
        resolves: false,
        because: 'dead letters arrived',
        outlivesFault: true,
      },
    ],
    recoveryGraceS: 5,
  },
  async run(ctx) {
    const conn = ctx.target.connection();
    const marker = `poison-${randomUUID().slice(0, 8)}`;
    const messages = poisonMessages(marker);
    const loading = ctx.load({
      url: apiUrlOf(ctx),
      target: 'api',
      steps: [{ atS: 0, rate: ctx.args.rate }],
      durationS: ctx.args.durationS,
    });
    await ctx.sleep(Math.round(ctx.args.durationS * 0.3));
    const access = {
      brokers: conn.kafkaBrokers,
      ...(conn.kafkaHostAliases ? { hostAliases: conn.kafkaHostAliases } : {}),
    };
    const kafka = drillKafka('orderlab-drill-poison', access);
    const producer = kafka.producer();
    const start = Date.now();
    await producer.connect();
    try {
      await producer.send({
        topic: conn.topic,
        messages: messages.map((m) => ({ key: m.key, value: m.value })),
      });
    } finally {
      await producer.disconnect();
    }
    ctx.markFault({ name: `${messages.length} poison events produced`, start, end: Date.now() });
    ctx.log(`produced ${messages.length} poison events (${marker}) to ${conn.topic}`);
    await loading;
    // Give the worker time to dead-letter them (bounded).
    const deadline = Date.now() + 30_000;
    let found: Awaited<ReturnType<typeof readTopic>> = [];
    while (Date.now() < deadline) {
      const dlq = await readTopic(access, conn.dlqTopic).catch(() => []);
      found = dlq.filter((m) => (m.key ?? '').startsWith(marker) || (m.value ?? '').includes(marker));
      if (found.length >= messages.length) break;
      await ctx.sleep(2);
    }
    return {
      checks: messages.map((m) => {
        const hit = found.find((f) => f.key === m.key || (f.value ?? '').includes(m.key));
        const reason = hit?.headers[DLQ_REASON_HEADER];
        return check(
          `${m.kind} event dead-lettered with a reason`,
          hit !== undefined && reason !== undefined && reason !== '',
          hit === undefined
            ? `${m.key} not found in ${conn.dlqTopic}`
            : reason
              ? `${m.key} in ${conn.dlqTopic}, ${DLQ_REASON_HEADER}: "${reason.slice(0, 120)}"`
              : `${m.key} in ${conn.dlqTopic} but without a ${DLQ_REASON_HEADER} header`,
        );
      }),
      facts: { marker, deadLettered: found.length },
    };
  },
};
