import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseCliArgs } from '../../src/cliArgs';
import { executeDrill, summaryLine } from '../../src/cli';
import { DRILL_LAB_DIR, useDrillLab } from '../support/drillLab';

/**
 * Short-form drills on the native lab (the README's test command runs these): each must end PASS.
 * They share one drill lab (.lab/drills at DRILL_PORT_OFFSET or LAB_PORT_OFFSET + 2000), started
 * here when not running and stopped at the end.
 */
const { lab } = useDrillLab();

/**
 * sigterm, broker-loss and overload by default (the README's test command). The load generator
 * runs at nice -10 beside the lab (chaos/src/load/generatorPriority.ts): at normal priority the
 * overload spike starved it on 2 shared cores in 1 of 4 fresh-clone CI runs. Others with
 * ORDERLAB_TEST_DRILLS (e.g. ORDERLAB_TEST_DRILLS=db-loss,slow-dependency); see docs/drills/.
 */
const DRILLS = (process.env['ORDERLAB_TEST_DRILLS'] ?? 'sigterm,broker-loss,overload')
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean);

/**
 * One drill's failure never poisons the next: a drill that fails in prepare (no nginx for its load
 * balancer) ends FAIL naming the cause and leaves the drill lab as it found it (same components
 * running, nothing paused, no drill lock); the drills after it start from that state.
 */
test('a drill that fails in prepare leaves the drill lab as found', { timeout: 120_000 }, async () => {
  const states = () =>
    lab()
      .status()
      .map((c) => `${c.name}=${c.state}`)
      .join(' ');
  // Left by an earlier, broken drill: a paused relay. The failing drill resumes it first.
  await lab().start('relay');
  await lab().pause('relay');
  const before = states().replace('relay=paused', 'relay=running');
  const args = parseCliArgs(['sigterm', '--short', '--report-dir', 'reports/drills']);
  const result = await executeDrill(args, (line) => console.log(`  ${line}`), {
    ...process.env,
    NGINX_BIN: '/nonexistent/nginx',
  });
  console.log(summaryLine(result));
  assert.equal(result.report.verdict.label, 'FAIL');
  assert.match(
    result.report.verdict.reasons.join(' | '),
    /nginx is not installed at \/nonexistent\/nginx.*apt-get install -y nginx/,
  );
  assert.equal(states(), before);
  assert.equal(existsSync(path.join(DRILL_LAB_DIR, 'drill.lock')), false, 'the drill lock is released');
  await lab().stop('relay');
});

for (const name of DRILLS) {
  test(`drill ${name} (short form) passes on the native lab`, { timeout: 300_000 }, async () => {
    const args = parseCliArgs([name, '--short', '--report-dir', 'reports/drills']);
    const lines: string[] = [];
    const result = await executeDrill(args, (line) => {
      lines.push(line);
      console.log(`  ${line}`);
    });
    console.log(summaryLine(result));
    assert.equal(
      result.report.verdict.label,
      'PASS',
      `${name}: ${result.report.verdict.reasons.join(' | ')} (report ${result.report.files.html})`,
    );
  });
}
