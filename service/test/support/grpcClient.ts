import path from 'node:path';
import {
  type Client,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadHealthProto, loadOrderProto, PROTO_LOADER_OPTIONS } from '../../src/grpc/protos';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '../../src/grpc/statusMapping';

/** A plain @grpc/grpc-js client built from the repo's proto, as any Node caller would build one. */
export function orderServiceClient(address: string): Client {
  const pkg = loadPackageDefinition(loadOrderProto()) as unknown as {
    order: { v1: { OrderService: ServiceClientConstructor } };
  };
  return new pkg.order.v1.OrderService(address, credentials.createInsecure());
}

export function healthClient(address: string): Client {
  const pkg = loadPackageDefinition(loadHealthProto()) as unknown as {
    grpc: { health: { v1: { Health: ServiceClientConstructor } } };
  };
  return new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
}

/** Client of the reflection protocol, from the reflection proto shipped in @grpc/reflection. */
export function reflectionClient(address: string): Client {
  const protoDir = path.join(
    path.dirname(require.resolve('@grpc/reflection/package.json')),
    'build',
    'proto',
  );
  const def = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir],
  });
  const pkg = loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
  };
  return new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
}

export interface UnaryOutcome<Res> {
  readonly response?: Res;
  readonly error?: ServiceError;
  /** Response headers (initial metadata). */
  readonly headers: Metadata;
  /** google.rpc.Status details decoded from grpc-status-details-bin, by type name. */
  readonly details: Record<string, unknown>;
}

/** Calls a unary method and resolves with the response or the error (never rejects). */
export function callUnary<Res>(
  client: Client,
  method: string,
  request: unknown,
  options: { deadline?: Date | number; metadata?: Metadata } = {},
): Promise<UnaryOutcome<Res>> {
  return new Promise((resolve) => {
    let headers = new Metadata();
    const fn = (
      client as unknown as Record<string, (...args: unknown[]) => { on: (...a: unknown[]) => void }>
    )[method];
    if (!fn) throw new Error(`no method ${method}`);
    const call = fn.call(
      client,
      request,
      options.metadata ?? new Metadata(),
      options.deadline !== undefined ? { deadline: options.deadline } : {},
      (error: ServiceError | null, response: Res) => {
        if (error) {
          const bin = error.metadata?.get(STATUS_DETAILS_KEY)[0];
          const details = Buffer.isBuffer(bin) ? decodeStatusDetails(bin).details : {};
          resolve({ error, headers, details });
        } else resolve({ response, headers, details: {} });
      },
    );
    call.on('metadata', (md: Metadata) => {
      headers = md;
    });
  });
}

/** Field names in a google.rpc.BadRequest. */
export function violatedFields(details: Record<string, unknown>): string[] {
  const bad = details['google.rpc.BadRequest'] as { field_violations?: { field: string }[] } | undefined;
  return (bad?.field_violations ?? []).map((v) => v.field);
}
