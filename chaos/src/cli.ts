import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDotEnv } from '../../compose/local/src/dotEnv';
import { readStackState } from '../../compose/local/src/stack';
import { hideHarmlessNodeWarnings } from '../../lab/src/nodeWarnings';
import { ensurePrerequisites, prerequisitesFor } from '../../lab/src/prerequisites';
import { type CliArgs, drillPortOffset, HELP, parseCliArgs } from './cliArgs';
import { DRILLS, findDrill } from './drills';
import { type DrillRunResult, reportFolder, runDrill } from './runDrill';
import { ComposeTarget } from './targets/composeTarget';
import { NativeTarget } from './targets/nativeTarget';
import type { Target } from './targets/target';

/** Repo root = two levels above dist/chaos/src or chaos/src. */
export function repoRoot(): string {
  const here = __dirname;
  const marker = `${path.sep}dist${path.sep}`;
  return here.includes(marker) ? here.slice(0, here.lastIndexOf(marker)) : path.resolve(here, '..', '..');
}

/** Runs one drill from parsed arguments; used by the CLI and the drill tests. */
export async function executeDrill(
  args: CliArgs,
  log: (line: string) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<DrillRunResult> {
  const drill = findDrill(args.drill ?? '');
  if (!drill)
    throw new Error(`unknown drill "${args.drill}": choose from ${DRILLS.map((d) => d.name).join(', ')}`);
  const root = repoRoot();
  const reportDir = reportFolder(path.resolve(root, args.reportDir), drill.name);
  let target: Target;
  if (args.target === 'compose') {
    const envFiles = composeEnvFiles(root, args.composeEnvFiles, log);
    target = new ComposeTarget({
      file: path.resolve(root, args.composeFile),
      ...(args.composeProject ? { project: args.composeProject } : {}),
      envFiles,
      postgresPassword: composeVariable(root, envFiles, 'POSTGRES_PASSWORD', env) ?? 'orderlab',
      connection: {
        ...(env['ORDERLAB_DRILL_POSTGRES_URL'] ? { postgresUrl: env['ORDERLAB_DRILL_POSTGRES_URL'] } : {}),
        ...(env['ORDERLAB_DRILL_KAFKA_BROKERS']
          ? { kafkaBrokers: env['ORDERLAB_DRILL_KAFKA_BROKERS'].split(',') }
          : {}),
        ...(args.grafanaUrl ? { grafanaUrl: args.grafanaUrl } : {}),
      },
      log,
    });
  } else {
    target = new NativeTarget({
      repoRoot: root,
      labDir: path.resolve(root, args.labDir ?? path.join('.lab', 'drills')),
      portOffset: drillPortOffset(args.portOffset, env),
      workDir: path.join(reportDir, 'work'),
      keepLab: args.keepLab,
      drillName: drill.name,
      env,
      log,
    });
  }
  const durationS = args.durationS ?? (args.short ? drill.defaults.shortDurationS : drill.defaults.durationS);
  const configured =
    Object.keys(args.serviceEnv).length === 0
      ? drill
      : {
          ...drill,
          setup: { ...drill.setup, serviceEnv: { ...drill.setup.serviceEnv, ...args.serviceEnv } },
        };
  if (configured !== drill) log(`service environment for this run: ${JSON.stringify(args.serviceEnv)}`);
  return runDrill({
    drill: configured,
    args: {
      rate: args.rate ?? drill.defaults.rate,
      durationS,
      seed: args.seed,
      short: args.short,
      release: args.release,
    },
    target,
    reportDir,
    log,
    alertResolveWaitS: args.alertWaitS ?? (args.short ? 30 : 90),
    generatorNice: args.generatorNice,
    ...(args.grafanaUrl ? { grafanaUrl: args.grafanaUrl } : {}),
  });
}

/**
 * Env files for the compose commands: the flags, else those `npm run compose:local -- up` started the
 * stack with (local image tags), else none (compose reads .env itself).
 */
function composeEnvFiles(root: string, given: readonly string[], log: (line: string) => void): string[] {
  if (given.length > 0) return given.map((f) => path.resolve(root, f));
  const state = readStackState(root);
  if (!state) return [];
  log(
    `compose: the stack of \`compose:local up\` (${state.envFiles.map((f) => path.relative(root, f)).join(', ')})`,
  );
  return [...state.envFiles];
}

/** A variable as compose sees it: the shell wins, then the last env file naming it, then .env. */
function composeVariable(
  root: string,
  envFiles: readonly string[],
  name: string,
  env: Record<string, string | undefined>,
): string | undefined {
  if (env[name] !== undefined) return env[name];
  const files = envFiles.length > 0 ? envFiles : [path.join(root, '.env')];
  let value: string | undefined;
  for (const file of files) {
    if (!existsSync(file)) throw new Error(`--compose-env-file ${file} does not exist`);
    value = parseDotEnv(readFileSync(file, 'utf8'), path.relative(root, file))[name] ?? value;
  }
  return value;
}

export function summaryLine(result: DrillRunResult): string {
  const { report } = result;
  const s = report.summary;
  const why = report.verdict.passed ? report.verdict.reasons[0] : report.verdict.reasons.join(' | ');
  return `${report.verdict.label} ${report.drill.name}: ${why} · ${s.total} requests (${s.counts.ok} 2xx, ${s.counts.shed} shed, ${s.counts.server_error + s.counts.transport_error} failed) · report: ${path.relative(process.cwd(), report.files.html)}`;
}

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`drill: ${(error as Error).message}\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.command === 'list') {
    for (const d of DRILLS) {
      process.stdout.write(
        `${d.name.padEnd(16)} ${d.title} (default ${d.defaults.rate || 'capacity-based'} req/s, ${d.defaults.durationS} s; short ${d.defaults.shortDurationS} s)\n`,
      );
    }
    return 0;
  }
  const begin = Date.now();
  const log = (line: string): void => {
    process.stdout.write(`[${((Date.now() - begin) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  };
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    log('interrupted: the drill finishes its cleanup (Ctrl-C again to abandon it)');
  });
  process.on('SIGTERM', () => {
    // Our own children (nginx, the owned API) are killed on exit; lab components stay for `lab down`.
    log('SIGTERM: abandoning the drill; stop its lab with `npm run lab -- down --dir .lab/drills`');
    process.exit(143);
  });
  let settled = false;
  process.on('beforeExit', () => {
    // An awaited promise that can never settle empties the event loop: say so instead of exiting 0.
    if (!settled) {
      process.stderr.write('drill: stopped before finishing (an awaited operation can never complete)\n');
      process.exitCode = 1;
    }
  });
  try {
    // The native target runs the lab and nginx: install what is missing (root) or name it, before any load.
    if (args.target === 'native') await ensurePrerequisites(prerequisitesFor('drills'), log);
    const result = await executeDrill(args, log);
    settled = true;
    for (const c of result.report.checks) {
      log(`  ${c.status === 'pass' ? 'ok  ' : c.status === 'fail' ? 'FAIL' : 'skip'} ${c.name}: ${c.detail}`);
    }
    process.stdout.write(`${summaryLine(result)}\n`);
    return result.report.verdict.passed ? 0 : 1;
  } catch (error) {
    settled = true;
    process.stderr.write(`drill: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  hideHarmlessNodeWarnings();
  void main().then((code) => {
    process.exitCode = code;
  });
}
