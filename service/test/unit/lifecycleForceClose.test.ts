import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lifecycle } from '../../src/lifecycle/lifecycle';
import { createLogger } from '../../src/telemetry/logger';

const logger = createLogger({ level: 'error', service: 'test', roles: ['api'] });
// Keep the deadline log line out of the test output.
logger.silent = true;

describe('Lifecycle forceClose', () => {
  it('force-closes only what has not closed when the deadline passes', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle(logger, { timeoutMs: 100, drainDelayMs: 0 }, () => undefined);
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
      close: async () => {
        events.push('closed quick');
      },
      forceClose: () => events.push('force quick'),
    });
    assert.equal(await lifecycle.shutdown('test'), 1);
    assert.deepEqual(events, ['closed quick', 'force stuck', 'force first']);
  });

  it('never force-closes when everything closes in time', async () => {
    let forced = false;
    const lifecycle = new Lifecycle(logger, { timeoutMs: 1000, drainDelayMs: 0 }, () => undefined);
    lifecycle.add({ name: 'fine', close: async () => undefined, forceClose: () => (forced = true) });
    assert.equal(await lifecycle.shutdown('test'), 0);
    assert.equal(forced, false);
  });
});
