import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findRepoRoot, readPinnedVersions } from '../../../../lab/src/repo';
import { parseArgs } from '../../src/cli';
import { parseDotEnv } from '../../src/dotEnv';
import { expectedTags, LOCAL_IMAGES, overrideMismatches, standInVersions } from '../../src/localImages';
import { composeArgs, parseBytes } from '../../src/stack';

const repoRoot = findRepoRoot();
const read = (file: string) => parseDotEnv(readFileSync(path.join(repoRoot, file), 'utf8'), file);

test('the override file names a local tag for each stand-in, in step with .env and lab/versions.json', () => {
  const versions = standInVersions(read('.env'), readPinnedVersions(repoRoot));
  assert.equal(
    versions.prometheusModule,
    `v0.3${versions.prometheus.split('.')[1]?.padStart(2, '0')}.${versions.prometheus.split('.')[2]}`,
  );
  const overrides = read('compose/local/images.env');
  assert.deepEqual(overrideMismatches(overrides, expectedTags(versions)), []);
  // Only image variables differ from .env: every override replaces a variable .env has.
  const dotEnv = read('.env');
  for (const variable of Object.keys(overrides)) assert.ok(variable in dotEnv, `${variable} is in .env`);
  assert.deepEqual(LOCAL_IMAGES.map((i) => i.variable).sort(), Object.keys(overrides).sort());
});

test('versions come from the upstream tags: Prometheus 3.13.1 is Go module v0.313.1; other majors are refused', () => {
  const pinned = { kafka: '4.3.1', log4j: '2', mavenDependencyPlugin: '3', jaeger: 'v1.75.0' };
  const env = {
    NODE_IMAGE: 'node:24.21.0-slim',
    PROMETHEUS_IMAGE: 'quay.io/prometheus/prometheus:v3.13.1',
    ALERTMANAGER_IMAGE: 'quay.io/prometheus/alertmanager:v0.28.1',
    TOXIPROXY_IMAGE: 'ghcr.io/shopify/toxiproxy:2.12.0',
  };
  const v = standInVersions(env, pinned);
  assert.deepEqual(
    { node: v.node, prom: v.prometheusModule, am: v.alertmanager, toxi: v.toxiproxy },
    { node: '24.21.0', prom: 'v0.313.1', am: 'v0.28.1', toxi: '2.12.0' },
  );
  assert.equal(
    standInVersions({ ...env, PROMETHEUS_IMAGE: 'p:v3.5.0' }, pinned).prometheusModule,
    'v0.305.0',
  );
  assert.throws(
    () => standInVersions({ ...env, PROMETHEUS_IMAGE: 'p:v2.53.0' }, pinned),
    /only Prometheus 3\.x/,
  );
  assert.throws(() => standInVersions({ ...env, NODE_IMAGE: 'node' }, pinned), /has no tag/);
});

test('a mismatched or unknown override is named', () => {
  const problems = overrideMismatches(
    { KAFKA_IMAGE: 'x', OTHER_IMAGE: 'y' },
    { KAFKA_IMAGE: 'k', NODE_IMAGE: 'n' },
  );
  assert.deepEqual(problems, [
    'KAFKA_IMAGE is x, expected k',
    'NODE_IMAGE is missing, expected n',
    'OTHER_IMAGE is not an image this command builds',
  ]);
});

test('compose commands read .env, then the override file, and the repo compose file', () => {
  const args = composeArgs('/repo', 'ps');
  assert.deepEqual(args, [
    'compose',
    '--project-directory',
    '/repo',
    '--env-file',
    '/repo/.env',
    '--env-file',
    '/repo/compose/local/images.env',
    '-f',
    '/repo/compose.yaml',
    'ps',
  ]);
});

test('docker stats sizes parse; junk is NaN', () => {
  assert.equal(parseBytes('12.5MiB'), 12.5 * 2 ** 20);
  assert.equal(parseBytes('1GiB'), 2 ** 30);
  assert.equal(parseBytes('100B'), 100);
  assert.ok(Number.isNaN(parseBytes('lots')));
});

test('the CLI takes one known command and refuses the rest clearly', () => {
  assert.deepEqual(parseArgs(['up', '--rebuild']), { command: 'up', rebuild: true, keepEngine: false });
  assert.equal(parseArgs(['--help']), 'help');
  assert.throws(() => parseArgs([]), /name a command/);
  assert.throws(() => parseArgs(['upp']), /unknown command "upp"/);
  assert.throws(() => parseArgs(['up', 'down']), /one command at a time/);
  assert.throws(() => parseArgs(['up', '--force']), /unknown option --force/);
});
