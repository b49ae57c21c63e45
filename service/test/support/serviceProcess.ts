import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { NO_SHEDDING } from './serviceHarness';

const MAIN = path.resolve(__dirname, '../../src/main.js');

export interface ServiceProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly httpUrl: string;
  readonly adminUrl: string;
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Runs dist/service/src/main.js as a real process on ephemeral ports and waits until it serves. */
export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HTTP_PORT: '0',
      ADMIN_PORT: '0',
      GRPC_PORT: '0',
      ...NO_SHEDDING,
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    at: Date.now(),
  }));
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const deadline = Date.now() + timeoutMs;
  let started: Record<string, unknown> | undefined;
  while (!(started = logs().find((l) => l['message'] === 'service started'))) {
    if (child.exitCode !== null) throw new Error(`service exited early (${child.exitCode}): ${err}${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start within ${timeoutMs} ms: ${err}${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    child,
    httpUrl: `http://127.0.0.1:${String(started['httpPort'])}`,
    adminUrl: `http://127.0.0.1:${String(started['adminPort'])}`,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited: () => exit,
  };
}
