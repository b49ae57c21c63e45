import { InvalidTransitionError, NotFoundError, UnavailableError } from '../orders/errors';
import type { FulfilOrders } from '../orders/fulfilment';
import type { Logger } from '../telemetry/logger';
import { backoffDelay, WakeSignal } from './backoff';
import { DLQ_HEADERS, type OrderEventEnvelope, parseEnvelope } from './envelope';
import { safely } from './outboxRelay';
import type {
  ConsumedMessage,
  DeadLetterReason,
  EventPublisher,
  MessageContext,
  MessageSource,
  PipelineHooks,
  ProcessOutcome,
} from './ports';

export interface FulfilmentWorkerOptions {
  readonly source: MessageSource;
  /** Publishes dead letters; the worker closes it on close(). */
  readonly deadLetters: EventPublisher;
  readonly dlqTopic: string;
  readonly fulfil: FulfilOrders;
  /** Attempts for an unexpected error before dead-lettering; a lost database is retried forever. */
  readonly maxAttempts: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly logger: Logger;
  readonly hooks?: PipelineHooks;
  /** Runs before joining the group (topic provisioning); retried with the start. */
  readonly prepare?: () => Promise<void>;
}

const MAX_DLQ_ERROR_LENGTH = 1000;

/** Thrown to leave a message uncommitted when shutdown interrupts its retries. */
export class StoppedBeforeDone extends Error {}

/**
 * Consumes order events: fulfils created orders (confirm or reject), records every other event,
 * dead-letters what can never succeed and retries what may succeed later. The source commits an
 * offset only after `handle` resolved, i.e. after the database transaction committed.
 */
export class FulfilmentWorker {
  private readonly signal = new WakeSignal();
  private closing = false;

  constructor(private readonly options: FulfilmentWorkerOptions) {}

  /**
   * Joins the consumer group, retrying with backoff while the broker is away (a worker that
   * starts before Kafka simply waits). Resolves once consuming, or when closed first.
   */
  async run(): Promise<void> {
    const { source, prepare, minBackoffMs, maxBackoffMs, logger } = this.options;
    for (let attempt = 1; !this.closing; attempt++) {
      try {
        await prepare?.();
        await source.start((message, context) => this.handle(message, context));
        logger.info('fulfilment worker consuming');
        return;
      } catch (err) {
        const delay = backoffDelay(attempt, minBackoffMs, maxBackoffMs);
        logger.warn('fulfilment worker could not start; retrying', {
          attempt,
          delayMs: delay,
          err: errorText(err),
        });
        await this.signal.sleep(delay);
      }
    }
  }

  /** Finishes (and commits) the message in hand, leaves the group, closes the DLQ producer. */
  async close(): Promise<void> {
    this.closing = true;
    this.signal.cancel();
    await this.options.source.close();
    await this.options.deadLetters.close();
  }

  async handle(message: ConsumedMessage, context: MessageContext): Promise<void> {
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const { hooks } = this.options;
    const parsed = parseEnvelope(message.value);
    if (!parsed.ok) {
      await this.deadLetter(message, parsed.reason, parsed.error, context);
      safely(() => hooks?.onProcessed?.('unknown', 'dead_lettered', seconds()));
      return;
    }
    const envelope = parsed.envelope;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.apply(envelope);
        safely(() => hooks?.onProcessed?.(envelope.type, outcome, seconds()));
        return;
      } catch (err) {
        const poison = poisonReason(err);
        const exhausted = !(err instanceof UnavailableError) && attempt >= this.options.maxAttempts;
        if (poison || exhausted) {
          await this.deadLetter(message, poison ?? 'processing_failed', errorText(err), context);
          safely(() => hooks?.onProcessed?.(envelope.type, 'dead_lettered', seconds()));
          return;
        }
        safely(() => hooks?.onProcessed?.(envelope.type, 'retry', seconds()));
        await this.pauseBeforeRetry(attempt, err, message, context);
      }
    }
  }

  private async apply(envelope: OrderEventEnvelope): Promise<ProcessOutcome> {
    const { fulfil, hooks } = this.options;
    if (envelope.type !== 'order.created.v1') return fulfil.recordOnly(envelope.id, envelope.type);
    const result = await fulfil.onOrderCreated(envelope.id, envelope.subject);
    if (result.outcome === 'confirmed') {
      const delay = (result.order.updatedAt.getTime() - result.order.createdAt.getTime()) / 1000;
      safely(() => hooks?.onConfirmed?.(Math.max(0, delay)));
    }
    return result.outcome;
  }

  /** Sends the original bytes with reason headers; retried like a database error until it works. */
  private async deadLetter(
    message: ConsumedMessage,
    reason: DeadLetterReason,
    error: string,
    context: MessageContext,
  ): Promise<void> {
    const { deadLetters, dlqTopic, logger, hooks } = this.options;
    const headers = {
      ...message.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: error.slice(0, MAX_DLQ_ERROR_LENGTH),
      [DLQ_HEADERS.sourceTopic]: message.topic,
      [DLQ_HEADERS.sourcePartition]: String(message.partition),
      [DLQ_HEADERS.sourceOffset]: message.offset,
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await deadLetters.send(dlqTopic, [
          { key: message.key?.toString('utf8') ?? '', value: message.value ?? Buffer.alloc(0), headers },
        ]);
        break;
      } catch (err) {
        await deadLetters.reset().catch(() => undefined);
        await this.pauseBeforeRetry(attempt, err, message, context);
      }
    }
    logger.warn('message dead-lettered', {
      reason,
      error: error.slice(0, 200),
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
    });
    safely(() => hooks?.onDeadLettered?.(reason));
  }

  private async pauseBeforeRetry(
    attempt: number,
    err: unknown,
    message: ConsumedMessage,
    context: MessageContext,
  ): Promise<void> {
    if (this.closing) throw new StoppedBeforeDone('worker closing: message left uncommitted');
    const delay = backoffDelay(attempt, this.options.minBackoffMs, this.options.maxBackoffMs);
    this.options.logger.warn('message processing failed; retrying', {
      attempt,
      delayMs: delay,
      partition: message.partition,
      offset: message.offset,
      err: errorText(err),
    });
    await this.signal.sleep(delay);
    if (this.closing) throw new StoppedBeforeDone('worker closing: message left uncommitted');
    await context.heartbeat().catch(() => undefined);
  }
}

/** Errors no retry can fix; everything else may succeed later. */
export function poisonReason(err: unknown): DeadLetterReason | undefined {
  if (err instanceof NotFoundError) return 'order_not_found';
  if (err instanceof InvalidTransitionError) return 'invalid_transition';
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
