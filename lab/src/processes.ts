import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { atNormalPriority } from './threadPriority';

/** A failure the user can act on: one line naming the cause and the fix, plus an optional log tail. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}

export interface DetachedProcess {
  readonly pid: number;
}

export interface SpawnDetachedOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logPath: string;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Starts a process in its own process group with stdout/stderr appended to its log, detached so it
 * outlives the CLI that started it (state.json remembers the pid).
 */
export function spawnDetached(options: SpawnDetachedOptions): DetachedProcess {
  const logFd = openSync(options.logPath, 'a');
  try {
    const child = atNormalPriority(() =>
      spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', logFd, logFd],
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
      }),
    );
    child.on('error', () => undefined); // reported through liveness checks and the log instead
    child.unref();
    if (child.pid === undefined)
      throw new LabError(`could not start ${options.command}: is it installed and executable?`);
    return { pid: child.pid };
  } finally {
    closeSync(logFd);
  }
}

/**
 * Alive and not a zombie (a zombie has exited; its parent just has not reaped it yet). A dead
 * leader of a multi-threaded process (the JVM) turns zombie while its other threads still exit and
 * hold its sockets, so it counts as alive until it is the last task.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    if (state !== 'Z' && state !== 'X') return true;
    return readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

/** True when the pid is alive and its command line or initial environment carries our marker. */
export function isOurs(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  for (const file of ['cmdline', 'environ']) {
    try {
      if (readFileSync(`/proc/${pid}/${file}`, 'utf8').includes(marker)) return true;
    } catch {
      // unreadable: not ours to signal
    }
  }
  return false;
}

export function signalGroupOrPid(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** Resident set size in bytes, from /proc (undefined when the process is gone). */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function tailFile(path: string, lines: number): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } finally {
    closeSync(fd);
  }
}

/** Resolves true when something accepts connections on 127.0.0.1:port. */
export function isPortListening(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves true when we could bind 127.0.0.1:port ourselves (nobody holds it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Polls `check` until it resolves true or the timeout passes. `check` may throw: that counts as
 * not ready. Fails early when the watched process has died.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; pid?: number; logPath?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new LabError(
        `${what}: the process exited before it was ready (see its log)`,
        options.logPath ? tailFile(options.logPath, 30) : undefined,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
  throw new LabError(
    `${what}: not ready after ${Math.round(options.timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`,
    options.logPath ? tailFile(options.logPath, 30) : undefined,
  );
}

/** Runs a short command synchronously with a timeout; returns status and combined output. */
export function runQuick(
  command: string,
  args: readonly string[],
  timeoutMs = 10_000,
): { status: number | null; output: string; missing: boolean } {
  const result = atNormalPriority(() => spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs }));
  const missing = result.error !== undefined && 'code' in result.error && result.error.code === 'ENOENT';
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, missing };
}

/** Runs a long command asynchronously with a hard timeout (kills its group), capturing output. */
export function runWithTimeout(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ status: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = atNormalPriority(() =>
      spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let output = '';
    let timedOut = false;
    const append = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) signalGroupOrPid(child.pid, 'SIGKILL', true);
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output, timedOut });
    });
  });
}
