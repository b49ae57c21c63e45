import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client, type Pool } from 'pg';
import { loadConfig } from '../../service/src/config/config';
import { toEnvelope, toKafkaHeaders } from '../../service/src/pipeline/envelope';
import { createKafkaClient } from '../../service/src/pipeline/kafkaClient';
import { OutboxRelay } from '../../service/src/pipeline/outboxRelay';
import { startService } from '../../service/src/startService';
import { migrate } from '../../service/src/store/migrate';
import { PgOutboxStore } from '../../service/src/store/outboxStore';
import { createPool } from '../../service/src/store/pool';
import { OUTBOX_ROW_COLUMNS, type OutboxRow, toOutboxEventRow } from '../../service/src/store/statements';
import { createLogger } from '../../service/src/telemetry/logger';

const HELP = `npm run bench:relay -- [options]

Measures the outbox relay. Part 1 fills a fresh outbox with N rows and times the relay draining it
to Kafka, next to a raw kafkajs producer (same idempotent acks=all settings, same messages, same
batch size) in the same run. Part 2 runs api+relay+worker in this process, offers orders over HTTP
at a constant rate and reports the acceptance → confirmation delay. Not a timed test: a report.

      --brokers LIST        Kafka bootstrap brokers            (default $KAFKA_BROKERS or 127.0.0.1:9092)
      --pg-admin-url URL    PostgreSQL superuser URL; a fresh database is created and dropped
                            (default $ORDERLAB_BENCH_PG_ADMIN_URL or postgres://postgres@127.0.0.1:5432/postgres)
      --rows N              outbox rows to drain                                     (default 50000)
      --batch-size N        relay batch size = raw producer batch size               (default 500)
      --relay-loops N       claim loops in the relay (RELAY_CONCURRENCY)             (default 2)
      --rounds N            drain rounds, raw and relay alternating who goes first;
                            the table shows medians                                  (default 3)
      --rate R              part 2: orders per second offered                        (default 200)
      --seconds S           part 2: seconds of steady load (bounded to 120)          (default 30)
      --skip-steady         run part 1 only
      --report-dir DIR      JSON report goes to DIR/relay-drain-<timestamp>.json     (default reports)
  -h, --help                this text

Targets (issue 4): relay ≥ 5,000 events/s and ≥ 0.6 × raw; acceptance → confirmation p99 < 1 s at 200/s.`;

interface Options {
  brokers: string[];
  pgAdminUrl: string;
  rows: number;
  batchSize: number;
  relayLoops: number;
  rounds: number;
  rate: number;
  seconds: number;
  skipSteady: boolean;
  reportDir: string;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      'pg-admin-url': { type: 'string' },
      rows: { type: 'string', default: '50000' },
      'batch-size': { type: 'string', default: '500' },
      'relay-loops': { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '30' },
      'skip-steady': { type: 'boolean', default: false },
      'report-dir': { type: 'string', default: 'reports' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const int = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer ${min}..${max}`);
    return n;
  };
  return {
    brokers: (values.brokers ?? process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','),
    pgAdminUrl:
      values['pg-admin-url'] ??
      process.env['ORDERLAB_BENCH_PG_ADMIN_URL'] ??
      'postgres://postgres@127.0.0.1:5432/postgres',
    rows: int('rows', values.rows, 1, 1_000_000),
    batchSize: int('batch-size', values['batch-size'], 1, 10000),
    relayLoops: int('relay-loops', values['relay-loops'], 1, 16),
    rounds: int('rounds', values.rounds, 1, 9),
    rate: int('rate', values.rate, 1, 5000),
    seconds: int('seconds', values.seconds, 1, 120),
    skipSteady: values['skip-steady'],
    reportDir: values['report-dir'],
  };
}

const logger = createLogger({
  level: process.env['BENCH_LOG_LEVEL'] ?? 'error',
  service: 'bench-relay',
  roles: ['bench'],
});
const progress = (line: string): void => void process.stderr.write(`[bench:relay] ${line}\n`);

async function withDatabase<T>(adminUrl: string, work: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_relay_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  }
}

const FILL_SQL = `
  INSERT INTO outbox (event_id, aggregate_id, event_type, payload, headers, created_at)
  SELECT gen_random_uuid(), o.id, 'order.created.v1',
         jsonb_build_object('orderId', o.id, 'customerId', 'bench-' || (o.n % 1000), 'status', 'pending',
           'currency', 'EUR', 'totalCents', 2599, 'version', 1, 'acceptedAt', now(),
           'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-1', 'quantity', 2, 'unitPriceCents', 1250),
                                      jsonb_build_object('sku', 'SKU-2', 'quantity', 1, 'unitPriceCents', 99))),
         jsonb_build_object('traceparent', '00-' || md5(o.id::text) || '-' || left(md5(o.n::text), 16) || '-01'),
         now()
  FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1) AS n) AS o`;

interface DrainResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

interface DrainPart {
  /** Medians over the rounds. */
  raw: DrainResult;
  relay: DrainResult;
  rounds: { raw: DrainResult; relay: DrainResult; ratio: number }[];
}

async function drainPart(options: Options, dbUrl: string): Promise<DrainPart> {
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    KAFKA_BROKERS: options.brokers.join(','),
    PG_POOL_MAX: '4',
    // The fill and the check queries touch 50,000 rows; the relay's own queries stay small.
    PG_STATEMENT_TIMEOUT_MS: '60000',
  });
  const pool = createPool(config.database, 'bench-relay');
  try {
    await migrate(pool);
    const kafka = createKafkaClient(config.kafka, logger);
    const rounds: DrainPart['rounds'] = [];
    for (let round = 1; round <= options.rounds; round++) {
      progress(`round ${round}/${options.rounds}: filling the outbox with ${options.rows} rows`);
      await pool.query('TRUNCATE outbox');
      await pool.query(FILL_SQL, [options.rows]);
      await pool.query('VACUUM ANALYZE outbox');
      const stamp = `${Date.now().toString(36)}.${round}`;
      const rawTopic = `bench.raw.${stamp}`;
      const relayTopic = `bench.relay.${stamp}`;
      await kafka.ensureTopics([
        { name: rawTopic, partitions: 6 },
        { name: relayTopic, partitions: 6 },
      ]);
      // Alternate which goes first, so warm-up and background noise do not favour one side.
      const relayFirst = round % 2 === 0;
      let relay: DrainResult | undefined;
      if (relayFirst) relay = await measureRelay(options, pool, kafka, dbUrl, relayTopic);
      const raw = await measureRaw(options, pool, rawTopic);
      if (!relayFirst) relay = await measureRelay(options, pool, kafka, dbUrl, relayTopic);
      const ratio = relay!.eventsPerSecond / raw.eventsPerSecond;
      progress(
        `round ${round}: raw ${raw.eventsPerSecond.toFixed(0)} ev/s, relay ${relay!.eventsPerSecond.toFixed(0)} ev/s, ratio ${ratio.toFixed(2)}`,
      );
      rounds.push({ raw, relay: relay!, ratio });
    }
    const median = (values: number[]): number => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)]!;
    };
    const summarise = (pick: (r: DrainPart['rounds'][number]) => DrainResult): DrainResult => {
      const eventsPerSecond = median(rounds.map((r) => pick(r).eventsPerSecond));
      return { events: options.rows, seconds: options.rows / eventsPerSecond, eventsPerSecond };
    };
    return { raw: summarise((r) => r.raw), relay: summarise((r) => r.relay), rounds };
  } finally {
    await pool.end();
  }
}

/** The same messages the relay would build, sent batch after batch by one idempotent producer. */
async function measureRaw(options: Options, pool: Pool, topic: string): Promise<DrainResult> {
  const result = await pool.query<OutboxRow>(`SELECT ${OUTBOX_ROW_COLUMNS} FROM outbox o ORDER BY o.id`);
  const rows = result.rows.map(toOutboxEventRow);
  const producer = new Kafka({
    clientId: 'bench-raw',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  }).producer({
    idempotent: true,
    maxInFlightRequests: 5,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const started = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += options.batchSize) {
      const messages = rows.slice(i, i + options.batchSize).map((row) => ({
        key: row.aggregateId,
        value: JSON.stringify(toEnvelope(row, '/orderlab/orders')),
        headers: toKafkaHeaders(row.headers),
      }));
      await producer.send({ topic, acks: -1, messages });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { events: rows.length, seconds, eventsPerSecond: rows.length / seconds };
  } finally {
    await producer.disconnect();
  }
}

/** The real OutboxRelay + PgOutboxStore, from the first claim to the last row committed as published. */
async function measureRelay(
  options: Options,
  pool: Pool,
  kafka: ReturnType<typeof createKafkaClient>,
  dbUrl: string,
  topic: string,
): Promise<DrainResult> {
  await pool.query('UPDATE outbox SET published_at = NULL, attempts = 0 WHERE published_at IS NOT NULL');
  const total = options.rows;
  let published = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const relay = new OutboxRelay({
    store: new PgOutboxStore(pool, { databaseUrl: dbUrl }),
    newPublisher: () => kafka.newPublisher(),
    topic,
    source: '/orderlab/orders',
    batchSize: options.batchSize,
    concurrency: options.relayLoops,
    pollMs: 100,
    minBackoffMs: 100,
    maxBackoffMs: 2000,
    logger,
    hooks: {
      onPublished: (n) => {
        published += n;
        if (published >= total) resolveDone();
      },
    },
  });
  const started = process.hrtime.bigint();
  relay.start();
  const ticker = setInterval(() => progress(`relay: ${published}/${total}`), 2000);
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 300_000).unref());
  const outcome = await Promise.race([done.then(() => 'done' as const), timeout]);
  try {
    // The hook fires when Kafka acknowledged a batch, just before its commit: wait for the last commit.
    while (outcome === 'done') {
      const left = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      );
      if (left.rows[0]!.n === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (outcome === 'timeout') throw new Error(`relay did not drain within 300 s (${published}/${total})`);
    return { events: total, seconds, eventsPerSecond: total / seconds };
  } finally {
    clearInterval(ticker);
    await relay.close();
  }
}

interface SteadyResult {
  offeredRate: number;
  seconds: number;
  accepted: number;
  rejectedRequests: number;
  /** Not-accepted responses by HTTP status (503 = shed by the overload guard on a busy machine). */
  rejectedByStatus: Record<number, number>;
  confirmed: number;
  delaySeconds: { p50: number; p95: number; p99: number; max: number };
  /** Outbox → published (relay) and published → processed (worker) percentiles. */
  stagesSeconds: { relay_p50: number; relay_p99: number; worker_p50: number; worker_p99: number } | null;
}

function fmtMs(seconds: number | undefined): string {
  return seconds === undefined ? '?' : (seconds * 1000).toFixed(0);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function steadyPart(options: Options, dbUrl: string): Promise<SteadyResult> {
  const topic = `bench.steady.${Date.now().toString(36)}`;
  const config = loadConfig({
    ROLES: 'api,relay,worker',
    DATABASE_URL: dbUrl,
    KAFKA_BROKERS: options.brokers.join(','),
    ORDERS_TOPIC: topic,
    DLQ_TOPIC: `${topic}.dlq`,
    WORKER_GROUP_ID: `${topic}.fulfilment`,
    HTTP_PORT: '0',
    ADMIN_PORT: '0',
    GRPC_PORT: '0',
    LOG_LEVEL: 'error',
  });
  const delays: number[] = [];
  const service = await startService(config, logger, {
    exit: () => undefined,
    pipelineHooks: { onConfirmed: (s) => void delays.push(s) },
  });
  try {
    const base = `http://127.0.0.1:${service.ports.http}`;
    // Wait until the worker owns partitions, so the measurement does not include the first join.
    for (let i = 0; i < 300; i++) {
      const ready = (await (await fetch(`http://127.0.0.1:${service.ports.admin}/readyz`)).json()) as {
        ready: boolean;
      };
      if (ready.ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const body = JSON.stringify({
      customerId: 'bench',
      currency: 'EUR',
      items: [{ sku: 'SKU-1', quantity: 1, unitPriceCents: 100 }],
    });
    let accepted = 0;
    let rejected = 0;
    const statuses: Record<number, number> = {};
    const inFlight = new Set<Promise<void>>();
    const total = options.rate * options.seconds;
    const start = Date.now();
    progress(`steady: ${options.rate} orders/s for ${options.seconds} s`);
    // Open model: request i is due at start + i/rate whatever the responses do.
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / options.rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = fetch(`${base}/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 201) accepted++;
          else {
            rejected++;
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          }
        })
        .catch(() => void rejected++)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (i % (options.rate * 5) === 0 && i > 0)
        progress(`steady: ${i}/${total} sent, ${delays.length} confirmed`);
    }
    await Promise.all(inFlight);
    const elapsed = (Date.now() - start) / 1000;
    const drainDeadline = Date.now() + 30000;
    while (delays.length < accepted && Date.now() < drainDeadline)
      await new Promise((r) => setTimeout(r, 100));
    const sorted = [...delays].sort((a, b) => a - b);
    // Where the time goes: outbox → Kafka (relay) and Kafka → confirmation (worker), from the database.
    const stages = (
      await service.pool.query<{
        relay_p50: number;
        relay_p99: number;
        worker_p50: number;
        worker_p99: number;
      }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM x.published_at - x.created_at)) AS relay_p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM x.published_at - x.created_at)) AS relay_p99,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.processed_at - x.published_at)) AS worker_p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM p.processed_at - x.published_at)) AS worker_p99
         FROM outbox x JOIN processed_events p ON p.event_id = x.event_id`,
      )
    ).rows[0];
    return {
      stagesSeconds: stages ?? null,
      offeredRate: options.rate,
      seconds: elapsed,
      accepted,
      rejectedRequests: rejected,
      rejectedByStatus: statuses,
      confirmed: delays.length,
      delaySeconds: {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? Number.NaN,
      },
    };
  } finally {
    await service.stop('bench finished');
  }
}

async function main(): Promise<void> {
  let options: Options | undefined;
  try {
    options = parseOptions();
  } catch (err) {
    process.stderr.write(`bench:relay: ${(err as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (!options) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const opts = options;
  const drain = await withDatabase(opts.pgAdminUrl, (url) => drainPart(opts, url));
  const steady = opts.skipSteady
    ? undefined
    : await withDatabase(opts.pgAdminUrl, (url) => steadyPart(opts, url));
  const ratios = drain.rounds.map((r) => r.ratio).sort((a, b) => a - b);
  const ratio = ratios[Math.floor(ratios.length / 2)]!;
  const targets = {
    relayAtLeast5000PerSecond: drain.relay.eventsPerSecond >= 5000,
    relayAtLeast60PercentOfRaw: ratio >= 0.6,
    ...(steady ? { confirmationP99Under1s: steady.delaySeconds.p99 < 1 } : {}),
  };
  const pad = (s: string, n: number): string => s.padEnd(n);
  const lines = [
    '',
    `${pad('producer', 22)}${pad('events', 10)}${pad('seconds', 10)}events/s`,
    ...(
      [
        ['raw kafkajs (batched)', drain.raw],
        ['outbox relay', drain.relay],
      ] as const
    ).map(
      ([name, r]) =>
        `${pad(name, 22)}${pad(String(r.events), 10)}${pad(r.seconds.toFixed(2), 10)}${r.eventsPerSecond.toFixed(0)}`,
    ),
    `relay / raw = ${ratio.toFixed(2)} (median of ${drain.rounds.length} rounds; per round ${drain.rounds.map((r) => r.ratio.toFixed(2)).join(', ')})`,
  ];
  if (steady) {
    lines.push(
      '',
      `steady ${steady.offeredRate}/s for ${steady.seconds.toFixed(1)} s: accepted ${steady.accepted}, not accepted ${steady.rejectedRequests} ${JSON.stringify(steady.rejectedByStatus)}, confirmed ${steady.confirmed}`,
      `stages: outbox→Kafka p50/p99 ${fmtMs(steady.stagesSeconds?.relay_p50)}/${fmtMs(steady.stagesSeconds?.relay_p99)} ms, Kafka→confirmed p50/p99 ${fmtMs(steady.stagesSeconds?.worker_p50)}/${fmtMs(steady.stagesSeconds?.worker_p99)} ms`,
      `acceptance → confirmation: p50 ${(steady.delaySeconds.p50 * 1000).toFixed(0)} ms, p95 ${(steady.delaySeconds.p95 * 1000).toFixed(0)} ms, p99 ${(steady.delaySeconds.p99 * 1000).toFixed(0)} ms, max ${(steady.delaySeconds.max * 1000).toFixed(0)} ms`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(opts.reportDir, { recursive: true });
  const reportPath = path.join(
    opts.reportDir,
    `relay-drain-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(
    reportPath,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        options: { ...opts, pgAdminUrl: '<redacted>' },
        drain,
        ratio,
        steady,
        targets,
      },
      null,
      2,
    ),
  );
  const pass = Object.values(targets).every(Boolean);
  process.stdout.write(
    `\n${pass ? 'PASS' : 'MISS'}: relay ${drain.relay.eventsPerSecond.toFixed(0)} ev/s = ${ratio.toFixed(2)} × raw ${drain.raw.eventsPerSecond.toFixed(0)} ev/s` +
      (steady
        ? `; confirmation p99 ${(steady.delaySeconds.p99 * 1000).toFixed(0)} ms at ${steady.offeredRate}/s`
        : '') +
      ` — report ${reportPath}\n`,
  );
  process.exitCode = pass ? 0 : 1;
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench:relay failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
