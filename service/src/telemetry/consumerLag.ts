import type { ServiceMetrics } from './metrics';

/** The two kafkajs admin calls lag needs (structural, so telemetry does not import the driver). */
export interface OffsetsAdmin {
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string }[]>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * Consumer lag = newest offset − committed offset, per partition, polled every `intervalMs`
 * (not at scrape time: two broker round trips per scrape would make scrapes hang with Kafka).
 * Returns a stop function for the lifecycle.
 */
export function pollConsumerLag(options: {
  admin: OffsetsAdmin;
  groupId: string;
  topic: string;
  metrics: ServiceMetrics;
  intervalMs: number;
  onError?: (err: unknown) => void;
}): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const poll = async () => {
    try {
      const lag = await measureConsumerLag(options.admin, options.groupId, options.topic);
      for (const { partition, lag: value } of lag)
        options.metrics.setConsumerLag(options.topic, partition, value);
    } catch (err) {
      options.onError?.(err);
    }
  };
  const timer = setInterval(() => {
    running ??= poll().finally(() => (running = undefined));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      // Wait a little for a poll in flight, never for a broker that is away.
      await Promise.race([running, new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  };
}

export async function measureConsumerLag(
  admin: OffsetsAdmin,
  groupId: string,
  topic: string,
): Promise<{ partition: number; lag: number }[]> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committedByPartition = new Map(
    (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  return ends.map(({ partition, high }) => {
    const end = Number(high);
    const done = committedByPartition.get(partition) ?? -1;
    // -1 means the group never committed on this partition: everything up to the end is lag.
    return { partition, lag: Math.max(0, done < 0 ? end : end - done) };
  });
}
