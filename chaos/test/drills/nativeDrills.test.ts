import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { drillPortOffset, parseCliArgs } from '../../src/cliArgs';
import { executeDrill, repoRoot, summaryLine } from '../../src/cli';
import { LAB_INFRA, type LabLike, openLab } from '../../src/targets/labRuntime';

/**
 * Short-form drills on the native lab (the README's test command runs these): each must end PASS.
 * They share one drill lab (.lab/drills at DRILL_PORT_OFFSET or LAB_PORT_OFFSET + 2000), started
 * here when not running and stopped at the end.
 */
const labDir = path.join(repoRoot(), '.lab', 'drills');
let lab: LabLike | undefined;
let startedHere = false;

before(async () => {
  lab = openLab({
    dir: labDir,
    portOffset: drillPortOffset(undefined, process.env),
    services: 'api*2,relay,worker',
    env: process.env,
    log: (line) => console.log(`  lab:${line}`),
  });
  startedHere = !LAB_INFRA.some((c) => lab?.isRunning(c));
  await lab.up([...LAB_INFRA]);
});

after(async () => {
  if (lab && startedHere) await lab.down();
});

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
