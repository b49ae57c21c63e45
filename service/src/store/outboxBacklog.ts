import type { Pool } from 'pg';
import type { OutboxBacklog } from '../telemetry/metrics';

/**
 * Size and age of the unpublished outbox, for the backlog gauges. Uses the partial index on
 * unpublished rows, so it stays cheap while the backlog is small; the caller caches it.
 */
export async function readOutboxBacklog(pool: Pool): Promise<OutboxBacklog> {
  const { rows } = await pool.query<{ events: number; oldest_age_seconds: number | null }>(
    `SELECT count(*)::int AS events,
            extract(epoch FROM now() - min(created_at))::float8 AS oldest_age_seconds
       FROM outbox WHERE published_at IS NULL`,
  );
  const row = rows[0];
  return { events: row?.events ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest_age_seconds ?? 0) };
}
