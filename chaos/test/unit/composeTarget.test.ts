import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CommandResult,
  ComposeTarget,
  parseComposeExitCode,
  parseComposePs,
} from '../../src/targets/composeTarget';

function recordingTarget(responses: Record<string, Partial<CommandResult>> = {}) {
  const issued: string[] = [];
  const target = new ComposeTarget({
    file: '/repo/compose.yaml',
    project: 'orderlab',
    stopTimeoutS: 20,
    run: async (command, args) => {
      const line = [command, ...args].join(' ');
      issued.push(line);
      const match = Object.entries(responses).find(([k]) => line.includes(k));
      return { code: 0, stdout: '', stderr: '', ...(match?.[1] ?? {}) };
    },
  });
  return { target, issued };
}

const C = 'docker compose -f /repo/compose.yaml -p orderlab';

test('compose target issues kill/stop/start/pause/unpause with the compose service names', async () => {
  const { target, issued } = recordingTarget();
  await target.kill('kafka');
  await target.stop('postgres');
  await target.start('postgres');
  await target.pause('worker');
  await target.resume('worker');
  await target.kill('api-2');
  assert.deepEqual(issued, [
    `${C} kill -s SIGKILL kafka`,
    `${C} stop -t 20 postgres`,
    `${C} start postgres`,
    `${C} pause worker`,
    `${C} unpause worker`,
    `${C} kill -s SIGKILL api`,
  ]);
});

test('compose target: prepare brings up what the drill needs with the API scaled', async () => {
  const { target, issued } = recordingTarget();
  await target.prepare({ apiReplicas: 2, loadBalancer: true, pipeline: true, serviceEnv: {} });
  assert.deepEqual(issued, [`${C} up -d --wait --scale api=2 postgres kafka prometheus api relay worker lb`]);
  assert.deepEqual(target.apiComponents(), ['api-1', 'api-2']);
  await target.scaleApi(3);
  assert.equal(issued[1], `${C} up -d --no-recreate --wait --scale api=3 api`);
});

test('compose target: SIGTERM drill stops the api, reads its exit code, starts it again', async () => {
  const { target, issued } = recordingTarget({
    ' ps -a ': { stdout: '{"Name":"orderlab-api-1","State":"exited","ExitCode":0}\n' },
  });
  const result = await target.terminateOwnedApi(10_000);
  assert.equal(result.exitCode, 0);
  assert.deepEqual(issued, [`${C} stop -t 10 api`, `${C} ps -a --format json api`, `${C} start api`]);
});

test('compose target: rolling restart restarts one replica container at a time and waits for health', async () => {
  const { target, issued } = recordingTarget({
    ' ps --format json api': {
      stdout: '{"Name":"orderlab-api-1"}\n{"Name":"orderlab-api-2"}\n',
    },
    'inspect ': { stdout: 'healthy\n' },
  });
  const steps: string[] = [];
  await target.rollingRestartApi((s) => steps.push(s));
  assert.deepEqual(issued, [
    `${C} ps --format json api`,
    'docker restart -t 20 orderlab-api-1',
    'docker inspect --format {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}} orderlab-api-1',
    'docker restart -t 20 orderlab-api-2',
    'docker inspect --format {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}} orderlab-api-2',
  ]);
  assert.equal(steps.length, 4);
});

test('compose target: a failing command is an error naming the command', async () => {
  const { target } = recordingTarget({ kill: { code: 1, stderr: 'no such service: kafka' } });
  await assert.rejects(
    target.kill('kafka'),
    /docker compose .* kill -s SIGKILL kafka exited 1: no such service/,
  );
});

test('compose service names can be mapped', async () => {
  const issued: string[] = [];
  const target = new ComposeTarget({
    file: 'c.yaml',
    services: { kafka: 'broker' },
    run: async (c, a) => {
      issued.push([c, ...a].join(' '));
      return { code: 0, stdout: '', stderr: '' };
    },
  });
  await target.kill('kafka');
  assert.deepEqual(issued, ['docker compose -f c.yaml kill -s SIGKILL broker']);
});

test('compose ps output: JSON lines (v2.21+) and a JSON array (older)', () => {
  assert.deepEqual(parseComposePs('{"Name":"a"}\n{"Name":"b"}'), [{ Name: 'a' }, { Name: 'b' }]);
  assert.deepEqual(parseComposePs('[{"Name":"a","ExitCode":137}]'), [{ Name: 'a', ExitCode: 137 }]);
  assert.equal(parseComposeExitCode(''), null);
  assert.equal(parseComposeExitCode('{"Name":"a","ExitCode":143}'), 143);
});
