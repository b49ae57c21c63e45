import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, isOurs, signalGroupOrPid, waitForExit } from '../../../lab/src/processes';

/** A process a drill started itself (nginx, the owned api), recorded so a later drill can clear it. */
export interface OwnedRecord {
  readonly name: string;
  readonly pid: number;
  /** A string in the process's command line or environment that proves it is this drill's. */
  readonly marker: string;
}

export interface DrillLockRecord {
  readonly pid: number;
  readonly token: string;
  readonly drill: string;
  readonly startedAt: string;
  readonly owned: readonly OwnedRecord[];
}

export type LockState = 'free' | 'held' | 'stale';

/** Free when no record, held while its process lives, stale when the drill that wrote it is gone. */
export function lockState(record: DrillLockRecord | undefined, alive: (pid: number) => boolean): LockState {
  if (!record) return 'free';
  return alive(record.pid) ? 'held' : 'stale';
}

export function parseLockRecord(text: string): DrillLockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<DrillLockRecord>;
    if (typeof value.pid !== 'number' || typeof value.token !== 'string') return undefined;
    return {
      pid: value.pid,
      token: value.token,
      drill: String(value.drill ?? 'unknown'),
      startedAt: String(value.startedAt ?? ''),
      owned: Array.isArray(value.owned) ? value.owned : [],
    };
  } catch {
    return undefined; // half-written or foreign: treated like a stale lock
  }
}

/**
 * One drill at a time on a drill lab (lab folder/drill.lock). A lock left by a drill that died
 * (SIGKILL, a crash) is stale: the processes it recorded are stopped before the next drill starts.
 */
export class DrillLock {
  private readonly token = randomUUID();
  private owned: OwnedRecord[] = [];
  private startedAt = new Date().toISOString();

  constructor(
    private readonly file: string,
    private readonly drill: string,
    private readonly log: (line: string) => void,
  ) {}

  private read(): DrillLockRecord | undefined {
    if (!existsSync(this.file)) return undefined;
    return (
      parseLockRecord(readFileSync(this.file, 'utf8')) ?? {
        pid: -1,
        token: '',
        drill: 'unreadable lock',
        startedAt: '',
        owned: [],
      }
    );
  }

  private write(): void {
    const record: DrillLockRecord = {
      pid: process.pid,
      token: this.token,
      drill: this.drill,
      startedAt: this.startedAt,
      owned: this.owned,
    };
    writeFileSync(this.file, `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Waits up to `waitMs` for a running drill to finish; clears a stale lock's leftovers. */
  async acquire(waitMs = 60_000): Promise<void> {
    const deadline = Date.now() + waitMs;
    let said = false;
    for (;;) {
      const record = this.read();
      const state = lockState(record, (pid) => pid > 0 && isAlive(pid));
      if (state === 'free' || record?.token === this.token) break;
      if (state === 'stale' && record) {
        await clearLeftovers(record, this.log);
        break;
      }
      if (Date.now() >= deadline)
        throw new Error(
          `another drill (${record?.drill}, pid ${record?.pid}, since ${record?.startedAt}) is running on this drill lab (${this.file}): wait for it to end, or give this one its own --lab-dir and --port-offset`,
        );
      if (!said) {
        this.log(
          `waiting for the drill ${record?.drill} (pid ${record?.pid}) to finish on this drill lab ...`,
        );
        said = true;
      }
      await sleep(500);
    }
    this.startedAt = new Date().toISOString();
    this.write();
  }

  recordOwned(entry: OwnedRecord): void {
    this.owned = [...this.owned.filter((o) => o.name !== entry.name), entry];
    this.write();
  }

  release(): void {
    if (this.read()?.token === this.token) rmSync(this.file, { force: true });
  }
}

/** Stops what a dead drill left running (only processes that still carry its marker). */
async function clearLeftovers(record: DrillLockRecord, log: (line: string) => void): Promise<void> {
  const cleared: string[] = [];
  for (const owned of record.owned) {
    if (!isOurs(owned.pid, owned.marker)) continue;
    signalGroupOrPid(owned.pid, 'SIGTERM', false);
    if (!(await waitForExit(owned.pid, 5000))) signalGroupOrPid(owned.pid, 'SIGKILL', false);
    cleared.push(`${owned.name} (pid ${owned.pid})`);
  }
  log(
    `cleared the stale lock of drill ${record.drill} (pid ${record.pid} is gone)${cleared.length ? `; stopped its leftovers: ${cleared.join(', ')}` : ''}`,
  );
}
