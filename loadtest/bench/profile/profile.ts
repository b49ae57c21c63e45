/**
 * `npm run profile -- <tool>`: the service under clinic (doctor, flame, bubbleprof, heapprofiler)
 * or a Node-native profiler (--cpu-prof, --heap-prof, 0x) while an autocannon load runs.
 * See docs/profiling.md and `npm run profile -- --help`.
 *
 * Why clinic "exited 0 and wrote nothing" here: clinic 13 asks for analytics consent through
 * `promisify(insight.askPermission)`, but insight 0.11's askPermission returns a Promise and, with
 * stdout not a TTY, never calls the callback; the promise never settles, the event loop empties
 * and clinic exits 0 before running anything. NO_INSIGHT=1 (clinic's own opt-out) skips the
 * question. Bubbleprof then collects on Node 24, but its injected logger never calls
 * process.exit after flushing, so the runner stops the service itself (SIGTERM) once the load ends.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createVariantDatabase } from '../benchDatabases';
import { acquirePostgres } from '../benchPostgres';
import { startOtlpSink } from '../otlpSink';
import { serviceEnv, SERVICE_MAIN, TELEMETRY_PRELOAD } from '../variants';
import {
  CLINIC_TOOLS,
  parseProfileArgs,
  PROFILE_HELP,
  ProfileUsageError,
  type ProfileOptions,
  type ProfileTool,
} from './profileArgs';
import { type LoadSummary, runProfileLoad } from './profileLoad';

export interface ProfileResult {
  readonly outDir: string;
  /** Main artefact(s): the HTML report, .cpuprofile or .heapprofile; empty when the tool failed. */
  readonly profiles: readonly string[];
  readonly load: LoadSummary | undefined;
  readonly problems: readonly string[];
}

/** Which files count as the tool's result. */
export function isProfileArtefact(tool: ProfileTool, file: string): boolean {
  switch (tool) {
    case 'cpu-prof':
      return file.endsWith('.cpuprofile');
    case 'heap-prof':
      return file.endsWith('.heapprofile');
    case '0x':
      return path.basename(file) === 'flamegraph.html';
    default:
      return file.endsWith(`.clinic-${tool}.html`);
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** The node process a wrapper (clinic, 0x) started for the service. */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(250);
  }
  return false;
}

export async function runProfile(
  opts: ProfileOptions,
  deps: { repoRoot: string; log: (line: string) => void },
): Promise<ProfileResult> {
  const { repoRoot, log } = deps;
  const problems: string[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.resolve(repoRoot, opts.outDir, `${stamp}-${opts.tool}`);
  mkdirSync(outDir, { recursive: true });
  const postgres = await acquirePostgres(opts.pgAdminUrl, log);
  const db = await createVariantDatabase(postgres.adminUrl, 'profile').catch(async (err: unknown) => {
    await postgres.release();
    throw err;
  });
  const ports = { http: opts.portBase, admin: opts.portBase + 1, grpc: opts.portBase + 2 };
  // Spans are exported to a sink standing in for the collector, so the profile shows the real
  // export work instead of retries against a closed port.
  const sink = await startOtlpSink(opts.portBase + 3);
  const env = {
    ...serviceEnv({ ports, databaseUrl: db.url, poolMax: 10, otlpEndpoint: sink.url }),
    TELEMETRY_ENABLED: String(opts.telemetry),
    PATH: process.env['PATH'] ?? '',
    NO_INSIGHT: '1',
  };
  const preload =
    opts.telemetry && existsSync(path.join(repoRoot, TELEMETRY_PRELOAD))
      ? ['--require', `./${TELEMETRY_PRELOAD}`]
      : [];
  if (opts.telemetry && preload.length === 0)
    problems.push(`${TELEMETRY_PRELOAD} not built: profiled without tracing`);
  const node = process.execPath;
  const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);
  const marker = path.join(outDir, '.load-finished');
  const isClinic = (CLINIC_TOOLS as readonly string[]).includes(opts.tool);

  let command: string[];
  if (isClinic) {
    const waitCommand = `${node} ${path.join(repoRoot, 'dist/loadtest/bench/profile/waitForMarker.js')} ${marker} ${opts.timeoutSeconds}`;
    command = [
      bin('clinic'),
      opts.tool,
      '--dest',
      outDir,
      '--on-port',
      waitCommand,
      '--',
      node,
      ...preload,
      SERVICE_MAIN,
    ];
  } else if (opts.tool === '0x') {
    command = [bin('0x'), '--output-dir', outDir, '--', node, ...preload, SERVICE_MAIN];
  } else {
    const flag = opts.tool === 'cpu-prof' ? '--cpu-prof' : '--heap-prof';
    command = [node, flag, `${flag}-dir`, outDir, ...preload, SERVICE_MAIN];
  }
  const logPath = path.join(outDir, 'profile-run.log');
  const out = openSync(logPath, 'a');
  log(`${opts.tool}: ${command.map((c) => path.relative(repoRoot, c) || c).join(' ')}`);
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    cwd: repoRoot,
    env,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const servicePid = (): number | undefined => {
    if (command[0] === node) return child.pid;
    // clinic/0x start the service as a descendant: the one whose command line runs SERVICE_MAIN.
    const queue = child.pid ? [child.pid] : [];
    for (let i = 0; i < queue.length && i < 50; i++) {
      const pid = queue[i]!;
      if (pid !== child.pid && commandLine(pid).includes(SERVICE_MAIN)) return pid;
      queue.push(...childPids(pid));
    }
    return undefined;
  };

  let load: LoadSummary | undefined;
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  try {
    const ready = await waitUntil(
      async () => child.exitCode === null && (await answers(`http://127.0.0.1:${ports.http}/openapi.json`)),
      Math.min(60000, opts.timeoutSeconds * 1000),
    );
    if (!ready) throw new Error(`service did not become ready; see ${logPath}`);
    log(`service ready; ${opts.durationSeconds} s of ${opts.load} load at -c ${opts.connections}`);
    load = await runProfileLoad({
      baseUrl: `http://127.0.0.1:${ports.http}`,
      durationSeconds: opts.durationSeconds,
      connections: opts.connections,
      load: opts.load,
    });
    log(`load done: ${load.requests} requests, ${load.reqPerSec.toFixed(0)} req/s, p99 ${load.p99Ms} ms`);
    writeFileSync(marker, 'done\n');
    // clinic's doctor/flame/heapprofiler stop the service themselves when --on-port exits; the
    // others (bubbleprof, 0x, native) need it stopped: SIGTERM is the service's graceful shutdown.
    const stoppedByTool = await waitUntil(
      async () => !(await answers(`http://127.0.0.1:${ports.admin}/livez`)),
      isClinic ? 8000 : 0,
    );
    if (!stoppedByTool) {
      const pid = servicePid();
      if (pid) process.kill(pid, 'SIGTERM');
    }
    log('collecting and analysing (clinic can take a minute)…');
    const code = await Promise.race([
      exited,
      sleep(Math.max(1000, deadline - Date.now()), undefined, { ref: false }).then(() => 'timeout' as const),
    ]);
    if (code === 'timeout')
      problems.push(`${opts.tool} did not finish within --timeout ${opts.timeoutSeconds} s`);
    else if (code !== 0) problems.push(`${opts.tool} exited with ${code}; see ${logPath}`);
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      for (const pid of [servicePid(), child.pid]) if (pid) process.kill(pid, 'SIGKILL');
      await Promise.race([exited, sleep(5000, undefined, { ref: false })]);
    }
    await sink.close();
    await db.drop().catch((e: Error) => problems.push(`dropping ${db.name}: ${e.message}`));
    await postgres
      .release()
      .catch((e: Error) => problems.push(`stopping the lab's PostgreSQL: ${e.message}`));
  }
  const profiles = listFiles(outDir).filter((f) => isProfileArtefact(opts.tool, f) && statSync(f).size > 0);
  if (profiles.length === 0) problems.push(`${opts.tool} wrote no profile into ${outDir}; see ${logPath}`);
  return { outDir, profiles, load, problems };
}

async function main(): Promise<void> {
  let opts: ProfileOptions;
  try {
    opts = parseProfileArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ProfileUsageError)) throw err;
    console.error(`profile: ${err.message}\n\n${PROFILE_HELP}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(PROFILE_HELP);
    return;
  }
  const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
  const log = (line: string) => console.log(`[profile ${new Date().toISOString().slice(11, 19)}] ${line}`);
  try {
    const result = await runProfile(opts, { repoRoot, log });
    for (const p of result.problems) log(`problem: ${p}`);
    const ok = result.profiles.length > 0;
    const where = ok ? result.profiles.map((p) => path.relative(repoRoot, p)).join(', ') : result.outDir;
    console.log(`profile ${opts.tool} ${ok ? 'ok' : 'FAILED'}: ${where}`);
    process.exitCode = ok ? 0 : 1;
  } catch (err) {
    if (!(err instanceof ProfileUsageError)) throw err;
    console.error(`profile: ${err.message}`);
    process.exitCode = 2;
  }
}

if (require.main === module) void main();
