/**
 * What the relay and the worker need from a message broker. kafkaClient.ts implements these with
 * kafkajs; nothing else in the pipeline imports the driver.
 */

export interface OutgoingMessage {
  /** Partition key: the order id, so every event of one order lands on one partition, in order. */
  readonly key: string;
  readonly value: Buffer | string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface EventPublisher {
  /** Resolves once the broker acknowledged every message (acks=all); rejects otherwise. */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Drops the connection so the next send starts from a fresh one (after broker loss). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface MessageContext {
  /** Keeps group membership alive during a long retry. */
  heartbeat(): Promise<void>;
}

/**
 * Delivers messages of a consumer group one at a time per partition. The offset of a message is
 * committed only after `handle` resolves; when it rejects nothing is committed and the message
 * comes again (after a restart or a rebalance).
 */
export interface MessageSource {
  start(handle: (message: ConsumedMessage, context: MessageContext) => Promise<void>): Promise<void>;
  /** Lets the message in hand finish (and commit), then leaves the group. */
  close(): Promise<void>;
}

/** A topic and the partitions it must have (at least). */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

/** Creates missing topics; existing ones are left as they are. Resolves to the names created. */
export type EnsureTopics = (topics: readonly TopicSpec[]) => Promise<readonly string[]>;

/**
 * Callbacks the pipeline fires so telemetry can count and time it without the pipeline knowing
 * about metrics. Every callback is optional and must not throw.
 */
export interface PipelineHooks {
  onPublished?(batchSize: number, seconds: number): void;
  onPublishFailed?(batchSize: number, error: Error): void;
  onProcessed?(type: string, outcome: ProcessOutcome, seconds: number): void;
  /** Acceptance → confirmation delay of an order the worker confirmed. */
  onConfirmed?(delaySeconds: number): void;
  onDeadLettered?(reason: DeadLetterReason): void;
}

export type ProcessOutcome =
  'confirmed' | 'rejected' | 'recorded' | 'skipped' | 'duplicate' | 'dead_lettered' | 'retry';

export type DeadLetterReason =
  | 'unparseable'
  | 'invalid_envelope'
  | 'unknown_type'
  | 'order_not_found'
  | 'invalid_transition'
  | 'processing_failed';
