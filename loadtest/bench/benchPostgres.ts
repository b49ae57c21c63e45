import { Lab } from '../../lab/src/lab';

export interface BenchPostgres {
  /** Superuser URL to create the benchmark's databases in. */
  readonly adminUrl: string;
  /** Stops the lab's PostgreSQL if this run started it; leaves a running lab alone. */
  release(): Promise<void>;
}

/**
 * The PostgreSQL a benchmark or profile uses: the one named by --pg-admin-url, else the native
 * lab's (started for the run when it is not running, and stopped again afterwards).
 */
export async function acquirePostgres(
  adminUrl: string | undefined,
  log: (line: string) => void,
): Promise<BenchPostgres> {
  if (adminUrl) return { adminUrl, release: () => Promise.resolve() };
  const lab = new Lab({ log: (line) => log(`lab: ${line.trim()}`) });
  const up = await lab.up(['postgres']);
  const started = up.started.includes('postgres');
  log(`${started ? 'started' : 'using'} the native lab's PostgreSQL (${lab.dir})`);
  return {
    adminUrl: lab.connection().postgres.adminUrl,
    release: async () => {
      if (started) await lab.stop('postgres');
    },
  };
}
