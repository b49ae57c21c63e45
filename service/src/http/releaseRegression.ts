import type { RequestHandler } from 'express';
import { pathOf, ROUTES, routeFor } from './routes';

export interface ReleaseRegressionSettings {
  /** Share of matching requests answered 500 (0..1). */
  readonly errorRate: number;
  /** Added to every matching request before it is handled. */
  readonly latencyMs: number;
  /** `METHOD /template` of the routes it applies to. */
  readonly routes: readonly string[];
}

export function regressionIsOn(settings: ReleaseRegressionSettings): boolean {
  return settings.errorRate > 0 || settings.latencyMs > 0;
}

/**
 * Decides which requests fail so that exactly ⌊n × rate⌋ of the first n do: the share is the one
 * configured from the first requests on, with no randomness for a test or a drill to wait out.
 */
export class EvenShare {
  private seen = 0;
  constructor(private readonly rate: number) {}

  next(): boolean {
    const before = Math.floor(this.seen * this.rate);
    this.seen += 1;
    return Math.floor(this.seen * this.rate) > before;
  }
}

/** The failure a bad release produces on purpose (REGRESSION_ERROR_RATE). */
export class ReleaseRegressionError extends Error {
  override readonly name = 'ReleaseRegressionError';
  constructor() {
    super('release regression switch (REGRESSION_ERROR_RATE): this request fails on purpose');
  }
}

/**
 * A bad release for release drills (REGRESSION_*): requests on the chosen routes wait
 * `latencyMs`, then a share of them get 500 before any work. Undefined when the switch is off, so
 * a normal process runs no extra middleware at all. Throws on a route the API does not serve.
 */
export function releaseRegression(settings: ReleaseRegressionSettings): RequestHandler | undefined {
  if (!regressionIsOn(settings)) return undefined;
  const known = ROUTES.map((r) => `${r.method} ${r.template}`);
  const unknown = settings.routes.filter((r) => !known.includes(r));
  if (unknown.length > 0)
    throw new Error(
      `REGRESSION_ROUTES names ${unknown.join(', ')}, which the API does not serve; choose from ${known.join(', ')}`,
    );
  const chosen = new Set(settings.routes);
  const failing = new EvenShare(settings.errorRate);
  return (req, _res, next) => {
    const route = routeFor(req.method, pathOf(req.url));
    if (!route || !chosen.has(`${route.method} ${route.template}`)) {
      next();
      return;
    }
    const fail = failing.next();
    const answer = (): void => {
      // An unknown error, as a real defect would throw: the one error handler logs it and answers a bare 500.
      next(fail ? new ReleaseRegressionError() : undefined);
    };
    if (settings.latencyMs > 0) setTimeout(answer, settings.latencyMs);
    else answer();
  };
}
