import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { kafkaServerProperties, newClusterId } from '../../src/components/kafka';
import { LabError } from '../../src/processes';
import {
  ensurePortsFree,
  javaMajorVersion,
  missingMessage,
  missingPrerequisites,
  prerequisite,
  prerequisitesFor,
  type PrerequisiteScope,
} from '../../src/prerequisites';

test('reads the Java major version from both version styles', () => {
  assert.equal(javaMajorVersion('openjdk version "17.0.15" 2025-04-15'), 17);
  assert.equal(javaMajorVersion('openjdk version "21" 2023-09-19'), 21);
  assert.equal(javaMajorVersion('java version "1.8.0_392"'), 8);
  assert.equal(javaMajorVersion('command not found'), undefined);
});

test('a taken port is reported with the component and the fix', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  await assert.rejects(ensurePortsFree([{ component: 'kafka', port }], 300), (error: unknown) => {
    assert.ok(error instanceof LabError);
    assert.match(error.message, new RegExp(`port ${port} \\(kafka\\) is already in use.*--port-offset`));
    return true;
  });
});

test('single-node broker config keeps internal topics at one replica', () => {
  const properties = kafkaServerProperties({ port: 1, controllerPort: 2, logDir: '/d' });
  for (const line of [
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'num.partitions=3',
    'controller.quorum.voters=1@127.0.0.1:2',
    'listeners=PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2',
  ]) {
    assert.ok(properties.split('\n').includes(line), line);
  }
});

test('cluster ids look like StorageTool random-uuid output and never start with a dash', () => {
  for (let i = 0; i < 200; i++) assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
});

test('one package list: each scope adds to the one before (lab ⊂ drills ⊂ tests), compose ⊂ tests', () => {
  const names = (scope: PrerequisiteScope) => prerequisitesFor(scope).map((p) => p.aptPackage);
  assert.deepEqual(names('lab'), ['postgresql', 'prometheus', 'default-jdk-headless', 'maven']);
  assert.deepEqual(names('drills'), [...names('lab'), 'nginx']);
  assert.deepEqual(names('compose'), ['docker.io', 'debootstrap']);
  assert.deepEqual(names('tests'), [
    ...names('drills'),
    'chromium',
    'prometheus-alertmanager',
    ...names('compose'),
  ]);
});

test('the missing-package message names every package, why, and one install command', () => {
  const missing = [prerequisite('nginx'), prerequisite('chromium')];
  const message = missingMessage(missing, false);
  assert.match(
    message,
    /^missing packages: nginx \(nginx: the drills' load balancer[^)]*\), chromium \(Chromium: /,
  );
  assert.match(message, /`sudo apt-get install -y nginx chromium`/);
  assert.match(
    missingMessage([prerequisite('maven')], true),
    /^missing package: maven .*`apt-get install -y maven`/,
  );
});

test('binaries named by the environment are what the checks look for', () => {
  const env = { NGINX_BIN: '/nonexistent/nginx', CHROMIUM_PATH: '/nonexistent/chromium' };
  assert.deepEqual(
    missingPrerequisites([prerequisite('nginx'), prerequisite('chromium')], env).map((p) => p.aptPackage),
    ['nginx', 'chromium'],
  );
  assert.throws(() => prerequisite('nginx-full'), /no prerequisite nginx-full/);
});
