import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyOutcome,
  classifyWindow,
  goodputPerSecond,
  percentile,
  perSecond,
  recoveredAt,
  retryAfterSeconds,
  unexplainedFailures,
} from '../../src/audit/maths';
import { entry } from '../support/ledgerFixtures';

test('percentile is nearest-rank and NaN on empty input', () => {
  const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  assert.equal(percentile(values, 50), 5);
  assert.equal(percentile(values, 90), 9);
  assert.equal(percentile(values, 99), 10);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile([42], 99), 42);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile(values, 101), RangeError);
});

test('outcomes: 503 with Retry-After is shed, without it a server error; no response is transport', () => {
  assert.equal(classifyOutcome({ status: 201 }), 'ok');
  assert.equal(classifyOutcome({ status: 503, retryAfter: '1' }), 'shed');
  assert.equal(classifyOutcome({ status: 429, retryAfter: '2' }), 'shed');
  assert.equal(classifyOutcome({ status: 503 }), 'server_error');
  assert.equal(classifyOutcome({ status: 503, retryAfter: '' }), 'server_error');
  assert.equal(classifyOutcome({ status: 500, retryAfter: '1' }), 'server_error');
  assert.equal(classifyOutcome({ status: 422 }), 'client_error');
  assert.equal(classifyOutcome({ status: null }), 'transport_error');
});

test('window classification: before, fault, recovery grace, after', () => {
  const faults = [{ name: 'f', start: 10_000, end: 20_000 }];
  assert.equal(classifyWindow(5_000, faults, 3000), 'before');
  assert.equal(classifyWindow(10_000, faults, 3000), 'fault');
  assert.equal(classifyWindow(20_000, faults, 3000), 'fault');
  assert.equal(classifyWindow(22_000, faults, 3000), 'recovery');
  assert.equal(classifyWindow(23_001, faults, 3000), 'after');
  assert.equal(classifyWindow(5_000, [], 3000), 'before');
});

test('a 500 is never explained by a shed rule; a 503 + Retry-After in the fault is', () => {
  const faults = [{ name: 'kafka down', start: 1000, end: 2000 }];
  const entries = [
    entry(1500, 503, { retryAfter: '1' }),
    entry(1600, 500),
    entry(500, 503, { retryAfter: '1' }),
    entry(1700, null, { errorCode: 'ECONNREFUSED' }),
  ];
  const rules = [{ outcome: 'shed' as const, phases: ['fault' as const], because: 'shed while down' }];
  const left = unexplainedFailures(entries, rules, faults, 0);
  assert.deepEqual(
    left.map((f) => [f.entry.status, f.phase]),
    [
      [500, 'fault'],
      [503, 'before'],
      [null, 'fault'],
    ],
  );
  const withCodes = unexplainedFailures(
    entries,
    [
      ...rules,
      {
        outcome: 'transport_error',
        phases: ['fault'],
        codes: ['ECONNREFUSED'],
        targets: ['api'],
        because: 'x',
      },
    ],
    faults,
    0,
  );
  assert.equal(withCodes.length, 2);
  const otherTarget = unexplainedFailures(
    entries,
    [
      {
        outcome: 'transport_error',
        phases: ['fault'],
        codes: ['ECONNREFUSED'],
        targets: ['single'],
        because: 'x',
      },
    ],
    faults,
    0,
  );
  assert.ok(
    otherTarget.some((f) => f.entry.status === null),
    'rule for another target does not explain it',
  );
});

test('per-second buckets count outcomes by intended second and goodput within the SLO', () => {
  const entries = [
    entry(1000, 201, { latencyMs: 100 }),
    entry(1500, 201, { latencyMs: 400 }),
    entry(1900, 503, { retryAfter: '1' }),
    entry(2100, 201, { latencyMs: 50 }),
    entry(9000, 201), // outside
  ];
  const buckets = perSecond(entries, 1000, 2999, 250);
  assert.equal(buckets.length, 2);
  assert.deepEqual(buckets[0]?.counts, {
    ok: 2,
    shed: 1,
    client_error: 0,
    server_error: 0,
    transport_error: 0,
  });
  assert.equal(buckets[0]?.goodput, 1);
  assert.equal(buckets[0]?.okP99Ms, 400);
  assert.equal(buckets[1]?.goodput, 1);
  assert.equal(goodputPerSecond(entries, 1000, 3000, 250), 1);
  assert.equal(goodputPerSecond(entries, 1000, 1000, 250), 0);
});

test('recoveredAt finds the first moment from which everything succeeded', () => {
  const entries = [entry(100, 503), entry(200, 201), entry(300, 500), entry(400, 201), entry(500, 201)];
  assert.equal(recoveredAt(entries, 0), 400);
  assert.equal(recoveredAt([...entries, entry(600, null)], 0), undefined);
});

test('Retry-After parses delta seconds and HTTP dates', () => {
  assert.equal(retryAfterSeconds('3'), 3);
  assert.equal(retryAfterSeconds(undefined), undefined);
  assert.equal(retryAfterSeconds('soon'), undefined);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterSeconds('Thu, 01 Jan 2026 00:00:05 GMT', now), 5);
});
