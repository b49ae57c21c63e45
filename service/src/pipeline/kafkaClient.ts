import {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  logLevel,
  type LogEntry,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { Config } from '../config/config';
import { ensureTopics } from './kafkaTopics';
import { startSendSpans, withProcessSpan } from './messagingSpans';
import type { OffsetsAdmin } from '../telemetry/consumerLag';
import type { Logger } from '../telemetry/logger';
import type {
  ConsumedMessage,
  EnsureTopics,
  EventPublisher,
  MessageContext,
  MessageSource,
  OutgoingMessage,
  TopicSpec,
} from './ports';

/**
 * The one file that knows kafkajs (2.2.4, unmaintained since 2023: keep it replaceable). Builds
 * idempotent producers (acks=all, ≤5 in flight), consumer groups that commit only what the
 * handler finished, and the topic provisioning.
 */
export interface KafkaPipelineClient {
  newPublisher(): EventPublisher;
  newConsumerGroup(options: ConsumerGroupOptions): MessageSource;
  ensureTopics: EnsureTopics;
  /** Offsets reader for the consumer-lag gauge (connects on first use, reconnects after errors). */
  newOffsetsAdmin(): OffsetsAdmin & { close(): Promise<void> };
}

export interface ConsumerGroupOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly partitionsConcurrency: number;
  /**
   * Messages of one partition handled at once: a window of this many is split by key and the keys
   * run concurrently, each key's messages in order; offsets move only past a finished window.
   */
  readonly messagesConcurrency: number;
  readonly sessionTimeoutMs: number;
  /** Called when the consumer's membership changes (joined a group, crashed, left). */
  readonly onStateChange?: (state: 'joined' | 'crashed' | 'stopped', error?: Error) => void;
}

export function createKafkaClient(
  config: Config['kafka'],
  logger: Logger,
  options: { replicationFactor?: number } = {},
): KafkaPipelineClient {
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => logKafka(logger, entry),
  });
  // Publishers get their own client with bounded connection retries: with the broker gone a send
  // fails within seconds and the relay's backoff takes over (consumers keep kafkajs's defaults,
  // under which they rejoin by themselves when the broker returns).
  const publishing = new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => logKafka(logger, entry),
  });
  const replicationFactor = options.replicationFactor ?? config.replicationFactor;
  return {
    newPublisher: () => new KafkaEventPublisher(publishing),
    newConsumerGroup: (opts) => new KafkaMessageSource(kafka, opts),
    // The bounded-retry client: a lag poll must fail fast with the broker away, not hold shutdown.
    newOffsetsAdmin: () => new KafkaOffsetsAdmin(publishing),
    ensureTopics: async (topics: readonly TopicSpec[]) => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return await ensureTopics(admin, topics, { replicationFactor });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

class KafkaOffsetsAdmin implements OffsetsAdmin {
  private admin: Promise<Admin> | undefined;

  constructor(private readonly kafka: Kafka) {}

  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string }[]> {
    return this.using((admin) => admin.fetchTopicOffsets(topic));
  }

  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> {
    return this.using((admin) => admin.fetchOffsets(options));
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  private async using<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    try {
      return await work(await this.admin);
    } catch (err) {
      await this.close();
      throw err;
    }
  }
}

class KafkaEventPublisher implements EventPublisher {
  private producer: Promise<Producer> | undefined;

  constructor(private readonly kafka: Kafka) {}

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const producer = await this.connected();
    const spans = startSendSpans(topic, messages);
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: messages.map((m, i) => ({ key: m.key, value: m.value, headers: spans.headers[i] })),
      });
    } catch (err) {
      spans.end(err as Error);
      throw err;
    }
    spans.end();
  }

  async reset(): Promise<void> {
    const current = this.producer;
    this.producer = undefined;
    const producer = await current?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.reset();
  }

  private connected(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 5,
        allowAutoTopicCreation: false,
        // murmur2 on the key, as the Java client: an order's events share a partition in every client.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded: while the broker is away the relay's own backoff takes over, so a batch
        // fails in seconds instead of holding its rows locked for minutes.
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      await producer.connect();
      return producer;
    })().catch((err: unknown) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }
}

const COMMIT_EVERY_MESSAGES = 50;
const COMMIT_EVERY_MS = 200;

class KafkaMessageSource implements MessageSource {
  private consumer: Consumer | undefined;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumerGroupOptions,
  ) {}

  async start(handle: (message: ConsumedMessage, context: MessageContext) => Promise<void>): Promise<void> {
    const { groupId, topic, partitionsConcurrency, messagesConcurrency, sessionTimeoutMs, onStateChange } =
      this.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(1000, Math.floor(sessionTimeoutMs / 5)),
      allowAutoTopicCreation: false,
      // Short fetch waits keep close() (which waits for the fetch in flight) under a second.
      maxWaitTimeInMs: 500,
    });
    if (this.closed) return;
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => onStateChange?.('joined'));
    consumer.on(consumer.events.CRASH, (event) => onStateChange?.('crashed', event.payload.error));
    consumer.on(consumer.events.STOP, () => onStateChange?.('stopped'));
    try {
      await consumer.connect();
      // A new group starts at the beginning: events published before the first worker ran count too.
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitionsConcurrency,
      // kafkajs hands plain closures (its docs destructure them); its typings declare them as methods.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { topic: t, partition } = batch;
        let next: string | undefined;
        let uncommitted = 0;
        let lastCommit = Date.now();
        // Offsets are committed only for messages whose handler finished (its transaction committed),
        // coalesced: a crash re-delivers at most a few, and those are deduplicated by event id.
        const commit = async (): Promise<void> => {
          if (next === undefined || uncommitted === 0) return;
          await consumer.commitOffsets([{ topic: t, partition, offset: next }]);
          uncommitted = 0;
          lastCommit = Date.now();
        };
        try {
          const window = Math.max(1, messagesConcurrency);
          for (let at = 0; at < batch.messages.length; at += window) {
            if (!isRunning() || isStale()) break;
            const chunk = batch.messages.slice(at, at + window);
            await Promise.all(
              [...groupByKey(chunk).values()].map(async (sameKey) => {
                for (const message of sameKey) {
                  const consumed: ConsumedMessage = {
                    topic: t,
                    partition,
                    offset: message.offset,
                    key: message.key,
                    value: message.value,
                    headers: headersToStrings(message.headers),
                  };
                  await withProcessSpan(consumed, () => handle(consumed, { heartbeat }));
                }
              }),
            );
            const last = chunk[chunk.length - 1]!;
            resolveOffset(last.offset);
            next = (BigInt(last.offset) + 1n).toString();
            uncommitted += chunk.length;
            if (uncommitted >= COMMIT_EVERY_MESSAGES || Date.now() - lastCommit >= COMMIT_EVERY_MS)
              await commit();
            await heartbeat();
          }
        } finally {
          await commit();
        }
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // disconnect() waits for the message in hand, then leaves the group (a prompt rebalance).
    await this.consumer?.disconnect();
  }
}

/** Messages by key in arrival order; keyless messages each form their own group. */
function groupByKey<M extends { key: Buffer | null }>(messages: readonly M[]): Map<string | M, M[]> {
  const groups = new Map<string | M, M[]>();
  for (const m of messages) {
    const id = m.key === null ? m : m.key.toString('latin1');
    const group = groups.get(id);
    if (group) group.push(m);
    else groups.set(id, [m]);
  }
  return groups;
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

function logKafka(logger: Logger, { level, log }: LogEntry): void {
  const { message, ...rest } = log;
  const fields = { component: 'kafkajs', ...rest };
  // kafkajs reports every refused connection as an error; our code decides what is one, so cap at warn.
  if (level <= logLevel.WARN) logger.warn(message, fields);
  else logger.debug(message, fields);
}
