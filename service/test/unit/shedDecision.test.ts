import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideShed, type LoadReadings, type OverloadLimits } from '../../src/overload/shedDecision';

const limits: OverloadLimits = {
  maxInFlight: 10,
  maxEventLoopDelayMs: 100,
  maxPoolWaiting: 5,
  maxOutboxBacklog: 1000,
  retryAfterSeconds: 2,
};
const calm: LoadReadings = {
  inFlight: 0,
  eventLoopDelayMs: 5,
  poolWaiting: 0,
  outboxBacklog: 0,
  databaseAvailable: true,
};

describe('decideShed', () => {
  it('admits every kind of request when calm', () => {
    for (const kind of ['create', 'write', 'read'] as const)
      assert.equal(decideShed(kind, calm, limits), null);
  });

  it('sheds at the in-flight limit, not below it', () => {
    assert.equal(decideShed('read', { ...calm, inFlight: 9 }, limits), null);
    assert.deepEqual(decideShed('read', { ...calm, inFlight: 10 }, limits), {
      reason: 'concurrency',
      retryAfterSeconds: 2,
    });
  });

  it('sheds when the event loop lags beyond the limit', () => {
    assert.equal(decideShed('create', { ...calm, eventLoopDelayMs: 100 }, limits), null);
    assert.equal(
      decideShed('create', { ...calm, eventLoopDelayMs: 101 }, limits)?.reason,
      'event_loop_delay',
    );
  });

  it('sheds when too many callers already wait for a database connection', () => {
    assert.equal(decideShed('write', { ...calm, poolWaiting: 4 }, limits), null);
    assert.equal(decideShed('write', { ...calm, poolWaiting: 5 }, limits)?.reason, 'db_pool_queue');
  });

  it('fails fast while the database is unreachable', () => {
    assert.equal(
      decideShed('read', { ...calm, databaseAvailable: false }, limits)?.reason,
      'database_unavailable',
    );
  });

  it('refuses only new orders when the outbox backlog is at its bound, with a longer Retry-After', () => {
    const full = { ...calm, outboxBacklog: 1000 };
    assert.deepEqual(decideShed('create', full, limits), { reason: 'outbox_backlog', retryAfterSeconds: 5 });
    assert.equal(decideShed('read', full, limits), null);
    assert.equal(decideShed('write', full, limits), null);
    assert.equal(decideShed('create', { ...calm, outboxBacklog: 999 }, limits), null);
    assert.equal(decideShed('create', { ...calm, outboxBacklog: undefined }, limits), null);
  });

  it('reports the cheapest certain reason first when several apply', () => {
    const everything: LoadReadings = {
      inFlight: 50,
      eventLoopDelayMs: 500,
      poolWaiting: 50,
      outboxBacklog: 5000,
      databaseAvailable: false,
    };
    assert.equal(decideShed('create', everything, limits)?.reason, 'concurrency');
    assert.equal(decideShed('create', { ...everything, inFlight: 0 }, limits)?.reason, 'event_loop_delay');
    assert.equal(
      decideShed('create', { ...everything, inFlight: 0, eventLoopDelayMs: 0 }, limits)?.reason,
      'database_unavailable',
    );
  });
});

describe('decideShed with an adaptive limit', () => {
  it('sheds at the adaptive limit when it is below the hard cap, and at the cap otherwise', () => {
    assert.equal(decideShed('read', { ...calm, inFlight: 5, concurrencyLimit: 6 }, limits), null);
    assert.equal(
      decideShed('read', { ...calm, inFlight: 6, concurrencyLimit: 6 }, limits)?.reason,
      'concurrency',
    );
    assert.equal(
      decideShed('read', { ...calm, inFlight: 10, concurrencyLimit: 50 }, limits)?.reason,
      'concurrency',
    );
  });
});
