// Kafka access for the pipeline tests, on the shared test lab (lab/src/testing.ts): its broker
// addresses, unique topic names, and the lab's SIGKILL/start of the broker for broker-loss tests.
import { sharedTestLab, testLab } from '../../../lab/src/testing';

export { uniqueTopic } from '../../../lab/src/testing';

export async function kafkaBrokers(): Promise<string[]> {
  return [...(await testLab()).kafka.brokers];
}

/** SIGKILLs the test lab's broker (no clean shutdown: the harshest loss). */
export async function killBroker(): Promise<void> {
  if (!(await (await sharedTestLab()).kill('kafka'))) throw new Error('the test lab broker was not running');
}

/** Starts the test lab's broker again and waits until it is ready. */
export async function startBroker(): Promise<void> {
  await (await sharedTestLab()).start('kafka');
}
