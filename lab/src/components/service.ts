import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ServiceSpec } from '../ports';
import { LabError, waitUntil } from '../processes';
import { jaegerUrls } from './jaeger';
import { postgresUrls } from './postgres';
import { childEnv, type ComponentDriver, type LabContext, type Launch } from './types';

export function serviceEntry(repoRoot: string): string {
  return path.join(repoRoot, 'dist', 'service', 'src', 'main.js');
}

export function tracingPreload(repoRoot: string): string {
  return path.join(repoRoot, 'dist', 'service', 'src', 'telemetry', 'preload.js');
}

export function isServiceBuilt(repoRoot: string): boolean {
  return existsSync(serviceEntry(repoRoot));
}

/** The Node 24 the project pins (node@24 devDependency), else the Node running the lab. */
function nodeBinary(repoRoot: string): string {
  const pinned = path.join(repoRoot, 'node_modules', '.bin', 'node');
  return existsSync(pinned) ? pinned : process.execPath;
}

export function serviceDriver(ctx: LabContext, spec: ServiceSpec): ComponentDriver {
  const ports = ctx.plan.services[spec.name];
  if (!ports) throw new Error(`no ports planned for ${spec.name}`);
  const marker = `ORDERLAB_LAB_COMPONENT=${ctx.dir}#${spec.name}`;

  return {
    name: spec.name,
    ports: [ports.http, ports.grpc, ports.admin],
    stopSignal: 'SIGTERM',
    // The service's own shutdown deadline is 10 s by default; give it room before SIGKILL.
    stopTimeoutMs: 20_000,
    prepare() {
      if (!isServiceBuilt(ctx.repoRoot))
        return Promise.reject(
          new LabError(
            `${spec.name}: ${path.relative(ctx.repoRoot, serviceEntry(ctx.repoRoot))} does not exist: run \`npm run build\` first`,
          ),
        );
      return Promise.resolve();
    },
    launch(): Launch {
      return {
        command: nodeBinary(ctx.repoRoot),
        // The image's preload: traces go to the lab's Jaeger over OTLP/HTTP.
        args: ['--enable-source-maps', '--require', tracingPreload(ctx.repoRoot), serviceEntry(ctx.repoRoot)],
        env: {
          ...childEnv(ctx.env),
          ORDERLAB_LAB_COMPONENT: `${ctx.dir}#${spec.name}`,
          ROLES: spec.role,
          HOST: '127.0.0.1',
          HTTP_PORT: String(ports.http),
          GRPC_PORT: String(ports.grpc),
          ADMIN_PORT: String(ports.admin),
          DATABASE_URL: postgresUrls(ctx.plan.postgres).url,
          KAFKA_BROKERS: `127.0.0.1:${ctx.plan.kafka}`,
          LOG_LEVEL: ctx.env.LAB_LOG_LEVEL ?? 'info',
          OTEL_EXPORTER_OTLP_ENDPOINT: jaegerUrls(ctx.plan.jaeger).otlpHttpUrl,
          // 1 s instead of 5 s: a drill's trace audit reads Jaeger right after the load.
          OTEL_BSP_SCHEDULE_DELAY: ctx.env.OTEL_BSP_SCHEDULE_DELAY ?? '1000',
        },
        cwd: ctx.repoRoot,
        marker,
      };
    },
    async waitReady(pid, logPath) {
      await waitUntil(
        `${spec.name} on 127.0.0.1:${ports.admin}/readyz`,
        async () =>
          (await fetch(`http://127.0.0.1:${ports.admin}/readyz`, { signal: AbortSignal.timeout(1000) }))
            .status === 200,
        { timeoutMs: 60_000, pid, logPath },
      );
    },
  };
}
