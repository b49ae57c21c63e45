import http from 'node:http';
import type { Readiness } from '../lifecycle/readiness';
import { pathOf } from './routes';

export interface AdminRoutes {
  readonly readiness: Readiness;
  /** Returns the scrape body and content type for an Accept header (Prometheus or OpenMetrics). */
  readonly metrics?: (accept: string | undefined) => Promise<{ contentType: string; body: string }>;
}

/**
 * The admin port: /livez, /readyz, /metrics. Kept off the public port and out of the RED metrics
 * so probes and scrapes never count as traffic and are never shed.
 */
export function createAdminServer(routes: AdminRoutes): http.Server {
  return http.createServer((req, res) => {
    const path = pathOf(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"alive"}');
      return;
    }
    if (path === '/readyz') {
      void routes.readiness.report().then((r) => {
        res
          .writeHead(r.ready ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
          .end(
            JSON.stringify({
              status: r.ready ? 'ready' : r.stopping ? 'stopping' : 'not ready',
              checks: r.checks,
            }),
          );
      });
      return;
    }
    if (path === '/metrics' && routes.metrics) {
      routes.metrics(req.headers.accept).then(
        ({ contentType, body }) => res.writeHead(200, { 'Content-Type': contentType }).end(body),
        () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n'),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
}
