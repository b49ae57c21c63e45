import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (the unit of /proc CPU times). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc; undefined off Linux. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** All CPUs' time so far, in seconds: busy (everything but idle and iowait) and total. */
export interface MachineCpu {
  readonly busySeconds: number;
  readonly totalSeconds: number;
}

/**
 * The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal guest
 * guest_nice, in clock ticks. Guest time is already counted in user/nice, so it is left out.
 */
export function parseMachineCpu(procStat: string, ticksPerSecond = CLOCK_TICKS): MachineCpu | undefined {
  const line = /^cpu\s+([\d\s]+)$/m.exec(procStat)?.[1];
  if (line === undefined) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busySeconds: busy / ticksPerSecond, totalSeconds: (busy + idle + iowait) / ticksPerSecond };
}

export function machineCpu(): MachineCpu | undefined {
  try {
    return parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Where the CPU went over a window: each process in cores, the machine's busy share (0..1). */
export interface CpuWindow {
  readonly seconds: number;
  /** Cores used on average by each named process (1 = one core busy all the window). */
  readonly coresByProcess: Record<string, number>;
  /** Share of all the machine's CPUs that were busy (0..1). */
  readonly machineBusy: number | undefined;
  readonly cpuCount: number | undefined;
}

export interface CpuReading {
  readonly atMs: number;
  readonly processSeconds: Record<string, number | undefined>;
  readonly machine: MachineCpu | undefined;
}

/** Reads the processes' and the machine's CPU counters now. */
export function readCpu(processes: Record<string, () => number | undefined>): CpuReading {
  const processSeconds: Record<string, number | undefined> = {};
  for (const [name, read] of Object.entries(processes)) processSeconds[name] = read();
  return { atMs: performance.now(), processSeconds, machine: machineCpu() };
}

/** The window between two readings; a process missing from either is left out. */
export function cpuWindow(before: CpuReading, after: CpuReading): CpuWindow {
  const seconds = (after.atMs - before.atMs) / 1000;
  const coresByProcess: Record<string, number> = {};
  for (const [name, end] of Object.entries(after.processSeconds)) {
    const start = before.processSeconds[name];
    if (start !== undefined && end !== undefined && seconds > 0)
      coresByProcess[name] = (end - start) / seconds;
  }
  const total =
    before.machine && after.machine ? after.machine.totalSeconds - before.machine.totalSeconds : 0;
  const machineBusy =
    before.machine && after.machine && total > 0
      ? (after.machine.busySeconds - before.machine.busySeconds) / total
      : undefined;
  const cpuCount = total > 0 && seconds > 0 ? Math.round(total / seconds) : undefined;
  return { seconds, coresByProcess, machineBusy, cpuCount };
}
