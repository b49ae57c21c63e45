/**
 * Run settings read from the environment (`k6 run -e NAME=value` or the container environment).
 * Pure module: no k6 imports, so node:test can load it (loadtest/test/k6Options.test.ts).
 * Every value has a default that suits a laptop running the compose stack.
 */

export interface RunSettings {
  /** HTTP API base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** gRPC address host:port (no scheme). */
  readonly grpcAddress: string;
  /** Optional .proto to load instead of server reflection (path as k6 sees it). */
  readonly grpcProtoFile: string | undefined;
  /** Import path for grpcProtoFile (the directory holding `order/v1/order.proto`). */
  readonly grpcProtoImportPath: string | undefined;
  /** Target order creations per second for `load`; spike and soak derive from it. */
  readonly writeRate: number;
  /** Reads (GET by id and list) per creation. */
  readonly readsPerWrite: number;
  /** Share of reads that list a customer's orders instead of getting one by id (0..1). */
  readonly listShare: number;
  /** Orders created in setup() for the reads to use, spread over `customers` customers. */
  readonly seedOrders: number;
  readonly customers: number;
  /** Share of creations followed by a cancel (0..1). */
  readonly cancelRatio: number;
  readonly loadDuration: string;
  readonly stressStartRate: number;
  readonly stressMaxRate: number;
  readonly stressRampDuration: string;
  readonly spikeFactor: number;
  readonly spikeWarmDuration: string;
  readonly spikeHoldDuration: string;
  readonly spikeRecoveryDuration: string;
  readonly soakRate: number;
  readonly soakDuration: string;
  /** Orders per second created and followed to a final status by the freshness probe. */
  readonly freshnessProbeRate: number;
  readonly freshnessPollMs: number;
  readonly smokeIterations: number;
  /** Upper bound on VUs per scenario: arrival-rate executors drop iterations beyond it. */
  readonly maxVUs: number;
  readonly requestTimeout: string;
  /** Where handleSummary writes its JSON and text files (relative to k6's working directory). */
  readonly resultsDir: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Longest duration any setting may ask for; a bound so a typo cannot start a week-long run. */
export const MAX_DURATION_SECONDS = 24 * 3600;

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const DURATION_WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses a k6 duration string ('30s', '5m', '1h30m', '250ms') into seconds; throws on anything else. */
export function durationSeconds(text: string): number {
  if (!DURATION_WHOLE.test(text)) throw new Error(`'${text}' is not a duration like 30s, 5m or 1h30m`);
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    total += Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
  }
  return total;
}

/** Reads and validates every setting; lists every bad variable at once, like the service config. */
export function readSettings(env: Environment): RunSettings {
  const problems: string[] = [];
  const text = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value === '' ? fallback : value;
  };
  const optional = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const number = (name: string, fallback: number, min: number, max: number, integer = false): number => {
    const raw = text(name, String(fallback));
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      problems.push(`${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
      return fallback;
    }
    return value;
  };
  const duration = (name: string, fallback: string): string => {
    const value = text(name, fallback);
    try {
      const seconds = durationSeconds(value);
      if (seconds <= 0 || seconds > MAX_DURATION_SECONDS) {
        problems.push(`${name}=${value}: expected a duration above 0 and at most 24h`);
        return fallback;
      }
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      return fallback;
    }
    return value;
  };

  const writeRate = number('RATE', 20, 0.01, 100_000);
  const settings: RunSettings = {
    baseUrl: text('BASE_URL', 'http://api:8080').replace(/\/+$/, ''),
    grpcAddress: text('GRPC_ADDR', 'api:50051'),
    grpcProtoFile: optional('GRPC_PROTO'),
    grpcProtoImportPath: optional('GRPC_PROTO_IMPORT_PATH'),
    writeRate,
    readsPerWrite: number('READS_PER_WRITE', 2, 0, 100),
    listShare: number('LIST_SHARE', 0.25, 0, 1),
    seedOrders: number('SEED_ORDERS', 20, 1, 10_000, true),
    customers: number('CUSTOMERS', 10, 1, 100_000, true),
    cancelRatio: number('CANCEL_RATIO', 0.05, 0, 1),
    loadDuration: duration('LOAD_DURATION', '5m'),
    stressStartRate: number('STRESS_START_RATE', 10, 0.01, 100_000),
    stressMaxRate: number('STRESS_MAX_RATE', 500, 0.01, 100_000),
    stressRampDuration: duration('STRESS_RAMP_DURATION', '10m'),
    spikeFactor: number('SPIKE_FACTOR', 10, 1, 1000),
    spikeWarmDuration: duration('SPIKE_WARM_DURATION', '1m'),
    spikeHoldDuration: duration('SPIKE_HOLD_DURATION', '1m'),
    spikeRecoveryDuration: duration('SPIKE_RECOVERY_DURATION', '3m'),
    soakRate: number('SOAK_RATE', Math.max(0.01, Math.round(writeRate * 0.8 * 100) / 100), 0.01, 100_000),
    soakDuration: duration('SOAK_DURATION', '2h'),
    freshnessProbeRate: number('FRESHNESS_PROBE_RATE', 1, 0.01, 100),
    freshnessPollMs: number('FRESHNESS_POLL_MS', 200, 10, 5000, true),
    smokeIterations: number('SMOKE_ITERATIONS', 3, 1, 1000, true),
    maxVUs: number('MAX_VUS', 500, 1, 100_000, true),
    requestTimeout: duration('REQUEST_TIMEOUT', '10s'),
    resultsDir: text('RESULTS_DIR', 'reports/k6').replace(/\/+$/, ''),
  };
  if (!/^https?:\/\/[^/]+/.test(settings.baseUrl))
    problems.push(`BASE_URL=${settings.baseUrl}: expected http(s)://host[:port]`);
  if (!/^[^/:]+:\d+$/.test(settings.grpcAddress) && !/^\[[^\]]+\]:\d+$/.test(settings.grpcAddress)) {
    problems.push(`GRPC_ADDR=${settings.grpcAddress}: expected host:port without a scheme`);
  }
  if (settings.stressMaxRate <= settings.stressStartRate) {
    problems.push(
      `STRESS_MAX_RATE=${settings.stressMaxRate} must be above STRESS_START_RATE=${settings.stressStartRate}`,
    );
  }
  if (settings.customers > settings.seedOrders) {
    // Reads and the smoke's pagination check expect every customer to own a seed order.
    problems.push(`CUSTOMERS=${settings.customers} must not exceed SEED_ORDERS=${settings.seedOrders}`);
  }
  if (settings.grpcProtoFile !== undefined && settings.grpcProtoImportPath === undefined) {
    problems.push(
      'GRPC_PROTO is set: also set GRPC_PROTO_IMPORT_PATH (the directory that holds order/v1/order.proto)',
    );
  }
  if (problems.length > 0)
    throw new Error(`invalid k6 settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return settings;
}
