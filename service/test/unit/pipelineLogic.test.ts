import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, WakeSignal } from '../../src/pipeline/backoff';
import { parseEnvelope, toEnvelope, toKafkaHeaders } from '../../src/pipeline/envelope';
import { poisonReason } from '../../src/pipeline/fulfilmentWorker';
import { declines } from '../../src/pipeline/simulatedFulfilmentStep';
import { InvalidTransitionError, NotFoundError, UnavailableError } from '../../src/orders/errors';

const orderId = '01936f4e-8a5a-7c3d-9e2f-4a1b2c3d4e5f';
const row = {
  eventId: '01936f4e-8a5b-7c3d-9e2f-4a1b2c3d4e5f',
  aggregateId: orderId,
  eventType: 'order.created.v1',
  payload: {
    orderId,
    customerId: 'c',
    status: 'pending',
    currency: 'EUR',
    totalCents: 10,
    items: [{ sku: 'A', quantity: 1, unitPriceCents: 10 }],
    version: 1,
    acceptedAt: '2026-11-24T00:00:00.000Z',
  },
  headers: {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    other: 'x',
    tracestate: '',
  },
  createdAt: new Date('2026-11-24T00:00:00.000Z'),
};

describe('backoffDelay', () => {
  it('doubles from the minimum, is capped at the maximum, and jitters within the upper half', () => {
    assert.equal(
      backoffDelay(1, 100, 10000, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(1, 100, 10000, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(4, 100, 10000, () => 1),
      800,
    );
    assert.equal(
      backoffDelay(20, 100, 10000, () => 1),
      10000,
    );
    assert.equal(
      backoffDelay(20, 100, 10000, () => 0),
      5000,
    );
    assert.equal(
      backoffDelay(1000, 100, 10000, () => 0.5),
      7500,
    );
  });
});

describe('WakeSignal', () => {
  it('wakes waiters on notify, not sleepers; cancel ends both', async () => {
    const s = new WakeSignal();
    const waiting = s.wait(10000);
    const sleeping = s.sleep(10000);
    s.notify();
    assert.equal(await waiting, 'woken');
    s.cancel();
    assert.equal(await sleeping, 'cancelled');
    assert.equal(await s.wait(10000), 'cancelled');
  });

  it('times out', async () => {
    assert.equal(await new WakeSignal().wait(5), 'timeout');
  });
});

describe('envelope', () => {
  it('round-trips an outbox row and carries only the trace headers', () => {
    const value = Buffer.from(JSON.stringify(toEnvelope(row, '/orderlab/orders')));
    const parsed = parseEnvelope(value);
    assert.ok(parsed.ok);
    assert.equal(parsed.envelope.id, row.eventId);
    assert.equal(parsed.envelope.subject, orderId);
    assert.equal(parsed.envelope.time, '2026-11-24T00:00:00.000Z');
    const headers = toKafkaHeaders(row.headers);
    assert.deepEqual(Object.keys(headers).sort(), ['content-type', 'traceparent']);
  });

  it('names why a value is not an envelope', () => {
    const good = toEnvelope(row, '/orderlab/orders');
    const reason = (v: unknown): string | undefined => {
      const r = parseEnvelope(v === null ? null : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
      return r.ok ? undefined : r.reason;
    };
    assert.equal(reason(null), 'unparseable');
    assert.equal(reason('{"oops'), 'unparseable');
    assert.equal(reason({ ...good, type: 'order.teleported.v1' }), 'unknown_type');
    assert.equal(reason({ ...good, specversion: '0.3' }), 'invalid_envelope');
    assert.equal(reason({ ...good, data: { ...good.data, totalCents: -1 } }), 'invalid_envelope');
    assert.equal(reason({ ...good, subject: '01936f4e-8a5a-7c3d-9e2f-000000000000' }), 'invalid_envelope');
    assert.equal(reason([1, 2]), 'invalid_envelope');
    assert.equal(reason(good), undefined);
  });
});

describe('worker error classification', () => {
  it('dead-letters what can never succeed and retries the rest', () => {
    assert.equal(poisonReason(new NotFoundError('order', 'x')), 'order_not_found');
    assert.equal(poisonReason(new InvalidTransitionError('confirmed', 'rejected')), 'invalid_transition');
    assert.equal(poisonReason(new UnavailableError('database', 1)), undefined);
    assert.equal(poisonReason(new Error('boom')), undefined);
  });
});

describe('simulated fulfilment decision', () => {
  it('is deterministic per seed and event, and near the configured rate', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `event-${i}`);
    const declined = ids.filter((id) => declines('seed', id, 0.25)).length;
    assert.ok(declined > 850 && declined < 1150, `declined ${declined} of 4000`);
    assert.deepEqual(
      ids.map((id) => declines('seed', id, 0.25)),
      ids.map((id) => declines('seed', id, 0.25)),
    );
    assert.notDeepEqual(
      ids.slice(0, 50).map((id) => declines('seed', id, 0.5)),
      ids.slice(0, 50).map((id) => declines('other', id, 0.5)),
    );
    assert.equal(declines('s', 'e', 0), false);
    assert.equal(declines('s', 'e', 1), true);
  });
});
