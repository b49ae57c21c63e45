import { existsSync } from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/**
 * How every part of the service (and its tests) turns proto messages into JavaScript objects.
 * `longs: Number`: the domain refuses amounts above 2^53-1, so every int64 it accepts or sends is
 * exact as a number; a larger value arrives as an unsafe number and fails validation.
 * `defaults: true`: unset proto3 fields arrive as '' / 0 / [] and go through the same domain
 * validation as a missing JSON field. `enums: String`: statuses by name (ORDER_STATUS_PENDING).
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const ORDER_SERVICE_NAME = 'order.v1.OrderService';
export const ORDER_PROTO_FILE = 'order/v1/order.proto';
export const ERROR_DETAILS_PROTO_FILE = 'google/rpc/error_details.proto';

/**
 * The repo's `service/proto` directory, found by walking up from this file, so the same code
 * works from the source tree, from dist/ and in the image (which copies service/proto beside dist).
 */
export function protoRoot(from: string = __dirname): string {
  let dir = from;
  for (let i = 0; i < 10; i++) {
    const candidate = path.join(dir, 'service', 'proto');
    if (existsSync(path.join(candidate, ORDER_PROTO_FILE))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find service/proto/${ORDER_PROTO_FILE} above ${from}`);
}

/** The order service's package definition, loaded from the proto at run time. */
export function loadOrderProto(root: string = protoRoot()): protoLoader.PackageDefinition {
  return protoLoader.loadSync(ORDER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [root] });
}

/** The standard health proto as shipped with grpc-health-check (for reflection and clients). */
export function loadHealthProto(): protoLoader.PackageDefinition {
  // Load it by its canonical name so reflection serves it as health/v1/health.proto.
  return protoLoader.loadSync('health/v1/health.proto', {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [path.resolve(path.dirname(healthProtoPath), '..', '..')],
  });
}
