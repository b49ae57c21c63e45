import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/**
 * Messaging spans made by the Kafka adapter itself, one per message, so one order is ONE trace:
 * HTTP request → outbox row (its traceparent) → `send orders.v1` (child of the request) → Kafka
 * header → `process orders.v1` (child of the send) → the worker's pg spans.
 * @opentelemetry/instrumentation-kafkajs cannot give that with batches: it parents every producer
 * span on the relay's own context (overwriting the stored traceparent) and runs eachBatch work under
 * a root "poll" span that only links to the producers. Without an SDK these calls are no-ops and the
 * stored traceparent travels unchanged.
 */
export const MESSAGING_TRACER = 'orderlab-kafka';
const tracer = trace.getTracer(MESSAGING_TRACER);

const baseAttributes = (topic: string) => ({
  'messaging.system': 'kafka',
  'messaging.destination.name': topic,
});

/** Starts a PRODUCER span per message under the trace its headers carry, and re-injects it. */
export function startSendSpans(
  topic: string,
  messages: readonly { readonly key: string; readonly headers?: Readonly<Record<string, string>> }[],
): { headers: Record<string, string>[]; end(error?: Error): void } {
  const spans: Span[] = [];
  const headers = messages.map((m) => {
    const parent = propagation.extract(ROOT_CONTEXT, m.headers ?? {});
    const span = tracer.startSpan(
      `send ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...baseAttributes(topic),
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.kafka.message.key': m.key,
        },
      },
      parent,
    );
    spans.push(span);
    const out = { ...m.headers };
    propagation.inject(trace.setSpan(parent, span), out);
    return out;
  });
  return {
    headers,
    end(error?: Error) {
      for (const span of spans) {
        if (error) {
          span.recordException(error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        }
        span.end();
      }
    },
  };
}

/** Runs `work` inside a CONSUMER span that continues the trace of the message's headers. */
export async function withProcessSpan<T>(
  message: {
    readonly topic: string;
    readonly partition: number;
    readonly offset: string;
    readonly key: Buffer | null;
    readonly headers: Readonly<Record<string, string>>;
  },
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, message.headers);
  const span = tracer.startSpan(
    `process ${message.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...baseAttributes(message.topic),
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.destination.partition.id': String(message.partition),
        'messaging.kafka.offset': Number(message.offset),
        ...(message.key !== null ? { 'messaging.kafka.message.key': message.key.toString() } : {}),
      },
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
