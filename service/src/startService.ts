import http from 'node:http';
import type { Pool } from 'pg';
import type { Config } from './config/config';
import { createAdminServer } from './http/adminServer';
import { type FinishedCall, startGrpcServer } from './grpc/grpcServer';
import { shedGrpcIfOverloaded } from './grpc/shedding';
import { createHttpApp } from './http/app';
import { InFlightRequests } from './http/inFlightRequests';
import { closeServer, listen } from './http/listen';
import { gateRequests } from './http/overloadGate';
import { Lifecycle } from './lifecycle/lifecycle';
import { Readiness } from './lifecycle/readiness';
import { OrderUseCases } from './orders/useCases';
import { OverloadGuard } from './overload/overloadGuard';
import { migrate } from './store/migrate';
import { PgOrderRepository } from './store/orderRepository';
import { createPool } from './store/pool';
import type { Logger } from './telemetry/logger';

export interface RunningService {
  readonly lifecycle: Lifecycle;
  readonly pool: Pool;
  readonly overload: OverloadGuard;
  /** Bound ports (useful when the config asked for port 0). */
  readonly ports: { readonly http?: number; readonly grpc?: number; readonly admin: number };
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
  } = {},
): Promise<RunningService> {
  const lifecycle = new Lifecycle(logger, config.shutdown, options.exit);
  const readiness = new Readiness();
  lifecycle.onStopping(() => readiness.markStopping());

  const pool = createPool(config.database, `${config.service.name}-${config.roles.join('+')}`);
  pool.on('error', (err) => logger.warn('idle database connection lost', { err }));
  lifecycle.add({ name: 'database pool', close: () => pool.end() });
  readiness.add({ name: 'database', check: () => pingDatabase(pool, config.database.connectTimeoutMs) });

  if (config.database.migrateOnStart) {
    const report = await migrate(pool);
    logger.info('database migrated', { applied: report.applied, version: report.current });
  }

  const probePool = createPool({ ...config.database, poolMax: 1 }, `${config.service.name}-probe`);
  probePool.on('error', () => undefined);
  lifecycle.add({ name: 'probe pool', close: () => probePool.end() });
  const overload = new OverloadGuard({
    limits: config.overload,
    pool,
    probePool,
    probeIntervalMs: config.overload.probeIntervalMs,
    onDatabaseAvailability: (available) =>
      available
        ? logger.info('database reachable again')
        : logger.error('database unreachable: shedding requests'),
  });
  overload.start();
  lifecycle.add({ name: 'overload guard', close: async () => overload.stop() });

  const orders = new OrderUseCases({
    repository: new PgOrderRepository(pool),
    cursorSecret: config.orders.cursorSecret,
  });

  const admin = createAdminServer({ readiness });
  const adminPort = await listen(admin, config.admin.host, config.admin.port);
  lifecycle.add({ name: 'admin server', close: () => closeServer(admin) });

  let httpPort: number | undefined;
  let grpcPort: number | undefined;
  if (config.roles.includes('api')) {
    const inFlight = new InFlightRequests();
    const app = createHttpApp({
      orders,
      logger,
      bodyLimitBytes: config.http.bodyLimitBytes,
      beforeRoutes: [inFlight.middleware],
    });
    const server = http.createServer(
      {
        headersTimeout: config.http.headersTimeoutMs,
        requestTimeout: config.http.requestTimeoutMs,
        keepAliveTimeout: config.http.keepAliveTimeoutMs,
      },
      gateRequests(overload, app, () => lifecycle.isStopping),
    );
    httpPort = await listen(server, config.http.host, config.http.port);
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
      ...(options.onGrpcCallFinished ? { onCallFinished: options.onGrpcCallFinished } : {}),
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

  return {
    lifecycle,
    pool,
    overload,
    ports: {
      ...(httpPort !== undefined ? { http: httpPort } : {}),
      ...(grpcPort !== undefined ? { grpc: grpcPort } : {}),
      admin: adminPort,
    },
    stop: (reason = 'stop requested') => lifecycle.shutdown(reason),
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
