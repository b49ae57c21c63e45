import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool } from 'pg';
import { DatabaseHealth } from '../../src/store/databaseHealth';

type Answer = 'ok' | 'fail' | 'hang';

/** A query function answering like the backlog query would, or failing, or never answering. */
function scriptedPool(answers: () => Answer): { pool: Pick<Pool, 'query'>; calls: () => number } {
  let calls = 0;
  const query = (() => {
    calls++;
    const answer = answers();
    if (answer === 'fail') return Promise.reject(new Error('connection refused'));
    if (answer === 'hang') return new Promise(() => undefined);
    return Promise.resolve({ rows: [{ count: 4, oldest_age: 2.5 }] });
  }) as unknown as Pool['query'];
  return { pool: { query }, calls: () => calls };
}

describe('database health', () => {
  it('reads availability and the outbox backlog from one probe', async () => {
    const { pool } = scriptedPool(() => 'ok');
    const health = new DatabaseHealth({ pool, intervalMs: 60_000, timeoutMs: 100 });
    await health.start();
    health.stop();
    assert.equal(health.current.available, true);
    assert.deepEqual(health.current.backlog, { count: 4, oldestAgeSeconds: 2.5 });
  });

  it('a failing probe marks the database unavailable, keeps the last backlog and grows staleness', async () => {
    let answer: Answer = 'ok';
    let now = 0;
    const { pool } = scriptedPool(() => answer);
    const flips: boolean[] = [];
    const health = new DatabaseHealth({ pool, intervalMs: 60_000, timeoutMs: 100, now: () => now });
    health.onAvailabilityChange((available) => flips.push(available));
    await health.probe();
    answer = 'fail';
    now = 3000;
    await health.probe();
    await health.probe();
    assert.equal(health.current.available, false);
    assert.equal(health.current.backlog?.count, 4, 'the last answer is kept');
    assert.equal(health.stalenessSeconds(), 3);
    answer = 'ok';
    await health.probe();
    assert.equal(health.current.available, true);
    assert.deepEqual(flips, [false, true], 'listeners hear each flip once');
  });

  it('a probe that does not answer in time marks the database unavailable, and is not doubled', async () => {
    const { pool, calls } = scriptedPool(() => 'hang');
    const health = new DatabaseHealth({ pool, intervalMs: 60_000, timeoutMs: 30 });
    const first = health.probe();
    const second = health.probe();
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(health.current.available, false);
    assert.equal(calls(), 1, 'a probe waiting for its answer is joined');
    assert.equal(first, second);
  });
});
