// Kafka access for the pipeline tests: the shared test lab's broker (lab/src/testing.ts) for tests
// that only use it, and a broker of their own for tests that kill it — killing the shared broker
// would fail every other test file running beside them.
import path from 'node:path';
import { Lab } from '../../../lab/src/lab';
import { findRepoRoot } from '../../../lab/src/repo';
import { testLab, testLabPortOffset } from '../../../lab/src/testing';

export { uniqueTopic } from '../../../lab/src/testing';

export async function kafkaBrokers(): Promise<string[]> {
  return [...(await testLab()).kafka.brokers];
}

/** A Kafka-only lab (60 ports above the shared test lab) that a broker-loss test may kill and restart. */
export interface OwnBroker {
  readonly brokers: string[];
  /** SIGKILLs the broker (no clean shutdown: the harshest loss). */
  kill(): Promise<void>;
  /** Starts it again (same data) and waits until it is ready. */
  start(): Promise<void>;
  down(): Promise<void>;
}

export async function startOwnBroker(): Promise<OwnBroker> {
  const repoRoot = findRepoRoot();
  const lab = new Lab({
    dir: path.join(repoRoot, '.lab', 'test-broker-loss'),
    portOffset: testLabPortOffset() + 60,
    services: '',
    repoRoot,
    log: () => undefined,
  });
  await lab.up(['kafka']);
  return {
    brokers: [...lab.connection().kafka.brokers],
    async kill() {
      if (!(await lab.kill('kafka'))) throw new Error('the broker-loss broker was not running');
    },
    async start() {
      await lab.start('kafka');
    },
    async down() {
      await lab.down();
    },
  };
}
