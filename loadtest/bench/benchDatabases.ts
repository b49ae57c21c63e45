import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '../../service/src/store/migrate';
import { createPool } from '../../service/src/store/pool';

export interface VariantDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, work: (c: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * One fresh database per variant, migrated with the service's own migrations, so every variant
 * starts from the same empty schema and no variant reads rows another one wrote.
 */
export async function createVariantDatabase(adminUrl: string, variant: string): Promise<VariantDatabase> {
  const name = `bench_${variant.replace(/[^a-z0-9]/gi, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(
    {
      url: url.toString(),
      poolMax: 1,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 30000,
      idleTimeoutMs: 1000,
      migrateOnStart: true,
    },
    'orderlab-bench-migrate',
  );
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}
