import http from 'node:http';
import type { Pool } from 'pg';
import type { Config } from './config/config';
import { FulfilmentWorker } from './events/fulfilmentWorker';
import { createKafkaClient, type KafkaPipelineClient } from './events/kafkaClient';
import { OutboxRelay } from './events/outboxRelay';
import type { PipelineHooks } from './events/ports';
import { SimulatedFulfilmentStep } from './fulfilment/simulatedFulfilmentStep';
import { createAdminServer } from './http/adminServer';
import { type FinishedCall, startGrpcServer } from './grpc/grpcServer';
import { shedGrpcIfOverloaded } from './grpc/shedding';
import { createHttpApp, routeTemplateFor } from './http/app';
import { InFlightRequests } from './http/inFlightRequests';
import { closeServer, listen } from './http/listen';
import { gateRequests } from './http/overloadGate';
import { Lifecycle } from './lifecycle/lifecycle';
import { Readiness } from './lifecycle/readiness';
import { FulfilOrders } from './orders/fulfilment';
import { OrderUseCases } from './orders/useCases';
import { OverloadGuard } from './overload/overloadGuard';
import { migrate } from './store/migrate';
import { PgOrderRepository } from './store/orderRepository';
import { type OutboxBacklog, PgOutboxStore } from './store/outboxStore';
import { createPool, warmPool } from './store/pool';
import { pollConsumerLag } from './telemetry/consumerLag';
import { observeHttpRequests, traceHttpRequests } from './telemetry/httpTelemetry';
import type { Logger } from './telemetry/logger';
import { ShedLogSummary } from './telemetry/shedLogSummary';
import { ServiceMetrics } from './telemetry/metrics';
import { activeTracing } from './telemetry/tracing';

export interface RunningService {
  readonly lifecycle: Lifecycle;
  readonly pool: Pool;
  readonly metrics: ServiceMetrics;
  readonly overload: OverloadGuard;
  /** Bound ports (useful when the config asked for port 0). */
  readonly ports: { readonly http?: number; readonly grpc?: number; readonly admin: number };
  /** Event pipeline pieces running in this process, and the outbox gauge source. */
  readonly pipeline: {
    readonly relay?: OutboxRelay;
    readonly worker?: FulfilmentWorker;
    /** Unpublished outbox rows and the age of the oldest (one cheap query). */
    outboxBacklog(): Promise<OutboxBacklog>;
  };
  /** Runs the full shutdown sequence; resolves to the exit code. */
  stop(reason?: string): Promise<number>;
}

/**
 * The composition root: config → adapters → use cases → servers, registering each with the
 * lifecycle in start order so shutdown closes them in reverse.
 */
export async function startService(
  config: Config,
  logger: Logger,
  options: {
    exit?: (code: number) => void;
    /** Sees every finished gRPC call (method, code, duration): the RED metrics hook. */
    onGrpcCallFinished?: (call: FinishedCall) => void;
    /** Pipeline callbacks (publish, process, confirm, dead-letter) for the metrics. */
    pipelineHooks?: PipelineHooks;
  } = {},
): Promise<RunningService> {
  const lifecycle = new Lifecycle(logger, config.shutdown, options.exit);
  const readiness = new Readiness();
  lifecycle.onStopping(() => readiness.markStopping());

  // Registered first so it closes last: spans of the whole shutdown still get exported.
  const tracing = activeTracing();
  if (tracing) lifecycle.add({ name: 'telemetry', close: () => tracing.shutdown() });
  const metrics = new ServiceMetrics({ eventLoopResolutionMs: config.metrics.eventLoopResolutionMs });

  const pool = createPool(config.database, `${config.service.name}-${config.roles.join('+')}`);
  pool.on('error', (err) => logger.warn('idle database connection lost', { err }));
  lifecycle.add({ name: 'database pool', close: () => pool.end() });
  readiness.add({ name: 'database', check: () => pingDatabase(pool, config.database.connectTimeoutMs) });
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
  lifecycle.add({ name: 'probe pool', close: () => probePool.end() });
  const overload = new OverloadGuard({
    limits: config.overload,
    concurrency: {
      min: config.overload.minInFlight,
      max: config.overload.maxInFlight,
      // Start where the database can serve everyone at once; load then moves the limit.
      initial: config.database.poolMax,
      targetLatencyMs: config.overload.targetLatencyMs,
      targetEventLoopUtilization: config.overload.targetEventLoopUtilization,
      windowMs: config.overload.limitWindowMs,
    },
    pool,
    probePool,
    probeIntervalMs: config.overload.probeIntervalMs,
    onShed: (reason) => metrics.onShed(reason),
    onDatabaseAvailability: (available) => {
      if (!available) {
        logger.error('database unreachable: shedding requests');
        return;
      }
      // The outage killed the standing connections: open them again before load needs them.
      void warmPool(pool, poolMin).then((connections) =>
        logger.info('database reachable again', { pool_connections_opened: connections }),
      );
    },
  });
  overload.start();
  metrics.observeOverload(() => overload.readings);
  lifecycle.add({ name: 'overload guard', close: async () => overload.stop() });

  const repository = new PgOrderRepository(pool);
  const orders = new OrderUseCases({ repository, cursorSecret: config.orders.cursorSecret });
  const outboxStore = new PgOutboxStore(pool, {
    databaseUrl: config.database.url,
    onListenError: (err) => logger.warn('outbox listener connection lost', { err: err.message }),
  });
  metrics.observeOutboxBacklog(
    async () => {
      const backlog = await outboxStore.backlog();
      return { events: backlog.count, oldestAgeSeconds: backlog.oldestAgeSeconds };
    },
    { refreshMs: config.metrics.outboxRefreshMs, timeoutMs: config.metrics.outboxQueryTimeoutMs },
  );
  // The metrics always see the pipeline; tests may listen in as well.
  const pipelineHooks = bothHooks(metrics.pipelineHooks, options.pipelineHooks);

  const admin = createAdminServer({ readiness, metrics: (accept) => metrics.render(accept) });
  const adminPort = await listen(admin, config.admin.host, config.admin.port);
  lifecycle.add({ name: 'admin server', close: () => closeServer(admin) });

  let httpPort: number | undefined;
  let grpcPort: number | undefined;
  if (config.roles.includes('api')) {
    const inFlight = new InFlightRequests();
    const shedLog = new ShedLogSummary(logger);
    // Added before the server, so closed after it: requests shed while draining are summarised too.
    lifecycle.add({ name: 'shed log summary', close: async () => shedLog.flush() });
    const app = createHttpApp({
      orders,
      logger,
      bodyLimitBytes: config.http.bodyLimitBytes,
      beforeRoutes: [inFlight.middleware],
    });
    // Spans only when the tracing preload started the SDK (TELEMETRY_ENABLED=false: none at all).
    const handler = tracing ? traceHttpRequests(app, { routeTemplateFor }) : app;
    const server = http.createServer(
      {
        headersTimeout: config.http.headersTimeoutMs,
        requestTimeout: config.http.requestTimeoutMs,
        keepAliveTimeout: config.http.keepAliveTimeoutMs,
      },
      // Outermost, so requests the gate sheds before Express are measured (and summarised in the log).
      observeHttpRequests(
        { metrics, logger, shedLog, routeTemplateFor },
        gateRequests(overload, handler, () => lifecycle.isStopping),
      ),
    );
    httpPort = await listen(server, config.http.host, config.http.port, config.http.listenBacklog);
    lifecycle.add({
      name: 'http server',
      close: () => closeServer(server),
      describePending: () => inFlight.describe(),
    });

    const grpcServer = await startGrpcServer({
      orders,
      logger,
      ...config.grpc,
      interceptors: [shedGrpcIfOverloaded(overload)],
      onCallFinished: (call) => {
        metrics.onCallFinished(call);
        options.onGrpcCallFinished?.(call);
      },
    });
    grpcPort = grpcServer.port;
    lifecycle.onStopping(() => grpcServer.markNotServing());
    lifecycle.add({
      name: 'grpc server',
      close: () => grpcServer.close(),
      describePending: () => grpcServer.describePending(),
      forceClose: () => grpcServer.forceClose(),
    });
  }

  // The pipeline is registered after the servers, so it closes first: the relay finishes its
  // batch and the worker commits its message while the pool is still open.
  const runsRelay = config.roles.includes('relay') || (config.roles.includes('api') && config.relay.inApi);
  const runsWorker = config.roles.includes('worker');
  let relay: OutboxRelay | undefined;
  let worker: FulfilmentWorker | undefined;
  if (runsRelay || runsWorker) {
    const kafka = createKafkaClient(config.kafka, logger.child({ component: 'kafka' }));
    const prepare = provisionTopics(kafka, config, logger);
    if (runsRelay) {
      relay = new OutboxRelay({
        store: outboxStore,
        newPublisher: () => kafka.newPublisher(),
        topic: config.events.ordersTopic,
        source: config.events.source,
        ...config.relay,
        logger: logger.child({ component: 'outbox-relay' }),
        hooks: pipelineHooks,
        prepare,
      });
      relay.start();
      lifecycle.add({ name: 'outbox relay', close: () => relay!.close() });
      // An api process keeps accepting orders while the broker is away: only a relay-only process
      // reports the broker in its readiness.
      if (!config.roles.includes('api')) {
        readiness.add({ name: 'outbox relay', check: () => Promise.resolve(relay!.healthy) });
      }
    }
    if (runsWorker) {
      let joined = false;
      const w = new FulfilmentWorker({
        source: kafka.newConsumerGroup({
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
        deadLetters: kafka.newPublisher(),
        dlqTopic: config.events.dlqTopic,
        fulfil: new FulfilOrders({
          repository,
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
        hooks: pipelineHooks,
        prepare,
      });
      worker = w;
      void w.run();
      lifecycle.add({ name: 'fulfilment worker', close: () => w.close() });
      readiness.add({ name: 'kafka consumer', check: () => Promise.resolve(joined) });
      const offsets = kafka.newOffsetsAdmin();
      const lagPoller = pollConsumerLag({
        admin: offsets,
        groupId: config.worker.groupId,
        topic: config.events.ordersTopic,
        metrics,
        intervalMs: config.metrics.consumerLagIntervalMs,
      });
      lifecycle.add({
        name: 'consumer lag poller',
        close: async () => {
          await lagPoller.stop();
          await offsets.close();
        },
      });
    }
  }

  return {
    lifecycle,
    pool,
    metrics,
    overload,
    ports: {
      ...(httpPort !== undefined ? { http: httpPort } : {}),
      ...(grpcPort !== undefined ? { grpc: grpcPort } : {}),
      admin: adminPort,
    },
    pipeline: {
      ...(relay ? { relay } : {}),
      ...(worker ? { worker } : {}),
      outboxBacklog: () => outboxStore.backlog(),
    },
    stop: (reason = 'stop requested') => lifecycle.shutdown(reason),
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
        { topic: config.events.ordersTopic, partitions: config.events.ordersTopicPartitions },
        { topic: config.events.dlqTopic, partitions: config.events.dlqTopicPartitions },
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

async function pingDatabase(pool: Pool, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([pool.query('SELECT 1').then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
