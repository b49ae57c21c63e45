import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertTimeline, parsePrometheusDuration } from '../../src/audit/prometheus';
import { alertCheck } from '../../src/audit/prometheusAudit';

const series = (state: string, values: [number, number][]) => ({
  labels: { alertname: 'OutboxBacklogHigh', alertstate: state },
  points: values.map(([at, value]) => ({ at, value })),
});

test('alert timeline: fired at the first firing point, resolved at the first gap after it', () => {
  const t = alertTimeline(
    'OutboxBacklogHigh',
    [
      series('pending', [
        [0, 1],
        [2000, 1],
      ]),
      series('firing', [
        [4000, 1],
        [6000, 1],
        [8000, 1],
      ]),
    ],
    20_000,
    2,
  );
  assert.equal(t.firedAt, 4000);
  assert.equal(t.resolvedAt, 10_000);
  assert.equal(t.pendingSeen, true);
  const never = alertTimeline('OutboxBacklogHigh', [series('pending', [[0, 1]])], 10_000, 2);
  assert.equal(never.firedAt, undefined);
  assert.equal(never.pendingSeen, true);
  const still = alertTimeline(
    'OutboxBacklogHigh',
    [
      series('firing', [
        [0, 1],
        [2000, 1],
      ]),
    ],
    2000,
    2,
  );
  assert.equal(still.resolvedAt, undefined);
});

test('alert checks: missing rule fails, short fault skips, long fault without firing fails', () => {
  const expected = { name: 'OutboxBacklogHigh', fires: true, resolves: true, because: 'backlog grows' };
  assert.equal(alertCheck(expected, undefined, undefined, 100)[0]?.status, 'fail');
  assert.match(
    alertCheck(expected, undefined, undefined, 100)[0]?.detail ?? '',
    /no alerting rule named OutboxBacklogHigh/,
  );
  const short = alertCheck(expected, { name: 'x', pendingSeen: true }, { forS: 60 }, 20);
  assert.equal(short[0]?.status, 'skip');
  assert.match(short[0]?.detail ?? '', /less than its for 60 s.*pending/);
  assert.equal(alertCheck(expected, { name: 'x', pendingSeen: false }, { forS: 10 }, 120)[0]?.status, 'fail');
  const fired = alertCheck(expected, { name: 'x', firedAt: 5, pendingSeen: true }, { forS: 10 }, 120);
  assert.deepEqual(
    fired.map((c) => c.status),
    ['pass', 'fail'],
    'fired but never resolved',
  );
  const resolved = alertCheck(
    expected,
    { name: 'x', firedAt: 5, resolvedAt: 9, pendingSeen: true },
    { forS: 10 },
    120,
  );
  assert.deepEqual(
    resolved.map((c) => c.status),
    ['pass', 'pass'],
  );
});

test('Prometheus durations: units summed, anything else refused', () => {
  assert.equal(parsePrometheusDuration('10s'), 10);
  assert.equal(parsePrometheusDuration('1m30s'), 90);
  assert.equal(parsePrometheusDuration('500ms'), 0.5);
  assert.equal(parsePrometheusDuration('1h'), 3600);
  for (const bad of ['', '10', 's', '10 s', '1x', '10s!'])
    assert.throws(() => parsePrometheusDuration(bad), /not a Prometheus duration/, bad);
});
