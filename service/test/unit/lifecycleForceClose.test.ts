import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lifecycle } from '../../src/lifecycle/lifecycle';
import { createLogger } from '../../src/telemetry/logger';

const logger = createLogger({ level: 'error', service: 'test', roles: ['api'] });
// Keep the deadline log line out of the test output.
logger.silent = true;

describe('Lifecycle order', () => {
  it('closes in the stated order, whatever the order of registration', async () => {
    const closed: string[] = [];
    const order = ['doors', 'pipeline', 'pool'] as const;
    const lifecycle = new Lifecycle(logger, { timeoutMs: 1000, drainDelayMs: 0 }, order, () => undefined);
    for (const name of ['pool', 'doors', 'pipeline'] as const) {
      lifecycle.add({ name, close: () => Promise.resolve(void closed.push(name)) });
    }
    assert.equal(await lifecycle.shutdown('test'), 0);
    assert.deepEqual(closed, ['doors', 'pipeline', 'pool']);
  });

  it('refuses a component without a place in the order, or registered twice', () => {
    const lifecycle = new Lifecycle<string>(
      logger,
      { timeoutMs: 1000, drainDelayMs: 0 },
      ['a'],
      () => undefined,
    );
    assert.throws(() => lifecycle.add({ name: 'b', close: () => Promise.resolve() }), /b has no place/);
    lifecycle.add({ name: 'a', close: () => Promise.resolve() });
    assert.throws(
      () => lifecycle.add({ name: 'a', close: () => Promise.resolve() }),
      /a is registered twice/,
    );
  });
});

describe('Lifecycle forceClose', () => {
  it('force-closes only what has not closed when the deadline passes', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle(
      logger,
      { timeoutMs: 100, drainDelayMs: 0 },
      ['quick', 'stuck', 'never closes'],
      () => undefined,
    );
    lifecycle.add({
      name: 'never closes',
      close: () => new Promise(() => undefined),
      forceClose: () => events.push('force first'),
    });
    lifecycle.add({
      name: 'stuck',
      close: () => new Promise(() => undefined),
      forceClose: () => events.push('force stuck'),
    });
    lifecycle.add({
      name: 'quick',
      close: () => {
        events.push('closed quick');
        return Promise.resolve();
      },
      forceClose: () => events.push('force quick'),
    });
    assert.equal(await lifecycle.shutdown('test'), 1);
    assert.deepEqual(events, ['closed quick', 'force stuck', 'force first']);
  });

  it('never force-closes when everything closes in time', async () => {
    let forced = false;
    const lifecycle = new Lifecycle(logger, { timeoutMs: 1000, drainDelayMs: 0 }, ['fine'], () => undefined);
    lifecycle.add({ name: 'fine', close: () => Promise.resolve(), forceClose: () => (forced = true) });
    assert.equal(await lifecycle.shutdown('test'), 0);
    assert.equal(forced, false);
  });
});
