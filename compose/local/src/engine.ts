import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePrerequisites, isRoot, prerequisitesFor } from '../../../lab/src/prerequisites';
import { isAlive, LabError, runQuick, spawnDetached, waitForExit } from '../../../lab/src/processes';

/**
 * The Docker engine of a machine that has none running: Debian's dockerd with its own data root,
 * exec root and pid file, on the default socket so `docker` and `docker compose` find it. Images
 * stay in the data root (outside any clone), so a second run finds them.
 */
export interface EngineLayout {
  readonly root: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidFile: string;
  readonly log: string;
  /** Written when this command started the daemon: `down` stops only such a daemon. */
  readonly startedMarker: string;
  readonly socket: string;
}

export function engineLayout(env: Record<string, string | undefined> = process.env): EngineLayout {
  const root = env['ORDERLAB_DOCKER_ROOT'] ?? '/var/lib/orderlab-docker';
  return {
    root,
    dataRoot: path.join(root, 'data'),
    execRoot: path.join(root, 'exec'),
    pidFile: path.join(root, 'dockerd.pid'),
    log: path.join(root, 'dockerd.log'),
    startedMarker: path.join(root, 'started-by-orderlab'),
    socket: '/var/run/docker.sock',
  };
}

/** The engine answers: `docker version` reaches a server. */
export function engineAnswers(): boolean {
  const result = runQuick('docker', ['version', '--format', '{{.Server.Version}}'], 10_000);
  return !result.missing && result.status === 0;
}

export function serverVersion(): string {
  return runQuick('docker', ['version', '--format', '{{.Server.Version}}']).output.trim();
}

/** Why the engine cannot be started here, or undefined when it can. */
export function engineUnavailableReason(): string | undefined {
  if (engineAnswers()) return undefined;
  if (!isRoot()) return 'no Docker engine answers and starting one needs root';
  return undefined;
}

/**
 * Starts dockerd when no engine answers (installing docker.io and debootstrap with apt-get first,
 * as root). Returns whether this call started it.
 */
export async function ensureEngine(log: (line: string) => void, layout = engineLayout()): Promise<boolean> {
  if (engineAnswers()) {
    log(`  docker engine ${serverVersion()} answers`);
    return false;
  }
  if (!isRoot())
    throw new LabError(
      'no Docker engine answers and starting one needs root: run as root, or start dockerd yourself',
    );
  await ensurePrerequisites(prerequisitesFor('compose'), log);
  mkdirSync(layout.dataRoot, { recursive: true });
  mkdirSync(layout.execRoot, { recursive: true });
  const stale = readPid(layout.pidFile);
  if (stale !== undefined && isAlive(stale))
    throw new LabError(
      `dockerd (pid ${stale}, ${layout.pidFile}) runs but does not answer on ${layout.socket}: see ${layout.log}`,
    );
  rmSync(layout.pidFile, { force: true });
  log(`  starting dockerd (data root ${layout.dataRoot}, log ${layout.log}) ...`);
  const daemon = spawnDetached({
    command: 'dockerd',
    args: [
      '--data-root',
      layout.dataRoot,
      '--exec-root',
      layout.execRoot,
      '--pidfile',
      layout.pidFile,
      '-H',
      `unix://${layout.socket}`,
    ],
    cwd: layout.root,
    env: process.env,
    logPath: layout.log,
  });
  const deadline = Date.now() + 60_000;
  while (!engineAnswers()) {
    if (!isAlive(daemon.pid)) throw new LabError(`dockerd exited while starting: see ${layout.log}`);
    if (Date.now() > deadline) throw new LabError(`dockerd did not answer within 60 s: see ${layout.log}`);
    await sleep(500);
  }
  writeFileSync(layout.startedMarker, `${daemon.pid}\n`);
  log(`  docker engine ${serverVersion()} started (pid ${daemon.pid})`);
  return true;
}

/** Stops the daemon if this command started it (by its pid file); leaves any other engine alone. */
export async function stopEngineIfOurs(log: (line: string) => void, layout = engineLayout()): Promise<void> {
  if (!existsSync(layout.startedMarker)) {
    if (engineAnswers()) log('  docker engine left running (not started by compose:local)');
    return;
  }
  const pid = readPid(layout.pidFile) ?? readPid(layout.startedMarker);
  rmSync(layout.startedMarker, { force: true });
  if (pid === undefined || !isAlive(pid)) return;
  log(`  stopping dockerd (pid ${pid}) ...`);
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, 30_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5000);
  }
  log('  docker engine stopped');
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
