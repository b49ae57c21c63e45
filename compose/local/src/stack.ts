import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureGoBinaries } from '../../../lab/src/goBuild';
import { LabError, runQuick, runWithTimeout } from '../../../lab/src/processes';
import { NOT_RUN_HERE } from './localImages';

/** Compose v2 as a docker CLI plugin when the engine has none (Debian's docker.io brings v1 at most). */
export const COMPOSE_VERSION = 'v2.35.0';

/** The override: the root .env, then the local image tags (the later file wins). */
export function envFiles(repoRoot: string): string[] {
  return [path.join(repoRoot, '.env'), path.join(repoRoot, 'compose', 'local', 'images.env')];
}

/** `docker compose` arguments for the repo's own compose file with the local image tags. */
export function composeArgs(repoRoot: string, ...args: string[]): string[] {
  return [
    'compose',
    '--project-directory',
    repoRoot,
    ...envFiles(repoRoot).flatMap((f) => ['--env-file', f]),
    '-f',
    path.join(repoRoot, 'compose.yaml'),
    ...args,
  ];
}

/** Where `up` records the stack it started, so `npm run drill -- --target compose` uses the same env files. */
export function stackStatePath(repoRoot: string): string {
  return path.join(repoRoot, '.lab', 'compose-local', 'stack.json');
}

export interface StackState {
  readonly envFiles: readonly string[];
  readonly services: readonly string[];
  readonly startedAt: string;
}

export function readStackState(repoRoot: string): StackState | undefined {
  const file = stackStatePath(repoRoot);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackState) : undefined;
}

export async function compose(
  repoRoot: string,
  args: readonly string[],
  what: string,
  timeoutMs = 10 * 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const result = await runWithTimeout('docker', composeArgs(repoRoot, ...args), {
    timeoutMs,
    env,
    cwd: repoRoot,
  });
  if (result.status !== 0)
    throw new LabError(
      `${what} failed (${result.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit ${result.status}`}): ${result.output.trim().split('\n').slice(-8).join(' | ')}`,
    );
  return result.output;
}

/** Makes `docker compose` work: builds Compose v2 from the Go module proxy into the CLI plugin folder. */
export async function ensureComposePlugin(cacheDir: string, log: (line: string) => void): Promise<string> {
  const probe = runQuick('docker', ['compose', 'version', '--short']);
  if (probe.status === 0) return probe.output.trim();
  const [binary] = await ensureGoBinaries(
    {
      module: 'github.com/docker/compose/v2',
      version: COMPOSE_VERSION,
      packages: [{ pkg: './cmd', output: 'docker-compose' }],
      ldflags: `-X github.com/docker/compose/v2/internal.Version=${COMPOSE_VERSION}`,
      outDir: path.join(cacheDir, 'go-bin', `compose-${COMPOSE_VERSION}`),
      label: 'docker compose',
    },
    log,
  );
  const plugins = path.join(
    process.env['DOCKER_CONFIG'] ?? path.join(os.homedir(), '.docker'),
    'cli-plugins',
  );
  mkdirSync(plugins, { recursive: true });
  copyFileSync(binary as string, path.join(plugins, 'docker-compose'));
  const version = runQuick('docker', ['compose', 'version', '--short']);
  if (version.status !== 0) throw new LabError(`docker compose still does not run: ${version.output.trim()}`);
  log(`  docker compose ${version.output.trim()} installed in ${plugins}`);
  return version.output.trim();
}

/** Every service of the stack over all profiles, and those of them this machine can run. */
export async function stackServices(repoRoot: string): Promise<{ all: string[]; runHere: string[] }> {
  const output = await compose(
    repoRoot,
    ['--profile', 'alerting', '--profile', 'chaos', '--profile', 'load', 'config', '--services'],
    'docker compose config',
  );
  const all = output
    .trim()
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return { all, runHere: all.filter((s) => !(s in NOT_RUN_HERE)) };
}

export function writeStackState(repoRoot: string, services: readonly string[]): void {
  const file = stackStatePath(repoRoot);
  mkdirSync(path.dirname(file), { recursive: true });
  const state: StackState = { envFiles: envFiles(repoRoot), services, startedAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

export function clearStackState(repoRoot: string): void {
  rmSync(stackStatePath(repoRoot), { force: true });
}

/** How long `up --wait` may take for every service to turn healthy. */
export const UP_WAIT_TIMEOUT_S = 300;

/** Memory limit and usage of each running container of the project (`docker stats --no-stream`). */
export async function memoryByService(
  project = 'orderlab',
): Promise<Record<string, { usedBytes: number; limitBytes: number }>> {
  // Asynchronous on purpose: `docker stats --no-stream` takes ~2 s, and a drill's load generator may
  // share this process (the compose test samples during its drill: a blocking call stalled the
  // generator 2.5 s at a time and the bursts after each stall were shed).
  const result = await runWithTimeout(
    'docker',
    ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}'],
    { timeoutMs: 30_000 },
  );
  const out: Record<string, { usedBytes: number; limitBytes: number }> = {};
  if (result.status !== 0) return out;
  for (const line of result.output.trim().split('\n')) {
    const [name, usage] = line.split('\t');
    if (!name || !usage || !name.startsWith(`${project}-`)) continue;
    const [used, limit] = usage.split('/').map((s) => parseBytes(s.trim()));
    const service = name.slice(project.length + 1).replace(/-\d+$/, '');
    out[service] = { usedBytes: used ?? 0, limitBytes: limit ?? 0 };
  }
  return out;
}

/** `docker stats` sizes: 12.5MiB, 1.2GiB, 512KiB, 100B. */
export function parseBytes(text: string): number {
  const match = /^([\d.]+)\s*([KMGT]?i?B)$/i.exec(text);
  if (!match) return Number.NaN;
  const units: Record<string, number> = {
    B: 1,
    KIB: 1024,
    MIB: 1024 ** 2,
    GIB: 1024 ** 3,
    TIB: 1024 ** 4,
    KB: 1e3,
    MB: 1e6,
    GB: 1e9,
    TB: 1e12,
  };
  return Number(match[1]) * (units[(match[2] as string).toUpperCase()] ?? Number.NaN);
}
