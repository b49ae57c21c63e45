import type { Admin } from 'kafkajs';
import type { TopicSpec } from './ports';

/** How long a topic's creation may take to show a leader for every partition. */
export const TOPIC_LEADERS_TIMEOUT_MS = 30_000;

/** Metadata errors that mean "the broker has not caught up with the new topic yet", not a failure. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Whether the metadata shows each topic with at least its wanted partitions, each with a leader. */
export function topicsReady(
  metadata: { topics: readonly { name: string; partitions: readonly { leader: number }[] }[] },
  wanted: readonly TopicSpec[],
): boolean {
  return wanted.every((spec) => {
    const topic = metadata.topics.find((t) => t.name === spec.name);
    return (
      topic !== undefined &&
      topic.partitions.length >= spec.partitions &&
      topic.partitions.every((p) => p.leader >= 0)
    );
  });
}

/**
 * Waits until every partition of the topics has a leader. Use it after `createTopics` with
 * `waitForLeaders: false`: kafkajs's own wait gives up on the first UNKNOWN_TOPIC_OR_PARTITION,
 * which a KRaft broker answers for a moment after creating a topic, before its metadata cache has
 * it. Here metadata is polled every 100 ms, those "not yet" answers tolerated, until `timeoutMs`.
 */
export async function awaitTopicLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  wanted: readonly TopicSpec[],
  timeoutMs = TOPIC_LEADERS_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: wanted.map((t) => t.name) });
      if (topicsReady(metadata, wanted)) return;
      last = 'some partitions have no leader yet';
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      if (typeof type !== 'string' || !NOT_YET.has(type)) throw error;
      last = type;
    }
    if (Date.now() > deadline)
      throw new Error(
        `Kafka topics ${wanted.map((t) => t.name).join(', ')} not ready after ${timeoutMs / 1000} s (${last})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The one topic provisioning (the service's pipeline and the native lab): creates the missing
 * topics, with `growPartitions` also adds partitions to existing ones that have fewer, and returns
 * once every partition of every wanted topic has a leader. Idempotent; another process
 * creating the same topic meanwhile is fine (createTopics then reports false). Resolves to the
 * names created.
 */
export async function ensureTopics(
  admin: Pick<Admin, 'listTopics' | 'createTopics' | 'createPartitions' | 'fetchTopicMetadata'>,
  wanted: readonly TopicSpec[],
  options: { replicationFactor: number; growPartitions?: boolean; timeoutMs?: number },
): Promise<readonly string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: options.replicationFactor,
      })),
    });
  }
  const present = wanted.filter((t) => existing.has(t.name));
  if (options.growPartitions && present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grown = present.filter(
      (t) => (metadata.topics.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions,
    );
    if (grown.length > 0)
      await admin.createPartitions({
        topicPartitions: grown.map((t) => ({ topic: t.name, count: t.partitions })),
      });
  }
  await awaitTopicLeaders(admin, wanted, options.timeoutMs);
  return missing.map((t) => t.name);
}
