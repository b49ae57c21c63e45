// Import this FIRST in a test file: the instrumentations must patch pg, grpc and winston before
// anything requires them. It starts the same SDK set-up as the preload (startTracing), with an
// in-memory exporter behind the same BatchSpanProcessor instead of OTLP.
import { BatchSpanProcessor, InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../../src/telemetry/tracing';

export const spanExporter = new InMemorySpanExporter();
export const spanProcessor = new BatchSpanProcessor(spanExporter, { scheduledDelayMillis: 50 });
export const tracing = startTracing(
  { enabled: true, serviceName: 'orderlab-test-api', serviceVersion: 'test', roles: ['api'] },
  { spanProcessors: [spanProcessor] },
);

/** Exported spans of one trace, after flushing the batch processor. */
export async function spansOfTrace(traceId: string): Promise<ReadableSpan[]> {
  await spanProcessor.forceFlush();
  return spanExporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

export async function allSpans(): Promise<ReadableSpan[]> {
  await spanProcessor.forceFlush();
  return spanExporter.getFinishedSpans();
}
