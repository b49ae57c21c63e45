import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';

/** Label for requests that match no route: a fixed value keeps the label set bounded. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Status recorded when the client went away before the response was complete. */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * Wraps the public port's request listener (outermost, so requests shed before Express are
 * measured too): on response end it observes the duration by method, route template and status,
 * and writes one access log line. Nothing else per request. The route is Express's matched route
 * path when there is one, else `routeTemplateFor(path)` (405s, shed requests), else `unmatched`.
 */
export function observeHttpRequests(
  deps: {
    metrics: ServiceMetrics;
    logger: Logger;
    routeTemplateFor: (path: string) => string | undefined;
  },
  listener: RequestListener,
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const span = trace.getActiveSpan();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const durationSeconds = (performance.now() - started) / 1000;
      const route = routeTemplate(req, deps.routeTemplateFor);
      const method = req.method ?? 'UNKNOWN';
      const statusCode = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      deps.metrics.onHttpRequestFinished({ method, route, statusCode, durationSeconds, span });
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

/** Express's matched route (it decorates the same request object), else a known template, else `unmatched`. */
export function routeTemplate(
  req: IncomingMessage,
  templateFor: (path: string) => string | undefined,
): string {
  const express = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: unknown };
  const matched = express.route?.path;
  if (typeof matched === 'string')
    return (typeof express.baseUrl === 'string' ? express.baseUrl : '') + matched;
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return templateFor(query === -1 ? url : url.slice(0, query)) ?? UNMATCHED_ROUTE;
}
