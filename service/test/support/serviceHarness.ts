import type { Writable } from 'node:stream';
import winston from 'winston';
import { freshDatabase, type FreshDatabase } from '../../../lab/src/testing';
import { loadConfig, type Config } from '../../src/config/config';
import { startService, type RunningService } from '../../src/startService';
import { createLogger } from '../../src/telemetry/logger';

export interface TestService {
  readonly baseUrl: string;
  readonly adminUrl: string;
  /** host:port of the gRPC server (order.v1.OrderService, health, reflection). */
  readonly grpcAddress: string;
  readonly config: Config;
  readonly service: RunningService;
  readonly database: FreshDatabase;
  /** Runs SQL against the service's database (for asserting state, never for arranging it). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Limits far above anything a functional test reaches. */
export const NO_SHEDDING: Record<string, string> = {
  SHED_MAX_IN_FLIGHT: '100000',
  SHED_TARGET_LATENCY_MS: '0',
  SHED_MAX_EVENT_LOOP_DELAY_MS: '60000',
  SHED_MAX_POOL_WAITING: '100000',
};

/**
 * Starts the real service in this process on ephemeral ports against a fresh database of the
 * test lab's PostgreSQL. Each test file gets its own database, so files stay independent.
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: Omit<NonNullable<Parameters<typeof startService>[2]>, 'exit'> & {
    /** Use this database instead of a fresh one; the caller drops it. */
    database?: FreshDatabase;
    /** Tests that assert on log lines read them from this stream instead of stdout. */
    logStream?: Writable;
  } = {},
): Promise<TestService> {
  const { database: given, logStream, ...serviceOptions } = options;
  const database = given ?? (await freshDatabase('svc'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    HTTP_PORT: '0',
    ADMIN_PORT: '0',
    GRPC_PORT: '0',
    LOG_LEVEL: 'error',
    // Tests of behaviour other than shedding must not be shed because the CI machine is busy;
    // shedding tests pass their own limits.
    ...NO_SHEDDING,
    ...env,
  });
  const logger = createLogger({
    level: config.log.level,
    service: 'orderlab-test',
    roles: config.roles,
    version: config.service.version,
  });
  if (logStream) {
    logger.clear();
    logger.add(new winston.transports.Stream({ stream: logStream }));
  }
  const service = await startService(config, logger, { ...serviceOptions, exit: () => undefined });
  return {
    baseUrl: `http://127.0.0.1:${service.ports.http}`,
    adminUrl: `http://127.0.0.1:${service.ports.admin}`,
    grpcAddress: `127.0.0.1:${service.ports.grpc}`,
    config,
    service,
    database,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await service.pool.query(sql, params)).rows as T[];
    },
    async close() {
      await service.stop('test finished');
      if (!given) await database.drop(); // a database handed in belongs to the caller
    },
  };
}

export function validOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customerId: 'cust-1',
    currency: 'EUR',
    items: [
      { sku: 'SKU-1', quantity: 2, unitPriceCents: 1250 },
      { sku: 'SKU-2', quantity: 1, unitPriceCents: 99 },
    ],
    ...overrides,
  };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : undefined };
}
