import { performance } from 'node:perf_hooks';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type RequestWrapper, UNMATCHED_ROUTE } from '../http/requestState';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import type { ShedLogSummary } from './shedLogSummary';

/** Status recorded when the client went away before the response was complete. */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * Measures each request of the public port: on response end it observes the duration by method,
 * route template and status, and writes one access log line — or, for a shed request, counts it
 * in the shed summary. Nothing else per request.
 */
export function observeHttpRequests(deps: {
  metrics: ServiceMetrics;
  logger: Logger;
  shedLog: ShedLogSummary;
}): RequestWrapper {
  return (_req, res, state, next) => {
    const started = performance.now();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const durationSeconds = (performance.now() - started) / 1000;
      const { method, route, serverSpan: span, shedReason } = state;
      const statusCode = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      deps.metrics.onHttpRequestFinished({ method, route, statusCode, durationSeconds, span });
      if (shedReason !== undefined) {
        deps.shedLog.note(shedReason, `${method} ${route}`);
        return;
      }
      const context = span?.spanContext();
      deps.logger.info('request', {
        method,
        route,
        status: statusCode,
        duration_ms: Math.round(durationSeconds * 1e4) / 10,
        ...(context ? { trace_id: context.traceId, span_id: context.spanId } : {}),
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** Instrumentation scope of the HTTP server spans. */
export const HTTP_TRACER = 'orderlab-http';

/**
 * One SERVER span per request it sees, continuing the caller's W3C `traceparent`, with the stable
 * HTTP semantic-convention attributes; the rest (Express, then pg) runs inside its context.
 * Own spans, not instrumentation-http + -express: half the CPU of a traced GET for the same span
 * (docs/decisions/0001-own-http-server-spans.md).
 */
export function traceHttpRequests(): RequestWrapper {
  const tracer = trace.getTracer(HTTP_TRACER);
  return (req, res, state, next) => {
    const { method, route } = state;
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': state.path,
          'url.scheme': 'http',
          'network.protocol.version': req.httpVersion,
          ...(req.socket.localPort !== undefined ? { 'server.port': req.socket.localPort } : {}),
          ...(req.headers['user-agent'] !== undefined
            ? { 'user_agent.original': req.headers['user-agent'] }
            : {}),
        },
      },
      parent,
    );
    state.serverSpan = span;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (route !== UNMATCHED_ROUTE) {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      const statusCode = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      span.setAttribute('http.response.status_code', statusCode);
      // Semantic conventions: a server span is an error for 5xx only (4xx is the client's doing).
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}
