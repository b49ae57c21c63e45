/** Command-line parsing for `npm run drill` (pure: unit-tested). */
import { DEFAULT_RELEASE_ARGS, type ReleaseArgs } from './drills/drill';
import { DEFAULT_GENERATOR_NICE, parseGeneratorNice } from './load/generatorPriority';
import { parseSharePlan } from './release/canaryAnalysis';

export interface CliArgs {
  readonly command: 'run' | 'list' | 'help';
  readonly drill?: string;
  readonly target: 'native' | 'compose';
  readonly rate?: number;
  readonly durationS?: number;
  readonly seed: number;
  readonly short: boolean;
  readonly reportDir: string;
  readonly labDir?: string;
  readonly portOffset?: number;
  readonly keepLab: boolean;
  readonly composeFile: string;
  readonly composeProject?: string;
  /** compose: env files passed to every compose command (default: those `compose:local up` used). */
  readonly composeEnvFiles: readonly string[];
  readonly alertWaitS?: number;
  readonly grafanaUrl?: string;
  /** Nice value for the load generator's thread (negative = more CPU than the lab; 0 = unchanged). */
  readonly generatorNice: number;
  /** Extra service environment for this run (experiments: "does a tighter bound keep the SLO?"). */
  readonly serviceEnv: Readonly<Record<string, string>>;
  /** Release drills (canary, blue-green): analysis and bad-release settings. */
  readonly release: ReleaseArgs;
}

export const HELP = `Usage: npm run drill -- <name> [options]
       npm run drill -- list

Runs a chaos drill: steady open-model load with a per-request ledger → fault → recovery →
audit (PostgreSQL and the Kafka topic read directly, Prometheus SLO figures and ALERTS) →
verdict. Exit code 0 only on PASS. Writes reports/drills/<name>-<timestamp>/{report.json,
ledger.ndjson, report.html}.

Options:
  --target native|compose  where to run (default native: the lab runtime; compose: docker compose
                           commands against a stack you started with \`docker compose up -d\`)
  --rate N                 steady arrival rate, requests/s (default: the drill's; overload: measured capacity)
  --duration S             load duration in seconds (default: the drill's)
  --short                  short form for CI (each drill ≤ ~60 s), same checks
  --seed N                 seeds arrivals and request bodies (default 1)
  --report-dir D           parent folder of the run's report folder (default reports/drills)
  --lab-dir D              native: lab folder for drills (default .lab/drills)
  --port-offset N          native: port offset of the drill lab (default DRILL_PORT_OFFSET, else
                           LAB_PORT_OFFSET + 2100, so it never meets your own or the test lab)
  --keep-lab               native: leave the drill lab running afterwards
  --compose-file F         compose: the compose file (default compose.yaml)
  --compose-project P      compose: project name (default: compose's own)
  --compose-env-file F     compose: env file for every compose command, repeatable (default: the
                           files \`npm run compose:local -- up\` started the stack with, if it did)
  --alert-wait S           seconds to wait for expected alerts to resolve (default 90, short 30)
  --service-env NAME=V     extra service environment for this run, repeatable (native: any;
                           compose: the drill knobs compose.yaml declares;
                           e.g. SHED_MAX_POOL_WAITING=4 to try a tighter shedding bound)
  --grafana-url URL        push start/end annotations there (default GRAFANA_URL)
  --generator-nice N       nice value of the load generator's thread, -20..0 (default ${DEFAULT_GENERATOR_NICE}:
                           it stands in for clients on other machines and must not be starved by
                           the lab it loads; 0 leaves it; needs root or CAP_SYS_NICE, else a note)

Release drills (canary, blue-green; native target):
  --canary-plan P          canary shares in percent, ascending, ending at 100 (default ${DEFAULT_RELEASE_ARGS.plan.join(',')})
  --analysis-interval S    seconds between canary judgements (default ${DEFAULT_RELEASE_ARGS.intervalS})
  --analysis-window S      longest window a judgement reads from Prometheus (default ${DEFAULT_RELEASE_ARGS.windowS})
  --min-requests N         requests each version needs in the window before it is judged (default ${DEFAULT_RELEASE_ARGS.minRequests})
  --max-error-increase F   canary error ratio above the baseline's that rolls back, 0..1 (default ${DEFAULT_RELEASE_ARGS.maxErrorRatioIncrease})
  --max-p99-factor F       canary p99 above baseline × F (and + --p99-slack-ms) rolls back (default ${DEFAULT_RELEASE_ARGS.maxP99Factor})
  --p99-slack-ms N         (default ${DEFAULT_RELEASE_ARGS.p99SlackMs})
  --bad-error-rate F       the bad release's REGRESSION_ERROR_RATE on POST /v1/orders (default ${DEFAULT_RELEASE_ARGS.badErrorRate})
  --bad-latency-ms N       the bad release's REGRESSION_LATENCY_MS on POST /v1/orders (default ${DEFAULT_RELEASE_ARGS.badLatencyMs})
  -h, --help               this text
`;

function numberFlag(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value.startsWith('--') || !Number.isFinite(n) || n < min)
    throw new Error(`${name} needs a number ≥ ${min}${value === undefined ? '' : `, got "${value}"`}`);
  return n;
}

export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs {
  const out: {
    -readonly [K in keyof CliArgs]: CliArgs[K];
  } = {
    command: 'run',
    target: 'native',
    seed: 1,
    short: false,
    reportDir: 'reports/drills',
    keepLab: false,
    composeFile: 'compose.yaml',
    serviceEnv: {},
    composeEnvFiles: [],
    release: DEFAULT_RELEASE_ARGS,
    generatorNice: DEFAULT_GENERATOR_NICE,
    ...(env['GRAFANA_URL'] ? { grafanaUrl: env['GRAFANA_URL'] } : {}),
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = (): string | undefined => argv[++i];
    switch (arg) {
      case '-h':
      case '--help':
        return { ...out, command: 'help' };
      case '--target': {
        const t = next();
        if (t !== 'native' && t !== 'compose')
          throw new Error(`--target must be native or compose, got "${t ?? ''}"`);
        out.target = t;
        break;
      }
      case '--rate':
        out.rate = numberFlag('--rate', next(), 0);
        break;
      case '--duration':
        out.durationS = numberFlag('--duration', next(), 5);
        break;
      case '--seed':
        out.seed = Math.trunc(numberFlag('--seed', next(), 0));
        break;
      case '--short':
        out.short = true;
        break;
      case '--report-dir':
        out.reportDir = requireValue('--report-dir', next());
        break;
      case '--lab-dir':
        out.labDir = requireValue('--lab-dir', next());
        break;
      case '--port-offset':
        out.portOffset = Math.trunc(numberFlag('--port-offset', next(), 0));
        break;
      case '--keep-lab':
        out.keepLab = true;
        break;
      case '--compose-file':
        out.composeFile = requireValue('--compose-file', next());
        break;
      case '--compose-env-file':
        out.composeEnvFiles = [...out.composeEnvFiles, requireValue('--compose-env-file', next())];
        break;
      case '--compose-project':
        out.composeProject = requireValue('--compose-project', next());
        break;
      case '--alert-wait':
        out.alertWaitS = numberFlag('--alert-wait', next(), 0);
        break;
      case '--service-env': {
        const pair = requireValue('--service-env', next());
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
        if (!match) throw new Error(`--service-env needs NAME=value, got "${pair}"`);
        out.serviceEnv = { ...out.serviceEnv, [match[1] as string]: match[2] as string };
        break;
      }
      case '--generator-nice':
        out.generatorNice = parseGeneratorNice(next());
        break;
      case '--canary-plan':
        out.release = { ...out.release, plan: parseSharePlan(requireValue('--canary-plan', next())) };
        break;
      case '--analysis-interval':
        out.release = { ...out.release, intervalS: numberFlag('--analysis-interval', next(), 1) };
        break;
      case '--analysis-window':
        out.release = { ...out.release, windowS: numberFlag('--analysis-window', next(), 10) };
        break;
      case '--min-requests':
        out.release = { ...out.release, minRequests: Math.trunc(numberFlag('--min-requests', next(), 1)) };
        break;
      case '--max-error-increase':
        out.release = { ...out.release, maxErrorRatioIncrease: fractionFlag('--max-error-increase', next()) };
        break;
      case '--max-p99-factor':
        out.release = { ...out.release, maxP99Factor: numberFlag('--max-p99-factor', next(), 1) };
        break;
      case '--p99-slack-ms':
        out.release = { ...out.release, p99SlackMs: numberFlag('--p99-slack-ms', next(), 0) };
        break;
      case '--bad-error-rate':
        out.release = { ...out.release, badErrorRate: fractionFlag('--bad-error-rate', next()) };
        break;
      case '--bad-latency-ms':
        out.release = { ...out.release, badLatencyMs: Math.trunc(numberFlag('--bad-latency-ms', next(), 0)) };
        break;
      case '--grafana-url':
        out.grafanaUrl = requireValue('--grafana-url', next());
        break;
      default:
        if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (see --help)`);
        positional.push(arg);
    }
  }
  if (positional.length === 0) return { ...out, command: 'help' };
  if (positional.length > 1) throw new Error(`one drill at a time, got ${positional.join(' ')}`);
  if (positional[0] === 'list') return { ...out, command: 'list' };
  return { ...out, drill: positional[0] };
}

function fractionFlag(name: string, value: string | undefined): number {
  const n = numberFlag(name, value, 0);
  if (n > 1) throw new Error(`${name} is a share 0..1, got "${value}"`);
  return n;
}

function requireValue(name: string, value: string | undefined): string {
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

/** Port offset of the drill lab: flag, else DRILL_PORT_OFFSET, else LAB_PORT_OFFSET + 2100. */
export function drillPortOffset(flag: number | undefined, env: Record<string, string | undefined>): number {
  if (flag !== undefined) return flag;
  if (env['DRILL_PORT_OFFSET']) return Number(env['DRILL_PORT_OFFSET']);
  return (env['LAB_PORT_OFFSET'] ? Number(env['LAB_PORT_OFFSET']) : 0) + 2100;
}
