import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import type { TopicSpec } from './components/kafka';
import { INFRA_COMPONENTS, Lab, type LabConnection } from './lab';
import { findRepoRoot } from './repo';

/** Env var through which scripts/runTests.ts hands its running test lab to the test processes. */
export const TEST_LAB_DIR_ENV = 'ORDERLAB_TEST_LAB_DIR';
/** The shared test lab sits this far above the developer's own lab (LAB_PORT_OFFSET), so both can run at once. */
export const TEST_LAB_PORT_DISTANCE = 1000;

export function testLabDir(repoRoot: string = findRepoRoot()): string {
  return path.join(repoRoot, '.lab', 'test');
}

/** LAB_TEST_PORT_OFFSET if set, else LAB_PORT_OFFSET (default 0) + 1000. */
export function testLabPortOffset(env: Record<string, string | undefined> = process.env): number {
  if (env.LAB_TEST_PORT_OFFSET) return Number(env.LAB_TEST_PORT_OFFSET);
  return (env.LAB_PORT_OFFSET ? Number(env.LAB_PORT_OFFSET) : 0) + TEST_LAB_PORT_DISTANCE;
}

let shared: Promise<Lab> | undefined;

/**
 * The shared test lab's Lab object. Under scripts/runTests.ts it is already up; a test file run on
 * its own starts (or reuses) it and, if it started it, stops it when the process is done.
 */
export function sharedTestLab(): Promise<Lab> {
  shared ??= openSharedTestLab();
  return shared;
}

async function openSharedTestLab(): Promise<Lab> {
  const givenDir = process.env[TEST_LAB_DIR_ENV];
  if (givenDir) {
    const lab = new Lab({ dir: givenDir, log: () => undefined });
    const missing = INFRA_COMPONENTS.filter((c) => !lab.isRunning(c));
    if (missing.length > 0)
      throw new Error(
        `the test lab in ${givenDir} is not running ${missing.join(', ')} (did scripts/runTests.ts stop it?)`,
      );
    return lab;
  }
  const lab = new Lab({ dir: testLabDir(), portOffset: testLabPortOffset(), log: () => undefined });
  const result = await lab.up(INFRA_COMPONENTS);
  if (result.started.length > 0) {
    // This process started the lab, so this process stops it (nothing left running after a test).
    let stopping = false;
    process.on('beforeExit', () => {
      if (stopping) return;
      stopping = true;
      void lab
        .down()
        .catch((error: unknown) => console.error(`test lab: down failed: ${(error as Error).message}`));
    });
  }
  return lab;
}

/** Connection details of the shared test lab (PostgreSQL, Kafka, Prometheus). */
export async function testLab(): Promise<LabConnection> {
  return (await sharedTestLab()).connection();
}

export interface FreshDatabase {
  /** postgres:// URL for the orderlab role, which owns the database. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A new, empty, uniquely named database in the shared test PostgreSQL; the test runs its own migrations. */
export async function freshDatabase(prefix = 'test'): Promise<FreshDatabase> {
  const connection = await testLab();
  const name = `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40)}_${uniqueSuffix()}`;
  await withAdmin(connection.postgres.adminUrl, (client) =>
    client.query(`CREATE DATABASE "${name}" OWNER orderlab`),
  );
  const url = new URL(connection.postgres.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      withAdmin(connection.postgres.adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      ).then(() => undefined),
  };
}

async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A topic name no other test uses (create it with ensureTestTopics or let the code under test do it). */
export function uniqueTopic(prefix: string): string {
  return `${prefix.replace(/[^a-zA-Z0-9._-]/g, '_')}.${uniqueSuffix()}`;
}

/** Creates topics on the shared test lab's broker (auto-creation is off, as in the service's deployment). */
export async function ensureTestTopics(topics: readonly TopicSpec[]): Promise<void> {
  await (await sharedTestLab()).ensureTopics(topics);
}
