import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';

/** Label for requests that match no route: a fixed value keeps the label set bounded. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Status recorded when the client went away before the response was complete. */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * One middleware for RED metrics and the access log: on response end it observes the duration
 * by method, route template and status, and writes one log line. Nothing else per request.
 * `routeTemplateFor` labels requests that never reached a route (404/405, shed) without raw paths.
 */
export function observeHttpRequests(deps: {
  metrics: ServiceMetrics;
  logger: Logger;
  routeTemplateFor: (path: string) => string | undefined;
}): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const span = trace.getActiveSpan();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const durationSeconds = (performance.now() - started) / 1000;
      const route = routeTemplate(req, deps.routeTemplateFor);
      const statusCode = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS;
      deps.metrics.onHttpRequestFinished({ method: req.method, route, statusCode, durationSeconds, span });
      const context = span?.spanContext();
      deps.logger.info('request', {
        method: req.method,
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

/** The matched Express route path, else the template of a known route, else `unmatched`. */
export function routeTemplate(req: Request, templateFor: (path: string) => string | undefined): string {
  const matched = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof matched === 'string') return req.baseUrl + matched;
  return templateFor(req.path) ?? UNMATCHED_ROUTE;
}
