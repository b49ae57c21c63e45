import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AdaptiveConcurrencyLimit,
  initialLimit,
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

describe('adaptive concurrency limit (AIMD on p90 latency)', () => {
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

  it('percentile is nearest-rank', () => {
    assert.equal(percentileOf(Float64Array.from([3, 1, 2, 4, 5, 6, 7, 8, 9, 10]), 0.9), 9);
    assert.equal(percentileOf(Float64Array.from([7]), 0.9), 7);
    assert.equal(percentileOf(new Float64Array(0), 0.9), 0);
  });
});
