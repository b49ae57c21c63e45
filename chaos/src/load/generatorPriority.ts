import { raiseThreadPriority, restoreThreadPriority } from '../../../lab/src/threadPriority';

/**
 * The load generator stands in for clients on other machines. On one shared host it competes with
 * the service, PostgreSQL, Kafka and Prometheus for the same cores; starved, it sends late, and an
 * open-model ledger (latency from the intended send time) charges that lateness to the service.
 * Raised, it keeps its send lag an order of magnitude lower (docs/decisions/0008-generator-thread-priority.md).
 * Only the generator's thread is raised (it sends and times every request); the system under test
 * keeps its priority, and processes the drill starts meanwhile fork at normal priority.
 */
export const DEFAULT_GENERATOR_NICE = -10;

/** `--generator-nice` of the drill and bench CLIs: a whole number from -20 to 0. */
export function parseGeneratorNice(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < -20 || n > 0)
    throw new Error(`--generator-nice needs a whole number from -20 to 0, got "${value ?? ''}"`);
  return n;
}

/** Raises the calling thread to `nice` (0 = leave it); returns the undo. Needs root or CAP_SYS_NICE. */
export function raiseGeneratorPriority(nice: number, log: (line: string) => void): () => void {
  if (nice >= 0) return () => undefined;
  const result = raiseThreadPriority(nice);
  if (!result.raised) {
    log(`load generator keeps its priority (${result.reason}): on a busy host its send lag may grow`);
    return () => undefined;
  }
  log(`load generator at nice ${nice} (was ${result.before}), so it keeps its schedule beside the lab`);
  return restoreThreadPriority;
}
