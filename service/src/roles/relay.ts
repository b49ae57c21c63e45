import { OutboxRelay } from '../pipeline/outboxRelay';
import type { RoleParts, Shared } from './shared';

/**
 * The relay role: publishes outbox rows to Kafka. Also runs inside an api process with
 * RELAY_IN_API; only a relay-only process reports the broker in its readiness, because an api
 * keeps accepting orders while the broker is away.
 */
export function startRelay(shared: Shared, options: { reportsBrokerInReadiness: boolean }): RoleParts {
  const { config, logger } = shared;
  const kafka = shared.kafka();
  const relay = new OutboxRelay({
    store: shared.outboxStore,
    newPublisher: () => kafka.client.newPublisher(),
    topic: config.events.ordersTopic,
    source: config.events.source,
    ...config.relay,
    logger: logger.child({ component: 'outbox-relay' }),
    hooks: shared.pipelineHooks,
    prepare: kafka.prepare,
  });
  relay.start();
  return {
    closables: [{ name: 'outbox relay', close: () => relay.close() }],
    checks: options.reportsBrokerInReadiness
      ? [{ name: 'outbox relay', check: () => Promise.resolve(relay.healthy) }]
      : [],
  };
}
