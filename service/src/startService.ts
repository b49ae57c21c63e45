import type { Pool } from 'pg';
import type { Config } from './config/config';
import type { PipelineHooks } from './pipeline/ports';
import type { FinishedCall } from './grpc/grpcServer';
import { Lifecycle } from './lifecycle/lifecycle';
import { Readiness } from './lifecycle/readiness';
import { type ComponentName, SHUTDOWN_ORDER } from './lifecycle/shutdownOrder';
import { startApi } from './roles/api';
import { startRelay } from './roles/relay';
import { type RoleParts, startShared } from './roles/shared';
import { startWorker } from './roles/worker';
import type { Logger } from './telemetry/logger';
import type { ServiceMetrics } from './telemetry/metrics';

export interface RunningService {
  readonly lifecycle: Lifecycle<ComponentName>;
  readonly pool: Pool;
  readonly metrics: ServiceMetrics;
  /** Bound ports (useful when the config asked for port 0). */
  readonly ports: { readonly http?: number; readonly grpc?: number; readonly admin: number };
  /** Runs the full shutdown sequence; resolves to the exit code. */
  stop(reason?: string): Promise<number>;
}

/**
 * The composition root: the shared parts (roles/shared.ts), then each configured role in its own
 * module; every part is registered with the lifecycle, which closes them in SHUTDOWN_ORDER.
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
  const lifecycle = new Lifecycle<ComponentName>(logger, config.shutdown, SHUTDOWN_ORDER, options.exit);
  const readiness = new Readiness();
  lifecycle.onStopping(() => readiness.markStopping());
  const register = (parts: RoleParts): void => {
    for (const closable of parts.closables) lifecycle.add(closable);
    for (const check of parts.checks ?? []) readiness.add(check);
    if (parts.onStopping) lifecycle.onStopping(parts.onStopping);
  };

  const shared = await startShared(config, logger, readiness, options.pipelineHooks);
  register(shared);
  const ports: { http?: number; grpc?: number; admin: number } = { admin: shared.adminPort };

  const has = (role: Config['roles'][number]) => config.roles.includes(role);
  if (has('api')) {
    const api = await startApi(shared, {
      isStopping: () => lifecycle.isStopping,
      onGrpcCallFinished: options.onGrpcCallFinished,
    });
    register(api);
    ports.http = api.httpPort;
    ports.grpc = api.grpcPort;
  }
  if (has('relay') || (has('api') && config.relay.inApi)) {
    register(startRelay(shared, { reportsBrokerInReadiness: !has('api') }));
  }
  if (has('worker')) register(startWorker(shared));

  return {
    lifecycle,
    pool: shared.pool,
    metrics: shared.metrics,
    ports,
    stop: (reason = 'stop requested') => lifecycle.shutdown(reason),
  };
}
