import { z } from 'zod';

/**
 * The one place that reads the environment. Every variable is declared here with its default;
 * `loadConfig` validates them all and reports every bad one at once.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
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

export const envSchema = z.object({
  ROLES: roles.default(['api']),
  SERVICE_NAME: z.string().min(1).default('orderlab'),
  SERVICE_VERSION: z.string().min(1).default('0.1.0'),
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
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5000),

  SHED_MAX_IN_FLIGHT: positiveInt.default(128),
  SHED_MAX_EVENT_LOOP_DELAY_MS: positiveInt.default(100),
  SHED_MAX_POOL_WAITING: nonNegativeInt.default(20),
  SHED_MAX_OUTBOX_BACKLOG: positiveInt.default(50000),
  SHED_RETRY_AFTER_SECONDS: positiveInt.default(1),
  SHED_PROBE_INTERVAL_MS: positiveInt.default(500),

  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10000),
  SHUTDOWN_DRAIN_DELAY_MS: nonNegativeInt.default(0),
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
  };
  readonly overload: {
    readonly maxInFlight: number;
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
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly migrateOnStart: boolean;
  };
  readonly orders: { readonly cursorSecret: string };
  readonly shutdown: { readonly timeoutMs: number; readonly drainDelayMs: number };
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
    },
    overload: {
      maxInFlight: e.SHED_MAX_IN_FLIGHT,
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
      connectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: e.PG_IDLE_TIMEOUT_MS,
      migrateOnStart: e.MIGRATE_ON_START,
    },
    orders: { cursorSecret: e.CURSOR_SECRET },
    shutdown: { timeoutMs: e.SHUTDOWN_TIMEOUT_MS, drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS },
  };
}

function redactValue(name: string, value: string): string {
  if (/SECRET|PASSWORD|TOKEN/.test(name)) return '<redacted>';
  if (name === 'DATABASE_URL') return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:<redacted>@');
  return value;
}
