import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { isServiceBuilt } from '../src/components/service';
import { Lab } from '../src/lab';
import { portsByComponent } from '../src/ports';
import { isAlive, isPortListening } from '../src/processes';
import { findRepoRoot } from '../src/repo';
import { testLabPortOffset, uniqueTopic } from '../src/testing';

// This file kills and stops components, so it runs its own lab (20 ports above the shared test lab)
// instead of the shared one other tests use.
const repoRoot = findRepoRoot();
const withService = isServiceBuilt(repoRoot);
const lab = new Lab({
  dir: path.join(repoRoot, '.lab', 'test-lab-runtime'),
  portOffset: testLabPortOffset() + 20,
  services: 'api',
  repoRoot,
  log: () => undefined,
});
const components = withService
  ? ['postgres', 'kafka', 'prometheus', 'jaeger', 'api']
  : ['postgres', 'kafka', 'prometheus', 'jaeger'];

function kafkaClient(): Kafka {
  return new Kafka({
    clientId: 'lab-test',
    brokers: lab.connection().kafka.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200 },
  });
}

async function endOffsets(topic: string): Promise<string[]> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic))
      .sort((a, b) => a.partition - b.partition)
      .map((p) => p.high);
  } finally {
    await admin.disconnect();
  }
}

async function produce(topic: string, count: number): Promise<void> {
  const producer = kafkaClient().producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `message ${i}` })),
    });
  } finally {
    await producer.disconnect();
  }
}

async function queryOne(url: string, sql: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown>;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function promUp(job: string, instance: string): Promise<number | undefined> {
  const query = encodeURIComponent(`up{job="${job}",instance="${instance}"}`);
  const body = (await (
    await fetch(`${lab.connection().prometheus.url}/api/v1/query?query=${query}`)
  ).json()) as {
    data: { result: { value: [number, string] }[] };
  };
  const sample = body.data.result[0];
  return sample ? Number(sample.value[1]) : undefined;
}

describe('native lab runtime', { timeout: 240_000 }, () => {
  before(async () => {
    await lab.up(components);
  });
  after(async () => {
    await lab.down().catch(() => undefined);
  });

  test('up is idempotent: a second up starts nothing', async () => {
    const again = await lab.up(components);
    assert.deepEqual(again.started, []);
    assert.deepEqual(again.alreadyRunning.sort(), [...components].sort());
  });

  test('kafka: a message produced with kafkajs comes back to a consumer group', async () => {
    const topic = uniqueTopic('lab.roundtrip');
    await lab.ensureTopics([{ name: topic, partitions: 3 }]);
    await produce(topic, 1);
    const consumer = kafkaClient().consumer({ groupId: uniqueTopic('lab-test-group') });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
        void consumer.run({
          eachMessage: ({ message }) => {
            clearTimeout(timer);
            resolve(message.value?.toString() ?? '');
            return Promise.resolve();
          },
        });
      });
      assert.equal(received, 'message 0');
    } finally {
      await consumer.disconnect();
    }
  });

  test(
    'kafka: the service topics exist with the partition counts it expects',
    { skip: !withService && 'service not built: npm run build' },
    async () => {
      assert.equal((await endOffsets('orders.v1')).length, 6);
      assert.equal((await endOffsets('orders.v1.dlq')).length, 1);
    },
  );

  test('postgres: the orderlab role reaches its database; fast-but-unsafe settings are on', async () => {
    const row = await queryOne(
      lab.connection().postgres.url,
      "SELECT current_user AS who, current_database() AS db, current_setting('fsync') AS fsync",
    );
    assert.deepEqual(row, { who: 'orderlab', db: 'orderlab', fsync: 'off' });
  });

  async function waitForUp(job: string, instance: string, timeoutMs = 30_000): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    let value: number | undefined;
    while (Date.now() < deadline && value !== 1) {
      value = await promUp(job, instance);
      if (value !== 1) await new Promise((r) => setTimeout(r, 500));
    }
    return value;
  }

  test('prometheus: scrapes itself, up == 1', async () => {
    assert.equal(await waitForUp('prometheus', 'prometheus'), 1);
  });

  test('prometheus: scrapes the api process on its admin port, up == 1', async (t) => {
    if (!withService) return t.skip('service not built: npm run build');
    const metrics = await fetch(`${lab.connection().services.api?.adminUrl}/metrics`);
    // Until the service's admin server serves /metrics the target is honestly down: shown as TODO, not hidden.
    const missing = metrics.status === 404;
    if (missing) t.todo('the api admin server has no /metrics yet (404)');
    // Two scrape intervals settle it when /metrics is missing; otherwise allow a slow first scrape.
    assert.equal(
      await waitForUp('orderlab', 'api', missing ? 11_000 : 30_000),
      1,
      'up{job="orderlab",instance="api"}',
    );
  });

  test('pause freezes postgres (queries time out) and resume brings it back', async () => {
    assert.ok(await lab.pause('postgres'));
    try {
      assert.equal(lab.status().find((s) => s.name === 'postgres')?.state, 'paused');
      await assert.rejects(queryOne(lab.connection().postgres.url, 'SELECT 1', 1000));
    } finally {
      await lab.resume('postgres');
    }
    assert.deepEqual(await queryOne(lab.connection().postgres.url, 'SELECT 1 AS one'), { one: 1 });
  });

  test('kill kafka then start kafka keeps the data (same end offsets)', async () => {
    const topic = uniqueTopic('lab.durable');
    await lab.ensureTopics([{ name: topic, partitions: 3 }]);
    await produce(topic, 30);
    const before = await endOffsets(topic);
    assert.equal(
      before.reduce((sum, o) => sum + Number(o), 0),
      30,
    );
    const pid = lab.status().find((s) => s.name === 'kafka')?.pid as number;
    assert.ok(await lab.kill('kafka'));
    assert.equal(isAlive(pid), false);
    assert.equal(lab.isRunning('kafka'), false);
    assert.equal(await isPortListening(lab.plan.kafka), false);
    assert.ok(await lab.start('kafka'));
    assert.deepEqual(await endOffsets(topic), before);
  });

  test('down stops every process and leaves no lab port listening', async () => {
    const pids = lab
      .status()
      .map((s) => s.pid)
      .filter((p): p is number => p !== undefined);
    assert.equal(pids.length, components.length);
    const result = await lab.down();
    assert.deepEqual(result.stopped.sort(), [...components].sort());
    assert.deepEqual(
      pids.filter((p) => isAlive(p)),
      [],
    );
    const listening: number[] = [];
    for (const { port } of portsByComponent(lab.plan)) if (await isPortListening(port)) listening.push(port);
    assert.deepEqual(listening, []);
  });
});
