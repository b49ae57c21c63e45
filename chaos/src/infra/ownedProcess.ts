import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { atNormalPriority } from '../../../lab/src/threadPriority';
import { killOnExit } from './childProcesses';
import type { TerminationResult } from '../targets/target';

export interface OwnedProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly logPath: string;
  /** URL that answers 200 when the process is ready (e.g. admin /readyz). */
  readonly readyUrl: string;
  readonly readyTimeoutMs?: number;
}

/**
 * A process the drill runner starts itself (a child), so a drill can see its exit code and how
 * long it took to exit after SIGTERM.
 */
export class OwnedProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: string | null }> | undefined;

  constructor(private readonly options: OwnedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const fd = openSync(this.options.logPath, 'a');
    const child = atNormalPriority(() =>
      spawn(this.options.command, [...this.options.args], {
        cwd: this.options.cwd,
        env: this.options.env,
        stdio: ['ignore', fd, fd],
      }),
    );
    closeSync(fd);
    this.child = child;
    killOnExit(child);
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (!this.running) throw new Error(`owned process exited during start-up; see ${this.options.logPath}`);
      try {
        const r = await fetch(this.options.readyUrl, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`owned process not ready at ${this.options.readyUrl}; see ${this.options.logPath}`);
      }
      await sleep(200);
    }
  }

  /** SIGTERM, then wait up to `timeoutMs` for the exit; SIGKILL after that (result says so). */
  async terminate(timeoutMs: number): Promise<TerminationResult> {
    const child = this.child;
    const exit = this.exit;
    if (!child || !exit) throw new Error('owned process was never started');
    const begin = Date.now();
    child.kill('SIGTERM');
    const timedOut = Symbol('timeout');
    const winner = await Promise.race([exit, sleep(timeoutMs).then(() => timedOut)]);
    if (winner === timedOut) {
      child.kill('SIGKILL');
      const after = await exit;
      return {
        exitCode: after.code,
        signal: 'SIGKILL (deadline passed)',
        seconds: (Date.now() - begin) / 1000,
      };
    }
    const { code, signal } = winner as { code: number | null; signal: string | null };
    return { exitCode: code, signal, seconds: (Date.now() - begin) / 1000 };
  }

  async kill(): Promise<void> {
    if (this.running) {
      this.child?.kill('SIGKILL');
      await this.exit;
    }
  }
}
