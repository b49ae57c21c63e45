import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Kafka, type ISocketFactory, logLevel } from 'kafkajs';

/** Where a drill reads or writes Kafka from this machine. */
export interface KafkaAccess {
  readonly brokers: readonly string[];
  /** Advertised host names this machine cannot resolve → addresses (a compose network's names). */
  readonly hostAliases?: Readonly<Record<string, string>>;
}

/** A kafkajs client for the drill side: connects to an alias's address when the broker names one. */
export function drillKafka(clientId: string, access: KafkaAccess): Kafka {
  const aliases = access.hostAliases ?? {};
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host: aliases[host] ?? host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
  return new Kafka({
    clientId,
    brokers: [...access.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
    ...(Object.keys(aliases).length > 0 ? { socketFactory } : {}),
  });
}

export interface TopicMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
}

/**
 * Reads a whole topic from the beginning with a fresh consumer group, up to the high watermarks
 * seen when called: what is really in the log, independent of the service.
 */
export async function readTopic(
  access: KafkaAccess,
  topic: string,
  timeoutMs = 30_000,
): Promise<TopicMessage[]> {
  const kafka = drillKafka('orderlab-drill-audit', access);
  const admin = kafka.admin();
  await admin.connect();
  let highWatermarks: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    highWatermarks = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const remaining = new Set([...highWatermarks.entries()].filter(([, hw]) => hw > 0n).map(([p]) => p));
  const messages: TopicMessage[] = [];
  if (remaining.size === 0) return messages;

  const groupId = `orderlab-drill-audit-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `reading ${topic}: partitions ${[...remaining].join(',')} not read to the end in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            const hw = highWatermarks.get(batch.partition) ?? 0n;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= hw) continue;
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(m.headers ?? {})) {
                if (v === undefined) continue;
                headers[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
              }
              messages.push({
                partition: batch.partition,
                offset: m.offset,
                key: m.key ? m.key.toString() : null,
                value: m.value ? m.value.toString() : null,
                headers,
              });
            }
            const last = batch.messages.at(-1);
            if (last && BigInt(last.offset) >= hw - 1n) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    // The audit group is throwaway: remove it so drills leave no groups behind.
    const cleanup = kafka.admin();
    try {
      await cleanup.connect();
      await cleanup.deleteGroups([groupId]);
    } catch {
      // best effort
    } finally {
      await cleanup.disconnect().catch(() => undefined);
    }
  }
  return messages;
}

/** The order id a message is about: its key, else the envelope's subject or data.id. */
export function orderIdOf(message: TopicMessage): string | undefined {
  if (message.key) return message.key;
  try {
    const v = JSON.parse(message.value ?? '') as {
      subject?: string;
      data?: { id?: string; orderId?: string };
    };
    return v.subject ?? v.data?.orderId ?? v.data?.id;
  } catch {
    return undefined;
  }
}

export function eventTypeOf(message: TopicMessage): string | undefined {
  try {
    return (JSON.parse(message.value ?? '') as { type?: string }).type;
  } catch {
    return undefined;
  }
}
