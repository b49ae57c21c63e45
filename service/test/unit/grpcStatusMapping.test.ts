import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as Code } from '@grpc/grpc-js';
import {
  ConflictError,
  IdempotencyMismatchError,
  InvalidTransitionError,
  NotFoundError,
  OverloadedError,
  UnavailableError,
  ValidationError,
} from '../../src/orders/errors';
import { remainingTimeMs, stopIfNoTimeLeft } from '../../src/grpc/orderService';
import {
  CallStoppedError,
  decodeStatusDetails,
  protoFieldPath,
  RETRY_PUSHBACK_KEY,
  statusForError,
  STATUS_DETAILS_KEY,
} from '../../src/grpc/statusMapping';

function details(err: unknown): Record<string, unknown> {
  const bin = statusForError(err).metadata.get(STATUS_DETAILS_KEY)[0];
  assert.ok(Buffer.isBuffer(bin), 'grpc-status-details-bin is set');
  const decoded = decodeStatusDetails(bin);
  assert.equal(decoded.code, statusForError(err).code, 'google.rpc.Status code matches the call status');
  return decoded.details;
}

describe('gRPC status mapping', () => {
  it('maps every domain error to its code', () => {
    const cases: [unknown, Code][] = [
      [new ValidationError([{ pointer: '/currency', detail: 'bad' }]), Code.INVALID_ARGUMENT],
      [new NotFoundError('order', 'x'), Code.NOT_FOUND],
      [new IdempotencyMismatchError('k'), Code.ALREADY_EXISTS],
      [new ConflictError('in flight'), Code.ABORTED],
      [new InvalidTransitionError('cancelled', 'cancelled'), Code.FAILED_PRECONDITION],
      [new OverloadedError('concurrency', 2), Code.RESOURCE_EXHAUSTED],
      [new OverloadedError('outbox_backlog', 5), Code.RESOURCE_EXHAUSTED],
      // Shed because the guard knows the database is down: the same answer as meeting it mid-call.
      [new OverloadedError('database_unavailable', 1), Code.UNAVAILABLE],
      [new UnavailableError('database', 1), Code.UNAVAILABLE],
      [new CallStoppedError(Code.DEADLINE_EXCEEDED, 'late'), Code.DEADLINE_EXCEEDED],
      [new CallStoppedError(Code.CANCELLED, 'gone'), Code.CANCELLED],
      [new Error('password=hunter2 at db.internal:5432'), Code.INTERNAL],
      ['a thrown string', Code.INTERNAL],
    ];
    for (const [err, code] of cases) assert.equal(statusForError(err).code, code, String(err));
  });

  it('INVALID_ARGUMENT names every field in the message and in a google.rpc.BadRequest', () => {
    const err = new ValidationError([
      { pointer: '/customerId', detail: 'must be 1..64 characters' },
      { pointer: '/items/3/unitPriceCents', detail: 'must be a non-negative integer in minor units' },
    ]);
    const mapped = statusForError(err);
    assert.match(mapped.details, /customer_id: must be 1\.\.64 characters/);
    assert.match(mapped.details, /items\[3\]\.unit_price_cents/);
    assert.deepEqual(details(err)['google.rpc.BadRequest'], {
      field_violations: [
        { field: 'customer_id', description: 'must be 1..64 characters', reason: '' },
        {
          field: 'items[3].unit_price_cents',
          description: 'must be a non-negative integer in minor units',
          reason: '',
        },
      ],
    });
  });

  it('shedding and lost dependencies carry RetryInfo and the retry pushback', () => {
    const shed = new OverloadedError('event_loop_delay', 2);
    assert.equal(statusForError(shed).metadata.get(RETRY_PUSHBACK_KEY)[0], '2000');
    assert.deepEqual(details(shed)['google.rpc.RetryInfo'], { retry_delay: { seconds: 2, nanos: 0 } });
    assert.deepEqual(details(shed)['google.rpc.ErrorInfo'], {
      reason: 'OVERLOADED',
      domain: 'orderlab.order.v1',
      metadata: { reason: 'event_loop_delay' },
    });
    const lost = new UnavailableError('database', 0.5);
    assert.equal(statusForError(lost).metadata.get(RETRY_PUSHBACK_KEY)[0], '500');
    assert.deepEqual(details(lost)['google.rpc.RetryInfo'], {
      retry_delay: { seconds: 0, nanos: 500_000_000 },
    });
  });

  it('unknown errors leak nothing', () => {
    const mapped = statusForError(new Error('password=hunter2 at db.internal:5432'));
    assert.equal(mapped.details, 'internal error');
    assert.deepEqual(mapped.metadata.getMap(), {});
  });

  it('turns domain pointers into proto field paths', () => {
    assert.equal(protoFieldPath('/customerId'), 'customer_id');
    assert.equal(protoFieldPath('/items'), 'items');
    assert.equal(protoFieldPath('/items/0/quantity'), 'items[0].quantity');
    assert.equal(protoFieldPath('/items/12/unitPriceCents'), 'items[12].unit_price_cents');
    assert.equal(protoFieldPath('customerId'), 'customer_id');
    assert.equal(protoFieldPath('limit'), 'page_size');
    assert.equal(protoFieldPath('cursor'), 'page_token');
    assert.equal(protoFieldPath('Idempotency-Key'), 'idempotency_key');
    assert.equal(protoFieldPath('id'), 'id');
    assert.equal(protoFieldPath('/'), '');
  });
});

describe('stopIfNoTimeLeft', () => {
  const call = (deadline: Date | number, cancelled = false) => ({ cancelled, getDeadline: () => deadline });
  const codeOf = (fn: () => void): Code | 'ran' => {
    try {
      fn();
      return 'ran';
    } catch (err) {
      assert.ok(err instanceof CallStoppedError);
      return err.code;
    }
  };

  it('lets calls without a deadline or with enough time run', () => {
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(Infinity), 5, 1000)),
      'ran',
    );
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(new Date(1010)), 5, 1000)),
      'ran',
    );
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(1005), 5, 1000)),
      'ran',
    );
  });

  it('stops cancelled calls, spent deadlines and deadlines below the minimum', () => {
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(Infinity, true), 5, 1000)),
      Code.CANCELLED,
    );
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(1000), 5, 1000)),
      Code.DEADLINE_EXCEEDED,
    );
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(new Date(900)), 0, 1000)),
      Code.DEADLINE_EXCEEDED,
    );
    assert.equal(
      codeOf(() => stopIfNoTimeLeft(call(1004), 5, 1000)),
      Code.DEADLINE_EXCEEDED,
    );
  });

  it('measures remaining time from a Date or epoch milliseconds', () => {
    assert.equal(remainingTimeMs(new Date(1500), 1000), 500);
    assert.equal(remainingTimeMs(1500, 1000), 500);
    assert.equal(remainingTimeMs(Infinity, 1000), Infinity);
  });
});
