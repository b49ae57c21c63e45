import { FulfilmentWorker } from '../pipeline/fulfilmentWorker';
import { SimulatedFulfilmentStep } from '../pipeline/simulatedFulfilmentStep';
import { FulfilOrders } from '../orders/fulfilment';
import { pollConsumerLag } from '../telemetry/consumerLag';
import type { RoleParts, Shared } from './shared';

/** The worker role: consumes order events, fulfils them exactly once, reports its consumer lag. */
export function startWorker(shared: Shared): RoleParts {
  const { config, logger, metrics } = shared;
  const kafka = shared.kafka();
  let joined = false;
  const worker = new FulfilmentWorker({
    source: kafka.client.newConsumerGroup({
      groupId: config.worker.groupId,
      topic: config.events.ordersTopic,
      partitionsConcurrency: config.worker.partitionsConcurrency,
      messagesConcurrency: config.worker.messagesConcurrency,
      sessionTimeoutMs: config.worker.sessionTimeoutMs,
      onStateChange: (state, error) => {
        joined = state === 'joined';
        // kafkajs restarts the consumer itself after retriable errors; readiness shows the gap.
        if (state === 'crashed') logger.error('kafka consumer crashed', { err: error?.message });
      },
    }),
    deadLetters: kafka.client.newPublisher(),
    dlqTopic: config.events.dlqTopic,
    fulfil: new FulfilOrders({
      repository: shared.repository,
      step: new SimulatedFulfilmentStep({
        latencyMs: config.worker.fulfilLatencyMs,
        failureRate: config.worker.failureRate,
        seed: config.worker.failureSeed,
      }),
    }),
    maxAttempts: config.worker.maxAttempts,
    minBackoffMs: config.worker.minBackoffMs,
    maxBackoffMs: config.worker.maxBackoffMs,
    logger: logger.child({ component: 'fulfilment-worker' }),
    hooks: shared.pipelineHooks,
    prepare: kafka.prepare,
  });
  void worker.run();
  const offsets = kafka.client.newOffsetsAdmin();
  const lagPoller = pollConsumerLag({
    admin: offsets,
    groupId: config.worker.groupId,
    topic: config.events.ordersTopic,
    metrics,
    intervalMs: config.metrics.consumerLagIntervalMs,
  });
  return {
    checks: [{ name: 'kafka consumer', check: () => Promise.resolve(joined) }],
    closables: [
      { name: 'fulfilment worker', close: () => worker.close() },
      {
        name: 'consumer lag poller',
        close: async () => {
          await lagPoller.stop();
          await offsets.close();
        },
      },
    ],
  };
}
