import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { ensureTestTopics, freshDatabase, testLab, uniqueTopic } from '../src/testing';

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

test('testLab gives the shared lab connection', async () => {
  const lab = await testLab();
  assert.match(lab.postgres.url, /^postgres:\/\/orderlab:orderlab@127\.0\.0\.1:\d+\/orderlab$/);
  assert.equal(lab.kafka.brokers.length, 1);
  assert.equal((await fetch(`${lab.prometheus.url}/-/ready`)).status, 200);
});

test('freshDatabase makes an empty database the orderlab role owns, and drop removes it', async () => {
  const db = await freshDatabase('lab_testing');
  assert.match(db.name, /^lab_testing_[a-z0-9]+$/);
  await query(db.url, 'CREATE TABLE t (id int)');
  assert.deepEqual(await query(db.url, 'SELECT current_database() AS name, current_user AS who'), [
    { name: db.name, who: 'orderlab' },
  ]);
  const other = await freshDatabase('lab_testing');
  assert.notEqual(other.name, db.name);
  await other.drop();
  await db.drop();
  const { postgres } = await testLab();
  const left = await query(
    postgres.adminUrl,
    `SELECT datname FROM pg_database WHERE datname IN ('${db.name}', '${other.name}')`,
  );
  assert.deepEqual(left, []);
});

test('uniqueTopic names differ and ensureTestTopics creates them with the asked partitions', async () => {
  const a = uniqueTopic('lab.testing');
  const b = uniqueTopic('lab.testing');
  assert.notEqual(a, b);
  await ensureTestTopics([{ name: a, partitions: 4 }]);
  const admin = new Kafka({
    clientId: 'lab-testing-test',
    brokers: (await testLab()).kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [a] });
    assert.equal(metadata.topics[0]?.partitions.length, 4);
  } finally {
    await admin.disconnect();
  }
});
