import { parseArgs } from 'node:util';
import { GATES, type Gate } from './benchMath';

export const ENDPOINTS = ['post', 'get'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export interface BenchOptions {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly warmupSeconds: number;
  readonly endpoints: readonly Endpoint[];
  /** Variant names to run (default: all of the table in variants.ts). */
  readonly variants: readonly string[] | undefined;
  readonly poolMax: number;
  readonly seedOrders: number;
  /** First port; variant i uses portBase + 10*i (+1 admin, +2 gRPC); the OTLP sink uses portBase + 99. */
  readonly portBase: number;
  /** PostgreSQL superuser URL to create one database per variant in; undefined = start the native lab's. */
  readonly pgAdminUrl: string | undefined;
  readonly reportDir: string;
  readonly baselinePath: string;
  /** Overrides the baseline's own tolerance. */
  readonly tolerance: number | undefined;
  /** Which ratios the baseline gate compares; default: the baseline's own, else throughput. */
  readonly gate: Gate | undefined;
  readonly updateBaseline: boolean;
  readonly compare: boolean;
  readonly help: boolean;
}

export const BENCH_HELP = `npm run bench -- [options]

Benchmarks POST /v1/orders and GET /v1/orders/{id} for three variants side by side in one run:
the service with full observability, the service with telemetry off, and a bare node:http + pg
baseline running the same SQL. Variants are interleaved round by round (A B C, B C A, …) so
background noise hits them alike; the report gives the median per variant and the spread.

  -c, --connections N     concurrent connections per load step            (default 32)
  -d, --duration S        seconds of load per endpoint per variant/round  (default 10)
  -r, --rounds N          interleaved rounds                              (default 3)
      --warmup S          unmeasured load per variant/endpoint first      (default 3)
      --endpoints LIST    post,get                                        (default post,get)
      --variants LIST     observed,telemetry-off,bare (the default) and the breakdown
                          variants observed-unsampled (SDK loaded, no span sampled) and
                          telemetry-off-quiet (no per-request log line)
      --pool-max N        pg pool size for every variant                  (default 10)
      --seed-orders N     orders created per variant for GET to read      (default 200)
      --port-base P       variant i listens on P+10*i; OTLP sink on P+99  (default 18700)
      --pg-admin-url URL  PostgreSQL to create one database per variant in
                          (default $ORDERLAB_BENCH_PG_ADMIN_URL, else the native lab's PostgreSQL)
      --report-dir DIR    reports go to DIR/<timestamp>/                  (default reports/bench)
      --baseline FILE     committed ratio baseline        (default loadtest/bench/baseline.json)
      --tolerance X       allowed drop of a ratio below its baseline (default: the baseline's)
      --gate KIND         throughput (ratios of req/s) or cpu (ratios of 2xx per CPU-second
                          of the variant process, robust on a busy machine) (default: the baseline's)
      --update-baseline   write the measured ratios as the new baseline
      --no-compare        do not compare with the baseline (exit 0 unless the run fails)
  -h, --help              this text

Exit code: 0 ok, 1 a ratio regressed beyond the tolerance or a variant failed, 2 bad arguments.`;

export class UsageError extends Error {}

function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`--${name} must be an integer >= ${min}`);
  return Number(text);
}

function list<T extends string>(
  name: string,
  text: string | undefined,
  allowed: readonly T[],
): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (items.length === 0 || bad.length > 0)
    throw new UsageError(`--${name}: unknown ${bad.join(', ') || '(empty)'}; use ${allowed.join(',')}`);
  return [...new Set(items)] as T[];
}

export function parseBenchArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  variantNames: readonly string[],
): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        connections: { type: 'string', short: 'c' },
        duration: { type: 'string', short: 'd' },
        rounds: { type: 'string', short: 'r' },
        warmup: { type: 'string' },
        endpoints: { type: 'string' },
        variants: { type: 'string' },
        'pool-max': { type: 'string' },
        'seed-orders': { type: 'string' },
        'port-base': { type: 'string' },
        'pg-admin-url': { type: 'string' },
        'report-dir': { type: 'string' },
        baseline: { type: 'string' },
        tolerance: { type: 'string' },
        gate: { type: 'string' },
        'update-baseline': { type: 'boolean', default: false },
        'no-compare': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const tolerance = v.tolerance === undefined ? undefined : Number(v.tolerance);
  if (tolerance !== undefined && !(tolerance >= 0 && tolerance < 1))
    throw new UsageError('--tolerance must be a number in [0, 1)');
  const portBase = positiveInt('port-base', v['port-base'], 18700, 1024);
  // Below the usual ephemeral range (32768+), where passing client sockets can hold a port.
  if (portBase + 99 > 65535) throw new UsageError('--port-base must leave room for 100 ports below 65536');
  const pgAdminUrl = v['pg-admin-url'] ?? env['ORDERLAB_BENCH_PG_ADMIN_URL'];
  if (pgAdminUrl !== undefined && !/^postgres(ql)?:\/\//.test(pgAdminUrl))
    throw new UsageError('--pg-admin-url must be a postgres:// URL');
  if (v['update-baseline'] && v['no-compare'])
    throw new UsageError('--update-baseline and --no-compare contradict each other');
  return {
    connections: positiveInt('connections', v.connections, 32),
    durationSeconds: positiveInt('duration', v.duration, 10),
    rounds: positiveInt('rounds', v.rounds, 3),
    warmupSeconds: positiveInt('warmup', v.warmup, 3, 0),
    endpoints: list('endpoints', v.endpoints, ENDPOINTS) ?? [...ENDPOINTS],
    variants: list('variants', v.variants, variantNames),
    poolMax: positiveInt('pool-max', v['pool-max'], 10),
    seedOrders: positiveInt('seed-orders', v['seed-orders'], 200),
    portBase,
    pgAdminUrl,
    reportDir: v['report-dir'] ?? 'reports/bench',
    baselinePath: v.baseline ?? 'loadtest/bench/baseline.json',
    tolerance,
    gate: list('gate', v.gate, GATES)?.[0],
    updateBaseline: v['update-baseline'] ?? false,
    compare: !(v['no-compare'] ?? false),
    help: v.help ?? false,
  };
}
