import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { parse } from 'yaml';
import { reweightedBalancerConf } from '../../chaos/src/infra/nginxBalancer';
import { COMPOSE_KNOBS, PER_REPLICA_VARIABLES } from '../../chaos/src/targets/composeTarget';
import { nginxBinary } from '../../lab/src/prerequisites';
import { envSchema, loadConfig, type Config } from '../../service/src/config/config';
import {
  bindMounts,
  composeDir,
  datasourceUidsIn,
  isPinnedImage,
  loadComposeProject,
  parseMemory,
  parsePort,
  repoRoot,
  type LoadedService,
} from './composeModel';

/**
 * Static checks of the compose stack (no Docker engine runs here). Each test names what it proves;
 * validators that may be absent (compose v2, nginx, unshare) skip with a message saying how to get them.
 */

const project = loadComposeProject();
const services = [...project.services.values()];
const service = (name: string): LoadedService => {
  const found = project.services.get(name);
  assert.ok(found, `compose has no service ${name}`);
  return found;
};
const readRepoFile = (relative: string): string => readFileSync(path.join(repoRoot, relative), 'utf8');

const MEMORY_BUDGET_BYTES = 3.5 * 1024 ** 3;
const PUBLISHING_SERVICES = ['grafana', 'jaeger', 'lb', 'prometheus'];
const APP_SERVICES = ['api-1', 'api-2', 'relay', 'worker'];
/** Host paths outside the repo a service may mount, with the reason. */
const HOST_MOUNTS: Record<string, string> = {
  '/var/run/docker.sock': 'Alloy discovers and tails containers',
};
/** Output folders in the repo a service writes to: ignored by git, made by Docker on first run. */
const OUTPUT_MOUNTS: Record<string, string> = {
  'reports/k6': "k6's JSON and text summaries",
};
/**
 * Variables compose gives the service that its config schema does not declare yet: they belong to
 * issues not merged on this branch (pipeline: KAFKA_BROKERS; observability: TELEMETRY_ENABLED).
 * OTEL_* are the OpenTelemetry SDK's own standard variables.
 */
const VARIABLES_FROM_OTHER_ISSUES = new Set(['KAFKA_BROKERS', 'TELEMETRY_ENABLED']);
/** Read by the Node.js runtime itself, not by the service's config. */
const NODE_RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

/** The compose v2 CLI if one runs here: the docker plugin, or the binary `npm run compose:validator` builds. */
function composeCli(): { command: string; args: string[]; label: string } | undefined {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (plugin.status === 0) return { command: 'docker', args: ['compose'], label: plugin.stdout.trim() };
  const built = path.join(repoRoot, '.cache/go-bin/docker-compose');
  if (existsSync(built))
    return { command: built, args: [], label: 'compose v2.35.0 built from the Go module proxy' };
  return undefined;
}

test('dclint (Compose schema + lint rules) passes on the root and included compose files with no warnings', () => {
  const result = spawnSync(
    path.join(repoRoot, 'node_modules/.bin/dclint'),
    ['--max-warnings', '0', '--no-color', 'compose.yaml', 'compose/compose.yaml'],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  assert.equal(result.status, 0, `dclint failed:\n${result.stdout}${result.stderr}`);
});

test('compose v2 `config` accepts the project with every profile, and agrees with this test model', (t) => {
  const cli = composeCli();
  if (!cli) return t.skip('no compose v2 CLI here: `npm run compose:validator` builds one into .cache/');
  t.diagnostic(`validator: ${cli.label}`);
  // A clean environment: shell variables would override .env and make the result machine-dependent.
  const result = spawnSync(cli.command, [...cli.args, '--profile', '*', 'config', '--format', 'json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  assert.equal(result.status, 0, `compose config failed:\n${result.stderr}`);
  const resolved = JSON.parse(result.stdout) as {
    name: string;
    services: Record<
      string,
      {
        image: string;
        environment?: Record<string, string | null>;
        deploy?: { resources?: { limits?: { memory?: string } } };
      }
    >;
  };
  assert.equal(resolved.name, project.name);
  assert.deepEqual(Object.keys(resolved.services).sort(), [...project.services.keys()].sort());
  for (const [name, fromCompose] of Object.entries(resolved.services)) {
    const ours = service(name).resolved;
    assert.equal(fromCompose.image, ours.image, `${name}: image`);
    const ourEnv = Object.fromEntries(Object.entries(ours.environment ?? {}).map(([k, v]) => [k, String(v)]));
    assert.deepEqual(fromCompose.environment ?? {}, ourEnv, `${name}: environment after interpolation`);
    assert.equal(
      Number(fromCompose.deploy?.resources?.limits?.memory),
      parseMemory(ours.deploy?.resources?.limits?.memory ?? 'x'),
      `${name}: memory limit`,
    );
  }
});

test('every image is pinned to a version in .env, and every image variable in .env is used', () => {
  const used = new Set<string>();
  for (const s of services) {
    const image = s.raw.build ? s.raw.build.args?.NODE_IMAGE : s.raw.image;
    assert.ok(image, `${s.name} has no image`);
    const variable = /^\$\{([A-Z0-9_]+_IMAGE)(?::\?[^}]*)?\}$/.exec(image);
    assert.ok(variable, `${s.name}: image must come from a *_IMAGE variable in .env, got ${image}`);
    const name = variable[1] as string;
    used.add(name);
    const value = project.env[name];
    assert.ok(value, `${s.name}: ${name} is not set in .env`);
    assert.ok(isPinnedImage(value), `${s.name}: ${name}=${value} is not pinned to a version`);
  }
  const declared = Object.keys(project.env).filter((k) => k.endsWith('_IMAGE'));
  assert.deepEqual(
    declared.filter((k) => !used.has(k)),
    [],
    'image variables in .env that no service uses',
  );
});

test('the service image is built from the Node version package.json pins, and the Dockerfile holds its promises', () => {
  const pkg = JSON.parse(readRepoFile('package.json')) as { devDependencies: Record<string, string> };
  const expected = `node:${pkg.devDependencies.node}-slim`;
  assert.equal(project.env.NODE_IMAGE, expected, '.env NODE_IMAGE vs the node devDependency');
  const dockerfile = readRepoFile('service/Dockerfile');
  assert.match(dockerfile, new RegExp(`^ARG NODE_IMAGE=${expected.replace(/\./g, '\\.')}$`, 'm'));
  const stages = dockerfile.split(/^FROM /m).slice(1);
  assert.ok(stages.length >= 2, 'multi-stage build');
  const runtime = stages[stages.length - 1] as string;
  const user = /^USER (\S+)/m.exec(runtime)?.[1];
  assert.ok(user && !['root', '0'].includes(user), `runtime stage runs as a non-root user (got ${user})`);
  assert.match(runtime, /^HEALTHCHECK .*\n?.*\/readyz/m, 'HEALTHCHECK probes /readyz');
  assert.match(runtime, /--omit=dev|prod-deps/, 'runtime gets production dependencies only');
  assert.match(stages[0] as string, /npm ci --omit=dev/);
  const cmd = /^CMD (\[.*\])$/m.exec(runtime)?.[1];
  assert.ok(cmd, 'CMD in exec form (node receives signals directly)');
  const argv = JSON.parse(cmd) as string[];
  assert.equal(argv[0], 'node');
  assert.deepEqual(argv.slice(1, 3), ['--require', './dist/service/src/telemetry/preload.js']);
  assert.equal(argv[3], 'dist/service/src/main.js');
  for (const s of APP_SERVICES) assert.equal(service(s).raw.init, true, `${s}: init: true (tini as PID 1)`);

  // Everything the Dockerfile COPYs from the context is let through .dockerignore.
  const ignore = readRepoFile('.dockerignore');
  for (const match of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
    for (const source of (match[1] as string).split(/\s+/)) {
      assert.ok(
        ignore.includes(`!${source.replace(/\/?$/, source === 'service' ? '/' : '')}`),
        `.dockerignore lets ${source} through`,
      );
    }
  }
});

test('the image entry points exist as TypeScript sources (main.ts, telemetry/preload.ts)', (t) => {
  const [main, preload] = ['service/src/main.ts', 'service/src/telemetry/preload.ts'].map((f) =>
    existsSync(path.join(repoRoot, f)),
  );
  // Written by the core and observability issues: before either lands this can only skip; once the
  // service has a main.ts, an image without the preload it requires would crash at start.
  if (!main && !preload)
    return t.skip('service/src/main.ts and telemetry/preload.ts are not on this branch yet');
  assert.ok(main, 'service/src/main.ts (the image CMD runs dist/service/src/main.js)');
  assert.ok(preload, 'service/src/telemetry/preload.ts (the image CMD --requires its build)');
});

test('memory: every service has a limit and all of them together (every profile) stay under 3.5 GiB', (t) => {
  let total = 0;
  const rows: string[] = [];
  for (const s of services) {
    const limit = s.resolved.deploy?.resources?.limits?.memory;
    assert.ok(limit, `${s.name} has no deploy.resources.limits.memory`);
    const bytes = parseMemory(limit);
    total += bytes;
    rows.push(`${s.name}=${bytes / 1024 ** 2}MiB`);
  }
  t.diagnostic(`limits: ${rows.join(' ')} total=${(total / 1024 ** 2).toFixed(0)}MiB`);
  assert.ok(total < MEMORY_BUDGET_BYTES, `total ${total / 1024 ** 2} MiB >= 3584 MiB`);
  const documented = /\*\*all profiles\*\* *\| *\*\*([\d ]+) MiB\*\*/.exec(
    readRepoFile('docs/compose.md'),
  )?.[1];
  assert.equal(
    Number(documented?.replace(/ /g, '')),
    total / 1024 ** 2,
    'docs/compose.md memory table total',
  );
  // The JVM must fit its container: heap well under the limit.
  const heap = /-Xmx(\d+)m/.exec(String(service('kafka').resolved.environment?.KAFKA_HEAP_OPTS))?.[1];
  assert.ok(
    heap &&
      Number(heap) * 1024 ** 2 * 1.5 <
        parseMemory(String(service('kafka').resolved.deploy?.resources?.limits?.memory)),
  );
});

test('host ports: only the LB, Grafana, Prometheus and Jaeger publish, all on 127.0.0.1', () => {
  const publishing = services.filter((s) => (s.resolved.ports ?? []).length > 0).map((s) => s.name);
  assert.deepEqual(publishing.sort(), PUBLISHING_SERVICES);
  for (const s of services) {
    for (const port of s.resolved.ports ?? []) {
      const binding = parsePort(port);
      assert.equal(
        binding.hostIp,
        '127.0.0.1',
        `${s.name} publishes ${JSON.stringify(port)} beyond loopback`,
      );
      assert.match(binding.published, /^\d+$/, `${s.name}: published port resolves to a number`);
    }
  }
});

test('healthchecks everywhere, depends_on waits for health, shared logging, named volumes declared', () => {
  const dockerfileHasHealthcheck = /^HEALTHCHECK /m.test(readRepoFile('service/Dockerfile'));
  for (const s of services) {
    const hc = s.raw.healthcheck;
    if (s.raw.build) {
      assert.ok(hc?.test || dockerfileHasHealthcheck, `${s.name}: healthcheck from its Dockerfile`);
    } else if (hc?.disable) {
      assert.equal(s.raw.restart, 'no', `${s.name}: only one-shot jobs may disable the healthcheck`);
    } else {
      assert.ok(hc?.test, `${s.name} has no healthcheck`);
    }
    assert.deepEqual(
      s.raw.logging,
      { driver: 'json-file', options: { 'max-size': '5m', 'max-file': '2' } },
      `${s.name}: x-default-logging`,
    );
    const deps = s.raw.depends_on ?? {};
    assert.ok(!Array.isArray(deps), `${s.name}: depends_on must name a condition`);
    for (const [dep, { condition }] of Object.entries(deps)) {
      const target = service(dep);
      const expected = target.raw.healthcheck?.disable
        ? 'service_completed_successfully'
        : dep === 'jaeger' && APP_SERVICES.includes(s.name)
          ? 'service_started' // span export retries; the service must not wait for the trace store
          : 'service_healthy';
      assert.equal(condition, expected, `${s.name} → ${dep}`);
    }
    for (const volume of s.resolved.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (source && !source.startsWith('.') && !source.startsWith('/')) {
        assert.ok(project.volumes.includes(source), `${s.name}: volume ${source} is not declared`);
      }
    }
  }
});

test('every file or folder a service mounts exists in the repo (or is an allowed host path)', () => {
  for (const s of services) {
    for (const mount of bindMounts(s, project.volumes)) {
      if (!mount.source.startsWith(repoRoot + path.sep)) {
        assert.ok(HOST_MOUNTS[mount.source], `${s.name} mounts host path ${mount.source}`);
        continue;
      }
      if (OUTPUT_MOUNTS[path.relative(repoRoot, mount.source)]) continue;
      assert.ok(
        existsSync(mount.source),
        `${s.name}: ${path.relative(repoRoot, mount.source)} does not exist`,
      );
    }
  }
  assert.ok(
    existsSync(path.join(repoRoot, service('api-1').resolved.build?.dockerfile ?? 'x')),
    'Dockerfile exists',
  );
});

function appConfig(name: string): Config {
  const env = Object.fromEntries(
    Object.entries(service(name).resolved.environment ?? {}).map(([k, v]) => [k, String(v)]),
  );
  return loadConfig(env);
}

test('api/relay/worker environments pass the service config schema; unknown names are flagged', (t) => {
  const declared = new Set(Object.keys(envSchema.shape));
  const pending = new Set<string>();
  for (const name of APP_SERVICES) {
    const env = service(name).resolved.environment ?? {};
    const config = appConfig(name); // throws ConfigError listing every bad variable
    assert.deepEqual([...config.roles], [String(env.ROLES)]);
    assert.equal(config.http.host, '0.0.0.0', `${name} must listen beyond loopback inside its container`);
    for (const key of Object.keys(env)) {
      if (declared.has(key) || key.startsWith('OTEL_') || NODE_RUNTIME_VARIABLES.has(key)) continue;
      assert.ok(
        VARIABLES_FROM_OTHER_ISSUES.has(key),
        `${name}: ${key} is not a variable the service knows (typo?)`,
      );
      pending.add(key);
    }
  }
  if (pending.size > 0) t.diagnostic(`not in envSchema yet (other issues): ${[...pending].join(', ')}`);
  for (const name of APP_SERVICES) {
    const s = service(name).resolved;
    // Docker sends SIGKILL after stop_grace_period: it must outlast drain delay + shutdown deadline.
    const config = appConfig(name);
    const graceMs = Number(/^(\d+)s$/.exec(String(s.stop_grace_period))?.[1]) * 1000;
    assert.ok(
      graceMs > config.shutdown.drainDelayMs + config.shutdown.timeoutMs,
      `${name}: stop_grace_period too short`,
    );
    // V8's heap cap leaves headroom under the container limit (else the OOM killer, not the GC, decides).
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(String(s.environment?.NODE_OPTIONS))?.[1]);
    const limitMb = parseMemory(String(s.deploy?.resources?.limits?.memory)) / 1024 ** 2;
    assert.ok(
      heapMb > 0 && heapMb <= 0.65 * limitMb,
      `${name}: --max-old-space-size ${heapMb} vs limit ${limitMb} MiB`,
    );
  }
  // The check bites: a wrong value is refused with the variable named.
  assert.throws(
    () => loadConfig({ ...service('api-1').resolved.environment, HTTP_PORT: 'eighty' }),
    /HTTP_PORT/,
  );
});

/** Ports each service listens on, read from its own config where the repo has one, else the image default. */
function listeningPorts(): Map<string, Set<number>> {
  const ports = new Map<string, Set<number>>();
  const add = (name: string, ...list: number[]) =>
    ports.set(name, new Set([...(ports.get(name) ?? []), ...list]));
  for (const name of APP_SERVICES) {
    const config = appConfig(name);
    add(name, config.admin.port);
    if (config.roles.includes('api')) add(name, config.http.port, config.grpc.port);
  }
  const nginx = readFileSync(path.join(composeDir, 'nginx/nginx.conf'), 'utf8');
  add('lb', ...[...nginx.matchAll(/^\s*listen (\d+)[ ;]/gm)].map((m) => Number(m[1])));
  const listeners = String(service('kafka').resolved.environment?.KAFKA_LISTENERS);
  add('kafka', ...[...listeners.matchAll(/:(\d+)/g)].map((m) => Number(m[1])));
  const jaeger = readFileSync(path.join(composeDir, 'jaeger/config.yaml'), 'utf8');
  add('jaeger', ...[...jaeger.matchAll(/0\.0\.0\.0:(\d+)/g)].map((m) => Number(m[1])), 8888);
  const loki = parse(readFileSync(path.join(composeDir, 'loki/loki.yaml'), 'utf8')) as {
    server: Record<string, number>;
  };
  add('loki', loki.server.http_listen_port as number, loki.server.grpc_listen_port as number);
  const alloyAddr = (service('alloy').resolved.command as string[]).find((a) =>
    a.startsWith('--server.http.listen-addr='),
  );
  add('alloy', Number(alloyAddr?.split(':').pop()));
  const toxiproxy = JSON.parse(readFileSync(path.join(composeDir, 'toxiproxy/toxiproxy.json'), 'utf8')) as {
    listen: string;
  }[];
  add('toxiproxy', 8474, ...toxiproxy.map((p) => Number(p.listen.split(':').pop())));
  // Image defaults (our files do not change them).
  add('postgres', 5432);
  add('prometheus', 9090);
  add('grafana', 3000);
  add('alertmanager', 9093);
  return ports;
}

test('every host:port one part of the stack uses names a compose service listening on that port', () => {
  const ports = listeningPorts();
  const sources: [string, string][] = [
    [
      'compose environment and commands',
      JSON.stringify(services.map((s) => [s.resolved.environment, s.resolved.command])),
    ],
    ['nginx.conf', readFileSync(path.join(composeDir, 'nginx/nginx.conf'), 'utf8')],
    ['balancer.conf', readFileSync(path.join(composeDir, 'nginx/balancer.conf'), 'utf8')],
    ['prometheus.yml', readFileSync(path.join(composeDir, 'prometheus/prometheus.yml'), 'utf8')],
    [
      'grafana datasources',
      readFileSync(path.join(composeDir, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8'),
    ],
    ['alloy config', readFileSync(path.join(composeDir, 'alloy/config.alloy'), 'utf8')],
    ['toxiproxy.json', readFileSync(path.join(composeDir, 'toxiproxy/toxiproxy.json'), 'utf8')],
  ];
  let checked = 0;
  for (const [where, text] of sources) {
    for (const match of text.matchAll(/(?<![\w.-])([a-z][a-z0-9-]*):(\d{2,5})\b/g)) {
      const [, host, port] = match as unknown as [string, string, string];
      if (host === 'localhost') continue;
      assert.ok(ports.has(host), `${where}: ${host}:${port} names no compose service`);
      assert.ok(
        ports.get(host)?.has(Number(port)),
        `${where}: ${host} does not listen on ${port} (it listens on ${[...(ports.get(host) ?? [])].join(', ')})`,
      );
      checked += 1;
    }
  }
  assert.ok(checked > 20, `only ${checked} references found: the scan is not reading the files`);
});

/** Mirrors the Prometheus container's mounts into a temp folder so relative rule paths resolve as in compose. */
function mirrorPrometheusMounts(rulesOverride?: string): { dir: string; config: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'orderlab-prom-'));
  for (const mount of bindMounts(service('prometheus'), project.volumes)) {
    const target = path.join(dir, mount.target);
    mkdirSync(path.dirname(target), { recursive: true });
    const source = rulesOverride && mount.target === '/etc/prometheus/rules' ? rulesOverride : mount.source;
    symlinkSync(source, target);
  }
  const flag = (service('prometheus').resolved.command as string[]).find((a) =>
    a.startsWith('--config.file='),
  );
  return { dir, config: path.join(dir, String(flag?.split('=')[1])) };
}

test('promtool check config passes on the compose Prometheus config with the repo rules mounted as in compose', (t) => {
  const rulesDir = path.join(repoRoot, 'prometheus/rules');
  const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.yml'));
  const { dir, config } = mirrorPrometheusMounts();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
  t.diagnostic(
    `validator: promtool ${spawnSync('promtool', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`,
  );
  assert.equal(result.status, 0, result.stdout + result.stderr);
  const found = /SUCCESS: (\d+) rule files found/.exec(result.stdout)?.[1];
  assert.equal(Number(found ?? 0), ruleFiles.length, 'promtool loaded every rule file of prometheus/rules');
  if (ruleFiles.length === 0) t.diagnostic('prometheus/rules has no rule files on this branch yet');
});

test('the rules mount is really wired: a broken rule in the mounted folder fails promtool', (t) => {
  const badRules = mkdtempSync(path.join(tmpdir(), 'orderlab-badrules-'));
  writeFileSync(
    path.join(badRules, 'broken.yml'),
    'groups:\n  - name: x\n    rules:\n      - record: y\n        expr: rate(\n',
  );
  const { dir, config } = mirrorPrometheusMounts(badRules);
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(badRules, { recursive: true, force: true });
  });
  const result = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
  assert.notEqual(result.status, 0);
  assert.match(result.stdout + result.stderr, /broken\.yml/);
});

test('Prometheus flags are accepted by the Debian Prometheus (2.42); all are Prometheus 3 flags too', () => {
  const flags = service('prometheus').resolved.command as string[];
  // Flags are parsed before --version acts, so an unknown flag fails here.
  const result = spawnSync('prometheus', [...flags, '--version'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  for (const required of ['--enable-feature=exemplar-storage', '--web.enable-remote-write-receiver']) {
    assert.ok(flags.includes(required), `missing ${required}`);
  }
  const retentionDays = Number(/--storage\.tsdb\.retention\.time=(\d+)d/.exec(flags.join(' '))?.[1]);
  assert.ok(retentionDays >= 3, 'retention covers the 3-day ticket burn-rate window');
});

test('Grafana provisioning parses, correlations point at provisioned uids, dashboards exist and use known uids', (t) => {
  const datasources = parse(
    readFileSync(path.join(composeDir, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8'),
  ) as {
    datasources: {
      uid: string;
      name: string;
      type: string;
      url: string;
      jsonData?: Record<string, unknown>;
    }[];
  };
  const uids = new Set(datasources.datasources.map((d) => d.uid));
  assert.deepEqual([...uids].sort(), ['jaeger', 'loki', 'prometheus']);
  const byUid = (uid: string) => datasources.datasources.find((d) => d.uid === uid)?.jsonData ?? {};
  const exemplar = (
    byUid('prometheus').exemplarTraceIdDestinations as { datasourceUid: string; name: string }[]
  )[0];
  assert.deepEqual([exemplar?.datasourceUid, exemplar?.name], ['jaeger', 'trace_id']);
  const tracesToLogs = byUid('jaeger').tracesToLogsV2 as { datasourceUid: string; query: string };
  assert.equal(tracesToLogs.datasourceUid, 'loki');
  assert.match(
    tracesToLogs.query,
    /\$\$\{__trace\.traceId\}/,
    'escaped so Grafana does not read it as an env var',
  );
  const derived = (byUid('loki').derivedFields as { datasourceUid: string; matcherRegex: string }[])[0];
  assert.equal(derived?.datasourceUid, 'jaeger');
  const sampleLine = '{"level":"info","msg":"order created","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}';
  assert.equal(
    new RegExp(derived?.matcherRegex ?? '$^').exec(sampleLine)?.[1],
    '4bf92f3577b34da6a3ce929d0e0e4736',
  );

  // $__rate_interval is right only if Grafana knows the scrape interval.
  const prometheus = parse(readFileSync(path.join(composeDir, 'prometheus/prometheus.yml'), 'utf8')) as {
    global: { scrape_interval: string };
  };
  assert.equal(byUid('prometheus').timeInterval, prometheus.global.scrape_interval);

  const providers = parse(
    readFileSync(path.join(composeDir, 'grafana/provisioning/dashboards/dashboards.yaml'), 'utf8'),
  ) as { providers: { options: { path: string } }[] };
  const grafanaMounts = bindMounts(service('grafana'), project.volumes);
  assert.ok(
    grafanaMounts.some(
      (m) =>
        m.target === '/etc/grafana/provisioning' &&
        m.source === path.join(composeDir, 'grafana/provisioning'),
    ),
  );
  const known = new Set([...uids, ...datasources.datasources.map((d) => d.name)]);
  let dashboards = 0;
  for (const provider of providers.providers) {
    const mount = grafanaMounts.find(
      (m) => provider.options.path === m.target || provider.options.path.startsWith(`${m.target}/`),
    );
    assert.ok(mount, `dashboard provider path ${provider.options.path} is not mounted into Grafana`);
    const folder = path.join(mount.source, path.relative(mount.target, provider.options.path));
    assert.ok(statSync(folder).isDirectory(), `${folder} exists`);
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as {
        uid?: string;
        title?: string;
      };
      assert.ok(dashboard.title, `${file} has a title`);
      const unknown = [...datasourceUidsIn(dashboard)].filter((uid) => !known.has(uid));
      assert.deepEqual(unknown, [], `${file} references datasources that are not provisioned`);
      dashboards += 1;
    }
  }
  t.diagnostic(`${dashboards} dashboard(s) checked`);
});

test('Kafka: the compose image and the native lab pin the same version; topics match what the service expects', (t) => {
  const tag = String(project.env.KAFKA_IMAGE).split(':').pop();
  const init = JSON.stringify(service('kafka-init').resolved);
  assert.match(
    init,
    /orders\.v1:\$ORDERS_TOPIC_PARTITIONS /,
    'orders.v1 gets ORDERS_TOPIC_PARTITIONS ($$ kept the $ for the shell)',
  );
  assert.equal(service('kafka-init').resolved.environment?.ORDERS_TOPIC_PARTITIONS, '6');
  assert.match(init, /orders\.v1\.dlq/);
  // Run the topic script as the container would (after compose's $$ → $), with kafka-topics.sh stubbed.
  const dir = mkdtempSync(path.join(tmpdir(), 'orderlab-kafka-init-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'kafka-topics.sh'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
  const script = String((service('kafka-init').resolved.command as string[])[0]).replaceAll(
    '/opt/kafka/bin/kafka-topics.sh',
    path.join(dir, 'kafka-topics.sh'),
  );
  const run = spawnSync('/bin/sh', ['-c', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      ...(service('kafka-init').resolved.environment as Record<string, string>),
    },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(
    run.stdout,
    /--create --if-not-exists --topic orders\.v1 --partitions 6 --replication-factor 1\n/,
  );
  assert.match(
    run.stdout,
    /--create --if-not-exists --topic orders\.v1\.dlq --partitions 1 --replication-factor 1\n/,
  );
  const versionsFile = path.join(repoRoot, 'lab/versions.json');
  if (!existsSync(versionsFile))
    return t.skip('lab/versions.json is not on this branch yet (native lab issue)');
  const versions: string[] = [];
  const walk = (node: unknown, key = ''): void => {
    if (typeof node === 'string' && /kafka/i.test(key) && /^\d+\.\d+\.\d+$/.test(node)) versions.push(node);
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) walk(v, `${key}.${k}`);
  };
  walk(JSON.parse(readFileSync(versionsFile, 'utf8')));
  assert.ok(versions.length > 0, 'lab/versions.json names a Kafka version');
  for (const version of versions) assert.equal(version, tag, 'lab/versions.json Kafka vs KAFKA_IMAGE');
});

/**
 * `nginx -t` of the LB config as the lb container runs it, with `balancerConf` as the
 * /tmp/orderlab-lb/balancer.conf it includes. Debian's nginx 1.22 predates `server ... resolve`
 * (open source since 1.27.3) and `http2 on;` (1.25.1), and cannot resolve compose names: those
 * are adapted, nothing else.
 */
function nginxAccepts(t: TestContext, balancerConf: string): void {
  const nginx = nginxBinary(process.env);
  if (spawnSync(nginx, ['-v']).status !== 0)
    return t.skip(`nginx is not installed at ${nginx}: npm run lab -- prerequisites installs it`);
  const dir = mkdtempSync(path.join(tmpdir(), 'orderlab-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const include = 'include /tmp/orderlab-lb/balancer.conf;';
  const main = readFileSync(path.join(composeDir, 'nginx/nginx.conf'), 'utf8');
  assert.ok(main.includes(include), `nginx.conf: ${include}`);
  const conf = main
    .replace(include, `include ${dir}/balancer.conf;`)
    .replace(/listen (\d+);\n(\s*)http2 on;/g, 'listen $1 http2;')
    .replace('pid /tmp/nginx.pid;', `pid ${dir}/nginx.pid;`)
    // The test runner's stdio are sockets, which nginx cannot open() as log files.
    .replace(/\/dev\/std(out|err)/g, `${dir}/$1.log`);
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  writeFileSync(
    path.join(dir, 'balancer.conf'),
    balancerConf.replace(/ resolve /g, ' ').replace(/\bapi-[12]:/g, '127.0.0.1:'),
  );
  const result = spawnSync(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
}

const STOCK_BALANCER = readFileSync(path.join(composeDir, 'nginx/balancer.conf'), 'utf8');

test("nginx accepts the LB config with the stack's own balancer.conf (Debian nginx -t)", (t) => {
  nginxAccepts(t, STOCK_BALANCER);
  assert.match(STOCK_BALANCER, /server api-1:8080 resolve/);
  assert.match(STOCK_BALANCER, /server api-2:50051 resolve/);
});

test('nginx accepts the balancer.conf a release drill writes (weights on addresses, share 0 dropped)', (t) => {
  const canary = reweightedBalancerConf(
    STOCK_BALANCER,
    [
      { name: 'api-1', address: '127.0.0.2', weight: 90 },
      { name: 'api-2', address: '127.0.0.3', weight: 10 },
    ],
    false,
  );
  nginxAccepts(t, canary);
  const switched = reweightedBalancerConf(
    STOCK_BALANCER,
    [
      { name: 'api-1', weight: 0 },
      { name: 'api-2', address: '127.0.0.3', weight: 100 },
    ],
    false,
  );
  nginxAccepts(t, switched);
});

test('the lb starts from balancer.conf on every start: mounted read-only, copied where nginx.conf includes it', () => {
  const lb = service('lb').resolved;
  assert.ok(
    (lb.volumes ?? []).includes('./nginx/balancer.conf:/etc/nginx/orderlab/balancer.conf:ro'),
    'balancer.conf mounted read-only',
  );
  const command = (lb.command as string[]).join(' ');
  assert.match(command, /cp \/etc\/nginx\/orderlab\/balancer\.conf \/tmp\/orderlab-lb\//);
  assert.match(
    command,
    /exec nginx -g 'daemon off;'$/,
    "nginx is the container's main process (signals, reload)",
  );
});

test('API replicas take their own release variables first, then the stack-wide ones; the drill knobs reach them', () => {
  const envOf = (name: string, env: Record<string, string>) =>
    loadComposeProject(repoRoot, env).services.get(name)?.resolved.environment ?? {};
  const base = {};
  const own = envOf('api-2', { ...base, SERVICE_VERSION: '1.0.0', API_2_SERVICE_VERSION: '1.1.0' });
  assert.equal(own.SERVICE_VERSION, '1.1.0');
  assert.equal(
    envOf('api-1', { ...base, SERVICE_VERSION: '1.0.0', API_2_SERVICE_VERSION: '1.1.0' }).SERVICE_VERSION,
    '1.0.0',
  );
  assert.equal(envOf('relay', { ...base, SERVICE_VERSION: '1.0.0' }).SERVICE_VERSION, '1.0.0');
  assert.equal(envOf('api-1', base).SERVICE_VERSION, '', "empty: the service's default");
  for (const variable of PER_REPLICA_VARIABLES)
    for (const replica of ['api-1', 'api-2']) {
      const n = replica.split('-')[1];
      assert.equal(
        envOf(replica, { ...base, [`API_${n}_${variable}`]: 'x' })[variable],
        'x',
        `${replica} ${variable}`,
      );
      assert.equal(
        envOf(replica, { ...base, [variable]: 'y' })[variable],
        'y',
        `${replica} ${variable} stack-wide`,
      );
    }
  for (const knob of COMPOSE_KNOBS)
    assert.equal(envOf('api-1', { ...base, [knob]: '7' })[knob], '7', `drill knob ${knob} reaches api-1`);
});

test('node as PID 1 stops on SIGTERM when it has a handler and ignores it otherwise (why init: true + handlers)', async (t) => {
  if (spawnSync('unshare', ['-pf', '--mount-proc', 'true']).status !== 0)
    return t.skip(
      'unshare (PID namespace) not permitted here: run the suite as root, not in a restricted container',
    );
  const runAsPid1 = async (script: string): Promise<{ exitedWithin: number | undefined; output: string }> => {
    const { spawn } = await import('node:child_process');
    const child = spawn('unshare', ['-pf', '--mount-proc', process.execPath, '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    const nodePid = Number(children.split(' ')[0]);
    assert.match(output, /pid=1\b/, 'node really is PID 1 in its namespace');
    const started = Date.now();
    process.kill(nodePid, 'SIGTERM');
    const exited = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 1500);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!exited) {
      process.kill(nodePid, 'SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    return { exitedWithin: exited ? Date.now() - started : undefined, output };
  };
  const handled = await runAsPid1(
    "process.on('SIGTERM',()=>{console.log('drained');process.exit(0)});console.log('pid='+process.pid);setInterval(()=>{},1000)",
  );
  assert.ok(handled.exitedWithin !== undefined, 'PID 1 with a SIGTERM handler stops');
  assert.match(handled.output, /drained/);
  const unhandled = await runAsPid1("console.log('pid='+process.pid);setInterval(()=>{},1000)");
  assert.equal(
    unhandled.exitedWithin,
    undefined,
    'PID 1 without a handler ignores SIGTERM (the kernel drops it)',
  );
});

test('Alloy config parses with Alloy’s own syntax parser and ships to the Loki service', (t) => {
  const checker = path.join(repoRoot, '.cache/go-bin/alloy-syntax-check');
  const config = path.join(composeDir, 'alloy/config.alloy');
  const text = readFileSync(config, 'utf8');
  assert.match(text, /url = "http:\/\/loki:3100\/loki\/api\/v1\/push"/);
  assert.match(
    text,
    /__meta_docker_container_label_com_docker_compose_service"\]\s*target_label\s*= "service_name"/,
  );
  assert.equal(
    service('alloy').resolved.environment?.COMPOSE_PROJECT,
    project.name,
    'Alloy tails this project',
  );
  if (!existsSync(checker))
    return t.skip('no Alloy syntax checker: `npm run compose:validator` builds it into .cache/');
  const result = spawnSync(checker, [config], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const broken = spawnSync(checker, ['/dev/stdin'], {
    input: 'loki.write "x" {\n  endpoint { url = }\n}\n',
    encoding: 'utf8',
  });
  assert.notEqual(broken.status, 0, 'the checker rejects a broken file');
});

test('Alertmanager config passes amtool check-config', (t) => {
  if (spawnSync('amtool', ['--version']).status !== 0) {
    return t.skip(
      'amtool is not installed: npm run lab -- prerequisites installs it (prometheus-alertmanager)',
    );
  }
  const mount = bindMounts(service('alertmanager'), project.volumes).find((m) =>
    m.target.endsWith('alertmanager.yml'),
  );
  assert.ok(mount);
  const result = spawnSync('amtool', ['check-config', mount.source], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('Toxiproxy starts from the compose proxy file, and the healthcheck’s CLI command lists every proxy', async (t) => {
  const server = path.join(repoRoot, '.cache/go-bin/toxiproxy-server');
  const cli = path.join(repoRoot, '.cache/go-bin/toxiproxy-cli');
  if (!existsSync(server) || !existsSync(cli)) {
    return t.skip('no Toxiproxy binaries: `npm run compose:validator` builds them into .cache/');
  }
  const proxies = JSON.parse(readFileSync(path.join(composeDir, 'toxiproxy/toxiproxy.json'), 'utf8')) as {
    name: string;
    listen: string;
    upstream: string;
  }[];
  // Same file, with the container's 0.0.0.0 listeners moved to free loopback ports.
  const local = await Promise.all(
    proxies.map(async (p) => ({ ...p, listen: `127.0.0.1:${await freePort()}` })),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'orderlab-toxi-'));
  writeFileSync(path.join(dir, 'toxiproxy.json'), JSON.stringify(local));
  const apiPort = await freePort();
  const { spawn } = await import('node:child_process');
  const child = spawn(
    server,
    ['-host=127.0.0.1', `-port=${apiPort}`, `-config=${path.join(dir, 'toxiproxy.json')}`],
    {
      stdio: 'ignore',
    },
  );
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const healthcheck = service('toxiproxy').raw.healthcheck?.test as string[];
  assert.deepEqual(healthcheck.slice(0, 3), ['CMD', '/toxiproxy-cli', 'list']);
  let listed = '';
  for (let attempt = 0; attempt < 30 && !proxies.every((p) => listed.includes(p.upstream)); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = spawnSync(cli, ['--host', `http://127.0.0.1:${apiPort}`, ...healthcheck.slice(2)], {
      encoding: 'utf8',
    });
    listed = result.status === 0 ? result.stdout : '';
  }
  for (const p of local)
    assert.match(listed, new RegExp(`${p.name}\\s+${p.listen}\\s+${p.upstream}\\s+enabled`));
});

test('the Dockerfile parses with BuildKit’s Dockerfile frontend and passes its build checks', (t) => {
  const checker = path.join(repoRoot, '.cache/go-bin/dockerfile-check');
  if (!existsSync(checker))
    return t.skip('no Dockerfile checker: `npm run compose:validator` builds it into .cache/');
  const result = spawnSync(checker, [path.join(repoRoot, 'service/Dockerfile')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const dir = mkdtempSync(path.join(tmpdir(), 'orderlab-dockerfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node:24 as build\nHEALTHCHECK --intervall=5s CMD true\n');
  assert.notEqual(
    spawnSync(checker, [path.join(dir, 'Dockerfile')]).status,
    0,
    'the checker rejects a bad flag',
  );
});
