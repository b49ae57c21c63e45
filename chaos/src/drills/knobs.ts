/**
 * The service and Prometheus names the drills depend on, in one place: when a variable, metric or
 * alert is renamed in the service, this is the file to change.
 */

/** Service environment variables the drills set (see service/src/config/config.ts). */
export const SERVICE_ENV = {
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  shutdownDrainDelayMs: 'SHUTDOWN_DRAIN_DELAY_MS',
  outboxMaxBacklog: 'SHED_MAX_OUTBOX_BACKLOG',
  maxInFlight: 'SHED_MAX_IN_FLIGHT',
  targetLatencyMs: 'SHED_TARGET_LATENCY_MS',
  maxEventLoopDelayMs: 'SHED_MAX_EVENT_LOOP_DELAY_MS',
  maxPoolWaiting: 'SHED_MAX_POOL_WAITING',
  dbStatementTimeoutMs: 'PG_STATEMENT_TIMEOUT_MS',
  dbConnectTimeoutMs: 'PG_CONNECT_TIMEOUT_MS',
  serviceVersion: 'SERVICE_VERSION',
  regressionErrorRate: 'REGRESSION_ERROR_RATE',
  regressionLatencyMs: 'REGRESSION_LATENCY_MS',
  regressionRoutes: 'REGRESSION_ROUTES',
} as const;

/** Releases the release drills run: the baseline, a good and a bad (regression switch on) new version. */
export const RELEASE_VERSIONS = { baseline: '1.0.0', good: '1.1.0', bad: '1.2.0' } as const;

/**
 * Drills that do not test overload raise the event-loop-delay shedding bound: on a small shared
 * machine a process's own start-up stalls would otherwise shed requests and blur what the fault did.
 * The overload drill keeps the service's default.
 */
export const NOT_OVERLOAD_ENV: Readonly<Record<string, string>> = {
  SHED_MAX_EVENT_LOOP_DELAY_MS: '1000',
};

/** Alert names (prometheus/rules) the drills expect to fire. */
export const ALERTS = {
  outboxBacklog: 'OrderlabOutboxBacklogHigh',
  outboxStale: 'OrderlabOutboxEventsStale',
  consumerLag: 'OrderlabConsumerLagHigh',
  dlqGrowth: 'OrderlabDeadLettersGrowing',
  shedding: 'OrderlabLoadShedding',
  availabilityBurn: 'OrderlabAvailabilityBudgetBurnFast',
  latencyBurn: 'OrderlabLatencyBudgetBurnFast',
} as const;

/**
 * PromQL for the report's series and the SLO figures. `$window` is replaced by the drill window
 * (e.g. `95s`). Each returns one series (summed) or nothing when the metric does not exist yet.
 */
export const PROMQL = {
  outboxBacklog: 'max(orderlab_outbox_backlog_events)',
  consumerLag: 'sum(max by (topic, partition) (orderlab_consumer_lag_messages))',
  requestsTotal: 'sum(increase(http_server_request_duration_seconds_count[$window]))',
  requestsBad: 'sum(increase(http_server_request_duration_seconds_count{status_code=~"5..|429"}[$window]))',
  requestsShed: 'sum(increase(orderlab_shed_requests_total[$window]))',
  createP99Seconds:
    'histogram_quantile(0.99, sum by (le) (increase(http_server_request_duration_seconds_bucket{method="POST",route="/v1/orders"}[$window])))',
  confirmationP99Seconds:
    'histogram_quantile(0.99, sum by (le) (increase(orderlab_order_confirmation_delay_seconds_bucket[$window])))',
} as const;

export const ORDER_TOPIC = 'orders.v1';
export const DLQ_TOPIC = 'orders.v1.dlq';
export const DLQ_REASON_HEADER = 'x-dlq-reason';
/** The SLO's latency threshold for order creation. */
export const SLO_LATENCY_MS = 250;
