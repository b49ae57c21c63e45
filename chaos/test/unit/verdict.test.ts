import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataChecks } from '../../src/audit/dataAudit';
import { ledgerChecks } from '../../src/audit/ledgerChecks';
import { check, decideVerdict, fail, pass, skip } from '../../src/audit/verdict';
import type { DrillExpectations } from '../../src/drills/expectations';
import { SHED_IN_FAULT } from '../../src/drills/expectations';
import { entry } from '../support/ledgerFixtures';

const base: DrillExpectations = {
  explained: [SHED_IN_FAULT],
  maxUnexplainedFailures: 0,
  data: { confirmWithinS: 10 },
  alerts: [],
  recoveryGraceS: 2,
};

test('verdict: PASS needs a passed required check and no failed one; advisory failures only warn', () => {
  assert.equal(decideVerdict([pass('a', 'ok'), fail('b', 'meh', false)]).label, 'PASS');
  assert.deepEqual(decideVerdict([pass('a', 'ok'), fail('b', 'meh', false)]).warnings, ['b: meh']);
  const failed = decideVerdict([pass('a', 'ok'), fail('b', '3 lost')]);
  assert.equal(failed.label, 'FAIL');
  assert.deepEqual(failed.reasons, ['b: 3 lost']);
  assert.equal(decideVerdict([skip('a', 'too short')]).label, 'FAIL', 'a drill that proved nothing fails');
  assert.equal(decideVerdict([]).passed, false);
  assert.equal(check('x', true, 'd').status, 'pass');
});

test('deliberately broken: a 2xx order missing from the topic fails the data audit and names the order', () => {
  const evidence = {
    acked: ['o-1', 'o-2', 'o-3'],
    dbStatus: new Map([
      ['o-1', 'confirmed'],
      ['o-2', 'confirmed'],
      ['o-3', 'confirmed'],
    ]),
    confirmations: new Map([
      ['o-1', 1],
      ['o-2', 1],
      ['o-3', 1],
    ]),
    inTopic: new Map([
      ['o-1', 1],
      ['o-3', 2],
    ]),
    confirmationSource: 'test',
    topicMessages: 3,
  };
  const verdict = decideVerdict(dataChecks(evidence, 10));
  assert.equal(verdict.label, 'FAIL');
  assert.equal(verdict.reasons.length, 1);
  assert.match(
    verdict.reasons[0] ?? '',
    /every 2xx order is in the topic: 1\/3 acknowledged orders not in the topic: o-2/,
  );
});

test('deliberately broken: an order confirmed twice, one never confirmed, one missing from the DB', () => {
  const evidence = {
    acked: ['a', 'b', 'c'],
    dbStatus: new Map([
      ['a', 'confirmed'],
      ['b', 'pending'],
    ]),
    confirmations: new Map([['a', 2]]),
    inTopic: new Map([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]),
    confirmationSource: 'test',
    topicMessages: 3,
  };
  const reasons = decideVerdict(dataChecks(evidence, 10)).reasons.join('\n');
  assert.match(reasons, /missing from the orders table: c/);
  assert.match(reasons, /2 never confirmed: b, c/);
  assert.match(reasons, /1 confirmed more than once: a/);
  assert.match(reasons, /not in status confirmed: b=pending/);
});

test('healthy evidence passes; no acknowledged order at all fails', () => {
  const ok = {
    acked: ['a'],
    dbStatus: new Map([['a', 'confirmed']]),
    confirmations: new Map([['a', 1]]),
    inTopic: new Map([['a', 1]]),
    confirmationSource: 'test',
    topicMessages: 1,
  };
  assert.equal(decideVerdict(dataChecks(ok, 10)).label, 'PASS');
  assert.equal(decideVerdict(dataChecks({ ...ok, acked: [] }, 10)).label, 'FAIL');
});

test('deliberately broken: a 500 during the fault fails the ledger audit with its reason', () => {
  const faults = [{ name: 'kafka down', start: 10_000, end: 20_000 }];
  const entries = [
    ...Array.from({ length: 20 }, (_, i) => entry(i * 1000, 201)),
    entry(12_000, 503, { retryAfter: '1' }),
    entry(13_000, 500),
  ];
  const checks = ledgerChecks({
    entries,
    faults,
    expectations: base,
    loadStart: 0,
    loadEnd: 21_000,
    sloLatencyMs: 250,
  });
  const verdict = decideVerdict(checks);
  assert.equal(verdict.label, 'FAIL');
  assert.match(verdict.reasons.join(), /no unexplained failures: 1 unexplained: 1× 500 during the fault/);
});

test('ledger checks: latency SLO, shed share, fail-fast, goodput and recovery', () => {
  const faults = [{ name: 'spike', start: 10_000, end: 20_000 }];
  const entries = [
    ...Array.from({ length: 10 }, (_, i) => entry(i * 1000, 201, { latencyMs: 20 })),
    ...Array.from({ length: 10 }, (_, i) => entry(10_000 + i * 1000, 201, { latencyMs: i === 9 ? 900 : 30 })),
    ...Array.from({ length: 10 }, (_, i) => entry(10_500 + i * 1000, 503, { retryAfter: '1', latencyMs: 3 })),
    ...Array.from({ length: 10 }, (_, i) => entry(21_000 + i * 1000, 201)),
  ];
  const x: DrillExpectations = {
    ...base,
    acceptedP99: { maxMs: 250, phases: ['fault'] },
    minShedShareInFault: 0.4,
    failFastP99Ms: 100,
    minGoodputRatioInFault: 0.5,
    recoversWithinS: 5,
  };
  const checks = ledgerChecks({
    entries,
    faults,
    expectations: x,
    loadStart: 0,
    loadEnd: 31_000,
    sloLatencyMs: 250,
  });
  const byName = (prefix: string) => checks.find((c) => c.name.startsWith(prefix));
  assert.equal(byName('accepted p99')?.status, 'fail', 'one 900 ms accept in ten is the p99');
  assert.match(byName('accepted p99')?.detail ?? '', /p99 900 ms over 10 accepted/);
  assert.equal(byName('sheds with Retry-After')?.status, 'pass');
  assert.equal(byName('fails fast')?.status, 'pass');
  assert.equal(byName('goodput in the fault')?.status, 'pass');
  assert.equal(byName('recovers within')?.status, 'pass');
  const withReference = ledgerChecks({
    entries,
    faults,
    expectations: x,
    loadStart: 0,
    loadEnd: 31_000,
    sloLatencyMs: 250,
    referenceGoodput: 100,
  });
  assert.equal(withReference.find((c) => c.name.startsWith('goodput'))?.status, 'fail');
});
