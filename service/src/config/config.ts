import { z } from 'zod';

/**
 * The one place that reads the environment. Every variable is declared here with its default;
 * `loadConfig` validates them all and reports every bad one at once.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const fraction = z.coerce.number().min(0).max(1);
const brokerList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port'))
      .min(1, 'name at least one broker'),
  );
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'is not a valid Kafka topic name');
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const roles = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(['api', 'relay', 'worker'])).min(1, 'name at least one role'));
/** A release name fit for a metric label: short, no spaces or quotes (e.g. 0.1.0, 1.4.0-rc.1, 2026-12-07.3). */
const serviceVersion = z
  .string()
  .regex(
    /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/,
    'use 1-64 letters, digits and . + _ - (e.g. 0.1.0 or 1.4.0-rc.1), starting with a letter or digit',
  );
/** `METHOD /route/template` entries, comma-separated, e.g. `POST /v1/orders,GET /v1/orders/:id`. */
const routeList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((r) => r.trim().replace(/\s+/g, ' '))
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().regex(/^(GET|POST) \/\S*$/, 'each route must be "METHOD /template", e.g. "POST /v1/orders"'),
    ),
  );

export const envSchema = z.object({
  ROLES: roles.default(['api']),
  SERVICE_NAME: z.string().min(1).default('orderlab'),
  /** The release this process is (a label on orderlab_build_info, `service.version` on spans, `version` on logs). */
  SERVICE_VERSION: serviceVersion.default('0.1.0'),
  /** Interface every server binds to; compose sets 0.0.0.0 inside containers. */
  HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(8080),
  GRPC_PORT: port.default(50051),
  ADMIN_PORT: port.default(9464),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),

  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .default('postgres://orderlab:orderlab@127.0.0.1:5432/orderlab'),
  PG_POOL_MAX: positiveInt.default(10),
  /**
   * Connections kept open (and opened at start) even when idle; unset = PG_POOL_MAX, a fixed-size
   * pool. A pool that shrinks when idle must open connections when load rises, and over a slow or
   * distant database link each new connection costs several round trips before its first query.
   */
  PG_POOL_MIN: nonNegativeInt.optional(),
  PG_CONNECT_TIMEOUT_MS: positiveInt.default(2000),
  PG_STATEMENT_TIMEOUT_MS: positiveInt.default(2000),
  PG_IDLE_TIMEOUT_MS: positiveInt.default(10000),
  MIGRATE_ON_START: bool.default(true),

  HTTP_BODY_LIMIT_BYTES: positiveInt.default(65536),
  /** Largest gRPC request message accepted (RESOURCE_EXHAUSTED above it); mirrors the HTTP body limit. */
  GRPC_MAX_RECEIVE_BYTES: positiveInt.default(65536),
  /** Largest gRPC response message (a full ListOrders page stays far below it). */
  GRPC_MAX_SEND_BYTES: positiveInt.default(4 * 1024 * 1024),
  /** Server pings idle connections this often to find dead peers. */
  GRPC_KEEPALIVE_TIME_MS: positiveInt.default(30000),
  /** A ping unanswered for this long closes the connection. */
  GRPC_KEEPALIVE_TIMEOUT_MS: positiveInt.default(10000),
  /** Connections without calls for this long are closed (GOAWAY) so clients rebalance. */
  GRPC_MAX_CONNECTION_IDLE_MS: positiveInt.default(300000),
  /** Calls arriving with less time than this left before their deadline fail before any DB work. */
  GRPC_MIN_DEADLINE_MS: nonNegativeInt.default(5),
  /** Signs pagination cursors; set the same value on every replica. */
  CURSOR_SECRET: z
    .string()
    .min(16, 'use at least 16 characters')
    .default('orderlab-dev-cursor-secret-change-me'),

  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30000),
  /**
   * Idle keep-alive lifetime. Longer than the idle timeout of the proxies in front (nginx's upstream
   * keepalive_timeout and AWS ALB both default to 60 s): a backend that closes first races the
   * proxy's next request on that connection, and the proxy answers 502 (nginx will not retry a POST).
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(65000),
  /** Pending connections the kernel queues for accept (capped by net.core.somaxconn). */
  HTTP_LISTEN_BACKLOG: positiveInt.default(4096),

  /** Hard cap on requests in flight (HTTP + gRPC); the adaptive limit moves between MIN and this. */
  SHED_MAX_IN_FLIGHT: positiveInt.default(64),
  /**
   * The adaptive in-flight limit never goes below this (nor above SHED_MAX_IN_FLIGHT). Below the
   * pool size nobody waits for a connection, but requests still queue for the event loop's CPU.
   */
  SHED_MIN_IN_FLIGHT: positiveInt.default(2),
  /** p90 latency of admitted requests the adaptive limit steers to; 0 = fixed limit at SHED_MAX_IN_FLIGHT. */
  SHED_TARGET_LATENCY_MS: nonNegativeInt.default(50),
  /** Event-loop utilisation (busy share, 0..1) the adaptive limit steers below; 0 = latency is its only signal. */
  SHED_TARGET_EVENT_LOOP_UTILIZATION: fraction.default(0.8),
  /** How often the adaptive limit is re-evaluated (one AIMD step per window). */
  SHED_LIMIT_WINDOW_MS: positiveInt.min(50).default(250),
  SHED_MAX_EVENT_LOOP_DELAY_MS: positiveInt.default(100),
  SHED_MAX_POOL_WAITING: nonNegativeInt.default(20),
  SHED_MAX_OUTBOX_BACKLOG: positiveInt.default(50000),
  SHED_RETRY_AFTER_SECONDS: positiveInt.default(1),
  SHED_PROBE_INTERVAL_MS: positiveInt.default(500),

  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10000),
  SHUTDOWN_DRAIN_DELAY_MS: nonNegativeInt.default(0),

  /** Off → the preload starts no OpenTelemetry SDK at all (the benchmark compares on/off). */
  TELEMETRY_ENABLED: bool.default(true),
  /** Event-loop delay histogram resolution for the runtime metrics. */
  METRICS_EVENT_LOOP_RESOLUTION_MS: positiveInt.default(20),
  /** Worker processes poll their consumer group's lag this often (kafkajs admin, not at scrape time). */
  METRICS_CONSUMER_LAG_INTERVAL_MS: positiveInt.default(5000),
  /** Comma-separated host:port bootstrap list. */
  KAFKA_BROKERS: brokerList.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('orderlab'),
  KAFKA_CONNECTION_TIMEOUT_MS: positiveInt.default(3000),
  KAFKA_REQUEST_TIMEOUT_MS: positiveInt.default(10000),
  /** Replication factor for topics the service provisions; -1 takes the broker's default. */
  KAFKA_TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(-1).default(1),
  ORDERS_TOPIC: topicName.default('orders.v1'),
  ORDERS_TOPIC_PARTITIONS: positiveInt.default(6),
  DLQ_TOPIC: topicName.default('orders.v1.dlq'),
  DLQ_TOPIC_PARTITIONS: positiveInt.default(1),
  /** CloudEvents `source` of every event the relay publishes. */
  EVENT_SOURCE: z.string().min(1).default('/orderlab/orders'),

  /** Run the outbox relay inside api processes too (the `relay` role always runs it). */
  RELAY_IN_API: bool.default(false),
  RELAY_BATCH_SIZE: positiveInt.max(10000).default(500),
  /** Claim loops per relay process; each behaves like one more relay replica. */
  RELAY_CONCURRENCY: positiveInt.max(16).default(2),
  /** Poll interval when no NOTIFY arrives (the fallback if notifications are lost). */
  RELAY_POLL_MS: positiveInt.default(500),
  RELAY_MIN_BACKOFF_MS: positiveInt.default(200),
  RELAY_MAX_BACKOFF_MS: positiveInt.default(10000),

  WORKER_GROUP_ID: z.string().min(1).default('orderlab-fulfilment'),
  /** Simulated payment/inventory step duration per order. */
  WORKER_FULFIL_LATENCY_MS: nonNegativeInt.default(10),
  /** Share of orders the simulated step declines (→ rejected), 0..1. */
  WORKER_FAILURE_RATE: fraction.default(0),
  /** Seeds the decline decision (a hash of seed and event id), so reruns decide the same way. */
  WORKER_FAILURE_SEED: z.string().default('orderlab'),
  /** Partitions processed in parallel by one worker process. */
  WORKER_PARTITIONS_CONCURRENCY: positiveInt.max(64).default(6),
  WORKER_MESSAGES_CONCURRENCY: positiveInt.max(256).default(16),
  /** Attempts for an unexpected (non-database) error before the message is dead-lettered. */
  WORKER_MAX_ATTEMPTS: positiveInt.default(10),
  WORKER_MIN_BACKOFF_MS: positiveInt.default(100),
  WORKER_MAX_BACKOFF_MS: positiveInt.default(5000),
  WORKER_SESSION_TIMEOUT_MS: positiveInt.min(6000).default(10000),

  /**
   * Release drills only (off by default): makes this binary a bad release on REGRESSION_ROUTES, so
   * a canary's analysis judges real misbehaviour. Share of those requests answered 500, 0..1.
   */
  REGRESSION_ERROR_RATE: fraction.default(0),
  /** Release drills only: latency added to every request on REGRESSION_ROUTES (0 = none). */
  REGRESSION_LATENCY_MS: nonNegativeInt.max(60000).default(0),
  /** HTTP routes the regression applies to (route templates of the API). */
  REGRESSION_ROUTES: routeList.default(['POST /v1/orders']),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly roles: readonly ('api' | 'relay' | 'worker')[];
  readonly service: { readonly name: string; readonly version: string };
  readonly log: { readonly level: string };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly listenBacklog: number;
  };
  readonly overload: {
    readonly maxInFlight: number;
    readonly minInFlight: number;
    readonly targetLatencyMs: number;
    readonly targetEventLoopUtilization: number;
    readonly limitWindowMs: number;
    readonly maxEventLoopDelayMs: number;
    readonly maxPoolWaiting: number;
    readonly maxOutboxBacklog: number;
    readonly retryAfterSeconds: number;
    readonly probeIntervalMs: number;
  };
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    readonly maxReceiveBytes: number;
    readonly maxSendBytes: number;
    readonly keepaliveTimeMs: number;
    readonly keepaliveTimeoutMs: number;
    readonly maxConnectionIdleMs: number;
    readonly minDeadlineMs: number;
  };
  readonly admin: { readonly host: string; readonly port: number };
  readonly database: {
    readonly url: string;
    readonly poolMax: number;
    /** Connections kept open when idle (omitted = 0, the pool shrinks to nothing). */
    readonly poolMin?: number;
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly migrateOnStart: boolean;
  };
  readonly orders: { readonly cursorSecret: string };
  readonly shutdown: { readonly timeoutMs: number; readonly drainDelayMs: number };
  readonly telemetry: { readonly enabled: boolean };
  readonly metrics: {
    readonly eventLoopResolutionMs: number;
    readonly consumerLagIntervalMs: number;
  };
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly connectionTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly replicationFactor: number;
  };
  readonly events: {
    readonly ordersTopic: string;
    readonly ordersTopicPartitions: number;
    readonly dlqTopic: string;
    readonly dlqTopicPartitions: number;
    readonly source: string;
  };
  readonly relay: {
    readonly inApi: boolean;
    readonly batchSize: number;
    readonly concurrency: number;
    readonly pollMs: number;
    readonly minBackoffMs: number;
    readonly maxBackoffMs: number;
  };
  /** Drills-only misbehaviour of a bad release; `errorRate` 0 and `latencyMs` 0 = off. */
  readonly regression: {
    readonly errorRate: number;
    readonly latencyMs: number;
    /** `METHOD /template` of the routes it applies to. */
    readonly routes: readonly string[];
  };
  readonly worker: {
    readonly groupId: string;
    readonly fulfilLatencyMs: number;
    readonly failureRate: number;
    readonly failureSeed: string;
    readonly partitionsConcurrency: number;
    readonly messagesConcurrency: number;
    readonly maxAttempts: number;
    readonly minBackoffMs: number;
    readonly maxBackoffMs: number;
    readonly sessionTimeoutMs: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses an environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as unset so `FOO=` in a .env file means "use the default".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const value = env[String(issue.path[0])];
        const shown = value === undefined ? '' : ` (got ${JSON.stringify(redactValue(name, value))})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    roles: e.ROLES,
    service: { name: e.SERVICE_NAME, version: e.SERVICE_VERSION },
    log: { level: e.LOG_LEVEL },
    http: {
      host: e.HOST,
      port: e.HTTP_PORT,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      listenBacklog: e.HTTP_LISTEN_BACKLOG,
    },
    overload: {
      maxInFlight: e.SHED_MAX_IN_FLIGHT,
      // A cap set below the floor wins (SHED_MAX_IN_FLIGHT=1 means one at a time).
      minInFlight: Math.min(e.SHED_MIN_IN_FLIGHT, e.SHED_MAX_IN_FLIGHT),
      targetLatencyMs: e.SHED_TARGET_LATENCY_MS,
      targetEventLoopUtilization: e.SHED_TARGET_EVENT_LOOP_UTILIZATION,
      limitWindowMs: e.SHED_LIMIT_WINDOW_MS,
      maxEventLoopDelayMs: e.SHED_MAX_EVENT_LOOP_DELAY_MS,
      maxPoolWaiting: e.SHED_MAX_POOL_WAITING,
      maxOutboxBacklog: e.SHED_MAX_OUTBOX_BACKLOG,
      retryAfterSeconds: e.SHED_RETRY_AFTER_SECONDS,
      probeIntervalMs: e.SHED_PROBE_INTERVAL_MS,
    },
    grpc: {
      host: e.HOST,
      port: e.GRPC_PORT,
      maxReceiveBytes: e.GRPC_MAX_RECEIVE_BYTES,
      maxSendBytes: e.GRPC_MAX_SEND_BYTES,
      keepaliveTimeMs: e.GRPC_KEEPALIVE_TIME_MS,
      keepaliveTimeoutMs: e.GRPC_KEEPALIVE_TIMEOUT_MS,
      maxConnectionIdleMs: e.GRPC_MAX_CONNECTION_IDLE_MS,
      minDeadlineMs: e.GRPC_MIN_DEADLINE_MS,
    },
    admin: { host: e.HOST, port: e.ADMIN_PORT },
    database: {
      url: e.DATABASE_URL,
      poolMax: e.PG_POOL_MAX,
      poolMin: Math.min(e.PG_POOL_MIN ?? e.PG_POOL_MAX, e.PG_POOL_MAX),
      connectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: e.PG_IDLE_TIMEOUT_MS,
      migrateOnStart: e.MIGRATE_ON_START,
    },
    orders: { cursorSecret: e.CURSOR_SECRET },
    shutdown: { timeoutMs: e.SHUTDOWN_TIMEOUT_MS, drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS },
    telemetry: { enabled: e.TELEMETRY_ENABLED },
    metrics: {
      eventLoopResolutionMs: e.METRICS_EVENT_LOOP_RESOLUTION_MS,
      consumerLagIntervalMs: e.METRICS_CONSUMER_LAG_INTERVAL_MS,
    },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      connectionTimeoutMs: e.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: e.KAFKA_REQUEST_TIMEOUT_MS,
      replicationFactor: e.KAFKA_TOPIC_REPLICATION_FACTOR,
    },
    events: {
      ordersTopic: e.ORDERS_TOPIC,
      ordersTopicPartitions: e.ORDERS_TOPIC_PARTITIONS,
      dlqTopic: e.DLQ_TOPIC,
      dlqTopicPartitions: e.DLQ_TOPIC_PARTITIONS,
      source: e.EVENT_SOURCE,
    },
    relay: {
      inApi: e.RELAY_IN_API,
      batchSize: e.RELAY_BATCH_SIZE,
      concurrency: e.RELAY_CONCURRENCY,
      pollMs: e.RELAY_POLL_MS,
      minBackoffMs: e.RELAY_MIN_BACKOFF_MS,
      maxBackoffMs: Math.max(e.RELAY_MAX_BACKOFF_MS, e.RELAY_MIN_BACKOFF_MS),
    },
    regression: {
      errorRate: e.REGRESSION_ERROR_RATE,
      latencyMs: e.REGRESSION_LATENCY_MS,
      routes: e.REGRESSION_ROUTES,
    },
    worker: {
      groupId: e.WORKER_GROUP_ID,
      fulfilLatencyMs: e.WORKER_FULFIL_LATENCY_MS,
      failureRate: e.WORKER_FAILURE_RATE,
      failureSeed: e.WORKER_FAILURE_SEED,
      partitionsConcurrency: e.WORKER_PARTITIONS_CONCURRENCY,
      messagesConcurrency: e.WORKER_MESSAGES_CONCURRENCY,
      maxAttempts: e.WORKER_MAX_ATTEMPTS,
      minBackoffMs: e.WORKER_MIN_BACKOFF_MS,
      maxBackoffMs: Math.max(e.WORKER_MAX_BACKOFF_MS, e.WORKER_MIN_BACKOFF_MS),
      sessionTimeoutMs: e.WORKER_SESSION_TIMEOUT_MS,
    },
  };
}

/** What the tracing preload needs, read before the rest of the config is loaded. */
export interface TracingSettings {
  readonly enabled: boolean;
  /** `service.name`: OTEL_SERVICE_NAME if set, else `<SERVICE_NAME>-<roles joined by '-'>`, e.g. orderlab-api. */
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly roles: readonly string[];
}

const tracingSchema = envSchema
  .pick({ TELEMETRY_ENABLED: true, ROLES: true, SERVICE_NAME: true, SERVICE_VERSION: true })
  .extend({ OTEL_SERVICE_NAME: z.string().min(1).optional() });

/**
 * The preload runs before the app and its config, so it gets its own small view of the same
 * schema. The standard OTEL_* exporter variables (endpoint, headers, sampler, batch sizes) are
 * read by the OpenTelemetry SDK itself. A bad value here disables tracing rather than the
 * service: the full loadConfig() reports it moments later and refuses to start.
 */
export function loadTracingSettings(env: Record<string, string | undefined> = process.env): TracingSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = tracingSchema.safeParse(present);
  if (!parsed.success) return { enabled: false, serviceName: 'orderlab', serviceVersion: '0.0.0', roles: [] };
  const e = parsed.data;
  return {
    enabled: e.TELEMETRY_ENABLED,
    serviceName: e.OTEL_SERVICE_NAME ?? `${e.SERVICE_NAME}-${e.ROLES.join('-')}`,
    serviceVersion: e.SERVICE_VERSION,
    roles: e.ROLES,
  };
}

function redactValue(name: string, value: string): string {
  if (/SECRET|PASSWORD|TOKEN/.test(name)) return '<redacted>';
  if (name === 'DATABASE_URL') return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:<redacted>@');
  return value;
}
