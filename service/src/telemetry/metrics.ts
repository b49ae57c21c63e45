import { trace, type Span } from '@opentelemetry/api';
import type { ShedReason } from '../overload/shedDecision';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type RegistryContentType,
} from 'prom-client';

/**
 * Every metric the service exposes, in one prom-client registry per process. Components get
 * this object from the composition root and call its hooks; nothing else creates metrics.
 * The catalogue (names, labels, meaning) is docs/metrics.md — keep the two in step.
 */

/** Request latency buckets: 0.25 s is the latency SLO threshold and must stay a boundary. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Acceptance → confirmation: 5 s is the freshness SLO threshold and must stay a boundary. */
export const CONFIRMATION_DELAY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const PIPELINE_STEP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Shed reasons are a closed set so the label stays bounded; anything else counts as `other`. */
export const SHED_REASONS = [
  'concurrency',
  'event_loop_delay',
  'db_pool_queue',
  'outbox_backlog',
  'database_unavailable',
  'other',
] as const satisfies readonly (ShedReason | 'other')[];
/** The pipeline's DeadLetterReason values (service/src/pipeline/ports.ts) plus `other`. */
export const DEAD_LETTER_REASONS = [
  'unparseable',
  'invalid_envelope',
  'unknown_type',
  'order_not_found',
  'invalid_transition',
  'processing_failed',
  'other',
] as const;
/** The pipeline's ProcessOutcome values plus `other`. */
export const PROCESSING_OUTCOMES = [
  'confirmed',
  'rejected',
  'recorded',
  'skipped',
  'duplicate',
  'dead_lettered',
  'retry',
  'other',
] as const;

/** gRPC status codes by number, for callers that only have the numeric code. */
const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The server errors the service answers (500 failure or regression switch, 503 shed or not ready). */
const HTTP_SERVER_ERROR_STATUSES = [500, 503];

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}
/** What the outbox gauges read: the database health's last reading (store/databaseHealth.ts). */
export interface OutboxBacklogSource {
  readonly current: {
    readonly backlog: { readonly count: number; readonly oldestAgeSeconds: number } | undefined;
  };
  stalenessSeconds(): number;
}

export class ServiceMetrics {
  readonly registry = openMetricsRegistry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP requests on the public port by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    enableExemplars: true,
    registers: [this.registry],
  });
  readonly grpcRequestDuration = new Histogram({
    name: 'grpc_server_request_duration_seconds',
    help: 'gRPC calls by full method name and status code name.',
    labelNames: ['method', 'code'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    enableExemplars: true,
    registers: [this.registry],
  });
  readonly shedRequests = new Counter({
    name: 'orderlab_shed_requests_total',
    help: 'Requests refused by load shedding before any work, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'orderlab_outbox_events_published_total',
    help: 'Outbox events the relay published to Kafka (acks=all).',
    registers: [this.registry],
  });
  readonly publishFailures = new Counter({
    name: 'orderlab_outbox_publish_failures_total',
    help: 'Relay publish attempts (batches) that failed and will be retried.',
    registers: [this.registry],
  });
  readonly publishDuration = new Histogram({
    name: 'orderlab_outbox_publish_duration_seconds',
    help: 'Time for the relay to send one batch to Kafka (acks=all) and mark it published.',
    buckets: PIPELINE_STEP_BUCKETS,
    registers: [this.registry],
  });
  readonly eventsProcessed = new Counter({
    name: 'orderlab_events_processed_total',
    help: 'Events the worker handled, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly processingDuration = new Histogram({
    name: 'orderlab_event_processing_duration_seconds',
    help: 'Worker time per event (fulfilment step and its DB transaction), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: PIPELINE_STEP_BUCKETS,
    registers: [this.registry],
  });
  readonly confirmationDelay = new Histogram({
    name: 'orderlab_order_confirmation_delay_seconds',
    help: 'Order accepted (created) → confirmed by the worker.',
    buckets: CONFIRMATION_DELAY_BUCKETS,
    enableExemplars: true,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'orderlab_dead_letters_total',
    help: 'Events sent to the dead-letter topic, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'orderlab_consumer_lag_messages',
    help: "Messages not yet committed by the worker's consumer group, per topic partition.",
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  private readonly counterNames = new Map<Counter, string>();

  constructor(options: { eventLoopResolutionMs: number; serviceVersion: string }) {
    // One series per process, always 1: queries join it on (job, instance) to split any metric by
    // release, so the version is not a label on every series (a canary's and a baseline's stay apart).
    new Gauge({
      name: 'orderlab_build_info',
      help: 'Always 1; its version label is the release this process runs (SERVICE_VERSION).',
      labelNames: ['version'] as const,
      registers: [this.registry],
    }).set({ version: options.serviceVersion }, 1);
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: options.eventLoopResolutionMs,
    });
    // Gauges named *_total fail the exposition lint (promtool check metrics); the same counts are
    // kept per type in nodejs_active_handles / nodejs_active_requests / nodejs_active_resources.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
    for (const reason of SHED_REASONS) this.shedRequests.labels(reason).inc(0);
    for (const reason of DEAD_LETTER_REASONS) this.deadLetters.labels(reason).inc(0);
    for (const outcome of PROCESSING_OUTCOMES) this.eventsProcessed.labels(outcome).inc(0);
    for (const metric of this.registry.getMetricsAsArray()) {
      if (metric instanceof Counter)
        this.counterNames.set(metric, (metric as unknown as { name: string }).name);
    }
  }

  /**
   * Zero-valued 5xx series for every API route, so a fresh replica's first server errors are an
   * increase from 0. A series born with its first error has one sample at its first scrape and
   * increase()/rate() need two: a canary that fails at once and is retired within a scrape or two
   * showed no error at all in Prometheus (measured: 28 requests of a bad canary, 5+ failed, 0
   * errors seen); burn-rate alerts miss a new replica's first errors the same way.
   */
  zeroHttpServerErrors(routes: readonly { readonly method: string; readonly route: string }[]): void {
    for (const { method, route } of routes)
      for (const status of HTTP_SERVER_ERROR_STATUSES)
        this.httpRequestDuration.zero({ method, route, status_code: status });
  }

  /** HTTP middleware hook; `route` is a template (or a fixed label), never a raw path. */
  onHttpRequestFinished(r: {
    method: string;
    route: string;
    statusCode: number;
    durationSeconds: number;
    span?: Span | undefined;
  }): void {
    this.httpRequestDuration.observe({
      labels: { method: r.method, route: r.route, status_code: r.statusCode },
      value: r.durationSeconds,
      exemplarLabels: exemplarFor(r.span),
    });
  }

  /**
   * gRPC call observer hook. `method` is labelled as the full path `/<service>/<method>` (e.g.
   * `/order.v1.OrderService/CreateOrder`); `code` may be the status name or its number.
   */
  readonly onCallFinished = (r: {
    service?: string;
    method: string;
    code: string | number;
    durationSeconds: number;
  }): void => {
    const code = typeof r.code === 'number' ? (GRPC_CODE_NAMES[r.code] ?? String(r.code)) : r.code;
    const method = r.service ? `/${r.service}/${r.method}` : r.method;
    this.grpcRequestDuration.observe({
      labels: { method, code },
      value: r.durationSeconds,
      exemplarLabels: exemplarFor(trace.getActiveSpan()),
    });
  };

  /** Any reason is accepted; one outside ShedReason counts as `other` (bounded labels). */
  onShed(reason: string): void {
    this.shedRequests.inc({ reason: oneOf(SHED_REASONS, reason) });
  }

  /**
   * The event pipeline's callbacks (relay and worker), shaped like its PipelineHooks port so the
   * composition root passes `metrics.pipelineHooks` as is. None of them throws.
   */
  readonly pipelineHooks = {
    onPublished: (batchSize: number, seconds: number): void => {
      this.publishDuration.observe(seconds);
      this.eventsPublished.inc(batchSize);
    },
    onPublishFailed: (_batchSize: number, _error: Error): void => {
      this.publishFailures.inc();
    },
    onProcessed: (_eventType: string, outcome: string, seconds: number): void => {
      const label = oneOf(PROCESSING_OUTCOMES, outcome);
      this.eventsProcessed.inc({ outcome: label });
      this.processingDuration.observe({ outcome: label }, seconds);
    },
    /** Acceptance → confirmation; the worker's active span (if sampled) becomes the exemplar. */
    onConfirmed: (delaySeconds: number): void => {
      this.confirmationDelay.observe({
        value: Math.max(0, delaySeconds),
        exemplarLabels: exemplarFor(trace.getActiveSpan()),
      });
    },
    onDeadLettered: (reason: string): void => {
      this.deadLetters.inc({ reason: oneOf(DEAD_LETTER_REASONS, reason) });
    },
  };

  setConsumerLag(topic: string, partition: number, lag: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, lag);
  }

  /** pg pool gauges, read from the pool at scrape time. */
  observePool(pool: PoolStats, max: number): void {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge(
      'orderlab_db_pool_connections',
      'Connections the pg pool holds (busy + idle).',
      () => pool.totalCount,
    );
    gauge('orderlab_db_pool_idle_connections', 'Pool connections open and idle.', () => pool.idleCount);
    gauge(
      'orderlab_db_pool_waiting_clients',
      'Queries waiting for a pool connection.',
      () => pool.waitingCount,
    );
    gauge('orderlab_db_pool_max_connections', 'Configured pool size (PG_POOL_MAX).', () => max);
  }

  /** Load-shedding state, read at scrape time: requests in flight and the adaptive limit. */
  observeOverload(read: () => { inFlight: number; concurrencyLimit: number }): void {
    new Gauge({
      name: 'orderlab_in_flight_requests',
      help: 'API requests (HTTP + gRPC) admitted and not yet finished.',
      registers: [this.registry],
      collect() {
        this.set(read().inFlight);
      },
    });
    new Gauge({
      name: 'orderlab_concurrency_limit',
      help: 'In-flight limit in force (adaptive: AIMD on the p90 latency of admitted requests and the event-loop utilisation); beyond it requests are shed.',
      registers: [this.registry],
      collect() {
        this.set(read().concurrencyLimit);
      },
    });
  }

  /**
   * Outbox backlog gauges from a cheap query, refreshed at most every `refreshMs` and abandoned
   * after `timeoutMs`, so a scrape never waits on a dead database: it serves the last value and
   * `orderlab_outbox_backlog_staleness_seconds` shows how old that value is.
   */
  /** Outbox gauges from the database health's last answer: a scrape never waits on the database. */
  observeOutboxBacklog(source: OutboxBacklogSource): void {
    const registry = this.registry;
    new Gauge({
      name: 'orderlab_outbox_backlog_events',
      help: 'Outbox events not yet published to Kafka.',
      registers: [registry],
      collect() {
        const backlog = source.current.backlog;
        if (backlog) this.set(backlog.count);
      },
    });
    new Gauge({
      name: 'orderlab_outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest outbox event not yet published (0 when empty).',
      registers: [registry],
      collect() {
        const backlog = source.current.backlog;
        if (backlog) this.set(backlog.oldestAgeSeconds);
      },
    });
    new Gauge({
      name: 'orderlab_outbox_backlog_staleness_seconds',
      help: 'Seconds since the outbox backlog query last succeeded (grows while the DB is away).',
      registers: [registry],
      collect() {
        this.set(source.stalenessSeconds());
      },
    });
  }

  private scrapeQueue: Promise<unknown> = Promise.resolve();

  /**
   * Renders the registry for a scrape. OpenMetrics (with exemplars) when the scraper accepts it,
   * else the Prometheus text format. prom-client keeps the format on the registry and renames
   * counters for OpenMetrics, so scrapes are serialised and counter names restored for text.
   */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const openMetrics = acceptsOpenMetrics(accept);
    const run = async () => {
      if (openMetrics) {
        this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
        return { contentType: OPENMETRICS_CONTENT_TYPE, body: await this.registry.metrics() };
      }
      for (const [counter, name] of this.counterNames) (counter as unknown as { name: string }).name = name;
      this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      try {
        return { contentType: PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
      } finally {
        this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      }
    };
    const result = this.scrapeQueue.then(run, run);
    this.scrapeQueue = result.catch(() => undefined);
    return result;
  }
}

/** Exemplars need a registry in OpenMetrics mode when the histograms are created. */
function openMetricsRegistry(): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

/** True when the Accept header lists application/openmetrics-text with a non-zero q. */
export function acceptsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function exemplarFor(span: Span | undefined): Record<string, string> {
  const context = span?.spanContext();
  // Only sampled traces are exported, so only they make useful exemplars.
  if (!context || (context.traceFlags & 1) === 0) return {};
  return { trace_id: context.traceId };
}

function oneOf<T extends string>(allowed: readonly T[], value: string): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : ('other' as T);
}
