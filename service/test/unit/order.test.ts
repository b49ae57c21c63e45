import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidTransitionError, ValidationError } from '../../src/orders/errors';
import { isUuid, newUuidV7 } from '../../src/orders/ids';
import {
  canTransition,
  transition,
  validateNewOrder,
  type Order,
  type OrderStatus,
} from '../../src/orders/order';
import { requestHash } from '../../src/orders/useCases';

const item = (quantity = 1, unitPriceCents = 100, sku = 'SKU') => ({ sku, quantity, unitPriceCents });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return err.problems.map((p) => p.pointer);
  }
  assert.fail('expected a ValidationError');
}

describe('validateNewOrder', () => {
  it('returns the exact total in minor units', () => {
    assert.equal(
      validateNewOrder({ customerId: 'c', currency: 'EUR', items: [item(3, 1999), item(1, 1)] }),
      5998,
    );
  });

  it('accepts the boundaries: 1 and 100 items, quantity 1 and 10,000, price 0', () => {
    validateNewOrder({ customerId: 'c', currency: 'JPY', items: [item(1, 0)] });
    validateNewOrder({
      customerId: 'c',
      currency: 'USD',
      items: Array.from({ length: 100 }, () => item(10_000, 1)),
    });
  });

  it('lists every problem at once', () => {
    const pointers = problemsOf(() =>
      validateNewOrder({
        customerId: '',
        currency: 'ABC',
        items: [item(0, -1, 'has space'), item(1.5, 1.25)],
      }),
    );
    assert.deepEqual(pointers.sort(), [
      '/currency',
      '/customerId',
      '/items/0/quantity',
      '/items/0/sku',
      '/items/0/unitPriceCents',
      '/items/1/quantity',
      '/items/1/unitPriceCents',
    ]);
  });

  it('refuses 0 and 101 items and quantity 10,001', () => {
    assert.deepEqual(
      problemsOf(() => validateNewOrder({ customerId: 'c', currency: 'EUR', items: [] })),
      ['/items'],
    );
    assert.deepEqual(
      problemsOf(() =>
        validateNewOrder({
          customerId: 'c',
          currency: 'EUR',
          items: Array.from({ length: 101 }, () => item()),
        }),
      ),
      ['/items'],
    );
    assert.deepEqual(
      problemsOf(() => validateNewOrder({ customerId: 'c', currency: 'EUR', items: [item(10_001)] })),
      ['/items/0/quantity'],
    );
  });

  it('guards the total against overflow past Number.MAX_SAFE_INTEGER', () => {
    const big = Math.floor(Number.MAX_SAFE_INTEGER / 2) + 1;
    assert.deepEqual(
      problemsOf(() => validateNewOrder({ customerId: 'c', currency: 'EUR', items: [item(2, big)] })),
      ['/items'],
    );
    assert.equal(
      validateNewOrder({ customerId: 'c', currency: 'EUR', items: [item(1, Number.MAX_SAFE_INTEGER)] }),
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('knows active ISO 4217 codes only', () => {
    for (const code of ['EUR', 'USD', 'JPY', 'CHF', 'XOF'])
      validateNewOrder({ customerId: 'c', currency: code, items: [item()] });
    for (const code of ['eur', 'EU', 'XXX', 'DEM', 'BTC']) {
      assert.deepEqual(
        problemsOf(() => validateNewOrder({ customerId: 'c', currency: code, items: [item()] })),
        ['/currency'],
      );
    }
  });
});

describe('status transitions', () => {
  const statuses: OrderStatus[] = ['pending', 'confirmed', 'cancelled', 'rejected'];
  const allowed = new Set(['pending>confirmed', 'pending>cancelled', 'pending>rejected']);

  it('allow exactly pending → confirmed | cancelled | rejected', () => {
    for (const from of statuses) {
      for (const to of statuses)
        assert.equal(canTransition(from, to), allowed.has(`${from}>${to}`), `${from}>${to}`);
    }
  });

  it('bump the version and refuse illegal moves', () => {
    const order: Order = {
      id: newUuidV7(),
      customerId: 'c',
      items: [item()],
      currency: 'EUR',
      totalCents: 100,
      status: 'pending',
      createdAt: new Date(0),
      updatedAt: new Date(0),
      version: 1,
    };
    const at = new Date(1000);
    const confirmed = transition(order, 'confirmed', at);
    assert.equal(confirmed.status, 'confirmed');
    assert.equal(confirmed.version, 2);
    assert.equal(confirmed.updatedAt, at);
    assert.throws(() => transition(confirmed, 'cancelled', at), InvalidTransitionError);
  });
});

describe('ids and request hashes', () => {
  it('UUIDv7s are valid, version 7 and time-ordered', () => {
    const a = newUuidV7(1_700_000_000_000);
    const b = newUuidV7(1_700_000_000_001);
    assert.ok(isUuid(a));
    assert.equal(a[14], '7');
    assert.ok(a < b);
    assert.ok(a.startsWith('018bcfe5-6800-7'), `the first 48 bits are the milliseconds: ${a}`);
    assert.match(a[19] ?? '', /[89ab]/, 'RFC 9562 variant');
    const many = new Set(Array.from({ length: 10_000 }, () => newUuidV7(1_700_000_000_000)));
    assert.equal(many.size, 10_000, 'random bits differ within one millisecond');
    assert.equal(isUuid('not-a-uuid'), false);
  });

  it('request hash ignores field order but not values', () => {
    const base = { customerId: 'c', currency: 'EUR', items: [item(1, 2)] };
    assert.equal(requestHash(base), requestHash({ items: [item(1, 2)], currency: 'EUR', customerId: 'c' }));
    assert.notEqual(requestHash(base), requestHash({ ...base, items: [item(2, 2)] }));
  });
});
