import type { Admin } from 'kafkajs';

/** A topic and the partitions it must have (at least). */
export interface WantedTopic {
  readonly name: string;
  readonly partitions: number;
}

/** How long a topic's creation may take to show a leader for every partition. */
export const TOPIC_LEADERS_TIMEOUT_MS = 30_000;

/** Metadata errors that mean "the broker has not caught up with the new topic yet", not a failure. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Whether the metadata shows each topic with at least its wanted partitions, each with a leader. */
export function topicsReady(
  metadata: { topics: readonly { name: string; partitions: readonly { leader: number }[] }[] },
  wanted: readonly WantedTopic[],
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
  wanted: readonly WantedTopic[],
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
