import http from 'node:http';
import { type FinishedCall, startGrpcServer } from '../grpc/grpcServer';
import { shedGrpcIfOverloaded } from '../grpc/shedding';
import { createHttpApp } from '../http/app';
import { InFlightRequests } from '../http/inFlightRequests';
import { closeServer, listen } from '../http/listen';
import { publicRequestListener } from '../http/publicListener';
import { releaseRegression } from '../http/releaseRegression';
import { ROUTES } from '../http/routes';
import { OrderUseCases } from '../orders/useCases';
import { OverloadGuard } from '../overload/overloadGuard';
import { ShedLogSummary } from '../telemetry/shedLogSummary';
import type { RoleParts, Shared } from './shared';

export interface ApiRole extends RoleParts {
  readonly httpPort: number;
  readonly grpcPort: number;
}

/** The api role: the overload guard in front of the use cases, served over HTTP and gRPC. */
export async function startApi(
  shared: Shared,
  options: { isStopping: () => boolean; onGrpcCallFinished?: ((call: FinishedCall) => void) | undefined },
): Promise<ApiRole> {
  const { config, logger, metrics, tracing, pool, health } = shared;
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
    health,
    onShed: (reason) => metrics.onShed(reason),
  });
  overload.start();
  metrics.observeOverload(() => overload.readings);
  metrics.zeroHttpServerErrors(ROUTES.map((r) => ({ method: r.method, route: r.template })));

  const orders = new OrderUseCases({
    repository: shared.repository,
    cursorSecret: config.orders.cursorSecret,
  });
  const inFlight = new InFlightRequests();
  // Flushed after both servers closed: requests shed while draining are summarised too.
  const shedLog = new ShedLogSummary(logger);
  const regression = releaseRegression(config.regression);
  if (regression) logger.warn('release regression switch is on (drills only)', { ...config.regression });
  const app = createHttpApp({
    orders,
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    beforeRoutes: regression ? [inFlight.middleware, regression] : [inFlight.middleware],
  });
  const server = http.createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
    },
    publicRequestListener({
      app,
      guard: overload,
      isStopping: options.isStopping,
      metrics,
      logger,
      shedLog,
      // Spans only when the tracing preload started the SDK (TELEMETRY_ENABLED=false: none at all).
      traced: tracing !== undefined,
    }),
  );
  const httpPort = await listen(server, config.http.host, config.http.port, config.http.listenBacklog);

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

  return {
    httpPort,
    grpcPort: grpcServer.port,
    onStopping: () => grpcServer.markNotServing(),
    closables: [
      { name: 'http server', close: () => closeServer(server), describePending: () => inFlight.describe() },
      {
        name: 'grpc server',
        close: () => grpcServer.close(),
        describePending: () => grpcServer.describePending(),
        forceClose: () => grpcServer.forceClose(),
      },
      { name: 'shed log summary', close: () => Promise.resolve(shedLog.flush()) },
      { name: 'overload guard', close: () => Promise.resolve(overload.stop()) },
    ],
  };
}
