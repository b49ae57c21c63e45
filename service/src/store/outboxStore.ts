import { Client, type Pool } from 'pg';
import type { OutboxEventRow } from '../pipeline/envelope';
import type { OutboxStore } from '../pipeline/outboxRelay';
import { OUTBOX_CHANNEL } from './migrations';
import { OUTBOX_ROW_COLUMNS, type OutboxRow, toOutboxEventRow } from './statements';
import { withTransaction } from './transaction';

/**
 * Rows that may be published now: unpublished, not locked by another relay, and the oldest
 * unpublished row of their order. The last condition keeps per-order order with any number of
 * relays: a later event of an order becomes claimable only after the earlier one was published
 * and committed (each order's events commit in id order: its changes lock the order row).
 */
const CLAIM_SQL = `
  SELECT o.id, ${OUTBOX_ROW_COLUMNS}
  FROM outbox o
  WHERE o.published_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM outbox e
      WHERE e.aggregate_id = o.aggregate_id AND e.published_at IS NULL AND e.id < o.id)
  ORDER BY o.id
  LIMIT $1
  FOR UPDATE OF o SKIP LOCKED`;

const MAX_ERROR_LENGTH = 500;

export interface OutboxBacklog {
  /** Unpublished rows. */
  readonly count: number;
  /** Age of the oldest unpublished row in seconds; 0 when there is none. */
  readonly oldestAgeSeconds: number;
}

/** PostgreSQL side of the outbox relay. */
export class PgOutboxStore implements OutboxStore {
  constructor(
    private readonly pool: Pool,
    private readonly options: {
      databaseUrl: string;
      reconnectMs?: number;
      onListenError?: (err: Error) => void;
    },
  ) {}

  publishBatch(limit: number, publish: (rows: readonly OutboxEventRow[]) => Promise<void>): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      const claimed = await client.query<OutboxRow & { id: number }>(CLAIM_SQL, [limit]);
      if (claimed.rows.length === 0) return 0;
      const ids = claimed.rows.map((r) => r.id);
      try {
        await publish(claimed.rows.map(toOutboxEventRow));
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_LENGTH);
        await client.query(
          'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])',
          [ids, message],
        );
        // Commit the bookkeeping (withTransaction commits on return), then report the failure.
        return new PublishFailed(err);
      }
      await client.query(
        'UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])',
        [ids],
      );
      return ids.length;
    }).then((result) => {
      if (result instanceof PublishFailed) throw result.cause;
      return result;
    });
  }

  async listenForInserts(onInsert: () => void): Promise<() => Promise<void>> {
    let client: Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const reconnectMs = this.options.reconnectMs ?? 1000;
    const connect = async (): Promise<void> => {
      const c = new Client({
        connectionString: this.options.databaseUrl,
        application_name: 'outbox-listener',
      });
      c.on('notification', () => onInsert());
      c.on('error', (err) => {
        this.options.onListenError?.(err);
        void c.end().catch(() => undefined);
        if (client === c) client = undefined;
        if (!stopped) retry = setTimeout(() => void connect().catch(scheduleRetry), reconnectMs);
      });
      await c.connect();
      await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (stopped) {
        await c.end();
        return;
      }
      client = c;
      onInsert(); // rows may have arrived while we were not listening
    };
    const scheduleRetry = (err: Error): void => {
      this.options.onListenError?.(err);
      if (!stopped) retry = setTimeout(() => void connect().catch(scheduleRetry), reconnectMs);
    };
    // Never rejects: while the database is away the relay's poll covers, and we keep retrying.
    await connect().catch(scheduleRetry);
    return async () => {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  }

  /** Cheap gauge source: one index-backed aggregate over the unpublished rows. */
  backlog(): Promise<OutboxBacklog> {
    return queryOutboxBacklog(this.pool);
  }
}

/** Unpublished outbox rows and the oldest one's age: one index-backed aggregate (any pool or client). */
export async function queryOutboxBacklog(db: Pick<Pool, 'query'>): Promise<OutboxBacklog> {
  const result = await db.query<{ count: number; oldest_age: number | null }>(
    `SELECT count(*)::bigint AS count,
            EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest_age
     FROM outbox WHERE published_at IS NULL`,
  );
  const row = result.rows[0];
  return { count: row?.count ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest_age ?? 0) };
}

class PublishFailed {
  constructor(readonly cause: unknown) {}
}
