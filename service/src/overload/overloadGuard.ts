import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { OverloadedError } from '../orders/errors';
import type { DatabaseHealthReading } from '../store/databaseHealth';
import { AdaptiveConcurrencyLimit, type ConcurrencyLimitSettings } from './concurrencyLimit';
import { decideShed, type OverloadLimits, type RequestKind, type ShedReason } from './shedDecision';

/** Sampling interval of the event-loop delay histogram; its readings include it, and it is subtracted. */
const LOOP_SAMPLE_MS = 10;

export interface OverloadGuardOptions {
  readonly limits: OverloadLimits;
  /** The adaptive in-flight limit (its `max` is the hard cap); without it the cap is fixed. */
  readonly concurrency?: ConcurrencyLimitSettings & { readonly windowMs: number };
  /** The pool requests use: its wait queue is one of the readings. */
  readonly pool: Pool;
  /** The process's database health (store/databaseHealth.ts): reachability and outbox backlog. */
  readonly health: { readonly current: DatabaseHealthReading };
  readonly onShed?: (reason: ShedReason) => void;
}

/**
 * Admits or sheds requests before they reach the use cases. All readings are kept current by
 * cheap background work (an event-loop histogram; the database health's probe), so a decision costs
 * a few comparisons and a shed request never touches the database.
 */
export class OverloadGuard {
  private inFlight = 0;
  private eventLoopDelayMs = 0;
  private readonly histogram: ReturnType<typeof monitorEventLoopDelay>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly concurrency: AdaptiveConcurrencyLimit;
  private readonly shedErrors = new Map<string, OverloadedError>();

  constructor(private readonly options: OverloadGuardOptions) {
    this.histogram = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    const max = options.limits.maxInFlight;
    this.concurrency = new AdaptiveConcurrencyLimit(
      options.concurrency ?? { min: max, max, initial: max, targetLatencyMs: 0 },
    );
  }

  start(): void {
    this.histogram.enable();
    // A short window so a stall is noticed within a quarter second and forgotten soon after. The
    // histogram times a 10 ms timer: an idle loop reads ~10 ms, so the delay is what lies beyond it.
    this.timers.push(
      setInterval(() => {
        this.eventLoopDelayMs =
          this.histogram.count > 0 ? Math.max(0, this.histogram.percentile(99) / 1e6 - LOOP_SAMPLE_MS) : 0;
        this.histogram.reset();
      }, 250),
    );
    if (this.options.concurrency && this.options.concurrency.targetLatencyMs > 0) {
      // The loop's busy share over each window (an exact, cheap reading) is the limit's CPU signal.
      let before = performance.eventLoopUtilization();
      this.timers.push(
        setInterval(() => {
          const now = performance.eventLoopUtilization();
          const utilization = performance.eventLoopUtilization(now, before).utilization;
          before = now;
          this.concurrency.endWindow(this.inFlight, utilization);
        }, this.options.concurrency.windowMs),
      );
    }
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.histogram.disable();
  }

  /** Admits one request or throws OverloadedError; see tryAdmit. */
  admit(kind: RequestKind): () => void {
    const admission = this.tryAdmit(kind);
    if (admission instanceof OverloadedError) throw admission;
    return admission;
  }

  /**
   * Admits one request — the returned function must be called exactly once when it finishes — or
   * returns why it is shed. No exception on the shed path: shedding must cost almost nothing
   * (docs/decisions/0005-shed-path-without-allocation.md).
   */
  tryAdmit(kind: RequestKind): (() => void) | OverloadedError {
    const decision = decideShed(
      kind,
      {
        inFlight: this.inFlight,
        concurrencyLimit: this.concurrency.limit,
        eventLoopDelayMs: this.eventLoopDelayMs,
        poolWaiting: this.options.pool.waitingCount,
        outboxBacklog: this.options.health.current.backlog?.count,
        databaseAvailable: this.options.health.current.available,
      },
      this.options.limits,
    );
    if (decision) {
      this.options.onShed?.(decision.reason);
      return this.shedError(decision.reason, decision.retryAfterSeconds);
    }
    this.inFlight++;
    this.concurrency.noteInFlight(this.inFlight);
    const admittedAt = performance.now();
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.inFlight--;
        this.concurrency.recordLatency(performance.now() - admittedAt);
      }
    };
  }

  get readings(): {
    inFlight: number;
    concurrencyLimit: number;
    eventLoopDelayMs: number;
    outboxBacklog: number | undefined;
    databaseAvailable: boolean;
  } {
    return {
      inFlight: this.inFlight,
      concurrencyLimit: this.concurrency.limit,
      eventLoopDelayMs: this.eventLoopDelayMs,
      outboxBacklog: this.options.health.current.backlog?.count,
      databaseAvailable: this.options.health.current.available,
    };
  }

  /**
   * One immutable error per reason and retry hint, made once: an Error's stack trace is dear and
   * says nothing here, shedding is control flow (docs/decisions/0005).
   */
  private shedError(reason: ShedReason, retryAfterSeconds: number): OverloadedError {
    const key = `${reason}:${retryAfterSeconds}`;
    let err = this.shedErrors.get(key);
    if (!err) {
      err = new OverloadedError(reason, retryAfterSeconds);
      this.shedErrors.set(key, err);
    }
    return err;
  }
}
