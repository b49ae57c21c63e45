import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLabArgs, resolvePortOffset, UsageError } from '../../src/args';

test('parses commands, components and flags in any order', () => {
  assert.deepEqual(parseLabArgs(['up', '--only', 'postgres,kafka', '--port-offset=100', '--dir', '/tmp/x']), {
    command: 'up',
    component: undefined,
    dir: '/tmp/x',
    portOffset: 100,
    only: ['postgres', 'kafka'],
    services: undefined,
    lines: 30,
    json: false,
    orphans: false,
    scope: 'tests',
    checkOnly: false,
  });
  const logs = parseLabArgs(['logs', 'kafka', '-n', '5']);
  assert.equal(logs.component, 'kafka');
  assert.equal(logs.lines, 5);
  assert.equal(parseLabArgs(['status', '--json']).json, true);
  assert.equal(parseLabArgs(['up', '--services', 'api*2']).services, 'api*2');
});

test('prerequisites takes a scope and --check, and refuses them elsewhere or misspelt', () => {
  const parsed = parseLabArgs(['prerequisites', '--for', 'drills', '--check']);
  assert.deepEqual([parsed.command, parsed.scope, parsed.checkOnly], ['prerequisites', 'drills', true]);
  assert.equal(parseLabArgs(['prerequisites']).scope, 'tests');
  assert.throws(
    () => parseLabArgs(['prerequisites', '--for', 'ci']),
    /--for must be one of lab, drills, compose, tests, got "ci"/,
  );
  assert.throws(() => parseLabArgs(['up', '--check']), /--for and --check apply to prerequisites/);
});

test('no command or --help means help', () => {
  assert.equal(parseLabArgs([]).command, 'help');
  assert.equal(parseLabArgs(['up', '--help']).command, 'help');
});

test('refuses what it cannot do, saying why', () => {
  assert.throws(() => parseLabArgs(['launch']), UsageError);
  assert.throws(() => parseLabArgs(['kill']), /kill needs a component/);
  assert.throws(() => parseLabArgs(['up', '--port-offset', '-3']), /whole number/);
  assert.throws(() => parseLabArgs(['up', '--port-offset']), /needs a value/);
  assert.throws(() => parseLabArgs(['down', '--only', 'kafka']), /--only applies to up/);
  assert.throws(() => parseLabArgs(['stop', 'kafka', 'postgres']), /unexpected argument/);
  assert.throws(() => parseLabArgs(['up', '--verbose']), /unknown option --verbose/);
  assert.throws(() => parseLabArgs(['down', '--orphans']), /--orphans applies to purge/);
  assert.throws(() => parseLabArgs(['purge', '--orphans', '--dir', '/tmp/x']), /not both/);
});

test('purge takes one lab (--dir) or the orphans', () => {
  assert.equal(parseLabArgs(['purge']).command, 'purge');
  assert.equal(parseLabArgs(['purge', '--dir', '.lab/x']).dir, '.lab/x');
  assert.equal(parseLabArgs(['purge', '--orphans']).orphans, true);
});

test('port offset: flag beats LAB_PORT_OFFSET beats 0', () => {
  assert.equal(resolvePortOffset(5, { LAB_PORT_OFFSET: '100' }), 5);
  assert.equal(resolvePortOffset(undefined, { LAB_PORT_OFFSET: '100' }), 100);
  assert.equal(resolvePortOffset(undefined, {}), 0);
  assert.throws(() => resolvePortOffset(undefined, { LAB_PORT_OFFSET: 'lots' }), /LAB_PORT_OFFSET/);
});
