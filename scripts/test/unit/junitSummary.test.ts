import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countJunit } from '../../junitSummary';

test('counts tests, failures and skips, and lists each skip with its reason', () => {
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testcase name="passes" time="0.1" classname="test"/>
  <testcase name="fails" time="0.1" classname="test">
    <failure type="testCodeFailure" message="boom">boom</failure>
  </testcase>
  <testcase name="compose config &amp; schema" time="0.0" classname="test">
    <skipped type="skipped" message="no compose v2 CLI here: &#96;npm run compose:validator&#96; builds one &quot;once&quot;"/>
  </testcase>
  <testcase name="bare skip" time="0.0" classname="test">
    <skipped type="skipped"/>
  </testcase>
</testsuites>`;
  const counts = countJunit(xml);
  assert.deepEqual(
    { tests: counts.tests, failed: counts.failed, skipped: counts.skipped },
    { tests: 4, failed: 1, skipped: 2 },
  );
  assert.deepEqual(counts.skips, [
    {
      name: 'compose config & schema',
      reason: 'no compose v2 CLI here: `npm run compose:validator` builds one "once"',
    },
    { name: 'bare skip', reason: 'no reason given' },
  ]);
});
