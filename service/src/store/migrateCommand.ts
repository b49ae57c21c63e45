import { ConfigError, loadConfig } from '../config/config';
import { migrate } from './migrate';
import { createPool } from './pool';

const HELP = `Usage: npm run migrate [-- --help]

Applies pending schema migrations to DATABASE_URL (default postgres://orderlab:orderlab@127.0.0.1:5432/orderlab).
Safe to run twice and from several processes at once (advisory lock). Exit 0 when the schema is current.`;

async function run(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig();
  const pool = createPool(config.database, 'orderlab-migrate');
  try {
    const report = await migrate(pool);
    console.log(
      report.applied.length > 0
        ? `migrate: applied ${report.applied.join(', ')}; schema at version ${report.current}`
        : `migrate: nothing to do; schema at version ${report.current}`,
    );
    return 0;
  } finally {
    await pool.end();
  }
}

run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`migrate: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
    process.exit(1);
  },
);
