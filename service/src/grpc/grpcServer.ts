import {
  type handleServerStreamingCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  type ServerInterceptor,
  loadPackageDefinition,
  status as Code,
} from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Config } from '../config/config';
import type { OrderUseCases } from '../orders/useCases';
import type { Logger } from '../telemetry/logger';
import { orderServiceHandlers } from './orderService';
import { loadHealthProto, loadOrderProto, ORDER_SERVICE_NAME } from './protos';

/** What the RED metrics need about one finished call (every service: orders, health, reflection). */
export interface FinishedCall {
  /** Fully qualified service, e.g. `order.v1.OrderService`. */
  readonly service: string;
  /** Method name, e.g. `CreateOrder`. */
  readonly method: string;
  /** Status code sent (or DEADLINE_EXCEEDED / CANCELLED when the call ended without one from us). */
  readonly code: Code;
  readonly durationSeconds: number;
}

/** The config's gRPC section (address, limits, keepalive, minimum deadline) plus the wiring. */
type GrpcSettings = Config['grpc'];

export interface GrpcServerOptions extends GrpcSettings {
  readonly orders: OrderUseCases;
  readonly logger: Logger;
  /** Observes every finished call once (metrics hook); must not throw or block. */
  readonly onCallFinished?: (call: FinishedCall) => void;
  /** Further interceptors (between the call observer and the handlers), e.g. load shedding. */
  readonly interceptors?: readonly ServerInterceptor[];
}

export interface RunningGrpcServer {
  readonly port: number;
  /** Health → NOT_SERVING for the whole server and order.v1.OrderService (shutdown began). */
  markNotServing(): void;
  /** Stops accepting calls and resolves when in-flight calls have finished (tryShutdown). */
  close(): Promise<void>;
  /** Cancels every in-flight call at once; only for when the shutdown deadline has passed. */
  forceClose(): void;
  /** The calls still in flight, for the log line of a shutdown that overran its deadline. */
  describePending(): string | undefined;
}

/** Names the health service answers for: the whole server ('') and the order service. */
export const HEALTH_SERVICES = ['', ORDER_SERVICE_NAME] as const;

/**
 * The gRPC server: order.v1.OrderService, grpc.health.v1.Health and server reflection, with
 * message size limits and keepalive, bound to host:port (0 picks a free port).
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const orderProto = loadOrderProto();
  const orderPackage = loadPackageDefinition(orderProto) as unknown as {
    order: { v1: { OrderService: { service: ServiceDefinition } } };
  };

  const inFlight = new InFlightCalls();
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveBytes,
    'grpc.max_send_message_length': options.maxSendBytes,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs,
    'grpc.max_connection_idle_ms': options.maxConnectionIdleMs,
    // grpc-js wraps the first interceptor nearest the wire: the observer sees every status sent.
    interceptors: [
      ...(options.onCallFinished ? [observeFinishedCalls(options.onCallFinished, options.logger)] : []),
      inFlight.interceptor,
      ...(options.interceptors ?? []),
    ],
  });

  server.addService(
    orderPackage.order.v1.OrderService.service,
    orderServiceHandlers({
      orders: options.orders,
      logger: options.logger,
      minDeadlineMs: options.minDeadlineMs,
    }),
  );
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'SERVING'])));
  // Health Watch streams never end on their own and would hold tryShutdown until the deadline:
  // keep hold of them so close() can end them once they have seen NOT_SERVING.
  const watches = new Set<ServerWritableStream<unknown, unknown>>();
  health.addToServer({
    addService(definition, implementation) {
      const watch = implementation['watch'] as handleServerStreamingCall<unknown, unknown>;
      server.addService(definition, {
        ...(implementation as UntypedServiceImplementation),
        watch: (call: ServerWritableStream<unknown, unknown>) => {
          watches.add(call);
          call.once('cancelled', () => watches.delete(call));
          watch(call);
        },
      });
    },
  });
  // Reflection describes the order service and the health service, so tools need no proto files.
  new ReflectionService({ ...orderProto, ...loadHealthProto() }).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  return {
    port,
    markNotServing() {
      for (const s of HEALTH_SERVICES) health.setStatus(s, 'NOT_SERVING');
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const call of watches) call.end();
        watches.clear();
        server.tryShutdown((err) => (err ? reject(err) : resolve()));
      }),
    forceClose() {
      server.forceShutdown();
    },
    describePending: () => inFlight.describe(),
  };
}

/** Tracks calls in flight so a shutdown that overruns its deadline can say which ones. */
class InFlightCalls {
  private readonly active = new Map<number, { path: string; startedAt: number }>();
  private nextId = 0;

  readonly interceptor: ServerInterceptor = (methodDescriptor, call) => {
    const id = this.nextId++;
    this.active.set(id, { path: methodDescriptor.path, startedAt: Date.now() });
    const done = (): void => {
      this.active.delete(id);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: done }),
      sendStatus: (status, next) => {
        done();
        next(status);
      },
    });
  };

  describe(limit = 5): string | undefined {
    if (this.active.size === 0) return undefined;
    const now = Date.now();
    const shown = [...this.active.values()]
      .slice(0, limit)
      .map((c) => `${c.path} (${((now - c.startedAt) / 1000).toFixed(1)} s)`);
    return `${this.active.size} gRPC call(s) in flight: ${shown.join(', ')}`;
  }
}

/**
 * Reports each call once when it ends. Statuses the handler sends pass through `sendStatus`;
 * calls that grpc-js ends itself (deadline timer, client cancel, oversized message) only show as
 * a cancel here, reported as DEADLINE_EXCEEDED when the deadline has passed, else CANCELLED.
 */
export function observeFinishedCalls(
  onCallFinished: (call: FinishedCall) => void,
  logger: Logger,
): ServerInterceptor {
  return (methodDescriptor, call) => {
    const started = process.hrtime.bigint();
    const [service = '', method = ''] = methodDescriptor.path.replace(/^\//, '').split('/');
    let reported = false;
    const report = (code: Code): void => {
      if (reported) return;
      reported = true;
      const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      try {
        onCallFinished({ service, method, code, durationSeconds });
      } catch (err) {
        logger.warn('onCallFinished hook failed', { err });
      }
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onCancel: () => {
            const deadline = call.getDeadline();
            const at = deadline instanceof Date ? deadline.getTime() : deadline;
            report(at <= Date.now() ? Code.DEADLINE_EXCEEDED : Code.CANCELLED);
          },
        });
      },
      sendStatus: (status, next) => {
        report(status.code);
        next(status);
      },
    });
  };
}
