import type { Pool } from 'pg';
import type { Config } from '../config/config';
import { createKafkaClient, type KafkaPipelineClient } from '../pipeline/kafkaClient';
import type { PipelineHooks } from '../pipeline/ports';
import { createAdminServer } from '../http/adminServer';
import { closeServer, listen } from '../http/listen';
import type { Closable } from '../lifecycle/lifecycle';
import type { Readiness, ReadinessCheck } from '../lifecycle/readiness';
import type { ComponentName } from '../lifecycle/shutdownOrder';
import { DatabaseHealth } from '../store/databaseHealth';
import { migrate } from '../store/migrate';
import { PgOrderRepository } from '../store/orderRepository';
import { PgOutboxStore } from '../store/outboxStore';
import { createPool, warmPool } from '../store/pool';
import type { Logger } from '../telemetry/logger';
import { ServiceMetrics } from '../telemetry/metrics';
import { activeTracing } from '../telemetry/tracing';

/** What a role adds to the process: parts to close on shutdown, readiness checks, stopping hooks. */
export interface RoleParts {
  readonly closables: readonly Closable<ComponentName>[];
  readonly checks?: readonly ReadinessCheck[];
  readonly onStopping?: () => void;
}

/** What every role of the process uses: one pool, one database health, metrics, tracing, the admin port. */
export interface Shared extends RoleParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly tracing: ReturnType<typeof activeTracing>;
  readonly pool: Pool;
  readonly health: DatabaseHealth;
  readonly repository: PgOrderRepository;
  readonly outboxStore: PgOutboxStore;
  /** The metrics' pipeline hooks, plus a caller's (tests listen in). */
  readonly pipelineHooks: PipelineHooks;
  readonly adminPort: number;
  /** The process's Kafka client and topic provisioning: made once, for relay and worker alike. */
  kafka(): { readonly client: KafkaPipelineClient; readonly prepare: () => Promise<void> };
}

export async function startShared(
  config: Config,
  logger: Logger,
  readiness: Readiness,
  extraHooks: PipelineHooks | undefined,
): Promise<Shared> {
  const closables: Closable<ComponentName>[] = [];
  const tracing = activeTracing();
  if (tracing) closables.push({ name: 'telemetry', close: () => tracing.shutdown() });
  const metrics = new ServiceMetrics({
    eventLoopResolutionMs: config.metrics.eventLoopResolutionMs,
    serviceVersion: config.service.version,
  });

  const pool = createPool(config.database, `${config.service.name}-${config.roles.join('+')}`);
  pool.on('error', (err) => logger.warn('idle database connection lost', { err }));
  closables.push({ name: 'database pool', close: () => pool.end() });
  metrics.observePool(pool, config.database.poolMax);

  if (config.database.migrateOnStart) {
    const report = await migrate(pool);
    logger.info('database migrated', { applied: report.applied, version: report.current });
  }
  // Open the pool's standing connections before taking traffic (each connect is bounded by
  // PG_CONNECT_TIMEOUT_MS; a database that is down now is readiness's business, not start-up's).
  const poolMin = config.database.poolMin ?? 0;
  if (poolMin > 0) logger.info('database pool warmed', { connections: await warmPool(pool, poolMin) });

  const probePool = createPool({ ...config.database, poolMax: 1 }, `${config.service.name}-probe`);
  probePool.on('error', () => undefined);
  const health = new DatabaseHealth({
    pool: probePool,
    intervalMs: config.overload.probeIntervalMs,
    timeoutMs: config.database.connectTimeoutMs,
  });
  health.onAvailabilityChange((available) => {
    if (!available) {
      logger.error('database unreachable');
      return;
    }
    // The outage killed the standing connections: open them again before load needs them.
    void warmPool(pool, poolMin).then((connections) =>
      logger.info('database reachable again', { pool_connections_opened: connections }),
    );
  });
  await health.start();
  closables.push({
    name: 'database health',
    close: async () => {
      health.stop();
      await probePool.end();
    },
  });
  metrics.observeOutboxBacklog(health);

  const repository = new PgOrderRepository(pool);
  const outboxStore = new PgOutboxStore(pool, {
    databaseUrl: config.database.url,
    onListenError: (err) => logger.warn('outbox listener connection lost', { err: err.message }),
  });

  const admin = createAdminServer({ readiness, metrics: (accept) => metrics.render(accept) });
  const adminPort = await listen(admin, config.admin.host, config.admin.port);
  closables.push({ name: 'admin server', close: () => closeServer(admin) });

  let kafka: ReturnType<Shared['kafka']> | undefined;
  return {
    config,
    logger,
    metrics,
    tracing,
    pool,
    health,
    repository,
    outboxStore,
    pipelineHooks: bothHooks(metrics.pipelineHooks, extraHooks),
    adminPort,
    closables,
    checks: [{ name: 'database', check: () => Promise.resolve(health.current.available) }],
    kafka() {
      if (!kafka) {
        const client = createKafkaClient(config.kafka, logger.child({ component: 'kafka' }));
        kafka = { client, prepare: provisionTopics(client, config, logger) };
      }
      return kafka;
    },
  };
}

/** Calls both hook sets (the metrics' and an optional listener's). */
function bothHooks(first: PipelineHooks, second: PipelineHooks | undefined): PipelineHooks {
  if (!second) return first;
  return {
    onPublished: (batchSize, seconds) => {
      first.onPublished?.(batchSize, seconds);
      second.onPublished?.(batchSize, seconds);
    },
    onPublishFailed: (batchSize, error) => {
      first.onPublishFailed?.(batchSize, error);
      second.onPublishFailed?.(batchSize, error);
    },
    onProcessed: (type, outcome, seconds) => {
      first.onProcessed?.(type, outcome, seconds);
      second.onProcessed?.(type, outcome, seconds);
    },
    onConfirmed: (delaySeconds) => {
      first.onConfirmed?.(delaySeconds);
      second.onConfirmed?.(delaySeconds);
    },
    onDeadLettered: (reason) => {
      first.onDeadLettered?.(reason);
      second.onDeadLettered?.(reason);
    },
  };
}

/** Idempotent topic provisioning, shared by relay and worker; logs what it created. */
function provisionTopics(kafka: KafkaPipelineClient, config: Config, logger: Logger): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= kafka
      .ensureTopics([
        { name: config.events.ordersTopic, partitions: config.events.ordersTopicPartitions },
        { name: config.events.dlqTopic, partitions: config.events.dlqTopicPartitions },
      ])
      .then((created) => {
        if (created.length > 0) logger.info('kafka topics created', { topics: created });
      })
      .catch((err: unknown) => {
        done = undefined;
        throw err;
      });
    return done;
  };
}
