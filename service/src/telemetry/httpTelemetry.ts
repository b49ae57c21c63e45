import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { pathOf } from '../http/routes';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import type { ShedLogSummary } from './shedLogSummary';

/** Label for requests that match no route: a fixed value keeps the label set bounded. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Status recorded when the client went away before the response was complete. */
export const CLIENT_CLOSED_STATUS = 499;

const SHED_REASON = Symbol('orderlab.shedReason');

/** Marks a response as shed (the overload gate calls it): it is logged in the shed summary, not one by one. */
export function markShed(res: ServerResponse, reason: string): void {
  (res as ServerResponse & { [SHED_REASON]?: string })[SHED_REASON] = reason;
}

function shedReasonOf(res: ServerResponse): string | undefined {
  return (res as ServerResponse & { [SHED_REASON]?: string })[SHED_REASON];
}

/**
 * Wraps the public port's request listener (outermost, so requests shed before Express are
 * measured too): on response end it observes the duration by method, route template and status,
 * and writes one access log line — or, for a shed request, counts it in the shed summary. Nothing
 * else per request. The route is Express's matched route path when there is one, else
 * `routeTemplateFor(path)` (405s, shed requests), else `unmatched`.
 */
export function observeHttpRequests(
  deps: {
    metrics: ServiceMetrics;
    logger: Logger;
    shedLog: ShedLogSummary;
    routeTemplateFor: (path: string) => string | undefined;
  },
  listener: RequestListener,
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const durationSeconds = (performance.now() - started) / 1000;
      const route = routeTemplate(req, deps.routeTemplateFor);
      const method = req.method ?? 'UNKNOWN';
      const statusCode = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      const span = serverSpanOf(res);
      deps.metrics.onHttpRequestFinished({ method, route, statusCode, durationSeconds, span });
      const shedReason = shedReasonOf(res);
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
    listener(req, res);
  };
}

/** The route table's template for the request's path (whatever its method or fate), else `unmatched`. */
export function routeTemplate(
  req: IncomingMessage,
  templateFor: (path: string) => string | undefined,
): string {
  return templateFor(pathOf(req.url)) ?? UNMATCHED_ROUTE;
}

/** Instrumentation scope of the HTTP server spans. */
export const HTTP_TRACER = 'orderlab-http';
const SERVER_SPAN = Symbol('orderlab.serverSpan');

/** The server span `traceHttpRequests` opened for this response, if the request was traced. */
export function serverSpanOf(res: ServerResponse): Span | undefined {
  return (res as ServerResponse & { [SERVER_SPAN]?: Span })[SERVER_SPAN];
}

/**
 * One SERVER span per admitted request, continuing the caller's W3C `traceparent`, with the stable
 * HTTP semantic-convention attributes; the handler (Express, then pg) runs inside its context.
 *
 * Why not @opentelemetry/instrumentation-http + instrumentation-express: measured on this service
 * (GET by id, CPU per request), they cost ~180 µs of the ~380 µs a traced request takes — the
 * http instrumentation computes a dozen attributes and wraps emit/end on every request and
 * response, the express one wraps every router layer — while the trace they give is this one span
 * plus a route-handler span that says nothing the route attribute does not. The service makes no
 * outgoing HTTP calls but the OTLP export itself, which must not be traced anyway.
 * Sits inside the load-shedding gate: a shed request costs no span (it is counted and logged).
 */
export function traceHttpRequests(
  listener: RequestListener,
  options: { routeTemplateFor: (path: string) => string | undefined },
): RequestListener {
  const tracer = trace.getTracer(HTTP_TRACER);
  return (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'UNKNOWN';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': pathOf(req.url),
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
    (res as ServerResponse & { [SERVER_SPAN]?: Span })[SERVER_SPAN] = span;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      const route = routeTemplate(req, options.routeTemplateFor);
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
    context.with(trace.setSpan(parent, span), () => listener(req, res));
  };
}
