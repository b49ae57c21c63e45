import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicsReady } from '../../src/events/kafkaTopics';

const wanted = [
  { name: 'orders.v1', partitions: 3 },
  { name: 'orders.v1.dlq', partitions: 1 },
];
const partitions = (...leaders: number[]) => leaders.map((leader) => ({ leader }));

test('topics are ready when each has its partitions, every one with a leader', () => {
  assert.equal(
    topicsReady(
      {
        topics: [
          { name: 'orders.v1', partitions: partitions(1, 1, 1) },
          { name: 'orders.v1.dlq', partitions: partitions(1) },
        ],
      },
      wanted,
    ),
    true,
  );
});

test('not ready: a topic missing from the metadata, too few partitions, or a partition without a leader', () => {
  const dlq = { name: 'orders.v1.dlq', partitions: partitions(1) };
  assert.equal(topicsReady({ topics: [dlq] }, wanted), false, 'missing topic');
  assert.equal(
    topicsReady({ topics: [{ name: 'orders.v1', partitions: partitions(1, 1) }, dlq] }, wanted),
    false,
    'two of three partitions',
  );
  assert.equal(
    topicsReady({ topics: [{ name: 'orders.v1', partitions: partitions(1, -1, 1) }, dlq] }, wanted),
    false,
    'leader -1 = none yet',
  );
});

test('more partitions than asked (grown by someone else) still count as ready', () => {
  assert.equal(
    topicsReady({ topics: [{ name: 't', partitions: partitions(1, 1, 1, 1) }] }, [
      { name: 't', partitions: 3 },
    ]),
    true,
  );
});
