/**
 * Test runner: starts the shared test lab (PostgreSQL, Kafka, Prometheus) in .lab/test, runs the
 * compiled tests with node:test, and stops the lab again, also on failure or Ctrl-C.
 *
 *   node dist/scripts/runTests.js [--unit] [--concurrency N] [files or folders under dist/ ...]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { INFRA_COMPONENTS, Lab } from '../lab/src/lab';
import { hideHarmlessNodeWarnings, nodeOptionsWithoutHarmlessWarnings } from '../lab/src/nodeWarnings';
import {
  ensureJava,
  ensurePrerequisites,
  isRoot,
  missingMessage,
  missingPrerequisites,
  prerequisitesFor,
} from '../lab/src/prerequisites';
import { LabError } from '../lab/src/processes';
import { findRepoRoot } from '../lab/src/repo';
import { countJunit, type JunitCounts } from './junitSummary';
import { TEST_LAB_DIR_ENV, testLabDir, testLabPortOffset } from '../lab/src/testing';

const HELP = `Usage: node dist/scripts/runTests.js [--unit] [--concurrency N] [--keep-lab] [paths...]

Runs the compiled tests (dist/**/test/**/*.test.js by default, or the given files/folders).
Starts the shared test lab first (PostgreSQL, Kafka, Prometheus in .lab/test, port offset
LAB_TEST_PORT_OFFSET, else LAB_PORT_OFFSET + 1000, so it never meets your own lab), passes it to the
tests as ${TEST_LAB_DIR_ENV}, and stops it at the end.

  --unit            only tests under */test/unit/, without a lab
  --concurrency N   test files run in parallel (default 2)
  --keep-lab        leave the test lab running afterwards (stop it: npm run lab -- down --dir .lab/test)
  -h, --help        this text

Test files under */test/drills/ (the native drills, which measure latency under load) run after
all others, one at a time, so a neighbouring test's CPU does not count against the service.

Reports: reports/tests/junit.xml (JUnit XML; the drills in junit-drills.xml) next to the spec output
on stdout.
`;

interface RunnerArgs {
  unit: boolean;
  concurrency: number;
  keepLab: boolean;
  paths: string[];
}

function parseArgs(argv: string[]): RunnerArgs | 'help' {
  const args: RunnerArgs = { unit: false, concurrency: 2, keepLab: false, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return 'help';
    else if (arg === '--unit') args.unit = true;
    else if (arg === '--keep-lab') args.keepLab = true;
    else if (arg === '--concurrency') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error('--concurrency needs a whole number >= 1');
      args.concurrency = value;
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (see --help)`);
    else args.paths.push(arg);
  }
  return args;
}

function findTestFiles(root: string, unitOnly: boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(full);
      } else if (entry.name.endsWith('.test.js')) {
        const parts = full.split(path.sep);
        const inTest = parts.includes('test');
        if (inTest && (!unitOnly || full.includes(`${path.sep}test${path.sep}unit${path.sep}`)))
          found.push(full);
      }
    }
  };
  if (statSync(root).isDirectory()) walk(root);
  else found.push(root);
  return found.sort();
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(HELP);
    return 0;
  }
  const begin = Date.now();
  const repoRoot = findRepoRoot();
  const roots =
    parsed.paths.length > 0 ? parsed.paths.map((p) => path.resolve(p)) : [path.join(repoRoot, 'dist')];
  for (const root of roots)
    if (!existsSync(root)) throw new Error(`${root} does not exist (run npm run build first?)`);
  const files = [...new Set(roots.flatMap((root) => findTestFiles(root, parsed.unit)))];
  if (files.length === 0) {
    console.log(`tests: no test files found under ${roots.join(', ')}`);
    return 1;
  }

  let lab: Lab | undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: nodeOptionsWithoutHarmlessWarnings(process.env['NODE_OPTIONS']),
  };
  if (!parsed.unit) {
    // Every package the suite needs, checked (and installed when root) before any test starts.
    const missing = missingPrerequisites(prerequisitesFor('tests'), process.env);
    if (missing.length > 0 && !isRoot()) {
      console.error(`tests: ${missingMessage(missing, false)}`);
      return 1;
    }
    if (missing.length > 0)
      console.log(`tests: installing ${missing.map((p) => p.aptPackage).join(' ')} first`);
    await ensurePrerequisites(missing, (line) => console.log(line));
    await ensureJava((line) => console.log(line));
    lab = new Lab({ dir: testLabDir(repoRoot), portOffset: testLabPortOffset(), repoRoot });
    console.log(
      `test lab: starting ${INFRA_COMPONENTS.join(', ')} in ${path.relative(repoRoot, lab.dir)} (port offset ${lab.plan.offset})`,
    );
    env[TEST_LAB_DIR_ENV] = lab.dir;
  }

  const reportDir = path.join(repoRoot, 'reports', 'tests');
  mkdirSync(reportDir, { recursive: true });
  const junit = path.join(reportDir, 'junit.xml');
  let interrupted = false;
  let exitCode = 1;
  let child: ReturnType<typeof spawn> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    console.log(`\ntests: ${signal} received, stopping tests and the test lab ...`);
    child?.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (lab) await lab.up(INFRA_COMPONENTS);
    // Drills measure latency and capacity under load: they run after the rest, one at a time, so a
    // neighbouring test file's CPU is never charged to the service under test.
    const alone = files.filter(isMeasuredUnderLoad);
    const shared = files.filter((f) => !isMeasuredUnderLoad(f));
    const phases: { files: string[]; concurrency: number; junit: string; label: string }[] = [
      { files: shared, concurrency: parsed.concurrency, junit, label: '' },
      {
        files: alone,
        concurrency: 1,
        junit: path.join(reportDir, 'junit-drills.xml'),
        label: ' alone (drills)',
      },
    ];
    exitCode = 0;
    const counted: JunitCounts[] = [];
    for (const phase of phases) {
      if (interrupted || phase.files.length === 0) continue;
      console.log(
        `tests: running ${phase.files.length} file(s)${phase.label}, concurrency ${phase.concurrency}`,
      );
      const code = await new Promise<number>((resolve) => {
        child = spawn(
          process.execPath,
          [
            '--enable-source-maps',
            '--test',
            `--test-concurrency=${phase.concurrency}`,
            '--test-reporter=spec',
            '--test-reporter-destination=stdout',
            '--test-reporter=junit',
            `--test-reporter-destination=${phase.junit}`,
            ...phase.files,
          ],
          { stdio: 'inherit', env },
        );
        child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
      });
      exitCode = exitCode || code;
      if (existsSync(phase.junit)) counted.push(countJunit(readFileSync(phase.junit, 'utf8')));
    }
    // One total over the phases (node prints a summary per phase): `tests: N passed, N failed, N skipped`.
    if (counted.length > 0) {
      const sum = (k: 'tests' | 'failed' | 'skipped') => counted.reduce((n, c) => n + c[k], 0);
      console.log(
        `tests: ${sum('tests') - sum('failed') - sum('skipped')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`,
      );
      const skips = counted.flatMap((c) => c.skips);
      if (skips.length > 0) {
        console.log('tests: skipped, and what turns each one on:');
        for (const skip of skips) console.log(`  - ${skip.name}: ${skip.reason}`);
      }
    }
  } catch (error) {
    if (error instanceof LabError) {
      console.error(`tests: the test lab did not start: ${error.message}`);
      if (error.logTail) console.error(`---- last lines of the log ----\n${error.logTail}`);
    } else throw error;
  } finally {
    if (lab && !parsed.keepLab) {
      try {
        await lab.down();
      } catch (error) {
        console.error(`tests: stopping the test lab failed: ${(error as Error).message}`);
        exitCode = exitCode || 1;
      }
    }
  }
  if (!parsed.keepLab) exitCode = (await stopLabsLeftByTests(repoRoot, lab?.dir)) || exitCode;
  if (interrupted) exitCode = exitCode || 130;
  const seconds = ((Date.now() - begin) / 1000).toFixed(1);
  const labNote = lab
    ? parsed.keepLab
      ? `test lab left running in ${path.relative(repoRoot, lab.dir)}`
      : 'test lab stopped'
    : 'no lab (unit tests)';
  console.log(
    `tests: ${exitCode === 0 ? 'PASS' : 'FAIL'} — ${files.length} file(s) in ${seconds} s; ${labNote}; report ${path.relative(repoRoot, junit)}`,
  );
  return exitCode;
}

/** Test files that measure the service under load (the drills), run alone after the others. */
function isMeasuredUnderLoad(file: string): boolean {
  return file.split(path.sep).join('/').includes('/test/drills/');
}

/**
 * Tests that break components run their own labs in .lab/test-*; an interrupted test process may not
 * reach its own down(), so the runner stops whatever those labs still run. Returns 1 if one failed.
 */
async function stopLabsLeftByTests(repoRoot: string, sharedDir: string | undefined): Promise<number> {
  const root = path.join(repoRoot, '.lab');
  if (!existsSync(root)) return 0;
  let failed = 0;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const dir = path.join(root, entry.name);
    if (
      !entry.isDirectory() ||
      !entry.name.startsWith('test-') ||
      dir === sharedDir ||
      !existsSync(path.join(dir, 'state.json'))
    )
      continue;
    const lab = new Lab({ dir, repoRoot, log: () => undefined });
    if (!lab.status().some((s) => s.state !== 'stopped')) continue;
    try {
      const { stopped } = await lab.down();
      console.log(
        `tests: stopped ${stopped.join(', ')} left running by a test in ${path.relative(repoRoot, dir)}`,
      );
    } catch (error) {
      console.error(`tests: could not stop the lab in ${dir}: ${(error as Error).message}`);
      failed = 1;
    }
  }
  return failed;
}

hideHarmlessNodeWarnings();
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`tests: ${(error as Error).message}`);
    process.exit(1);
  },
);
