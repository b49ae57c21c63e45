import { getPriority, setPriority } from 'node:os';

/**
 * Scheduling priority (Linux nice value) of the calling thread, and of the processes it starts.
 *
 * A load generator that shares the host with the lab can be given a higher priority than the lab
 * (see chaos/src/load/generatorPriority.ts). Linux nice values are per thread and a child inherits
 * the value of the thread that forks it, so a lab component started or restarted by that thread
 * (Kafka back after broker-loss, an api replica in a rolling restart) would run raised too. Every
 * spawn in the lab goes through `atNormalPriority`, which forks at the thread's normal value.
 */
let normalNice: number | undefined;

export type RaiseResult =
  { readonly raised: true; readonly before: number } | { readonly raised: false; readonly reason: string };

/** Raises the calling thread to `nice` (lower = more CPU). Needs root or CAP_SYS_NICE. */
export function raiseThreadPriority(nice: number): RaiseResult {
  const before = normalNice ?? getPriority(0);
  if (before <= nice) return { raised: false, reason: `already at nice ${before}` };
  try {
    setPriority(0, nice);
  } catch (error) {
    return { raised: false, reason: (error as Error).message.split('\n')[0] ?? 'not permitted' };
  }
  normalNice = before;
  return { raised: true, before };
}

/** Puts the calling thread back to its normal priority (lowering is always permitted). */
export function restoreThreadPriority(): void {
  if (normalNice === undefined) return;
  setPriority(0, normalNice);
  normalNice = undefined;
}

/** Runs `start` (a synchronous spawn) with the thread at its normal priority, so the child gets that. */
export function atNormalPriority<T>(start: () => T): T {
  if (normalNice === undefined) return start();
  const raised = getPriority(0);
  setPriority(0, normalNice);
  try {
    return start();
  } finally {
    setPriority(0, raised);
  }
}
