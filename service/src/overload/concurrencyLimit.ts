/**
 * Adaptive concurrency limit: additive increase, multiplicative decrease (AIMD) on two congestion
 * signals, in the spirit of Netflix's concurrency-limits and Envoy's adaptive concurrency filter.
 *
 * A fixed in-flight cap is right for one machine at one moment only: on a busy or small host the
 * same cap lets requests queue for the pool and for CPU (the database's backends and the service
 * compete for the cores) until accepted requests miss the SLO. Here, every window in which the limit
 * was actually reached is judged on
 *  - the p90 latency of the admitted requests that finished (queueing for the pool and the
 *    database), and
 *  - the event-loop utilisation, the share of the window the loop was busy (queueing for this
 *    process's CPU). Requests that take a few ms each keep a loop saturated with only a handful in
 *    flight; a saturated loop makes every arriving request wait a whole turn, shed ones included, so
 *    a 503 that should cost microseconds takes tens of ms. Utilisation is exact and cheap; the
 *    loop-delay p99 of a 250 ms window (~25 timer samples) was tried first and was too noisy to hold
 *    the limit: it kept the limit wandering and the loop saturated.
 * Either signal over its target for two windows in a row cuts the limit by 20 %. A saturated loop
 * (busy ≥ 97 % of the window) halves it at once: that is no GC pause but a spike, and utilisation
 * cannot say how far over it is (it stops at 1), so the cut is TCP's; cutting 20 % per window took
 * ~1.5 s from a limit learned at half capacity to the floor at 3×, and the shed responses of those
 * first seconds were most of the slow ones (`npm run bench:overload`). Both within
 * target grow it by one, or by 25 % while both are under half their targets (far from congestion,
 * like TCP's slow start). A window that never reached the limit changes nothing: its latency was
 * not caused by our own concurrency (a GC pause, a JIT warm-up), and an idle service keeps the
 * limit it earned, so a sudden spike meets a limit learned under load, not one that drifted to the
 * ceiling.
 */

export interface ConcurrencyLimitSettings {
  /** Never below this (progress is always possible). */
  readonly min: number;
  /** Never above this: the hard in-flight cap. */
  readonly max: number;
  /** Limit at start, clamped to min..max. */
  readonly initial: number;
  /** p90 latency (ms) of admitted requests that a window must stay within; 0 = fixed limit at `max`. */
  readonly targetLatencyMs: number;
  /** Event-loop utilisation (0..1) a window must stay within; 0 or omitted = not used. */
  readonly targetEventLoopUtilization?: number;
}

/** What one window saw. */
export interface LimitWindow {
  /** Admitted requests that finished in the window. */
  readonly completed: number;
  /** Their p90 latency (admission → response finished), ms. */
  readonly p90LatencyMs: number;
  /** Highest number in flight at once during the window. */
  readonly peakInFlight: number;
  /** Share of the window the event loop was busy (0..1); omitted = not measured. */
  readonly eventLoopUtilization?: number;
  /**
   * Consecutive windows, this one included, that reached the limit and were congested (0 when
   * this one was not). Omitted = 1 for a congested binding window.
   */
  readonly slowStreak?: number;
}

/** Slow windows in a row before the limit is cut: one can be a GC pause (docs/decisions/0006). */
export const SLOW_WINDOWS_BEFORE_CUT = 2;

/** Cut applied when a window is too slow. */
export const LIMIT_DECREASE_FACTOR = 0.8;
/** Event-loop utilisation at which a window counts as saturated: cut at once, by half. */
export const SATURATED_EVENT_LOOP_UTILIZATION = 0.97;
/** Cut applied at once to a saturated loop. */
export const LIMIT_SATURATED_DECREASE_FACTOR = 0.5;
/** Growth while the p90 is under half the target. */
export const LIMIT_FAST_GROWTH_FACTOR = 1.25;

export function isAdaptive(settings: ConcurrencyLimitSettings): boolean {
  return settings.targetLatencyMs > 0;
}

export function initialLimit(settings: ConcurrencyLimitSettings): number {
  if (!isAdaptive(settings)) return settings.max;
  return Math.min(settings.max, Math.max(settings.min, Math.round(settings.initial)));
}

/**
 * How congested a window was: the larger of its two signals as a fraction of their targets
 * (> 1 = over a target, < 0.5 = far from both). A signal without a target or a reading counts 0.
 */
export function congestionOf(window: LimitWindow, settings: ConcurrencyLimitSettings): number {
  const latency = settings.targetLatencyMs > 0 ? window.p90LatencyMs / settings.targetLatencyMs : 0;
  const loopTarget = settings.targetEventLoopUtilization ?? 0;
  const loop =
    loopTarget > 0 && window.eventLoopUtilization !== undefined
      ? window.eventLoopUtilization / loopTarget
      : 0;
  return Math.max(latency, loop);
}

/** Whether the window's loop had (almost) no idle time, with utilisation as a steering signal. */
export function isSaturated(window: LimitWindow, settings: ConcurrencyLimitSettings): boolean {
  return (
    (settings.targetEventLoopUtilization ?? 0) > 0 &&
    (window.eventLoopUtilization ?? 0) >= SATURATED_EVENT_LOOP_UTILIZATION
  );
}

/** The limit for the next window. Pure, so every branch is unit-tested. */
export function nextConcurrencyLimit(
  limit: number,
  window: LimitWindow,
  settings: ConcurrencyLimitSettings,
): number {
  if (!isAdaptive(settings)) return settings.max;
  // No evidence, or the limit held nobody back: keep what was learned.
  if (window.completed === 0 || window.peakInFlight < limit) return limit;
  const congestion = congestionOf(window, settings);
  if (congestion > 1) {
    const saturated = isSaturated(window, settings);
    if (!saturated && (window.slowStreak ?? 1) < SLOW_WINDOWS_BEFORE_CUT) return limit;
    const factor = saturated ? LIMIT_SATURATED_DECREASE_FACTOR : LIMIT_DECREASE_FACTOR;
    return Math.max(settings.min, Math.floor(limit * factor));
  }
  const grown =
    congestion < 0.5 ? Math.max(limit + 1, Math.round(limit * LIMIT_FAST_GROWTH_FACTOR)) : limit + 1;
  return Math.min(settings.max, grown);
}

/**
 * The stateful side: collects latencies of finished requests and the peak in flight, and moves the
 * limit once per window (the caller's timer calls `endWindow`). Recording is O(1) per request.
 */
export class AdaptiveConcurrencyLimit {
  private current: number;
  private latencies: Float64Array = new Float64Array(1024);
  private count = 0;
  private peakInFlight = 0;
  private slowStreak = 0;

  constructor(private readonly settings: ConcurrencyLimitSettings) {
    this.current = initialLimit(settings);
  }

  get limit(): number {
    return this.current;
  }

  noteInFlight(inFlight: number): void {
    if (inFlight > this.peakInFlight) this.peakInFlight = inFlight;
  }

  recordLatency(ms: number): void {
    if (this.count === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.count++] = ms;
  }

  /**
   * Closes the window: applies the AIMD step and starts a new window; returns the new limit.
   * `eventLoopUtilization` is the loop's busy share over the window (omitted: that signal is unused).
   */
  endWindow(inFlightNow: number, eventLoopUtilization?: number): number {
    const p90LatencyMs = this.count > 0 ? percentileOf(this.latencies.subarray(0, this.count), 0.9) : 0;
    const window: LimitWindow = {
      completed: this.count,
      p90LatencyMs,
      peakInFlight: this.peakInFlight,
      ...(eventLoopUtilization !== undefined ? { eventLoopUtilization } : {}),
    };
    const congested =
      this.count > 0 && this.peakInFlight >= this.current && congestionOf(window, this.settings) > 1;
    this.slowStreak = congested ? this.slowStreak + 1 : 0;
    this.current = nextConcurrencyLimit(
      this.current,
      { ...window, slowStreak: this.slowStreak },
      this.settings,
    );
    this.count = 0;
    this.peakInFlight = inFlightNow;
    return this.current;
  }
}

/** Nearest-rank percentile (q in 0..1) of the values; sorts them in place. */
export function percentileOf(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  values.sort();
  return values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)] as number;
}
