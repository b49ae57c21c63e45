import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError, isPortFree, runQuick, runWithTimeout } from './processes';

const APT_TIMEOUT_MS = 10 * 60_000;

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function onPath(binary: string): boolean {
  return runQuick('sh', ['-c', `command -v ${binary}`]).status === 0;
}

/**
 * Makes sure a Debian package providing `binary` is installed: installs it with apt-get when we are
 * root on a Debian/Ubuntu machine, otherwise fails with the command to run.
 */
export async function ensureDebianPackage(
  what: string,
  isPresent: () => boolean,
  aptPackage: string,
  log: (line: string) => void,
): Promise<void> {
  if (isPresent()) return;
  const fix = `apt-get install -y ${aptPackage}`;
  if (!isRoot() || !onPath('apt-get')) {
    throw new LabError(
      `${what} is not installed: run \`sudo ${fix}\` (Debian/Ubuntu) or install it with your package manager`,
    );
  }
  log(`  installing ${aptPackage} with apt-get (${what} is missing) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = await runWithTimeout('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], {
    timeoutMs: APT_TIMEOUT_MS,
    env,
  });
  if (result.status !== 0 && !result.timedOut) {
    // A stale package index is the usual cause; refresh once and retry.
    await runWithTimeout('apt-get', ['update'], { timeoutMs: APT_TIMEOUT_MS, env });
    result = await runWithTimeout('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], {
      timeoutMs: APT_TIMEOUT_MS,
      env,
    });
  }
  if (result.status !== 0 || !isPresent()) {
    const last = result.output.trim().split('\n').slice(-1)[0] ?? '';
    throw new LabError(
      `could not install ${aptPackage} (${result.timedOut ? 'timed out' : last}): run \`${fix}\` by hand`,
    );
  }
}

/** Directory with initdb/postgres: LAB_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin. */
export function findPostgresBin(env: Record<string, string | undefined>): string | undefined {
  if (env.LAB_PG_BIN) return existsSync(`${env.LAB_PG_BIN}/postgres`) ? env.LAB_PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(`${root}/${d}/bin/postgres`))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : `${root}/${majors[0]}/bin`;
}

export function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first; // "1.8.0" means Java 8
}

export async function ensureJava(log: (line: string) => void): Promise<void> {
  await ensureDebianPackage('Java (needed by Kafka)', () => onPath('java'), 'default-jdk-headless', log);
  const probe = runQuick('java', ['-version']);
  const major = javaMajorVersion(probe.output);
  if (major === undefined)
    throw new LabError(
      `could not read the Java version from \`java -version\`: install a JDK 17+ (apt-get install default-jdk-headless)`,
    );
  if (major < 17)
    throw new LabError(
      `Java ${major} found, Kafka 4 needs Java 17+: install a newer JDK (apt-get install openjdk-17-jdk-headless) and put it first on PATH`,
    );
}

export async function ensureMaven(log: (line: string) => void): Promise<void> {
  await ensureDebianPackage('Maven (fetches the Kafka jars)', () => onPath('mvn'), 'maven', log);
}

const MIN_FREE_BYTES = 512 * 1024 * 1024;

export function ensureDiskSpace(dir: string, minFreeBytes = MIN_FREE_BYTES): void {
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (free < minFreeBytes) {
    throw new LabError(
      `disk nearly full: ${Math.round(free / 1024 / 1024)} MiB free under ${dir}, the lab needs ${Math.round(minFreeBytes / 1024 / 1024)} MiB: free some space or choose another --dir`,
    );
  }
}

/**
 * Fails when a port stays taken for `graceMs`. The lab's ports sit in Linux's ephemeral range, so a
 * short-lived outgoing connection (or our own just-killed process) may hold one for a moment.
 */
export async function ensurePortsFree(
  ports: readonly { component: string; port: number }[],
  graceMs = 5000,
): Promise<void> {
  const deadline = Date.now() + graceMs;
  for (const { component, port } of ports) {
    while (!(await isPortFree(port))) {
      if (Date.now() >= deadline) {
        throw new LabError(
          `port ${port} (${component}) is already in use by another process: stop it (\`ss -tanp 'sport = :${port}'\` shows who) or pick another --port-offset`,
        );
      }
      await sleep(250);
    }
  }
}
