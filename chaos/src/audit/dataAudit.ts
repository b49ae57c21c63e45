import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { LedgerEntry } from '../load/ledger';
import { eventTypeOf, type KafkaAccess, orderIdOf, readTopic } from './kafkaTopic';
import { type Check, check } from './verdict';

/** What the database and the topic hold for the orders clients were told about. */
export interface DataEvidence {
  /** Order ids the clients got 2xx for (deduplicated). */
  readonly acked: readonly string[];
  /** Status of each acked order found in the database. */
  readonly dbStatus: ReadonlyMap<string, string>;
  /** Rows in processed_events per acked order (the worker's exactly-once record). */
  readonly confirmations: ReadonlyMap<string, number>;
  /** Messages in the topic per acked order (created events). */
  readonly inTopic: ReadonlyMap<string, number>;
  /** How processed_events was matched to orders (reported). */
  readonly confirmationSource: string;
  readonly topicMessages: number;
}

/** Final statuses: the worker's decision (the simulated step may decline an order: rejected). */
const DECIDED = new Set(['confirmed', 'rejected']);

const sample = (ids: readonly string[], n = 3): string =>
  ids.slice(0, n).join(', ') + (ids.length > n ? ` (+${ids.length - n} more)` : '');

/** Verdict checks from the evidence (pure: unit-tested with deliberately broken evidence). */
export function dataChecks(evidence: DataEvidence, confirmWithinS: number): Check[] {
  const { acked } = evidence;
  const missingInDb = acked.filter((id) => !evidence.dbStatus.has(id));
  const missingInTopic = acked.filter((id) => (evidence.inTopic.get(id) ?? 0) === 0);
  const notConfirmed = acked.filter((id) => (evidence.confirmations.get(id) ?? 0) === 0);
  const twice = acked.filter((id) => (evidence.confirmations.get(id) ?? 0) > 1);
  const wrongStatus = acked.filter(
    (id) => evidence.dbStatus.has(id) && !DECIDED.has(evidence.dbStatus.get(id) ?? ''),
  );
  const n = acked.length;
  return [
    check(
      'every 2xx order exists in PostgreSQL',
      n > 0 && missingInDb.length === 0,
      n === 0
        ? 'no order was acknowledged: nothing to audit'
        : missingInDb.length === 0
          ? `${n}/${n} found`
          : `${missingInDb.length}/${n} acknowledged orders missing from the orders table: ${sample(missingInDb)}`,
    ),
    check(
      `every 2xx order is in the topic`,
      n > 0 && missingInTopic.length === 0,
      missingInTopic.length === 0
        ? `${n}/${n} found among ${evidence.topicMessages} messages read from the beginning`
        : `${missingInTopic.length}/${n} acknowledged orders not in the topic: ${sample(missingInTopic)}`,
    ),
    check(
      `every 2xx order confirmed exactly once within ${confirmWithinS} s`,
      n > 0 && notConfirmed.length === 0 && twice.length === 0 && wrongStatus.length === 0,
      [
        notConfirmed.length > 0 ? `${notConfirmed.length} never confirmed: ${sample(notConfirmed)}` : '',
        twice.length > 0 ? `${twice.length} confirmed more than once: ${sample(twice)}` : '',
        wrongStatus.length > 0
          ? `${wrongStatus.length} not decided (confirmed/rejected): ${sample(wrongStatus.map((id) => `${id}=${evidence.dbStatus.get(id)}`))}`
          : '',
      ]
        .filter(Boolean)
        .join('; ') || `${n}/${n} confirmed once (${evidence.confirmationSource})`,
    ),
  ];
}

export function ackedOrderIds(entries: readonly LedgerEntry[]): string[] {
  const ids = new Set<string>();
  for (const e of entries)
    if (e.status !== null && e.status >= 200 && e.status < 300 && e.orderId) ids.add(e.orderId);
  return [...ids];
}

export interface DataAuditOptions {
  readonly postgresUrl: string;
  readonly kafka: KafkaAccess;
  readonly topic: string;
  readonly acked: readonly string[];
  /** Waits up to this long for every acked order to be confirmed before judging. */
  readonly confirmWithinS: number;
  readonly log: (line: string) => void;
}

/** Reads PostgreSQL and the Kafka topic directly (never through the service). */
export async function collectDataEvidence(options: DataAuditOptions): Promise<DataEvidence> {
  const { acked } = options;
  const db = new Client({ connectionString: options.postgresUrl, connectionTimeoutMillis: 5000 });
  await db.connect();
  try {
    const deadline = Date.now() + options.confirmWithinS * 1000;
    let dbStatus = new Map<string, string>();
    let confirmations = new Map<string, number>();
    let source = '';
    for (;;) {
      // One snapshot for statuses and confirmations: a confirmation committing between two reads
      // would otherwise look like "processed but still pending".
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        dbStatus = await orderStatuses(db, acked);
        ({ counts: confirmations, source } = await confirmationCounts(db, acked));
      } finally {
        await db.query('COMMIT');
      }
      const waiting = acked.filter(
        (id) => (confirmations.get(id) ?? 0) === 0 || !DECIDED.has(dbStatus.get(id) ?? ''),
      ).length;
      if (waiting === 0 || Date.now() >= deadline) break;
      options.log(`  audit: ${waiting}/${acked.length} orders not confirmed yet, waiting`);
      await sleep(Math.min(2000, Math.max(100, deadline - Date.now())));
    }
    const messages = await readTopic(options.kafka, options.topic);
    const inTopic = new Map<string, number>();
    for (const m of messages) {
      const type = eventTypeOf(m);
      if (type !== undefined && !type.startsWith('order.created')) continue;
      const id = orderIdOf(m);
      if (id) inTopic.set(id, (inTopic.get(id) ?? 0) + 1);
    }
    return {
      acked,
      dbStatus,
      confirmations,
      inTopic,
      confirmationSource: source,
      topicMessages: messages.length,
    };
  } finally {
    await db.end();
  }
}

async function orderStatuses(db: Client, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 5000) {
    const { rows } = await db.query<{ id: string; status: string }>(
      'SELECT id::text AS id, status FROM orders WHERE id::text = ANY($1::text[])',
      [ids.slice(i, i + 5000)],
    );
    for (const r of rows) out.set(r.id, r.status);
  }
  return out;
}

/**
 * processed_events rows per order. The worker's table is matched by an order column when it has
 * one, else through the outbox (event_id → aggregate_id).
 */
async function confirmationCounts(
  db: Client,
  ids: readonly string[],
): Promise<{ counts: Map<string, number>; source: string }> {
  const { rows: cols } = await db.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'processed_events'",
  );
  const names = new Set(cols.map((c) => c.column_name));
  if (names.size === 0) return { counts: new Map(), source: 'no processed_events table' };
  const orderColumn = ['order_id', 'aggregate_id'].find((c) => names.has(c));
  let sql: string;
  let source: string;
  if (orderColumn) {
    // Only the created event confirms an order; other event types are recorded without effect.
    const created = names.has('event_type') ? " AND event_type LIKE 'order.created%'" : '';
    sql = `SELECT ${orderColumn}::text AS id, count(*)::int AS n FROM processed_events WHERE ${orderColumn}::text = ANY($1::text[])${created} GROUP BY 1`;
    source = `processed_events.${orderColumn}${created ? ' (order.created events)' : ''}`;
  } else if (names.has('event_id')) {
    sql = `SELECT o.aggregate_id::text AS id, count(*)::int AS n FROM outbox o JOIN processed_events p ON p.event_id::text = o.event_id::text
           WHERE o.aggregate_id::text = ANY($1::text[]) AND o.event_type LIKE 'order.created%' GROUP BY 1`;
    source = 'processed_events.event_id joined to outbox';
  } else {
    return {
      counts: new Map(),
      source: `processed_events has no order or event id column (${[...names].join(', ')})`,
    };
  }
  const counts = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 5000) {
    const { rows } = await db.query<{ id: string; n: number }>(sql, [ids.slice(i, i + 5000)]);
    for (const r of rows) counts.set(r.id, r.n);
  }
  return { counts, source };
}
