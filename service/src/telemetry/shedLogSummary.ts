import type { Logger } from './logger';

/**
 * Shed requests are logged as one summary line per interval instead of one access line each: at
 * several times capacity a shed 503 must cost almost nothing, and a JSON log line per shed request
 * (thousands a second) was the largest part of that cost — log volume that grows with the overload
 * is load the overloaded process adds to itself. Every shed request is still counted in the
 * metrics (`orderlab_shed_requests_total`, the HTTP duration histogram); the summary says how many
 * were shed, why and where, within `intervalMs` of the first.
 */
export class ShedLogSummary {
  private byReason = new Map<string, number>();
  private byRoute = new Map<string, number>();
  private count = 0;
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs = 1000,
  ) {}

  /** Counts one shed request; the first one of an interval schedules the summary line. */
  note(reason: string, route: string): void {
    if (this.count === 0) {
      this.firstAt = Date.now();
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
    this.count++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
  }

  /** Writes the summary of what was noted since the last one (nothing when nothing was shed). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    this.logger.warn('requests shed', {
      count: this.count,
      window_ms: Date.now() - this.firstAt,
      by_reason: Object.fromEntries(this.byReason),
      by_route: Object.fromEntries(this.byRoute),
    });
    this.count = 0;
    this.byReason = new Map();
    this.byRoute = new Map();
  }
}
