import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AdaptiveConcurrencyLimit,
  congestionOf,
  initialLimit,
  isSaturated,
  nextConcurrencyLimit,
  percentileOf,
  type ConcurrencyLimitSettings,
} from '../../src/overload/concurrencyLimit';

const settings: ConcurrencyLimitSettings = { min: 4, max: 64, initial: 10, targetLatencyMs: 50 };
const window = (p90LatencyMs: number, peakInFlight: number, completed = 20, slowStreak = 2) => ({
  completed,
  p90LatencyMs,
  peakInFlight,
  slowStreak,
});

describe('adaptive concurrency limit (AIMD on p90 latency and event-loop utilisation)', () => {
  it('starts at the initial value clamped to min..max; a zero target means a fixed limit at max', () => {
    assert.equal(initialLimit(settings), 10);
    assert.equal(initialLimit({ ...settings, initial: 1 }), 4);
    assert.equal(initialLimit({ ...settings, initial: 500 }), 64);
    assert.equal(initialLimit({ ...settings, targetLatencyMs: 0 }), 64);
    assert.equal(nextConcurrencyLimit(10, window(500, 10), { ...settings, targetLatencyMs: 0 }), 64);
  });

  it('cuts the limit by 20 % when windows that reached it were slower than the target twice in a row, never below min', () => {
    assert.equal(nextConcurrencyLimit(20, window(51, 20), settings), 16);
    assert.equal(
      nextConcurrencyLimit(20, window(51, 20, 20, 1), settings),
      20,
      'one slow window is not enough',
    );
    assert.equal(nextConcurrencyLimit(20, window(51, 20, 20, 5), settings), 16, 'still slow: keep cutting');
    assert.equal(nextConcurrencyLimit(5, window(400, 5), settings), 4);
    assert.equal(nextConcurrencyLimit(4, window(400, 9), settings), 4);
  });

  it('grows by one within the target, by 25 % under half of it, never above max', () => {
    assert.equal(nextConcurrencyLimit(20, window(50, 20), settings), 21);
    assert.equal(nextConcurrencyLimit(20, window(30, 20), settings), 21);
    assert.equal(nextConcurrencyLimit(20, window(24, 20), settings), 25);
    assert.equal(nextConcurrencyLimit(4, window(1, 4), settings), 5);
    assert.equal(nextConcurrencyLimit(63, window(1, 63), settings), 64);
    assert.equal(nextConcurrencyLimit(64, window(1, 64), settings), 64);
  });

  it('leaves the limit alone when it held nobody back or nothing finished', () => {
    // A GC pause at low load: slow, but our own concurrency did not cause it.
    assert.equal(nextConcurrencyLimit(20, window(500, 3), settings), 20);
    // Idle and fast: no drift towards the ceiling while idle.
    assert.equal(nextConcurrencyLimit(20, window(1, 3), settings), 20);
    assert.equal(nextConcurrencyLimit(20, window(0, 40, 0), settings), 20);
  });

  it('the stateful limit collects one window at a time', () => {
    const limit = new AdaptiveConcurrencyLimit(settings);
    for (let i = 0; i < 2000; i++) limit.recordLatency(i < 1900 ? 5 : 400); // p90 = 5 ms; the buffer grows
    limit.noteInFlight(10);
    assert.equal(limit.endWindow(13), 13, 'fast and binding → +25 %');
    for (let i = 0; i < 10; i++) limit.recordLatency(i < 8 ? 10 : 90); // p90 = 90 ms
    assert.equal(limit.endWindow(13), 13, 'the first slow window only counts');
    for (let i = 0; i < 10; i++) limit.recordLatency(90);
    assert.equal(
      limit.endWindow(0),
      10,
      'the second slow window in a row cuts; peak carried over from the window start',
    );
    limit.recordLatency(500);
    assert.equal(limit.endWindow(0), 10, 'peak 0 < limit: unchanged');
  });

  describe('event-loop utilisation as the second congestion signal', () => {
    const withLoop: ConcurrencyLimitSettings = { ...settings, targetEventLoopUtilization: 0.8 };
    const loopWindow = (utilization: number, p90LatencyMs = 5, peakInFlight = 20, slowStreak = 2) => ({
      ...window(p90LatencyMs, peakInFlight, 20, slowStreak),
      eventLoopUtilization: utilization,
    });

    it('congestion is the larger signal over its target; a signal without a target or reading counts 0', () => {
      assert.equal(congestionOf(loopWindow(0.4, 10), withLoop), 0.5);
      assert.equal(congestionOf(loopWindow(0.4, 75), withLoop), 1.5);
      assert.equal(congestionOf(loopWindow(1, 10), settings), 0.2, 'no loop target: latency only');
      assert.equal(congestionOf(window(10, 20), withLoop), 0.2, 'no reading: latency only');
      assert.equal(congestionOf(loopWindow(1, 10), { ...withLoop, targetLatencyMs: 0 }), 1.25);
    });

    it('a loop busy over its target cuts the limit though latency is fine (fast requests, CPU-bound process)', () => {
      assert.equal(nextConcurrencyLimit(20, loopWindow(0.95), withLoop), 16);
      assert.equal(nextConcurrencyLimit(20, loopWindow(0.95, 5, 20, 1), withLoop), 20, 'twice in a row');
      assert.equal(nextConcurrencyLimit(5, loopWindow(0.9), withLoop), 4, 'never below min');
      assert.equal(nextConcurrencyLimit(20, loopWindow(0.95), settings), 25, 'no loop target: it grows');
    });

    it('a saturated loop (≥ 97 % busy) halves the limit at once, never below min', () => {
      assert.equal(
        nextConcurrencyLimit(20, loopWindow(0.97, 5, 20, 1), withLoop),
        10,
        'first window already',
      );
      assert.equal(nextConcurrencyLimit(20, loopWindow(1, 5, 20, 3), withLoop), 10);
      assert.equal(nextConcurrencyLimit(5, loopWindow(1, 5, 5, 1), withLoop), 4, 'never below min');
      assert.equal(
        nextConcurrencyLimit(20, loopWindow(1, 5, 19, 1), withLoop),
        20,
        'the limit held nobody back',
      );
      assert.equal(
        nextConcurrencyLimit(20, loopWindow(0.969, 5, 20, 1), withLoop),
        20,
        'just under: two-window rule',
      );
      assert.equal(isSaturated(loopWindow(1), settings), false, 'no loop target: utilisation does not steer');
    });

    it('grows by one while the loop is busy but within target, by 25 % only when both signals are under half', () => {
      assert.equal(nextConcurrencyLimit(20, loopWindow(0.6), withLoop), 21);
      assert.equal(nextConcurrencyLimit(20, loopWindow(0.3), withLoop), 25);
      assert.equal(
        nextConcurrencyLimit(20, loopWindow(0.3, 30), withLoop),
        21,
        'latency above half its target',
      );
    });

    it('the stateful limit counts loop-congested windows in the same streak as slow ones', () => {
      const limit = new AdaptiveConcurrencyLimit({ ...withLoop, min: 2, initial: 10 });
      const fastWindow = (utilization: number): number => {
        for (let i = 0; i < 20; i++) limit.recordLatency(3);
        limit.noteInFlight(limit.limit);
        return limit.endWindow(limit.limit, utilization);
      };
      assert.equal(fastWindow(0.9), 10, 'first busy window only counts');
      assert.equal(fastWindow(0.9), 8, 'second in a row cuts');
      assert.equal(fastWindow(0.9), 6, 'still busy: cut again');
      assert.equal(fastWindow(0.7), 7, 'within target: +1');
      assert.equal(fastWindow(0.9), 7, 'the streak started again');
      assert.equal(fastWindow(0.99), 3, 'saturated: halved at once');
    });
  });

  it('percentile is nearest-rank', () => {
    assert.equal(percentileOf(Float64Array.from([3, 1, 2, 4, 5, 6, 7, 8, 9, 10]), 0.9), 9);
    assert.equal(percentileOf(Float64Array.from([7]), 0.9), 7);
    assert.equal(percentileOf(new Float64Array(0), 0.9), 0);
  });
});
