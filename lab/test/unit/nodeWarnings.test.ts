import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { nodeOptionsWithoutHarmlessWarnings } from '../../src/nodeWarnings';

test('child NODE_OPTIONS gain --disable-warning for the harmless warnings, once, keeping what was there', () => {
  assert.equal(nodeOptionsWithoutHarmlessWarnings(undefined), '--disable-warning=TimeoutNegativeWarning');
  assert.equal(
    nodeOptionsWithoutHarmlessWarnings('--max-old-space-size=512'),
    '--max-old-space-size=512 --disable-warning=TimeoutNegativeWarning',
  );
  const once = nodeOptionsWithoutHarmlessWarnings('');
  assert.equal(nodeOptionsWithoutHarmlessWarnings(once), once);
});

test('in a real process: the harmless warning is gone, any other warning still printed', () => {
  const moduleFile = path.join(__dirname, '../../src/nodeWarnings.js');
  const script = `require(${JSON.stringify(moduleFile)}).hideHarmlessNodeWarnings();
    setTimeout(() => {}, -5);
    process.emitWarning('still shown', 'DeprecationWarning');`;
  const inProcess = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(inProcess.status, 0);
  assert.doesNotMatch(inProcess.stderr, /TimeoutNegativeWarning/);
  assert.match(inProcess.stderr, /DeprecationWarning: still shown/);

  const child = spawnSync(process.execPath, ['-e', 'setTimeout(() => {}, -5)'], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, NODE_OPTIONS: nodeOptionsWithoutHarmlessWarnings(undefined) },
  });
  assert.equal(child.stderr, '');
});
