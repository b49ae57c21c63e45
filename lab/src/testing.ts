// INTERIM (replaced by the lab runtime branch): a throwaway database in a PostgreSQL reachable at
// ORDERLAB_TEST_PG_ADMIN_URL. The lab runtime provides the same functions on a lab it starts itself.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface FreshDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

const adminUrl = (): string =>
  process.env['ORDERLAB_TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5999/postgres';

export async function freshDatabase(prefix = 't'): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
