import type { RequestHandler } from 'express';

/** Tracks requests in flight so a shutdown that overruns its deadline can say which ones. */
export class InFlightRequests {
  private readonly active = new Map<number, { method: string; path: string; startedAt: number }>();
  private nextId = 0;

  readonly middleware: RequestHandler = (req, res, next) => {
    const id = this.nextId++;
    this.active.set(id, { method: req.method, path: req.path, startedAt: Date.now() });
    res.once('close', () => this.active.delete(id));
    next();
  };

  get size(): number {
    return this.active.size;
  }

  describe(limit = 5): string | undefined {
    if (this.active.size === 0) return undefined;
    const now = Date.now();
    const shown = [...this.active.values()]
      .slice(0, limit)
      .map((r) => `${r.method} ${r.path} (${((now - r.startedAt) / 1000).toFixed(1)} s)`);
    return `${this.active.size} request(s) in flight: ${shown.join(', ')}`;
  }
}
