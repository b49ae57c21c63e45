import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseCliArgs } from '../../src/cliArgs';
import { executeDrill, summaryLine } from '../../src/cli';
import { RELEASE_VERSIONS } from '../../src/drills/knobs';
import type { DrillReport } from '../../src/report/reportModel';
import { useDrillLab } from '../support/drillLab';

/**
 * The release drills in short form on the native lab (issue 23): each must end PASS, and its
 * report must show what the rollout did and each version's traffic from Prometheus.
 */
useDrillLab();

async function runShort(name: string): Promise<DrillReport> {
  const result = await executeDrill(
    parseCliArgs([name, '--short', '--report-dir', 'reports/drills']),
    (line) => console.log(`  ${line}`),
  );
  console.log(summaryLine(result));
  const { report } = result;
  assert.equal(
    report.verdict.label,
    'PASS',
    `${name}: ${report.verdict.reasons.join(' | ')} (${report.files.html})`,
  );
  return report;
}

function checkNamed(report: DrillReport, name: string): string {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `${report.drill.name} has no check "${name}"`);
  assert.equal(found.status, 'pass', `${name}: ${found.detail}`);
  return found.detail;
}

test(
  'canary (short form): the good release is promoted, the bad one rolled back in time',
  { timeout: 400_000 },
  async () => {
    const report = await runShort('canary');
    assert.match(checkNamed(report, 'good release promoted step by step'), /promote@50% → .*complete@100%/);
    assert.match(
      checkNamed(report, 'bad release rolled back within the stated detection time'),
      /rolled back at 10 %/,
    );
    checkNamed(report, 'client-visible failures bounded by canary share × detection time');
    checkNamed(report, 'rolled back before the fast-burn page could fire');
    const release = report.release;
    assert.ok(release, 'the report carries the release evidence');
    const versions = release.byVersion.map((v) => v.version);
    for (const v of Object.values(RELEASE_VERSIONS))
      assert.ok(versions.includes(v), `${v} missing from ${versions.join(', ')}`);
    const bad = release.byVersion.find((v) => v.version === RELEASE_VERSIONS.bad);
    assert.ok(bad && bad.errors.some((p) => p.value > 0), 'Prometheus saw the bad release fail');
    assert.deepEqual(
      release.events
        .filter((e) => e.action === 'rollback' || e.action === 'complete')
        .map((e) => `${e.version} ${e.action}`),
      [`${RELEASE_VERSIONS.good} complete`, `${RELEASE_VERSIONS.bad} rollback`],
    );
    const html = readFileSync(report.files.html, 'utf8');
    assert.match(html, /id="chart-version-rate"/);
    assert.match(html, /id="release-events"/);
  },
);

test(
  'blue-green (short form): switched at once and back with zero client-visible failures',
  { timeout: 300_000 },
  async () => {
    const report = await runShort('blue-green');
    assert.match(
      checkNamed(report, 'zero client-visible failures through the switches'),
      /^(\d+)\/\1 requests/,
    );
    checkNamed(report, 'each colour served alone after its switch (Prometheus by version)');
    const versions = report.release?.byVersion.map((v) => v.version) ?? [];
    assert.deepEqual(versions, [RELEASE_VERSIONS.baseline, RELEASE_VERSIONS.good]);
  },
);
