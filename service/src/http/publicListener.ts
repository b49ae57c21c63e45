import type { RequestListener } from 'node:http';
import type { OverloadGuard } from '../overload/overloadGuard';
import { observeHttpRequests, traceHttpRequests } from '../telemetry/httpTelemetry';
import type { Logger } from '../telemetry/logger';
import type { ServiceMetrics } from '../telemetry/metrics';
import type { ShedLogSummary } from '../telemetry/shedLogSummary';
import { gateRequests } from './overloadGate';
import { requestStateFor } from './requestState';

/**
 * The public HTTP port's listener: the one place that says in which order the wrappers run around
 * the Express app, each handed the same per-request state.
 *
 * 1. observe — metrics and the access log (or the shed summary); outermost, so shed requests are
 *    measured too;
 * 2. gate — overload shedding, before any span, routing, body parsing or database work;
 * 3. trace — one SERVER span per admitted request (only when the tracing preload started the SDK);
 * 4. the Express app, inside the span's context.
 */
export function publicRequestListener(parts: {
  app: RequestListener;
  guard: OverloadGuard;
  isStopping: () => boolean;
  metrics: ServiceMetrics;
  logger: Logger;
  shedLog: ShedLogSummary;
  traced: boolean;
}): RequestListener {
  const { app } = parts;
  const observe = observeHttpRequests(parts);
  const gate = gateRequests(parts.guard, parts.isStopping);
  const trace = parts.traced ? traceHttpRequests() : undefined;
  return (req, res) => {
    const state = requestStateFor(req);
    observe(req, res, state, () =>
      gate(req, res, state, () => {
        if (trace) trace(req, res, state, () => app(req, res));
        else app(req, res);
      }),
    );
  };
}
