import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BARE_SQL } from '../../bench/bareBaseline';

// The bare baseline is only a fair yardstick while it runs the service's SQL word for word.
const repositorySource = readFileSync(
  path.resolve(__dirname, '..', '..', '..', '..', 'service', 'src', 'store', 'orderRepository.ts'),
  'utf8',
);
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('bare baseline SQL', () => {
  for (const [name, sql] of Object.entries(BARE_SQL)) {
    it(`${name} is the statement the service runs`, () => {
      assert.ok(
        squash(repositorySource).includes(squash(sql)),
        `${name} differs from orderRepository.ts:\n${sql}`,
      );
    });
  }

  it('reads an order by id the way the service does', () => {
    assert.ok(repositorySource.includes('`${SELECT_ORDER} WHERE o.id = $1`'));
    // Named (prepared) statements in both, or one side would pay parse and plan per request.
    assert.ok(repositorySource.includes("name: 'order_by_id'"));
    assert.ok(repositorySource.includes("name: 'create_order'"));
  });
});
