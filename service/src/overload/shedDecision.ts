/**
 * Pure load-shedding decision, taken before any database work. Kept free of I/O so every branch
 * is unit-tested; OverloadGuard feeds it live readings.
 */

export type ShedReason =
  'concurrency' | 'event_loop_delay' | 'db_pool_queue' | 'outbox_backlog' | 'database_unavailable';

export type RequestKind = 'create' | 'write' | 'read';

export interface OverloadLimits {
  /** Hard cap on requests in flight at once (HTTP + gRPC); the adaptive limit moves below it. */
  readonly maxInFlight: number;
  /** Recent event-loop delay (ms) above which new requests are shed. */
  readonly maxEventLoopDelayMs: number;
  /** Callers allowed to wait for a pooled database connection. */
  readonly maxPoolWaiting: number;
  /** Unpublished outbox rows above which new orders are refused (broker away too long). */
  readonly maxOutboxBacklog: number;
  /** Retry-After hint (seconds) sent with shed responses. */
  readonly retryAfterSeconds: number;
}

export interface LoadReadings {
  readonly inFlight: number;
  /** The in-flight limit in force now (adaptive, ≤ maxInFlight); omitted = maxInFlight. */
  readonly concurrencyLimit?: number;
  readonly eventLoopDelayMs: number;
  readonly poolWaiting: number;
  /** Last known unpublished outbox rows; undefined when not measured yet. */
  readonly outboxBacklog: number | undefined;
  readonly databaseAvailable: boolean;
}

export interface ShedDecision {
  readonly reason: ShedReason;
  readonly retryAfterSeconds: number;
}

/** Returns why to shed this request, or null to admit it. Cheapest and surest checks first. */
export function decideShed(kind: RequestKind, r: LoadReadings, limits: OverloadLimits): ShedDecision | null {
  const shed = (reason: ShedReason, retryAfterSeconds = limits.retryAfterSeconds): ShedDecision => ({
    reason,
    retryAfterSeconds,
  });
  if (r.inFlight >= Math.min(limits.maxInFlight, r.concurrencyLimit ?? limits.maxInFlight)) {
    return shed('concurrency');
  }
  if (r.eventLoopDelayMs > limits.maxEventLoopDelayMs) return shed('event_loop_delay');
  if (!r.databaseAvailable) return shed('database_unavailable');
  if (r.poolWaiting >= limits.maxPoolWaiting) return shed('db_pool_queue');
  // Only new orders grow the outbox; reads and cancels of existing orders stay possible.
  if (kind === 'create' && r.outboxBacklog !== undefined && r.outboxBacklog >= limits.maxOutboxBacklog) {
    return shed('outbox_backlog', Math.max(limits.retryAfterSeconds, 5));
  }
  return null;
}
