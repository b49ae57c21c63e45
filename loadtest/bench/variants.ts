/**
 * The variants the benchmark compares, as data. Adding or changing one is an edit to this table.
 * `preload` is given to node as `--require <file>` when the file exists (built from
 * service/src/telemetry/preload.ts); when it does not, the run says so in its report.
 */

export interface VariantPorts {
  readonly http: number;
  readonly admin: number;
  readonly grpc: number;
}

export interface VariantContext {
  readonly ports: VariantPorts;
  readonly databaseUrl: string;
  readonly poolMax: number;
  /** OTLP/HTTP endpoint of the bench's span sink (stands in for the collector). */
  readonly otlpEndpoint: string;
}

export interface BenchVariant {
  readonly name: string;
  readonly description: string;
  /** Script run by node, relative to the repo root. */
  readonly script: string;
  /** Tracing preload (`--require`), relative to the repo root; skipped with a note if not built. */
  readonly preload?: string;
  readonly nodeArgs: readonly string[];
  args(ctx: VariantContext): string[];
  env(ctx: VariantContext): Record<string, string>;
  /** URL that answers 2xx once the variant can take load. */
  readyUrl(ctx: VariantContext): string;
  /** True when the variant has a Prometheus /metrics endpoint for the bench to scrape. */
  readonly scrapeMetrics: boolean;
  /** Not run by default: a breakdown variant asked for with --variants. */
  readonly diagnostic?: boolean;
}

export const TELEMETRY_PRELOAD = 'dist/service/src/telemetry/preload.js';
export const SERVICE_MAIN = 'dist/service/src/main.js';

/** Service settings every service variant shares; only telemetry differs between them. */
export function serviceEnv(ctx: VariantContext): Record<string, string> {
  return {
    ROLES: 'api',
    HOST: '127.0.0.1',
    HTTP_PORT: String(ctx.ports.http),
    ADMIN_PORT: String(ctx.ports.admin),
    GRPC_PORT: String(ctx.ports.grpc),
    DATABASE_URL: ctx.databaseUrl,
    PG_POOL_MAX: String(ctx.poolMax),
    MIGRATE_ON_START: 'true',
    LOG_LEVEL: 'info',
    // The bench measures the cost per request at saturation, not shedding: with -c 32 and a pool of
    // 10, 22 requests may wait for a connection (default bound 20), the adaptive in-flight limit
    // would hold concurrency below 32, and on a busy 2-core machine the event loop lags past
    // 100 ms. Shed 503s would be cheap answers that flatter or spoil a variant.
    SHED_MAX_POOL_WAITING: '1000',
    SHED_MAX_IN_FLIGHT: '1000',
    SHED_TARGET_LATENCY_MS: '0',
    // No relay runs in the bench: every POST adds an unpublished outbox row, and a long run passes
    // the default bound (50,000) and would be refused wholesale.
    SHED_MAX_OUTBOX_BACKLOG: '1000000000',
    SHED_MAX_EVENT_LOOP_DELAY_MS: '5000',
    OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  };
}

/** The HTTP port answering (not only the admin port, which listens first) means the service is up. */
const serviceReadyUrl = (ctx: VariantContext): string => `http://127.0.0.1:${ctx.ports.http}/openapi.json`;

export const BENCH_VARIANTS: readonly BenchVariant[] = [
  {
    name: 'observed',
    description: 'service, full observability (tracing preload + metrics + logs)',
    script: SERVICE_MAIN,
    preload: TELEMETRY_PRELOAD,
    nodeArgs: [],
    args: () => [],
    env: (ctx) => ({ ...serviceEnv(ctx), TELEMETRY_ENABLED: 'true' }),
    readyUrl: serviceReadyUrl,
    scrapeMetrics: true,
  },
  {
    name: 'telemetry-off',
    description: 'service, same process and preload, TELEMETRY_ENABLED=false',
    script: SERVICE_MAIN,
    preload: TELEMETRY_PRELOAD,
    nodeArgs: [],
    args: () => [],
    env: (ctx) => ({ ...serviceEnv(ctx), TELEMETRY_ENABLED: 'false' }),
    readyUrl: serviceReadyUrl,
    scrapeMetrics: true,
  },
  // Breakdown variants (--variants …): each removes one cost so the gaps above can be attributed.
  {
    name: 'observed-unsampled',
    description:
      'service, tracing SDK and instrumentations loaded but no span sampled (OTEL_TRACES_SAMPLER=always_off)',
    script: SERVICE_MAIN,
    preload: TELEMETRY_PRELOAD,
    nodeArgs: [],
    args: () => [],
    env: (ctx) => ({ ...serviceEnv(ctx), TELEMETRY_ENABLED: 'true', OTEL_TRACES_SAMPLER: 'always_off' }),
    readyUrl: serviceReadyUrl,
    scrapeMetrics: true,
    diagnostic: true,
  },
  {
    name: 'telemetry-off-quiet',
    description: 'service, telemetry off and LOG_LEVEL=warn (no per-request log line)',
    script: SERVICE_MAIN,
    preload: TELEMETRY_PRELOAD,
    nodeArgs: [],
    args: () => [],
    env: (ctx) => ({ ...serviceEnv(ctx), TELEMETRY_ENABLED: 'false', LOG_LEVEL: 'warn' }),
    readyUrl: serviceReadyUrl,
    scrapeMetrics: true,
    diagnostic: true,
  },
  {
    name: 'bare',
    description: 'node:http + pg, the same SQL, the same pool size',
    script: 'dist/loadtest/bench/bareBaseline.js',
    nodeArgs: [],
    args: (ctx) => [
      '--port',
      String(ctx.ports.http),
      '--database-url',
      ctx.databaseUrl,
      '--pool-max',
      String(ctx.poolMax),
    ],
    env: () => ({}),
    readyUrl: (ctx) => `http://127.0.0.1:${ctx.ports.http}/readyz`,
    scrapeMetrics: false,
  },
];

export const VARIANT_NAMES = BENCH_VARIANTS.map((v) => v.name);
export const DEFAULT_VARIANTS = BENCH_VARIANTS.filter((v) => !v.diagnostic).map((v) => v.name);

/** The ratios the release targets (issue 9); names are the keys of baseline.json. */
export const BENCH_RATIOS = [
  {
    name: 'post.observed/telemetry-off',
    endpoint: 'post',
    numerator: 'observed',
    denominator: 'telemetry-off',
    target: 0.85,
  },
  { name: 'post.observed/bare', endpoint: 'post', numerator: 'observed', denominator: 'bare', target: 0.65 },
  { name: 'get.observed/bare', endpoint: 'get', numerator: 'observed', denominator: 'bare', target: 0.7 },
] as const;
