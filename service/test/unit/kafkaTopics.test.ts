import assert from 'node:assert/strict';
import { test } from 'node:test';
import { awaitTopicLeaders, topicsReady } from '../../src/pipeline/kafkaTopics';

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

// The race itself (a KRaft broker answering UNKNOWN_TOPIC_OR_PARTITION for a moment after creating a
// topic) cannot be provoked on demand against the real broker, so these replay its answers in order.
function scriptedAdmin(
  answers: (Error | { topics: { name: string; partitions: { leader: number }[] }[] })[],
) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetchTopicMetadata: () => {
      const answer = answers[Math.min(calls++, answers.length - 1)]!;
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve(answer as Awaited<ReturnType<import('kafkajs').Admin['fetchTopicMetadata']>>);
    },
  };
}
const kafkaError = (type: string) => Object.assign(new Error(type), { type });

test('awaitTopicLeaders waits through "not yet" answers until every partition has a leader', async () => {
  const admin = scriptedAdmin([
    kafkaError('UNKNOWN_TOPIC_OR_PARTITION'),
    kafkaError('LEADER_NOT_AVAILABLE'),
    { topics: [{ name: 't', partitions: partitions(1, -1) }] },
    { topics: [{ name: 't', partitions: partitions(1, 1) }] },
  ]);
  await awaitTopicLeaders(admin, [{ name: 't', partitions: 2 }], 5000);
  assert.equal(admin.calls, 4);
});

test('awaitTopicLeaders rethrows any other error at once, and names the topics when time runs out', async () => {
  const denied = scriptedAdmin([kafkaError('TOPIC_AUTHORIZATION_FAILED')]);
  await assert.rejects(
    awaitTopicLeaders(denied, [{ name: 't', partitions: 1 }], 5000),
    /TOPIC_AUTHORIZATION_FAILED/,
  );
  assert.equal(denied.calls, 1);
  const never = scriptedAdmin([kafkaError('UNKNOWN_TOPIC_OR_PARTITION')]);
  await assert.rejects(
    awaitTopicLeaders(never, [{ name: 'orders.v1', partitions: 1 }], 250),
    /Kafka topics orders\.v1 not ready after 0\.25 s \(UNKNOWN_TOPIC_OR_PARTITION\)/,
  );
});
