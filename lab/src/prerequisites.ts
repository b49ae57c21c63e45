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
 * What a command needs installed: `lab` (lab up), `drills` (+ nginx), `compose` (the local Docker
 * engine and base images of compose:local), `tests` (everything the suite runs).
 */
export type PrerequisiteScope = 'lab' | 'drills' | 'compose' | 'tests';

export interface Prerequisite {
  /** The Debian package that provides it (also its id). */
  readonly aptPackage: string;
  readonly what: string;
  /** Why the lab needs it, for the missing-package message. */
  readonly neededFor: string;
  readonly scopes: readonly PrerequisiteScope[];
  readonly present: (env: Record<string, string | undefined>) => boolean;
}

const ALL_SCOPES: readonly PrerequisiteScope[] = ['lab', 'drills', 'tests'];

/** The one list of system packages: lab up, the drill CLI, the test runner and .ci/run all read it. */
export const PREREQUISITES: readonly Prerequisite[] = [
  {
    aptPackage: 'postgresql',
    what: 'PostgreSQL',
    neededFor: 'the lab database',
    scopes: ALL_SCOPES,
    present: (env) => findPostgresBin(env) !== undefined,
  },
  {
    aptPackage: 'prometheus',
    what: 'Prometheus + promtool',
    neededFor: "metrics, rules and the drills' Prometheus audit",
    scopes: ALL_SCOPES,
    present: (env) =>
      (env.LAB_PROMETHEUS_BIN !== undefined ? existsSync(env.LAB_PROMETHEUS_BIN) : onPath('prometheus')) &&
      onPath('promtool'),
  },
  {
    aptPackage: 'default-jdk-headless',
    what: 'Java 17+',
    neededFor: 'the Kafka broker',
    scopes: ALL_SCOPES,
    present: () => onPath('java'),
  },
  {
    aptPackage: 'maven',
    what: 'Maven',
    neededFor: 'fetching the Kafka jars from Maven Central',
    scopes: ALL_SCOPES,
    present: () => onPath('mvn'),
  },
  {
    aptPackage: 'nginx',
    what: 'nginx',
    neededFor: "the drills' load balancer in front of the api replicas",
    scopes: ['drills', 'tests'],
    present: (env) => existsSync(nginxBinary(env)),
  },
  {
    aptPackage: 'chromium',
    what: 'Chromium',
    neededFor: 'the browser checks of drill reports and dashboards (playwright-core)',
    scopes: ['tests'],
    present: (env) => existsSync(chromiumBinary(env)),
  },
  {
    aptPackage: 'prometheus-alertmanager',
    what: 'amtool',
    neededFor: 'checking the Alertmanager config the compose stack runs',
    scopes: ['tests'],
    present: () => onPath('amtool'),
  },
  {
    aptPackage: 'docker.io',
    what: 'Docker engine',
    neededFor: 'running the compose stack on this machine (compose:local and its test)',
    scopes: ['compose', 'tests'],
    present: () => onPath('dockerd'),
  },
  {
    aptPackage: 'debootstrap',
    what: 'debootstrap',
    neededFor: 'making the Debian base images compose:local builds on (no registry to pull from)',
    scopes: ['compose', 'tests'],
    present: () => onPath('debootstrap'),
  },
];

/** nginx for the drills' balancer: NGINX_BIN, else Debian's path. */
export function nginxBinary(env: Record<string, string | undefined>): string {
  return env.NGINX_BIN ?? '/usr/sbin/nginx';
}

/** Chromium for playwright-core: CHROMIUM_PATH, else Debian's path. */
export function chromiumBinary(env: Record<string, string | undefined>): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export function prerequisitesFor(scope: PrerequisiteScope): Prerequisite[] {
  return PREREQUISITES.filter((p) => p.scopes.includes(scope));
}

export function missingPrerequisites(
  wanted: readonly Prerequisite[],
  env: Record<string, string | undefined>,
): Prerequisite[] {
  return wanted.filter((p) => !p.present(env));
}

/** One message naming every missing package, why it is needed, and the one command that installs them. */
export function missingMessage(missing: readonly Prerequisite[], root: boolean): string {
  const names = missing.map((p) => `${p.aptPackage} (${p.what}: ${p.neededFor})`).join(', ');
  const command = `${root ? '' : 'sudo '}apt-get install -y ${missing.map((p) => p.aptPackage).join(' ')}`;
  return `missing ${missing.length === 1 ? 'package' : 'packages'}: ${names}. Install with \`${command}\` (Debian/Ubuntu; as root the lab installs them itself)`;
}

/**
 * Makes sure the given prerequisites are installed: when root on a Debian/Ubuntu machine, installs
 * every missing one with one apt-get call; otherwise fails with one message naming them all.
 */
export async function ensurePrerequisites(
  wanted: readonly Prerequisite[],
  log: (line: string) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const missing = missingPrerequisites(wanted, env);
  if (missing.length === 0) return;
  if (!isRoot() || !onPath('apt-get')) throw new LabError(missingMessage(missing, false));
  const packages = missing.map((p) => p.aptPackage);
  log(
    `  installing ${packages.join(' ')} with apt-get (${missing.map((p) => p.what).join(', ')} missing) ...`,
  );
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    runWithTimeout('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
      timeoutMs: APT_TIMEOUT_MS,
      env: aptEnv,
    });
  // A fresh machine has no package index yet; otherwise a stale index is the usual cause of a failure.
  if (!hasPackageLists())
    await runWithTimeout('apt-get', ['update', '-q'], { timeoutMs: APT_TIMEOUT_MS, env: aptEnv });
  let result = await install();
  if (result.status !== 0 && !result.timedOut) {
    await runWithTimeout('apt-get', ['update', '-q'], { timeoutMs: APT_TIMEOUT_MS, env: aptEnv });
    result = await install();
  }
  const still = missingPrerequisites(missing, env);
  if (result.status !== 0 || still.length > 0) {
    const last = result.output.trim().split('\n').slice(-1)[0] ?? '';
    throw new LabError(
      `could not install ${packages.join(' ')} (${result.timedOut ? 'apt-get timed out' : last}): ${missingMessage(still.length > 0 ? still : missing, true)}`,
    );
  }
  log(`  installed ${packages.join(' ')}`);
}

/** The prerequisite with this apt package name (throws on a typo: the list is the one source). */
export function prerequisite(aptPackage: string): Prerequisite {
  const found = PREREQUISITES.find((p) => p.aptPackage === aptPackage);
  if (!found) throw new Error(`no prerequisite ${aptPackage}`);
  return found;
}

function hasPackageLists(): boolean {
  const lists = '/var/lib/apt/lists';
  return (
    existsSync(lists) && readdirSync(lists).some((f) => f.endsWith('_Packages') || f.endsWith('Packages.lz4'))
  );
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
  await ensurePrerequisites([prerequisite('default-jdk-headless')], log);
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
  await ensurePrerequisites([prerequisite('maven')], log);
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
