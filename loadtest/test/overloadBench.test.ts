import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LedgerEntry } from '../../chaos/src/load/ledger';
import {
  capacityFrom,
  describeStep,
  evaluateStep,
  ladderDecision,
  nextLadderRate,
  type StepResult,
} from '../../chaos/src/load/capacityProbe';
import {
  apiGcPerSecond,
  checkTargets,
  describeShedTail,
  parseServiceSample,
  perSecond,
  shedTail,
} from '../bench/overload';

function entry(status: number | null, latencyMs: number, retryAfter?: string): LedgerEntry {
  return {
    requestId: 'r',
    idempotencyKey: 'k',
    target: 'api',
    intendedAt: 0,
    sentAt: 0,
    completedAt: latencyMs,
    status,
    latencyMs,
    ...(retryAfter ? { retryAfter } : {}),
  };
}

describe('overload benchmark maths', () => {
  it('a step passes only with ≥ 99% accepted and accepted p99 under the SLO', () => {
    const fast = Array.from({ length: 100 }, () => entry(201, 20));
    assert.equal(evaluateStep(20, 5, fast, 250).passed, true);
    assert.equal(evaluateStep(20, 5, fast, 250).goodput, 20);
    const slowTail = [...Array.from({ length: 98 }, () => entry(201, 20)), entry(201, 400), entry(201, 400)];
    assert.equal(evaluateStep(20, 5, slowTail, 250).passed, false);
    const shedSome = [
      ...Array.from({ length: 97 }, () => entry(201, 20)),
      ...Array.from({ length: 3 }, () => entry(503, 2, '1')),
    ];
    const s = evaluateStep(20, 5, shedSome, 250);
    assert.equal(s.passed, false);
    assert.equal(s.shed, 3);
    assert.equal(s.shedP99Ms, 2);
    assert.equal(evaluateStep(20, 5, [], 250).passed, false);
  });

  it('capacity is the goodput of the last passing step before the first failure', () => {
    const step = (goodput: number, passed: boolean) => ({ goodput, passed }) as StepResult;
    assert.equal(capacityFrom([step(50, true), step(70, true), step(90, false), step(120, true)]), 70);
    assert.equal(capacityFrom([step(50, false)]), 0);
  });

  it('a failed step that was run again does not end the ladder: its retry decides', () => {
    const step = (goodput: number, passed: boolean, retried = false) =>
      ({ goodput, passed, ...(retried ? { retried } : {}) }) as StepResult;
    // 739/s failed once on a transient, passed when run again, and the ladder went on.
    assert.equal(
      capacityFrom([
        step(528, true),
        step(730, false, true),
        step(739, true),
        step(1035, true),
        step(1300, false),
      ]),
      1035,
    );
    // Failed again after its retry: the ladder stops there.
    assert.equal(capacityFrom([step(528, true), step(700, false, true), step(690, false)]), 528);
    assert.equal(capacityFrom([step(50, false, true), step(50, false)]), 0);
  });

  it('the next ladder rate grows by the factor and stops past maxRate (the drill: 40 … 300, then stop)', () => {
    assert.equal(nextLadderRate(40, 1.4), 56);
    assert.equal(nextLadderRate(1000, 1.4), 1400, 'no cap');
    const rates = [40];
    for (let next = nextLadderRate(40, 1.4, 310); next !== undefined; next = nextLadderRate(next, 1.4, 310))
      rates.push(next);
    assert.deepEqual(rates, [40, 56, 78, 109, 153, 214, 300]);
    assert.equal(nextLadderRate(300, 1.4, 420), 420, 'the cap itself is allowed');
    assert.equal(nextLadderRate(300, 1.4, 419), undefined);
  });

  it('ladder decision: grow on a pass, retry while attempts ≤ retries, else stop', () => {
    const passed = { passed: true } as StepResult;
    const failed = { passed: false } as StepResult;
    assert.equal(ladderDecision(passed, 1, 0), 'grow');
    assert.equal(ladderDecision(passed, 2, 1), 'grow', 'a retry that passes grows the rate');
    assert.equal(ladderDecision(failed, 1, 0), 'stop', 'no retries: the first failure stops');
    assert.equal(ladderDecision(failed, 1, 1), 'retry');
    assert.equal(ladderDecision(failed, 2, 1), 'stop');
    assert.equal(ladderDecision(failed, 2, 2), 'retry');
    const line = describeStep(
      {
        rate: 739,
        goodput: 730,
        okP99Ms: 240,
        shed: 46,
        sendLagP99Ms: 2,
        passed: false,
        retried: true,
      } as StepResult,
      8,
    );
    assert.match(line, /^capacity step 9: 739 req\/s .* past SLO, running it again$/);
  });

  it('targets: each check can fail on its own', () => {
    const overload = { goodput: 95, okP99Ms: 120, shedP99Ms: 5 } as StepResult;
    assert.ok(checkTargets(100, overload, 200, 30).every((c) => c.ok));
    assert.deepEqual(
      checkTargets(100, { ...overload, goodput: 80 }, 200, 30)
        .filter((c) => !c.ok)
        .map((c) => c.name),
      ['goodput / capacity'],
    );
    assert.deepEqual(
      checkTargets(100, { ...overload, shedP99Ms: 40 }, 500, undefined)
        .filter((c) => !c.ok)
        .map((c) => c.name),
      ['shed p99', 'peak RSS', 'event-loop delay p99 (max of 1 s windows)'],
    );
  });

  it('reads event-loop delay, the adaptive limit, in-flight and GC time from a scrape; missing gauges stay absent', () => {
    const text = [
      '# TYPE nodejs_eventloop_lag_p99_seconds gauge',
      'nodejs_eventloop_lag_p99_seconds 0.0315',
      'orderlab_concurrency_limit 24',
      'orderlab_in_flight_requests{} 7',
      'nodejs_gc_duration_seconds_sum{kind="minor"} 0.25',
      'nodejs_gc_duration_seconds_sum{kind="major"} 0.5',
    ].join('\n');
    assert.deepEqual(parseServiceSample(3, text), {
      atS: 3,
      eventLoopP99Ms: 31.5,
      concurrencyLimit: 24,
      inFlight: 7,
      gcSecondsTotal: 0.75,
    });
    assert.deepEqual(parseServiceSample(4, ''), { atS: 4 });
  });

  it("turns the api's cumulative GC time into pauses per sample interval, in time order", () => {
    assert.deepEqual(
      apiGcPerSecond([
        { atS: 2, gcSecondsTotal: 0.03 },
        { atS: 1, gcSecondsTotal: 0.01 },
        { atS: 3 },
        { atS: 4, gcSecondsTotal: 0.0805 },
      ]),
      [
        { atS: 2, ms: 20 },
        { atS: 4, ms: 50.5 },
      ],
    );
    assert.deepEqual(apiGcPerSecond([]), []);
  });

  it('splits a run into seconds by intended send time', () => {
    const at = (s: number, status: number, latencyMs: number): LedgerEntry => ({
      ...entry(status, latencyMs, status === 503 ? '1' : undefined),
      intendedAt: 1000 + s,
    });
    const seconds = perSecond(
      [at(0, 201, 10), at(999, 503, 2), at(1000, 201, 30), at(2500, 500, 1)],
      1000,
      3,
    );
    assert.deepEqual(
      seconds.map((s) => [s.atS, s.ok, s.shed, s.other]),
      [
        [0, 1, 1, 0],
        [1, 1, 0, 0],
        [2, 0, 0, 1],
      ],
    );
    assert.equal(seconds[1]?.okP99Ms, 30);
  });

  describe('shedTail: where the slow shed responses sit', () => {
    const at = (s: number, status: number, latencyMs: number): LedgerEntry => ({
      ...entry(status, latencyMs, status === 503 ? '1' : undefined),
      intendedAt: 10_000 + s * 1000 + 1,
    });
    const calm = (s: number) => [
      ...Array.from({ length: 98 }, () => at(s, 503, 3)),
      at(s, 503, 25),
      at(s, 503, 8),
      ...Array.from({ length: 50 }, () => at(s, 201, 9)),
    ];
    const stall = (s: number) => [
      ...Array.from({ length: 60 }, () => at(s, 503, 80)),
      ...Array.from({ length: 40 }, () => at(s, 503, 4)),
      ...Array.from({ length: 50 }, () => at(s, 201, 95)),
    ];

    it('marks the seconds where shed and accepted requests were both slow, and gives the p99 without them', () => {
      const tail = shedTail([...calm(0), ...stall(1), ...calm(2)], 10_000, 3, 20);
      assert.equal(tail.shed, 300);
      assert.equal(tail.slowShed, 62);
      assert.deepEqual(tail.stallSeconds, [{ atS: 1, slowShed: 60, shedP99Ms: 80, okP99Ms: 95 }]);
      assert.equal(tail.slowShedInStalls, 60);
      assert.equal(tail.shedP99OutsideStallsMs, 8, 'the 99th of 200 calm shed latencies');
      const line = describeShedTail(tail, 3) ?? '';
      assert.match(
        line,
        /62 of 300; 60 of them in 1 second\(s\) in which accepted requests were as late \(second: shed\/accepted p99 — 1: 80\/95 ms\)/,
      );
      assert.match(line, /shed p99 in the other 2 s: 8\.0 ms/);
    });

    it('a slow shed second with fast accepted requests is the shed path, not a stall', () => {
      const slowShedOnly = [
        ...Array.from({ length: 10 }, () => at(0, 503, 40)),
        ...Array.from({ length: 10 }, () => at(0, 201, 5)),
      ];
      const tail = shedTail(slowShedOnly, 10_000, 1, 20);
      assert.deepEqual(tail.stallSeconds, []);
      assert.match(describeShedTail(tail, 1) ?? '', /spread over the run .*the shed path itself/);
    });

    it('says nothing when no shed response reached the target, and ignores requests outside the run', () => {
      const tail = shedTail(
        [...calm(0).filter((e) => e.latencyMs < 20), at(-1, 503, 500), at(5, 503, 500)],
        10_000,
        1,
        20,
      );
      assert.equal(tail.slowShed, 0);
      assert.equal(describeShedTail(tail, 1), undefined);
    });
  });
});
