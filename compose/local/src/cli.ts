import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LabError } from '../../../lab/src/processes';
import { findRepoRoot, readPinnedVersions } from '../../../lab/src/repo';
import { type BuiltImage, buildStandIns, defaultCacheDir, imageSize } from './build';
import { parseDotEnv } from './dotEnv';
import { engineAnswers, ensureEngine, stopEngineIfOurs } from './engine';
import { expectedTags, NOT_RUN_HERE, overrideMismatches, standInVersions } from './localImages';
import {
  clearStackState,
  compose,
  ensureComposePlugin,
  stackServices,
  UP_WAIT_TIMEOUT_S,
  writeStackState,
} from './stack';

export const HELP = `Usage: npm run compose:local -- <command> [options]

Runs the repo's own compose files on a machine where no image registry answers: starts a Docker
engine when none answers, builds stand-ins for the images it cannot pull (compose/local/images/*,
from a debootstrapped Debian base), builds the service image with service/Dockerfile, and runs
  docker compose --env-file .env --env-file compose/local/images.env ...
so only the image variables differ from what users run (docs/compose.md lists every stand-in).

Commands:
  up       engine, images, then \`up -d --wait\` of every service this machine can run
  down     \`down -v\` (containers, networks, volumes), then stops the engine if \`up\` started it
  build    only the engine and the images
  status   \`docker compose ps\` of the stack

Options:
  --rebuild       rebuild every image even when its inputs are unchanged
  --keep-engine   down: leave the Docker engine running
  -h, --help      this text

Not run here (no image can be had): ${Object.keys(NOT_RUN_HERE).join(', ')}.
Caches (kept between runs, outside the clone): ORDERLAB_CACHE (default ~/.cache/orderlab) and the
engine's data root ORDERLAB_DOCKER_ROOT (default /var/lib/orderlab-docker).
Report: reports/compose-local/<command>.json
`;

interface Args {
  readonly command: 'up' | 'down' | 'build' | 'status';
  readonly rebuild: boolean;
  readonly keepEngine: boolean;
}

export function parseArgs(argv: readonly string[]): Args | 'help' {
  let command: Args['command'] | undefined;
  let rebuild = false;
  let keepEngine = false;
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') return 'help';
    else if (arg === '--rebuild') rebuild = true;
    else if (arg === '--keep-engine') keepEngine = true;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (see --help)`);
    else if (command) throw new Error(`one command at a time: got ${command} and ${arg}`);
    else if (arg === 'up' || arg === 'down' || arg === 'build' || arg === 'status') command = arg;
    else throw new Error(`unknown command "${arg}": choose up, down, build or status (see --help)`);
  }
  if (!command) throw new Error('name a command: up, down, build or status (see --help)');
  return { command, rebuild, keepEngine };
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function writeReport(repoRoot: string, command: string, report: object): string {
  const file = path.join(repoRoot, 'reports', 'compose-local', `${command}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

/** Engine, compose plugin, stand-ins and the service image; returns what was built. */
export async function prepareImages(
  repoRoot: string,
  rebuild: boolean,
): Promise<{ images: BuiltImage[]; engineStarted: boolean }> {
  const dotEnv = parseDotEnv(readFileSync(path.join(repoRoot, '.env'), 'utf8'));
  const overrides = parseDotEnv(
    readFileSync(path.join(repoRoot, 'compose', 'local', 'images.env'), 'utf8'),
    'compose/local/images.env',
  );
  const versions = standInVersions(dotEnv, readPinnedVersions(repoRoot));
  const problems = overrideMismatches(overrides, expectedTags(versions));
  if (problems.length > 0)
    throw new LabError(`compose/local/images.env is out of step: ${problems.join('; ')}`);
  const cacheDir = defaultCacheDir();
  const engineStarted = await ensureEngine(log);
  await ensureComposePlugin(cacheDir, log);
  const images = await buildStandIns({ repoRoot, cacheDir, versions, tags: overrides, rebuild, log });
  log('[service] orderlab/service:local with service/Dockerfile (docker compose build) ...');
  const begin = Date.now();
  // The classic builder: BuildKit would fetch the Dockerfile's `# syntax=` frontend from a registry.
  await compose(
    repoRoot,
    ['build', ...(rebuild ? ['--no-cache'] : []), 'api-1'],
    'docker compose build',
    20 * 60_000,
    {
      ...process.env,
      DOCKER_BUILDKIT: '0',
    },
  );
  images.push({
    tag: 'orderlab/service:local',
    built: true,
    seconds: (Date.now() - begin) / 1000,
    sizeBytes: imageSize('orderlab/service:local'),
  });
  log(`  orderlab/service:local ready in ${((Date.now() - begin) / 1000).toFixed(0)} s`);
  return { images, engineStarted };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const repoRoot = findRepoRoot();
  const begin = Date.now();
  const seconds = () => ((Date.now() - begin) / 1000).toFixed(1);
  switch (args.command) {
    case 'build': {
      const { images } = await prepareImages(repoRoot, args.rebuild);
      const report = writeReport(repoRoot, 'build', { images });
      log(`compose:local build: ${images.length} images ready in ${seconds()} s · report: ${report}`);
      return 0;
    }
    case 'up': {
      const { images, engineStarted } = await prepareImages(repoRoot, args.rebuild);
      const { runHere } = await stackServices(repoRoot);
      log(`[up] docker compose up -d --wait ${runHere.join(' ')}`);
      const upBegin = Date.now();
      await compose(
        repoRoot,
        ['up', '-d', '--wait', '--wait-timeout', String(UP_WAIT_TIMEOUT_S), ...runHere],
        'docker compose up',
        (UP_WAIT_TIMEOUT_S + 60) * 1000,
      );
      const upSeconds = (Date.now() - upBegin) / 1000;
      writeStackState(repoRoot, runHere);
      const report = writeReport(repoRoot, 'up', {
        engineStarted,
        images,
        services: runHere,
        notRunHere: NOT_RUN_HERE,
        upToHealthyS: upSeconds,
        totalS: Number(seconds()),
      });
      log(
        `compose:local up: ${runHere.length} services healthy ${upSeconds.toFixed(1)} s after \`up\` (${seconds()} s in all; not run here: ${Object.keys(NOT_RUN_HERE).join(', ')}) · LB http://127.0.0.1:8080 · report: ${report}`,
      );
      return 0;
    }
    case 'down': {
      if (!engineAnswers()) {
        // No engine, no running container of ours: nothing to remove (and nothing to stop).
        clearStackState(repoRoot);
        log('compose:local down: no Docker engine answers, so no stack runs: nothing to remove');
        return 0;
      }
      await compose(
        repoRoot,
        [
          '--profile',
          'alerting',
          '--profile',
          'chaos',
          '--profile',
          'load',
          'down',
          '-v',
          '--remove-orphans',
        ],
        'docker compose down',
      );
      clearStackState(repoRoot);
      if (!args.keepEngine) await stopEngineIfOurs(log);
      const report = writeReport(repoRoot, 'down', { seconds: Number(seconds()) });
      log(
        `compose:local down: stack removed (containers, networks, volumes) in ${seconds()} s · report: ${report}`,
      );
      return 0;
    }
    case 'status': {
      const output = await compose(repoRoot, ['ps', '-a'], 'docker compose ps');
      process.stdout.write(output);
      return 0;
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`compose:local: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
