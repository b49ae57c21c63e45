/**
 * Removing labs for good. `down` keeps a lab's data so the next `up` finds it; `purge` also deletes
 * the lab folder and, for a lab whose PostgreSQL data had to live outside it (a lab folder the
 * `postgres` user cannot enter, e.g. in a `mktemp -d` clone), that data under /var/tmp. Deleting a
 * clone without purging its labs leaves such data behind: `purge --orphans` finds it again.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { OWNER_FILE, RELOCATED_DATA_ROOT, relocatedDataDir } from './components/postgres';

/** The folder under /var/tmp that holds this lab's PostgreSQL data if it had to be relocated. */
export function relocatedFolderOf(labDir: string): string {
  return path.dirname(relocatedDataDir(path.join(path.resolve(labDir), 'postgres')));
}

/** What every lab folder holds once it has been up (see Lab.statePath). */
export const STATE_FILE = 'state.json';

export interface FolderProbe {
  /** undefined when nothing is there. */
  kind(p: string): 'dir' | 'file' | undefined;
  entries(p: string): string[];
}

const fsProbe: FolderProbe = {
  kind: (p) => {
    if (!existsSync(p)) return undefined;
    return lstatSync(p).isDirectory() ? 'dir' : 'file';
  },
  entries: (p) => readdirSync(p),
};

/**
 * Why `dir` must not be purged (it is deleted recursively), or undefined when it may: it must be
 * a lab folder (holds state.json, or is empty or absent) and neither the filesystem root nor the
 * repository or a folder holding it.
 */
export function purgeRefusal(
  dir: string,
  repoRoot: string,
  probe: FolderProbe = fsProbe,
): string | undefined {
  const target = path.resolve(dir);
  const repo = path.resolve(repoRoot);
  if (target === path.parse(target).root) return `refusing to purge ${target}: the filesystem root`;
  if (repo === target || repo.startsWith(target + path.sep))
    return `refusing to purge ${target}: it holds the repository (${repo})`;
  const kind = probe.kind(target);
  if (kind === undefined) return undefined;
  if (kind !== 'dir') return `refusing to purge ${target}: not a folder`;
  const entries = probe.entries(target);
  if (entries.length > 0 && !entries.includes(STATE_FILE))
    return `refusing to purge ${target}: not a lab folder (no ${STATE_FILE}; a lab writes one on its first up)`;
  return undefined;
}

/** One folder under the relocated data root and what is known about it. */
export interface RelocatedFolder {
  readonly path: string;
  /** The lab folder recorded at initdb; undefined for folders made before owners were recorded. */
  readonly labDir: string | undefined;
  /** pid in the cluster's postmaster.pid, when PostgreSQL is (or was, after a crash) running. */
  readonly postmasterPid: number | undefined;
}

export type OrphanVerdict = 'orphan' | 'lab exists' | 'postgres running' | 'owner unknown';

/**
 * Whether a relocated data folder may go: only when its lab folder is gone and no PostgreSQL runs
 * on it. (A lab makes its folder before it prepares PostgreSQL, so a lab starting for the first
 * time is never taken for an orphan.) Folders without a recorded owner are left alone.
 */
export function orphanVerdict(
  folder: RelocatedFolder,
  facts: { labExists: (labDir: string) => boolean; alive: (pid: number) => boolean },
): OrphanVerdict {
  if (folder.postmasterPid !== undefined && facts.alive(folder.postmasterPid)) return 'postgres running';
  if (folder.labDir === undefined) return 'owner unknown';
  return facts.labExists(folder.labDir) ? 'lab exists' : 'orphan';
}

/** The folders under the relocated data root (none when it does not exist). */
export function listRelocated(root: string = RELOCATED_DATA_ROOT): RelocatedFolder[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .map((name) => path.join(root, name))
    .filter((p) => lstatSync(p).isDirectory())
    .map((p) => ({ path: p, labDir: readOwner(p), postmasterPid: readPostmasterPid(path.join(p, 'data')) }));
}

function readOwner(folder: string): string | undefined {
  try {
    return readFileSync(path.join(folder, OWNER_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const labExists = (labDir: string): boolean => existsSync(labDir);

/** Bytes of the files under `p` (not following links); 0 when it is gone. */
export function folderBytes(p: string): number {
  if (!existsSync(p)) return 0;
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(p)) {
    try {
      total += folderBytes(path.join(p, name));
    } catch {
      // vanished or unreadable while counting: the size is a report, not a promise
    }
  }
  return total;
}

export interface Removed {
  readonly path: string;
  readonly bytes: number;
}

/** Deletes `p` recursively if it is there, reporting what it held. */
export function removeFolder(p: string): Removed | undefined {
  if (!existsSync(p)) return undefined;
  const bytes = folderBytes(p);
  rmSync(p, { recursive: true, force: true });
  return { path: p, bytes };
}

/** Removes relocated data folders whose lab is gone; says what it kept and why. */
export function purgeOrphans(root: string = RELOCATED_DATA_ROOT): {
  removed: Removed[];
  kept: { path: string; verdict: OrphanVerdict; labDir: string | undefined }[];
} {
  const removed: Removed[] = [];
  const kept: { path: string; verdict: OrphanVerdict; labDir: string | undefined }[] = [];
  for (const folder of listRelocated(root)) {
    const verdict = orphanVerdict(folder, { labExists, alive: isAlive });
    if (verdict === 'orphan') {
      const r = removeFolder(folder.path);
      if (r) removed.push(r);
    } else {
      kept.push({ path: folder.path, verdict, labDir: folder.labDir });
    }
  }
  return { removed, kept };
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
