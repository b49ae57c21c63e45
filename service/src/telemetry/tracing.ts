import { randomUUID } from 'node:crypto';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TracingSettings } from '../config/config';

export interface RunningTracing {
  readonly serviceName: string;
  /** Exports what is buffered and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
}

let active: RunningTracing | undefined;

/**
 * The explicit instrumentation list (CONVENTIONS: never "auto-instrument everything"). HTTP server
 * spans are made by telemetry/httpTelemetry.ts (traceHttpRequests) rather than by the http and
 * express instrumentations, and PostgreSQL client spans by telemetry/pgTracing.ts (TracedClient)
 * rather than by instrumentation-pg: same spans, a fraction of the cost (see there). The admin port
 * (probes, scrapes) is never traced.
 */
export function orderlabInstrumentations() {
  return [
    // Kafka spans come from events/messagingSpans.ts, one per message, continuing each order's own
    // trace; instrumentation-kafkajs would parent them on the relay's batch and a consumer "poll".
    new GrpcInstrumentation({ ignoreGrpcMethods: [/^Check$/, /^Watch$/, /ServerReflectionInfo/] }),
    // Log correlation (trace_id/span_id on each record); logs go to stdout, not over OTLP.
    new WinstonInstrumentation({ disableLogSending: true }),
  ];
}

/**
 * Starts the OpenTelemetry Node SDK: explicit instrumentations, resource attributes, spans
 * batched to the OTLP/proto exporter configured by the standard OTEL_EXPORTER_OTLP_* variables.
 * Tests pass their own span processors (an in-memory exporter behind a BatchSpanProcessor).
 */
export function startTracing(
  settings: TracingSettings,
  options: { spanProcessors?: SpanProcessor[] } = {},
): RunningTracing {
  if (active) return active;
  diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      [ATTR_SERVICE_VERSION]: settings.serviceVersion,
      'service.instance.id': randomUUID(),
      'service.namespace': 'orderlab',
      'orderlab.roles': settings.roles.join(','),
    }),
    spanProcessors: options.spanProcessors ?? [new BatchSpanProcessor(new OTLPTraceExporter())],
    // Logs stay on stdout (shipped by the collector/Alloy) and metrics come from prom-client:
    // no OTLP log or metric pipelines (the SDK would otherwise start them from OTEL_* defaults).
    logRecordProcessors: [],
    metricReaders: [],
    instrumentations: orderlabInstrumentations(),
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  active = {
    serviceName: settings.serviceName,
    shutdown: () => (stopped ??= sdk.shutdown()),
  };
  return active;
}

/** The tracing started by the preload in this process, if any (TELEMETRY_ENABLED=false → none). */
export function activeTracing(): RunningTracing | undefined {
  return active;
}
