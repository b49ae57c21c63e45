import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OrderEventData, OrderEventType } from '../orders/events';

/**
 * The CloudEvents-style JSON envelope (structured mode) every message on the orders topic
 * carries. service/api/asyncapi.yaml documents the same schema; a test keeps the two equal.
 */
export interface OrderEventEnvelope {
  readonly specversion: '1.0';
  /** The outbox event_id: stable across redeliveries, the consumer's deduplication key. */
  readonly id: string;
  readonly type: OrderEventType;
  readonly source: string;
  readonly time: string;
  /** The order id (also the Kafka key). */
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  readonly data: OrderEventData;
}

export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'order.created.v1',
  'order.cancelled.v1',
  'order.confirmed.v1',
  'order.rejected.v1',
];

/** Kafka headers the relay copies from the outbox row (W3C trace context and baggage). */
export const PROPAGATED_HEADERS = ['traceparent', 'tracestate', 'baggage'] as const;

/** Structured-mode content type (CloudEvents Kafka protocol binding). */
export const ENVELOPE_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/** Headers the worker adds when it dead-letters a message. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  error: 'x-dlq-error',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  failedAt: 'x-dlq-failed-at',
} as const;

const uuid = { type: 'string', format: 'uuid' };

/** JSON Schema (draft-07, the AsyncAPI schema dialect) of the envelope and its data. */
export const ENVELOPE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['specversion', 'id', 'type', 'source', 'time', 'subject', 'datacontenttype', 'data'],
  properties: {
    specversion: { type: 'string', const: '1.0' },
    id: uuid,
    type: { type: 'string', enum: [...ORDER_EVENT_TYPES] },
    source: { type: 'string', minLength: 1, format: 'uri-reference' },
    time: { type: 'string', format: 'date-time' },
    subject: uuid,
    datacontenttype: { type: 'string', const: 'application/json' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: [
        'orderId',
        'customerId',
        'status',
        'currency',
        'totalCents',
        'items',
        'version',
        'acceptedAt',
      ],
      properties: {
        orderId: uuid,
        customerId: { type: 'string', minLength: 1, maxLength: 64 },
        status: { type: 'string', enum: ['pending', 'confirmed', 'cancelled', 'rejected'] },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        totalCents: { type: 'integer', minimum: 0 },
        items: {
          type: 'array',
          minItems: 1,
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['sku', 'quantity', 'unitPriceCents'],
            properties: {
              sku: { type: 'string', minLength: 1, maxLength: 64 },
              quantity: { type: 'integer', minimum: 1, maximum: 10000 },
              unitPriceCents: { type: 'integer', minimum: 0 },
            },
          },
        },
        version: { type: 'integer', minimum: 1 },
        acceptedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

export interface OutboxEventRow {
  readonly eventId: string;
  readonly aggregateId: string;
  readonly eventType: string;
  readonly payload: unknown;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
}

/** Wraps an outbox row in the envelope; the relay sends the result as the message value. */
export function toEnvelope(row: OutboxEventRow, source: string): OrderEventEnvelope {
  return {
    specversion: '1.0',
    id: row.eventId,
    type: row.eventType as OrderEventType,
    source,
    time: row.createdAt.toISOString(),
    subject: row.aggregateId,
    datacontenttype: 'application/json',
    data: row.payload as OrderEventData,
  };
}

/** Kafka headers for an outbox row: content type plus the stored trace context. */
export function toKafkaHeaders(stored: Readonly<Record<string, unknown>>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': ENVELOPE_CONTENT_TYPE };
  for (const name of PROPAGATED_HEADERS) {
    const value = stored[name];
    if (typeof value === 'string' && value.length > 0) headers[name] = value;
  }
  return headers;
}

export type EnvelopeParseResult =
  | { readonly ok: true; readonly envelope: OrderEventEnvelope }
  | {
      readonly ok: false;
      readonly reason: 'unparseable' | 'invalid_envelope' | 'unknown_type';
      readonly error: string;
    };

let validator: ValidateFunction | undefined;

function validateEnvelope(value: unknown): string | undefined {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(ENVELOPE_SCHEMA);
  }
  if (validator(value)) return undefined;
  return (validator.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

/** Reads a message value back into an envelope, naming why it cannot be one. */
export function parseEnvelope(value: Buffer | null): EnvelopeParseResult {
  if (value === null || value.length === 0)
    return { ok: false, reason: 'unparseable', error: 'empty message' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'unparseable', error: (err as Error).message };
  }
  const type = (parsed as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !(ORDER_EVENT_TYPES as readonly string[]).includes(type)) {
    return { ok: false, reason: 'unknown_type', error: `unknown event type '${type.slice(0, 100)}'` };
  }
  const problem = validateEnvelope(parsed);
  if (problem !== undefined) return { ok: false, reason: 'invalid_envelope', error: problem };
  const envelope = parsed as OrderEventEnvelope;
  if (envelope.subject !== envelope.data.orderId) {
    return { ok: false, reason: 'invalid_envelope', error: 'subject differs from data.orderId' };
  }
  return { ok: true, envelope };
}
