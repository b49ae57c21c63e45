import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EvenShare, regressionIsOn } from '../../src/http/releaseRegression';

function failures(rate: number, requests: number): number[] {
  const share = new EvenShare(rate);
  const failed: number[] = [];
  for (let i = 1; i <= requests; i++) if (share.next()) failed.push(i);
  return failed;
}

it('fails exactly ⌊n × rate⌋ of the first n requests, spread evenly', () => {
  assert.deepEqual(failures(0.1, 30), [10, 20, 30]);
  assert.deepEqual(failures(0.5, 6), [2, 4, 6]);
  assert.equal(failures(0.25, 1000).length, 250);
  assert.deepEqual(failures(0, 50), []);
  assert.equal(failures(1, 7).length, 7);
});

it('is off unless an error rate or an added latency is set', () => {
  assert.equal(regressionIsOn({ errorRate: 0, latencyMs: 0, routes: ['POST /v1/orders'] }), false);
  assert.equal(regressionIsOn({ errorRate: 0.01, latencyMs: 0, routes: [] }), true);
  assert.equal(regressionIsOn({ errorRate: 0, latencyMs: 5, routes: [] }), true);
});
