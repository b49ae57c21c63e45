import type { Pool } from 'pg';
import { type OutboxBacklog, queryOutboxBacklog } from './outboxStore';

export interface DatabaseHealthReading {
  /** The last probe answered (false after an error, or while a probe has not answered in time). */
  readonly available: boolean;
  /** Unpublished outbox rows and the oldest one's age, from the last answer (none before the first). */
  readonly backlog: OutboxBacklog | undefined;
  /** When a probe last answered (epoch ms). */
  readonly answeredAt: number | undefined;
}

export interface DatabaseHealthOptions {
  /** A pool of its own (one connection), so a saturated request pool is not mistaken for a dead database. */
  readonly pool: Pick<Pool, 'query'>;
  readonly intervalMs: number;
  /** A probe not answered within this long marks the database unavailable until one answers. */
  readonly timeoutMs: number;
  readonly now?: () => number;
}

/**
 * The one database health of a process: a background probe on its own pool answers whether the
 * database is reachable and how far the outbox is behind. Readiness, the overload guard and the
 * outbox gauges read its last reading, so none of them queries on its own path.
 */
export class DatabaseHealth {
  private reading: DatabaseHealthReading = { available: true, backlog: undefined, answeredAt: undefined };
  private readonly listeners: ((available: boolean) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  /** The availability listeners last heard. */
  private announced = true;
  private readonly now: () => number;
  private readonly createdAt: number;

  constructor(private readonly options: DatabaseHealthOptions) {
    this.now = options.now ?? Date.now;
    this.createdAt = this.now();
  }

  /** Probes once (so the first reading exists), then every interval until stop(). */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get current(): DatabaseHealthReading {
    return this.reading;
  }

  /** Seconds since a probe last answered (since start when none has). */
  stalenessSeconds(): number {
    return (this.now() - (this.reading.answeredAt ?? this.createdAt)) / 1000;
  }

  /** Called when availability flips (not on every probe). */
  onAvailabilityChange(listener: (available: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** One probe; a probe still waiting for its answer is joined, never doubled. */
  probe(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const answer = queryOutboxBacklog(this.options.pool).then(
      (backlog) => {
        this.reading = { available: true, backlog, answeredAt: this.now() };
        this.announce();
      },
      () => this.setUnavailable(),
    );
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.setUnavailable();
        resolve();
      }, this.options.timeoutMs);
    });
    // Past the timeout the reading says unavailable; the answer, if it comes, still updates it.
    await Promise.race([answer, timeout]);
    clearTimeout(timer);
    await answer;
  }

  private setUnavailable(): void {
    this.reading = { ...this.reading, available: false };
    this.announce();
  }

  private announce(): void {
    if (this.reading.available === this.announced) return;
    this.announced = this.reading.available;
    for (const listener of this.listeners) listener(this.reading.available);
  }
}
