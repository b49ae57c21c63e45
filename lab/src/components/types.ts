import type { PortPlan, ServiceSpec } from '../ports';

/** What a component needs to know about the lab it belongs to. */
export interface LabContext {
  /** Absolute state folder of this lab. */
  readonly dir: string;
  readonly repoRoot: string;
  /** Shared cache folder (Kafka jars, Maven repository), kept across labs and runs. */
  readonly cacheDir: string;
  readonly plan: PortPlan;
  readonly services: readonly ServiceSpec[];
  readonly env: Record<string, string | undefined>;
  readonly log: (line: string) => void;
}

export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Text in /proc/<pid>/cmdline or environ that proves the pid is this lab's component. */
  readonly marker: string;
}

export interface ComponentDriver {
  readonly name: string;
  /** Ports it listens on (checked free before start and closed after stop). */
  readonly ports: readonly number[];
  /** Signal for a graceful stop (PostgreSQL: SIGINT = fast shutdown; SIGTERM would wait for clients). */
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** Installs/caches prerequisites, writes config, initialises storage; idempotent. */
  prepare(): Promise<void>;
  launch(): Launch;
  /** Resolves once the component answers a real request; throws LabError with the cause otherwise. */
  waitReady(pid: number, logPath: string): Promise<void>;
}

/** Environment for child processes: ours minus what would confuse them. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...env };
  // A child inheriting node:test's marker would talk the test runner's protocol instead of running.
  delete copy.NODE_TEST_CONTEXT;
  return copy;
}
