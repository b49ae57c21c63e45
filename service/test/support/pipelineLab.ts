// INTERIM Kafka access for the pipeline tests until the lab runtime lands on main: a broker the
// developer started by hand (see docs/event-pipeline.md). After the merge these functions
// delegate to lab/src/testing.ts (testLab, uniqueTopic) and the lab's kill/start of `kafka`.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export function kafkaBrokers(): string[] {
  return (process.env['ORDERLAB_TEST_KAFKA_BROKERS'] ?? '127.0.0.1:59592').split(',');
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** SIGKILLs the test broker (no clean shutdown: the harshest loss). */
export async function killBroker(): Promise<void> {
  const pidFile = process.env['ORDERLAB_TEST_KAFKA_PIDFILE'] ?? '/tmp/kafka-59592/broker.pid';
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`broker ${pid} did not die`);
}

/** Starts the test broker again and waits until it accepts connections. */
export async function startBroker(): Promise<void> {
  const script = process.env['ORDERLAB_TEST_KAFKA_START'] ?? '/tmp/kafka-59592/start.sh';
  execFileSync(script, { stdio: 'ignore' });
  const [host, port] = kafkaBrokers()[0]!.split(':');
  const deadline = Date.now() + 90000;
  while (!(await accepts(host!, Number(port)))) {
    if (Date.now() > deadline) throw new Error('broker did not come back within 90 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
