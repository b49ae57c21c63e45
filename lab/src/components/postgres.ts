import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { LabError, waitUntil } from '../processes';
import { ensurePrerequisites, findPostgresBin, isRoot, prerequisite } from '../prerequisites';
import { childEnv, type ComponentDriver, type LabContext, type Launch } from './types';

export const APP_ROLE = 'orderlab';
export const APP_PASSWORD = 'orderlab';
export const APP_DATABASE = 'orderlab';

export function postgresUrls(port: number): { url: string; adminUrl: string } {
  return {
    url: `postgres://${APP_ROLE}:${APP_PASSWORD}@127.0.0.1:${port}/${APP_DATABASE}`,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
  };
}

/** initdb/postgres refuse to run as root: as root we run them as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new LabError(
      'running as root but there is no `postgres` user to run PostgreSQL as: install the Debian postgresql package (it creates the user)',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * The first existing folder on the way to `dir` that `user` may not enter (no search permission for
 * its owner, group or others as they apply), or undefined. PostgreSQL runs as the `postgres` user,
 * so a lab under a folder closed to others (a home folder such as /root, a `mktemp -d`) cannot hold
 * its data directory.
 */
export function unenterableAncestor(
  dir: string,
  user: { uid: number; gid: number },
  stat: (p: string) => { mode: number; uid: number; gid: number } | undefined = (p) =>
    existsSync(p) ? statSync(p) : undefined,
): { path: string; mode: number } | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    const st = stat(folder);
    if (!st) return undefined; // not created yet: it will be, by the lab, with the right owner
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return { path: folder, mode: st.mode & 0o777 };
  }
  return undefined;
}

/** Where PostgreSQL data goes when the postgres user cannot reach the lab folder (/var/tmp is open to all). */
export const RELOCATED_DATA_ROOT = '/var/tmp/orderlab-postgres';

/**
 * The data folder of a lab whose own folder the postgres user cannot enter (a clone under /root or
 * in a `mktemp -d` folder): one per lab folder, stable across `up`/`down`, so a restart finds its
 * cluster again. Throwaway data, like the rest of the lab's.
 */
export function relocatedDataDir(home: string): string {
  const key = createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16);
  return path.join(RELOCATED_DATA_ROOT, key, 'data');
}

/** File beside a relocated data folder naming the lab folder it belongs to (`lab purge --orphans` reads it). */
export const OWNER_FILE = 'lab-dir';

function recordOwner(relocatedDataDir: string, labDir: string): void {
  mkdirSync(path.dirname(relocatedDataDir), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(path.dirname(relocatedDataDir), OWNER_FILE), `${path.resolve(labDir)}\n`);
}

export function postgresDriver(ctx: LabContext): ComponentDriver {
  const home = path.join(ctx.dir, 'postgres');
  // Decided in prepare(): in the lab folder, unless the postgres user cannot reach it.
  let dataDir = path.join(home, 'data');
  const port = ctx.plan.postgres;
  let bin: string | undefined;
  let user: { uid: number; gid: number } | undefined;

  return {
    name: 'postgres',
    ports: [port],
    stopSignal: 'SIGINT',
    stopTimeoutMs: 20_000,
    async prepare() {
      await ensurePrerequisites([prerequisite('postgresql')], ctx.log, ctx.env);
      bin = findPostgresBin(ctx.env);
      if (bin === undefined) throw new LabError('PostgreSQL binaries not found after installing postgresql');
      user = serverUser();
      const closed = user ? unenterableAncestor(home, user) : undefined;
      if (closed) {
        dataDir = relocatedDataDir(home);
        recordOwner(dataDir, ctx.dir);
        ctx.log(
          `  postgres: the postgres user cannot enter ${closed.path} (mode ${closed.mode.toString(8)}): its data goes to ${dataDir}`,
        );
      }
      if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
      mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (user) chownSync(dataDir, user.uid, user.gid);
      const init = spawnSync(
        path.join(bin, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          'postgres',
          '--auth-local=trust',
          '--auth-host=trust',
          '-E',
          'UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        { encoding: 'utf8', timeout: 120_000, cwd: path.dirname(dataDir), ...(user ?? {}) },
      );
      if (init.status !== 0) {
        const reason = init.error
          ? init.error.message
          : (init.stderr || init.stdout).trim().split('\n').slice(-1)[0];
        throw new LabError(`initdb failed in ${dataDir}: ${reason} (remove that folder and retry)`);
      }
    },
    launch(): Launch {
      if (!bin) throw new Error('prepare() first');
      return {
        command: path.join(bin, 'postgres'),
        args: [
          '-D',
          dataDir,
          '-c',
          `port=${port}`,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
          // Throwaway test data: durability traded for speed (as practica's test Postgres does).
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=300',
        ],
        env: childEnv(ctx.env),
        cwd: path.dirname(dataDir),
        ...(user ?? {}),
        marker: dataDir,
      };
    },
    async waitReady(pid, logPath) {
      const { adminUrl } = postgresUrls(port);
      await waitUntil(
        `postgres on 127.0.0.1:${port}`,
        async () => {
          const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
          try {
            await client.connect();
            await client.query('SELECT 1');
            return true;
          } finally {
            await client.end().catch(() => undefined);
          }
        },
        { timeoutMs: 30_000, pid, logPath },
      );
      await ensureAppRoleAndDatabase(adminUrl);
    },
  };
}

/** The role and database the service uses; the role may create databases (tests make their own). */
async function ensureAppRoleAndDatabase(adminUrl: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0)
      await client.query(`CREATE ROLE ${APP_ROLE} LOGIN CREATEDB PASSWORD '${APP_PASSWORD}'`);
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [APP_DATABASE]);
    if (db.rowCount === 0) await client.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_ROLE}`);
  } finally {
    await client.end();
  }
}

/**
 * Drops and recreates the service's database (benchmarks that must start from an empty outbox
 * and order tables every run). Nothing may be connected to it but the caller's own pools.
 */
export async function recreateAppDatabase(adminUrl: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${APP_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_ROLE}`);
  } finally {
    await client.end();
  }
}
