import { Kafka, logLevel } from 'kafkajs';

export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning with a throwaway consumer group (an independent witness of what
 * was published) until `until` is satisfied or `timeoutMs` passes; returns what it saw.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  until: (messages: readonly ReadMessage[]) => boolean,
  timeoutMs = 20000,
): Promise<ReadMessage[]> {
  const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 200 });
  const messages: ReadMessage[] = [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(
      `topic ${topic} exists`,
      async () => ((await admin.listTopics()).includes(topic) ? true : undefined),
      timeoutMs,
    );
  } finally {
    await admin.disconnect();
  }
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          const first = Array.isArray(v) ? v[0] : v;
          if (first !== undefined) headers[k] = first.toString();
        }
        messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers,
        });
        if (until(messages)) resolveDone();
        return Promise.resolve();
      },
    });
    if (until(messages)) resolveDone();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return [...messages];
  } finally {
    await consumer.disconnect();
  }
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after timeoutMs. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${failureText(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What the last failed check left: an error as text, else the value as JSON. */
function failureText(last: unknown): string {
  return last instanceof Error ? String(last) : JSON.stringify(last);
}
