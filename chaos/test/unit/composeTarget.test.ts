import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  type CommandResult,
  ComposeTarget,
  mainProcessBelowInit,
  parseComposeExitCode,
  parseComposePs,
} from '../../src/targets/composeTarget';

/** A compose target whose command runner records what it would run and answers from a script. */
function recordingTarget(responses: Record<string, Partial<CommandResult>> = {}) {
  const issued: string[] = [];
  const target = new ComposeTarget({
    file: '/repo/compose.yaml',
    project: 'orderlab',
    stopTimeoutS: 20,
    run: (command, args) => {
      const line = [command, ...args].join(' ');
      issued.push(line);
      const match = Object.entries(responses).find(([k]) => line.includes(k));
      return Promise.resolve({ code: 0, stdout: '', stderr: '', ...(match?.[1] ?? {}) });
    },
  });
  return { target, issued };
}

const C = 'docker compose -f /repo/compose.yaml -p orderlab';
const healthy = (name: string) => ({
  stdout: `{"Name":"orderlab-${name}-1","State":"running","Health":"healthy"}\n`,
});

test('compose target issues kill/stop/start/pause/unpause with the compose service names', async () => {
  const { target, issued } = recordingTarget({ ' ps --format json postgres': healthy('postgres') });
  await target.kill('kafka');
  await target.stop('postgres');
  await target.start('postgres');
  await target.pause('worker');
  await target.resume('worker');
  await target.kill('api-2');
  await target.kill('api');
  assert.deepEqual(issued, [
    `${C} kill -s SIGKILL kafka`,
    `${C} stop -t 20 postgres`,
    `${C} start postgres`,
    `${C} ps --format json postgres`,
    `${C} pause worker`,
    `${C} unpause worker`,
    `${C} kill -s SIGKILL api-2`,
    `${C} kill -s SIGKILL api-1`,
  ]);
});

/** `ps -q <service>` names a container; `docker inspect` gives its address on the project network. */
const containers = {
  ' ps -q postgres': { stdout: 'c0ffee01\n' },
  ' ps -q kafka': { stdout: 'c0ffee02\n' },
  'inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee01': {
    stdout: '172.18.0.2 \n',
  },
  'inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee02': {
    stdout: '172.18.0.7 \n',
  },
  ' ps -q api-1': { stdout: 'c0ffee04\n' },
  'inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee04': {
    stdout: '172.18.0.10 \n',
  },
};
/** The replicas' admin addresses (api-2 has no container in these answers: skipped, not an error). */
const ADMIN = [
  `${C} ps -q api-1`,
  'docker inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee04',
  `${C} ps -q api-2`,
];
const STORES = [
  `${C} ps -q postgres`,
  'docker inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee01',
  `${C} ps -q kafka`,
  'docker inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee02',
];

test('compose target: prepare brings up what the drill needs and waits for health', async () => {
  const { target, issued } = recordingTarget(containers);
  await target.prepare({ apiReplicas: 2, loadBalancer: true, pipeline: true, serviceEnv: {} });
  assert.deepEqual(issued, [
    `${C} up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb`,
    ...ADMIN,
    ...STORES,
  ]);
  assert.deepEqual(target.connection().apiAdminUrls, { 'api-1': 'http://172.18.0.10:9464' });
  assert.deepEqual(target.apiComponents(), ['api-1', 'api-2']);
  await target.scaleApi(1);
  assert.deepEqual(issued.slice(1 + ADMIN.length + STORES.length), [
    `${C} start api-1`,
    `${C} stop -t 20 api-2`,
  ]);
  assert.deepEqual(target.apiComponents(), ['api-1']);
});

test('compose target: an owned API behind the latency proxy is api-1, routed through toxiproxy', async () => {
  const calls: { line: string; env: Readonly<Record<string, string>> }[] = [];
  const target = new ComposeTarget({
    file: '/repo/compose.yaml',
    project: 'orderlab',
    stopTimeoutS: 20,
    run: (command, args, env = {}) => {
      const line = [command, ...args].join(' ');
      calls.push({ line, env });
      const answers: Record<string, string> = {
        ...Object.fromEntries(Object.entries(containers).map(([k, v]) => [k, v.stdout])),
        ' ps -q toxiproxy': 'c0ffee03\n',
        c0ffee03: '172.18.0.9 \n',
        ' ps --format json ': '{"Name":"x","State":"running","Health":"healthy"}\n',
        ' ps -a ': '{"Name":"orderlab-api-1-1","State":"exited","ExitCode":0}\n',
      };
      const match = Object.entries(answers).find(([k]) => line.includes(k));
      return Promise.resolve({ code: 0, stdout: match?.[1] ?? '', stderr: '' });
    },
  });
  await target.prepare({
    apiReplicas: 0,
    loadBalancer: false,
    pipeline: true,
    ownedApi: { viaLatencyProxy: true },
    serviceEnv: { SHED_MAX_IN_FLIGHT: '64' },
  });
  assert.deepEqual(
    calls.map((c) => c.line),
    [
      `${C} ps -q toxiproxy`,
      `${C} up -d --wait toxiproxy`,
      `${C} up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb toxiproxy`,
      `${C} restart lb`,
      `${C} ps --format json lb`,
      ...ADMIN,
      ...STORES,
      `${C} ps -q toxiproxy`,
      'docker inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee03',
    ],
  );
  assert.deepEqual(calls[2]?.env, { SHED_MAX_IN_FLIGHT: '64', API_1_POSTGRES_ADDRESS: 'toxiproxy:15432' });
  assert.deepEqual(target.apiComponents(), ['api-1', 'api-2'], 'both replicas behind the balancer');
  assert.equal(target.connection().ownedApiUrl, 'http://127.0.0.1:8080', 'through the published port');

  calls.length = 0;
  const result = await target.terminateOwnedApi(10_000);
  assert.equal(result.exitCode, 0);
  assert.deepEqual(
    calls.map((c) => c.line),
    [
      `${C} stop -t 10 api-1`,
      `${C} ps -a --format json api-1`,
      `${C} start api-1`,
      `${C} ps --format json api-1`,
    ],
  );

  calls.length = 0;
  await target.close();
  assert.deepEqual(
    calls.map((c) => c.line),
    [
      `${C} up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb toxiproxy`,
      `${C} restart lb`,
      `${C} ps --format json lb`,
    ],
    'the stack is recreated with its own environment, the LB resolves afresh; toxiproxy was running before, so it stays',
  );
  assert.deepEqual(calls[0]?.env, {});
});

test('compose target: the audit reads PostgreSQL and Kafka at their container addresses; the broker name maps there', async () => {
  const { target } = recordingTarget(containers);
  await target.prepare({ apiReplicas: 1, loadBalancer: false, pipeline: true, serviceEnv: {} });
  const conn = target.connection();
  assert.equal(conn.postgresUrl, 'postgres://orderlab:orderlab@172.18.0.2:5432/orderlab');
  assert.deepEqual(conn.kafkaBrokers, ['172.18.0.7:9092']);
  assert.deepEqual(conn.kafkaHostAliases, { kafka: '172.18.0.7' });
  assert.equal(conn.apiUrl, 'http://127.0.0.1:8080', 'load still goes to the published LB port');

  const missing = recordingTarget();
  await assert.rejects(
    missing.target.prepare({ apiReplicas: 1, loadBalancer: false, pipeline: true, serviceEnv: {} }),
    /compose service postgres has no container/,
  );
});

test('compose target: env files go before the compose file on every command', async () => {
  const issued: string[] = [];
  const target = new ComposeTarget({
    file: '/repo/compose.yaml',
    envFiles: ['/repo/.env', '/repo/compose/local/images.env'],
    run: (command, args) => {
      issued.push([command, ...args].join(' '));
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    },
  });
  await target.kill('kafka');
  assert.deepEqual(issued, [
    'docker compose --env-file /repo/.env --env-file /repo/compose/local/images.env -f /repo/compose.yaml kill -s SIGKILL kafka',
  ]);
});

test('compose target: the SIGTERM drill stops api-1, reads its exit code, starts it and waits for health', async () => {
  const { target, issued } = recordingTarget({
    ' ps -a ': { stdout: '{"Name":"orderlab-api-1-1","State":"exited","ExitCode":0}\n' },
    ' ps --format json api-1': healthy('api-1'),
  });
  const result = await target.terminateOwnedApi(10_000);
  assert.equal(result.exitCode, 0);
  assert.deepEqual(issued, [
    `${C} stop -t 10 api-1`,
    `${C} ps -a --format json api-1`,
    `${C} start api-1`,
    `${C} ps --format json api-1`,
  ]);
});

test('compose target: rolling restart restarts one replica at a time and waits for its health', async () => {
  const { target, issued } = recordingTarget({
    ' ps --format json api-1': healthy('api-1'),
    ' ps --format json api-2': healthy('api-2'),
    ...containers,
  });
  await target.prepare({ apiReplicas: 2, loadBalancer: true, pipeline: false, serviceEnv: {} });
  const steps: string[] = [];
  await target.rollingRestartApi((s) => steps.push(s));
  assert.deepEqual(issued.slice(1 + ADMIN.length + STORES.length), [
    `${C} restart -t 20 api-1`,
    `${C} ps --format json api-1`,
    `${C} restart -t 20 api-2`,
    `${C} ps --format json api-2`,
  ]);
  assert.deepEqual(steps, [
    'restarting api-1',
    'api-1 healthy again',
    'restarting api-2',
    'api-2 healthy again',
  ]);
});

test('compose target: a failing command is an error naming the command', async () => {
  const { target } = recordingTarget({ kill: { code: 1, stderr: 'no such service: kafka' } });
  await assert.rejects(
    target.kill('kafka'),
    /docker compose .* kill -s SIGKILL kafka exited 1: no such service/,
  );
});

test('compose service names can be mapped; no project flag when none is given', async () => {
  const issued: string[] = [];
  const target = new ComposeTarget({
    file: 'c.yaml',
    services: { kafka: 'broker' },
    run: (c, a) => {
      issued.push([c, ...a].join(' '));
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
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

test('compose target: drill knobs go to compose as variables, unknown ones are refused, close puts the stack back', async () => {
  const calls: { line: string; env: Readonly<Record<string, string>> }[] = [];
  const target = new ComposeTarget({
    file: '/repo/compose.yaml',
    connection: { postgresUrl: 'postgres://x@h/db', kafkaBrokers: ['h:9092'] },
    run: (command, args, env = {}) => {
      const line = [command, ...args].join(' ');
      calls.push({ line, env });
      const stdout = line.includes(' ps --format json lb') ? healthy('lb').stdout : '';
      return Promise.resolve({ code: 0, stdout, stderr: '' });
    },
  });
  const setup = { apiReplicas: 1, loadBalancer: false, pipeline: true };
  await assert.rejects(
    target.prepare({ ...setup, serviceEnv: { NODE_OPTIONS: '--inspect' } }),
    /only the drill knobs .* not NODE_OPTIONS/,
  );
  assert.equal(calls.length, 0, 'nothing ran');
  await target.prepare({ ...setup, serviceEnv: { SHED_MAX_OUTBOX_BACKLOG: '150' } });
  assert.deepEqual(calls[0], {
    line: 'docker compose -f /repo/compose.yaml up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb',
    env: { SHED_MAX_OUTBOX_BACKLOG: '150' },
  });
  assert.deepEqual(
    calls.slice(1, 3).map((c) => c.line),
    [
      'docker compose -f /repo/compose.yaml restart lb',
      'docker compose -f /repo/compose.yaml ps --format json lb',
    ],
    'the recreated replicas may have new addresses: the LB resolves them afresh before any load',
  );
  calls.length = 0;
  await target.close();
  assert.deepEqual(calls, [
    {
      line: 'docker compose -f /repo/compose.yaml up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb',
      env: {},
    },
    { line: 'docker compose -f /repo/compose.yaml restart lb', env: {} },
    { line: 'docker compose -f /repo/compose.yaml ps --format json lb', env: {} },
  ]);
  await target.close();
  assert.equal(calls.length, 3, 'restored once');
});

test('compose target: the main process is found below docker-init, and a restart shows as a new pid', async () => {
  const proc: Record<string, string> = {
    '/proc/4100/comm': 'docker-init\n',
    '/proc/4100/task/4100/children': '4123 ',
    '/proc/77/comm': 'nginx\n',
  };
  const read = (f: string) => {
    const text = proc[f];
    if (text === undefined) throw new Error(`ENOENT ${f}`);
    return text;
  };
  assert.equal(mainProcessBelowInit(4100, read), 4123, 'node under tini');
  assert.equal(mainProcessBelowInit(77, read), 77, 'no init: the process itself');
  assert.equal(mainProcessBelowInit(9, read), 9, 'unreadable /proc: the container pid');

  const { target } = recordingTarget({ ' ps -q worker': { stdout: '' } });
  assert.equal(await target.pidOf('worker'), undefined, 'not running: no pid');
});

test('compose target: release drills recreate a replica with its API_<n>_ variables and reweight the LB by reload', async (t) => {
  const stock = readFileSync(path.resolve(__dirname, '../../../../compose/nginx/balancer.conf'), 'utf8');
  const calls: { line: string; env: Readonly<Record<string, string>>; input: string | undefined }[] = [];
  let nginxGeneration = 1;
  let api2Running = true;
  const answers: [string, string][] = [
    ...Object.entries(containers).map(([k, v]): [string, string] => [k, v.stdout]),
    [' ps -q api-2', 'c0ffee05\n'],
    ['{{.IPAddress}} {{end}} c0ffee05', '172.18.0.11 \n'],
    [' ps -q lb', 'c0ffee06\n'],
    ['{{.State.Pid}} c0ffee06', '4242\n'],
    [' ps --format json ', '{"Name":"x","State":"running","Health":"healthy"}\n'],
    [`cat /etc/nginx/orderlab/balancer.conf`, stock],
  ];
  const target = new ComposeTarget({
    file: '/repo/compose.yaml',
    project: 'orderlab',
    stopTimeoutS: 20,
    nginxWorkers: () => [nginxGeneration],
    run: (command, args, env = {}, input) => {
      const line = [command, ...args].join(' ');
      calls.push({ line, env, input });
      if (line.includes(' exec -T lb sh -c ')) nginxGeneration++;
      // `ps -q` lists running containers only.
      if (line.endsWith(' stop -t 20 api-2')) api2Running = false;
      if (line.includes(' up ') && line.endsWith(' api-2')) api2Running = true;
      if (line.endsWith(' ps -q api-2') && !api2Running)
        return Promise.resolve({ code: 0, stdout: '', stderr: '' });
      const match = answers.find(([k]) => line.includes(k));
      return Promise.resolve({ code: 0, stdout: match?.[1] ?? '', stderr: '' });
    },
  });
  t.after(() => target.close().catch(() => undefined)); // its loopback forwarders, if an assertion fails
  const lines = () => calls.splice(0).map((c) => c.line.replace(/sh -c .*/, 'sh -c <replace and reload>'));
  const api1Address = [
    `${C} ps -q api-1`,
    'docker inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}} c0ffee04',
  ];
  const reload = [
    `${C} ps -q lb`,
    'docker inspect --format {{.State.Pid}} c0ffee06',
    `${C} exec -T lb sh -c <replace and reload>`,
  ];
  const lastInput = () => calls.filter((c) => c.input !== undefined).at(-1)?.input ?? '';

  await target.prepare({
    apiReplicas: 1,
    loadBalancer: true,
    balancerReconfigured: true,
    pipeline: true,
    serviceEnv: { SERVICE_VERSION: '1.0.0' },
  });
  const input = lastInput();
  assert.deepEqual(lines(), [
    `${C} up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb`,
    `${C} restart lb`,
    `${C} ps --format json lb`,
    `${C} exec -T lb cat /etc/nginx/orderlab/balancer.conf`,
    ...api1Address,
    ...reload,
    `${C} stop -t 20 api-2`,
    ...api1Address,
    `${C} ps -q api-2`,
    ...STORES,
  ]);
  assert.match(input, /server 172\.18\.0\.10:8080 weight=1 /);
  assert.doesNotMatch(input, /172\.18\.0\.11|api-2/, 'api-2 is out of the balancer before it is stopped');
  assert.match(input, /keepalive_timeout 0;/);
  assert.deepEqual(target.apiComponents(), ['api-1']);

  // A canary on api-2: recreated with the drill's knobs kept and its own version.
  const urls = await target.release.startRelease('api-2', { SERVICE_VERSION: '1.1.0' });
  assert.equal(urls.adminUrl, 'http://172.18.0.11:9464', 'readiness at the container address');
  assert.match(urls.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'direct load through a loopback forwarder');
  const recreate = calls[0];
  assert.equal(recreate?.line, `${C} up -d --wait --no-deps --force-recreate api-2`);
  assert.deepEqual(recreate?.env, { SERVICE_VERSION: '1.0.0', API_2_SERVICE_VERSION: '1.1.0' });
  lines();
  assert.equal(target.connection().apiAdminUrls['api-2'], 'http://172.18.0.11:9464');

  await target.release.setWeights({ 'api-1': 90, 'api-2': 10 });
  const canary = lastInput();
  assert.deepEqual(
    lines(),
    [`${C} exec -T lb sh -c <replace and reload>`],
    'a switch is one command: addresses and the lb pid are known until a container changes',
  );
  assert.match(canary, /server 172\.18\.0\.10:8080 weight=90 /);
  assert.match(canary, /server 172\.18\.0\.11:50051 weight=10 /);

  // Restarting a replica that has a share takes it out of the balancer first.
  await target.release.startRelease('api-1', { SERVICE_VERSION: '1.2.0', REGRESSION_ERROR_RATE: '0.3' });
  const [takeOut, ...rest] = [calls.find((c) => c.input !== undefined), ...calls];
  assert.doesNotMatch(takeOut?.input ?? '', /172\.18\.0\.10/);
  assert.match(takeOut?.input ?? '', /server 172\.18\.0\.11:8080 weight=10 /);
  const recreated = rest.find((c) => c.line.includes('--force-recreate'));
  assert.deepEqual(recreated?.env, {
    SERVICE_VERSION: '1.0.0',
    API_1_SERVICE_VERSION: '1.2.0',
    API_1_REGRESSION_ERROR_RATE: '0.3',
  });
  assert.ok(
    calls.findIndex((c) => c.input !== undefined) <
      calls.findIndex((c) => c.line.includes('--force-recreate')),
    'reweighted before the recreation',
  );
  lines();

  await assert.rejects(target.release.startRelease('api-3', {}), /api-3 is not an API replica/);
  await assert.rejects(
    target.release.startRelease('api-1', { SHED_MAX_IN_FLIGHT: '8' }),
    /per replica only SERVICE_VERSION, .*; not SHED_MAX_IN_FLIGHT/,
  );
  await assert.rejects(target.release.setWeights({ 'api-3': 1 }), /no API replica api-3/);
  await assert.rejects(target.release.setWeights({ 'api-1': 0, 'api-2': 0 }), /weight > 0/);
  await target.release.setWeights({ 'api-2': 100 });
  await assert.rejects(target.release.startRelease('api-2', {}), /api-2 is the only replica in the balancer/);
  lines();

  await target.close();
  assert.deepEqual(lines(), [
    `${C} up -d --wait postgres kafka prometheus api-1 api-2 relay worker lb`,
    `${C} restart lb`,
    `${C} ps --format json lb`,
  ]);
  await assert.rejects(target.release.setWeights({ 'api-1': 1 }), /no reconfigurable balancer/);
});

test('compose target: a setup that does not reconfigure the balancer has no release weights to set', async () => {
  const { target } = recordingTarget(containers);
  await target.prepare({ apiReplicas: 2, loadBalancer: true, pipeline: false, serviceEnv: {} });
  await assert.rejects(target.release.setWeights({ 'api-1': 1 }), /balancerReconfigured/);
});
