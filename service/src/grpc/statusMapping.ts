import path from 'node:path';
import { Metadata, status as Code, type StatusObject } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { asDomainError } from '../orders/errors';
import { ERROR_DETAILS_PROTO_FILE, protoRoot } from './protos';

/** Raised by the gRPC door itself when a call must stop before any work (deadline, cancel). */
export class CallStoppedError extends Error {
  constructor(
    readonly code: Code.DEADLINE_EXCEEDED | Code.CANCELLED,
    message: string,
  ) {
    super(message);
  }
}

export type MappedStatus = Required<Pick<StatusObject, 'code' | 'details' | 'metadata'>>;

/** Domain field names that the proto spells differently (list parameters, HTTP header name). */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  limit: 'page_size',
  cursor: 'page_token',
  'Idempotency-Key': 'idempotency_key',
};

export const ERROR_DOMAIN = 'orderlab.order.v1';
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
/** gRPC retry pushback (gRFC A6): clients with a retry policy wait this long before retrying. */
export const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';

/**
 * The one mapping from errors to gRPC statuses. Details travel as a google.rpc.Status in
 * `grpc-status-details-bin` (BadRequest, RetryInfo, ErrorInfo) so clients need no message parsing.
 * Unknown errors become INTERNAL with a generic message.
 */
export function statusForError(err: unknown): MappedStatus {
  if (err instanceof CallStoppedError) return plain(err.code, err.message);
  const known = asDomainError(err);
  if (!known) return plain(Code.INTERNAL, 'internal error');
  switch (known.kind) {
    case 'validation': {
      const violations = known.problems.map((p) => ({
        field: protoFieldPath(p.pointer),
        description: p.detail,
      }));
      const details = `invalid request: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`;
      return withDetails(Code.INVALID_ARGUMENT, details, [
        ['google.rpc.BadRequest', { field_violations: violations }],
      ]);
    }
    case 'not_found':
      return plain(Code.NOT_FOUND, known.message);
    case 'idempotency_mismatch':
      return withDetails(
        Code.ALREADY_EXISTS,
        `idempotency_key ${JSON.stringify(known.key)} was already used with a different request`,
        [errorInfo('IDEMPOTENCY_KEY_REUSED')],
      );
    case 'conflict':
      return withDetails(Code.ABORTED, known.message, [errorInfo('CONCURRENT_REQUEST')]);
    case 'invalid_transition':
      return withDetails(Code.FAILED_PRECONDITION, known.message, [
        errorInfo('INVALID_TRANSITION', { from: known.from, to: known.to }),
      ]);
    case 'overloaded':
      // A database the guard already knows is down is UNAVAILABLE, as a lost database met mid-call is.
      if (known.reason === 'database_unavailable') {
        return retryable(
          Code.UNAVAILABLE,
          'database is unavailable; retry later',
          known.retryAfterSeconds,
          errorInfo('DEPENDENCY_UNAVAILABLE', { dependency: 'database' }),
        );
      }
      return retryable(
        Code.RESOURCE_EXHAUSTED,
        `request shed (${known.reason}); retry later`,
        known.retryAfterSeconds,
        errorInfo('OVERLOADED', { reason: known.reason }),
      );
    case 'unavailable':
      return retryable(
        Code.UNAVAILABLE,
        `${known.dependency} is unavailable; retry later`,
        known.retryAfterSeconds,
        errorInfo('DEPENDENCY_UNAVAILABLE', { dependency: known.dependency }),
      );
  }
}

/** True for statuses that mean the service failed (log them); the rest are the caller's doing. */
export function isServerFault(code: Code): boolean {
  return code === Code.INTERNAL || code === Code.UNKNOWN || code === Code.DATA_LOSS;
}

/**
 * Domain pointers (`/items/0/unitPriceCents`, `customerId`, `limit`) as proto field paths in the
 * style of google.rpc.BadRequest (`items[0].unit_price_cents`, `customer_id`, `page_size`).
 */
export function protoFieldPath(pointer: string): string {
  const alias = FIELD_ALIASES[pointer];
  if (alias !== undefined) return alias;
  const segments = pointer.replace(/^\//, '').split('/').filter(Boolean);
  if (segments.length === 0) return '';
  let out = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else out += `${out === '' ? '' : '.'}${snakeCase(segment)}`;
  }
  return out;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function plain(code: Code, details: string): MappedStatus {
  return { code, details, metadata: new Metadata() };
}

type Detail = readonly [typeName: string, value: Record<string, unknown>];

function errorInfo(reason: string, metadata: Record<string, string> = {}): Detail {
  return ['google.rpc.ErrorInfo', { reason, domain: ERROR_DOMAIN, metadata }];
}

function retryable(code: Code, details: string, retryAfterSeconds: number, info: Detail): MappedStatus {
  const delayMs = Math.max(0, Math.round(retryAfterSeconds * 1000));
  const mapped = withDetails(code, details, [
    info,
    [
      'google.rpc.RetryInfo',
      {
        retry_delay: { seconds: Math.floor(delayMs / 1000), nanos: (delayMs % 1000) * 1_000_000 },
      },
    ],
  ]);
  mapped.metadata.set(RETRY_PUSHBACK_KEY, String(delayMs));
  return mapped;
}

function withDetails(code: Code, details: string, extra: readonly Detail[]): MappedStatus {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatus(code, details, extra));
  return { code, details, metadata };
}

let errorDetailsRoot: protobuf.Root | undefined;

/** google.rpc messages, loaded once from service/proto (the same files clients can use). */
export function errorDetailsTypes(): protobuf.Root {
  errorDetailsRoot ??= new protobuf.Root().loadSync(path.join(protoRoot(), ERROR_DETAILS_PROTO_FILE), {
    keepCase: true,
  });
  return errorDetailsRoot;
}

function encodeStatus(code: Code, message: string, extra: readonly Detail[]): Buffer {
  const root = errorDetailsTypes();
  const details = extra.map(([typeName, value]) => {
    const type = root.lookupType(typeName);
    return {
      type_url: `type.googleapis.com/${typeName}`,
      value: type.encode(type.fromObject(value)).finish(),
    };
  });
  const statusType = root.lookupType('google.rpc.Status');
  return Buffer.from(statusType.encode(statusType.fromObject({ code, message, details })).finish());
}

/** Decodes `grpc-status-details-bin` (for clients and tests): the details by type name. */
export function decodeStatusDetails(bin: Buffer): {
  code: number;
  message: string;
  details: Record<string, unknown>;
} {
  const root = errorDetailsTypes();
  const decoded = root
    .lookupType('google.rpc.Status')
    .toObject(root.lookupType('google.rpc.Status').decode(bin), {
      longs: Number,
      defaults: true,
    }) as { code: number; message: string; details: { type_url: string; value: Uint8Array }[] };
  const details: Record<string, unknown> = {};
  for (const any of decoded.details) {
    const typeName = any.type_url.replace(/^.*\//, '');
    const type = root.lookupType(typeName);
    details[typeName] = type.toObject(type.decode(any.value), { longs: Number, defaults: true });
  }
  return { code: decoded.code, message: decoded.message, details };
}
