import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchVariant, VariantContext } from './variants';

export interface RunningVariant {
  readonly variant: BenchVariant;
  readonly ctx: VariantContext;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Human notes about how it was started (e.g. preload not built). */
  readonly notes: string[];
  stop(): Promise<number | null>;
}

/**
 * Starts one variant, retrying twice when it dies during start-up: its ports sit in the kernel's
 * ephemeral range, where a passing client connection can hold one for a moment (EADDRINUSE).
 */
export async function startVariant(
  variant: BenchVariant,
  ctx: VariantContext,
  options: { repoRoot: string; logDir: string; readyTimeoutMs: number },
): Promise<RunningVariant> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startVariantOnce(variant, ctx, options);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof ExitedDuringStartup)) throw err;
      await sleep(1000);
    }
  }
}

class ExitedDuringStartup extends Error {}

async function startVariantOnce(
  variant: BenchVariant,
  ctx: VariantContext,
  options: { repoRoot: string; logDir: string; readyTimeoutMs: number },
): Promise<RunningVariant> {
  const notes: string[] = [];
  const nodeArgs = [...variant.nodeArgs];
  if (variant.preload) {
    if (existsSync(path.join(options.repoRoot, variant.preload)))
      nodeArgs.push('--require', `./${variant.preload}`);
    else notes.push(`${variant.preload} not built: started without the tracing preload`);
  }
  const logPath = path.join(options.logDir, `${variant.name}.log`);
  const out = openSync(logPath, 'a');
  const child = spawn(process.execPath, [...nodeArgs, variant.script, ...variant.args(ctx)], {
    cwd: options.repoRoot,
    env: { PATH: process.env['PATH'] ?? '', ...variant.env(ctx) },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: RunningVariant = {
    variant,
    ctx,
    child,
    logPath,
    notes,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        sleep(15000, undefined, { ref: false }).then(() => 'timeout' as const),
      ]);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      return exited;
    },
  };
  const deadline = Date.now() + options.readyTimeoutMs;
  const url = variant.readyUrl(ctx);
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new ExitedDuringStartup(`${variant.name} exited with ${child.exitCode}; see ${logPath}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return running;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await running.stop();
  throw new Error(`${variant.name} not ready at ${url} within ${options.readyTimeoutMs} ms; see ${logPath}`);
}
