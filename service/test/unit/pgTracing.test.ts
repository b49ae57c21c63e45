import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeQuery, operationNameOf } from '../../src/telemetry/pgTracing';

describe('pg span naming', () => {
  it('takes the first keyword of the statement, upper-cased', () => {
    assert.equal(operationNameOf('select 1'), 'SELECT');
    assert.equal(operationNameOf('  \n\tINSERT INTO orders (id) VALUES ($1)'), 'INSERT');
    assert.equal(operationNameOf('COMMIT;'), 'COMMIT');
    assert.equal(operationNameOf('BEGIN'), 'BEGIN');
    assert.equal(operationNameOf('WITH o AS (SELECT 1) SELECT * FROM o'), 'WITH');
    assert.equal(operationNameOf('select(1)'), 'SELECT');
    assert.equal(operationNameOf(''), '');
  });

  it('gives the same name from its cache as the first time', () => {
    const text = `SELECT ${Math.random()}`;
    assert.equal(operationNameOf(text), 'SELECT');
    assert.equal(operationNameOf(text), 'SELECT');
  });

  it('reads text and statement name from every query form pg accepts', () => {
    assert.deepEqual(describeQuery('SELECT 1'), { text: 'SELECT 1' });
    assert.deepEqual(describeQuery({ text: 'SELECT $1', values: [1] }), { text: 'SELECT $1' });
    assert.deepEqual(describeQuery({ name: 'order_by_id', text: 'SELECT $1' }), {
      text: 'SELECT $1',
      name: 'order_by_id',
    });
    // An empty name is no prepared statement (pg ignores it too).
    assert.deepEqual(describeQuery({ name: '', text: 'SELECT 1' }), { text: 'SELECT 1' });
    assert.deepEqual(describeQuery({ name: 7, text: 42 }), {});
    assert.deepEqual(describeQuery(undefined), {});
    assert.deepEqual(describeQuery(null), {});
  });
});
