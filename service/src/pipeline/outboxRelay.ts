import type { Logger } from '../telemetry/logger';
import { backoffDelay, WakeSignal } from './backoff';
import { type OutboxEventRow, toEnvelope, toKafkaHeaders } from './envelope';
import type { EventPublisher, OutgoingMessage, PipelineHooks } from './ports';

/** What the relay needs from the database; store/outboxStore.ts implements it with pg. */
export interface OutboxStore {
  /**
   * In one transaction: claims up to `limit` rows that may be published now (the oldest
   * unpublished row of each order, skipping rows other relays hold), runs `publish`, then marks
   * them published and commits. When `publish` rejects, the rows' attempts and last error are
   * recorded, the transaction commits and the error is rethrown. Resolves to the rows published.
   */
  publishBatch(limit: number, publish: (rows: readonly OutboxEventRow[]) => Promise<void>): Promise<number>;
  /** Calls `onInsert` whenever outbox rows commit; the returned function stops listening. */
  listenForInserts(onInsert: () => void): Promise<() => Promise<void>>;
}

export interface OutboxRelayOptions {
  readonly store: OutboxStore;
  /** One publisher per claim loop keeps each idempotent producer's sends strictly sequential. */
  readonly newPublisher: () => EventPublisher;
  readonly topic: string;
  readonly source: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly pollMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly logger: Logger;
  readonly hooks?: PipelineHooks;
  /**
   * Topic provisioning, awaited before every claim and retried with backoff until it works; the
   * roles pass one that settles once per process (relay and worker share it), so this is cheap.
   */
  readonly prepare?: () => Promise<void>;
}

/**
 * Moves outbox rows to Kafka. Each claim loop takes a batch under `FOR UPDATE SKIP LOCKED`,
 * publishes it and marks it published in the same transaction, so a row is never dropped: if the
 * process dies mid-batch the lock goes with it and another loop republishes (at least once; the
 * worker deduplicates by event id). Runs N loops per process and any number of processes.
 */
export class OutboxRelay {
  private readonly signal = new WakeSignal();
  private loops: Promise<void>[] = [];
  private stopListening: (() => Promise<void>) | undefined;
  private lastSuccessAt = Date.now();
  private consecutiveFailures = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  /** Starts the claim loops; the LISTEN connection is set up in the background. */
  start(): void {
    const { logger } = this.options;
    void this.options.store
      .listenForInserts(() => this.signal.notify())
      .then((stop) => {
        if (this.signal.isCancelled) void stop();
        else this.stopListening = stop;
      })
      .catch((err: unknown) => logger.warn('outbox LISTEN failed; relying on polling', { err }));
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.runLoop(i));
    logger.info('outbox relay started', {
      topic: this.options.topic,
      batchSize: this.options.batchSize,
      concurrency: this.options.concurrency,
    });
  }

  /** True unless publishing has failed for longer than the maximum backoff. */
  get healthy(): boolean {
    return this.consecutiveFailures < 3 || Date.now() - this.lastSuccessAt < this.options.maxBackoffMs * 2;
  }

  /** Finishes the batch in hand, then stops every loop and releases its connections. */
  async close(): Promise<void> {
    this.signal.cancel();
    await Promise.all(this.loops);
    await this.stopListening?.();
  }

  private async runLoop(loop: number): Promise<void> {
    const { store, batchSize, pollMs, minBackoffMs, maxBackoffMs, logger } = this.options;
    const publisher = this.options.newPublisher();
    let failures = 0;
    try {
      while (!this.signal.isCancelled) {
        let published: number;
        try {
          await this.options.prepare?.();
          published = await store.publishBatch(batchSize, (rows) => this.publish(publisher, rows));
        } catch (err) {
          failures++;
          this.consecutiveFailures++;
          const delay = backoffDelay(failures, minBackoffMs, maxBackoffMs);
          logger.warn('outbox publish failed; backing off', {
            loop,
            attempt: failures,
            delayMs: delay,
            err: (err as Error).message,
          });
          // A fresh producer (new id, fresh sequences) after any failure: reusing one whose last send
          // may have landed could make the broker drop different messages as "duplicates".
          await publisher.reset().catch(() => undefined);
          await this.signal.sleep(delay);
          continue;
        }
        if (failures > 0) logger.info('outbox publishing recovered', { loop, afterFailures: failures });
        failures = 0;
        this.consecutiveFailures = 0;
        this.lastSuccessAt = Date.now();
        // A full batch means more may be waiting: go again at once; otherwise sleep until NOTIFY.
        if (published < batchSize) await this.signal.wait(pollMs);
      }
    } finally {
      await publisher.close().catch((err: unknown) => logger.warn('closing relay producer failed', { err }));
    }
  }

  private async publish(publisher: EventPublisher, rows: readonly OutboxEventRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { topic, source, hooks } = this.options;
    const messages: OutgoingMessage[] = rows.map((row) => ({
      key: row.aggregateId,
      value: JSON.stringify(toEnvelope(row, source)),
      headers: toKafkaHeaders(row.headers),
    }));
    const started = process.hrtime.bigint();
    try {
      // No timeout of our own: an abandoned send could still land later and duplicate the batch.
      // The publisher's retries are bounded, so this settles in seconds even with the broker gone.
      await publisher.send(topic, messages);
    } catch (err) {
      safely(() => hooks?.onPublishFailed?.(rows.length, err as Error));
      throw err;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    safely(() => hooks?.onPublished?.(rows.length, seconds));
  }
}

/** Telemetry callbacks must never break the pipeline. */
export function safely(call: () => void): void {
  try {
    call();
  } catch {
    // ignored on purpose
  }
}
