import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrometheusClient } from '../audit/prometheus';
import { SERVICE_ENV } from '../drills/knobs';
import { LatencyProxy } from '../infra/latencyProxy';
import { reloaded, reweightedBalancerConf } from '../infra/nginxBalancer';
import type { ReleaseControl, Target, TargetConnection, TargetSetup, TerminationResult } from './target';

/** Service variables compose/compose.yaml takes from compose's environment (empty = service default). */
export const COMPOSE_KNOBS: readonly string[] = Object.values(SERVICE_ENV);

/**
 * compose.yaml's address of api-1's PostgreSQL (default postgres:5432). A drill whose owned API goes
 * through the latency proxy points it at toxiproxy's PostgreSQL listener (compose/toxiproxy).
 */
export const API_1_POSTGRES_ADDRESS = 'API_1_POSTGRES_ADDRESS';
const TOXIPROXY_POSTGRES_LISTENER = 'toxiproxy:15432';

/** The API replicas of compose.yaml, and the ports inside their containers (HTTP_PORT, ADMIN_PORT). */
const API_REPLICAS = ['api-1', 'api-2'];
const CONTAINER_HTTP_PORT = 8080;
const CONTAINER_ADMIN_PORT = 9464;

/**
 * Service variables compose.yaml sets per API replica: `API_<n>_<name>` (e.g. API_2_SERVICE_VERSION)
 * wins over the stack-wide `<name>` for api-<n> alone. A release is started with these.
 */
export const PER_REPLICA_VARIABLES: readonly string[] = [
  SERVICE_ENV.serviceVersion,
  SERVICE_ENV.regressionErrorRate,
  SERVICE_ENV.regressionLatencyMs,
  SERVICE_ENV.regressionRoutes,
];

/** Where the lb container keeps the balancer.conf it runs (compose.yaml copies it there at start). */
const LB_STOCK_CONF = '/etc/nginx/orderlab/balancer.conf';
const LB_LIVE_DIR = '/tmp/orderlab-lb';
/**
 * Put a new balancer.conf (stdin) in place, let nginx check the whole config and reload; a refused
 * file is put back as it was, so the running balancer never changes to a config it rejects.
 */
const LB_REPLACE_AND_RELOAD = [
  `d=${LB_LIVE_DIR}`,
  'cat > "$d/next.conf"',
  'cp "$d/balancer.conf" "$d/previous.conf"',
  'mv "$d/next.conf" "$d/balancer.conf"',
  'if nginx -t -q; then nginx -s reload; else cp "$d/previous.conf" "$d/balancer.conf"; exit 1; fi',
].join(' && ');

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command (with extra environment); injected so tests can check exactly what the target issues. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  env?: Readonly<Record<string, string>>,
  /** Written to the command's standard input (closed at once when absent). */
  input?: string,
) => Promise<CommandResult>;

export const spawnRunner: CommandRunner = (command, args, env, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

export interface ComposeTargetOptions {
  /** Compose file; default compose.yaml in the repo root. */
  readonly file: string;
  readonly project?: string;
  /** Env files for every compose command (e.g. .env + compose/local/images.env); compose's default when empty. */
  readonly envFiles?: readonly string[];
  /** Compose service name per lab component name (api, relay, worker, postgres, kafka, prometheus, lb, toxiproxy). */
  readonly services?: Partial<Record<string, string>>;
  /** Published host URLs of the stack. */
  readonly connection?: Partial<TargetConnection>;
  /**
   * Toxiproxy API (default: the toxiproxy container's address, port 8474; compose publishes none) and
   * the name of its proxy in front of PostgreSQL.
   */
  readonly toxiproxyUrl?: string;
  readonly toxiproxyPostgresProxy?: string;
  /** POSTGRES_PASSWORD of the stack (from its env files), for the audit's connection. */
  readonly postgresPassword?: string;
  readonly stopTimeoutS?: number;
  readonly run?: CommandRunner;
  /** Worker process ids of the lb's nginx master (host pid); default: the host's /proc. */
  readonly nginxWorkers?: (masterPid: number) => number[];
  readonly log?: (line: string) => void;
}

/**
 * Host URLs of the compose stack (compose/compose.yaml): the load balancer, Prometheus and Jaeger
 * publish ports on 127.0.0.1. PostgreSQL and Kafka publish nothing: the data audit reads them at
 * their container addresses on the project network (found in prepare; Linux hosts reach those),
 * unless ORDERLAB_DRILL_POSTGRES_URL / ORDERLAB_DRILL_KAFKA_BROKERS name other addresses.
 */
export const COMPOSE_DEFAULT_CONNECTION: TargetConnection = {
  apiUrl: 'http://127.0.0.1:8080',
  apiAdminUrls: {},
  postgresUrl: 'postgres://orderlab:orderlab@127.0.0.1:5432/orderlab',
  kafkaBrokers: ['127.0.0.1:9094'],
  prometheusUrl: 'http://127.0.0.1:9090',
  grafanaUrl: 'http://127.0.0.1:3000',
  // Jaeger's UI port (JAEGER_UI_PORT) also serves the query API the trace audit reads.
  jaegerUrl: 'http://127.0.0.1:16686',
  topic: 'orders.v1',
  dlqTopic: 'orders.v1.dlq',
};

/**
 * Drives a `docker compose` stack with compose commands. The stack is started by the user
 * (`docker compose up -d`); this target only breaks and heals it.
 */
export class ComposeTarget implements Target {
  readonly kind = 'compose' as const;
  private readonly run: CommandRunner;
  private readonly log: (line: string) => void;
  private replicas = 1;
  private discovered: Partial<TargetConnection> = {};
  private restore: string[] = [];
  /** Toxiproxy was started by prepare (so close stops it again). */
  private startedToxiproxy = false;
  private toxiproxyUrl: string | undefined;
  /** Compose variables prepare() recreated the services with (drill knobs): kept for every recreation. */
  private knobs: Readonly<Record<string, string>> = {};
  /** The lb's own balancer.conf, read in prepare() of a setup whose balancer the drill reconfigures. */
  private balancerStock: string | undefined;
  private weights: Readonly<Record<string, number>> = {};
  /**
   * Per started release, a TCP forwarder on 127.0.0.1 to the replica's HTTP port: drill load goes to
   * loopback addresses only, and a release is warmed directly, before the balancer gives it traffic.
   */
  private readonly forwarders = new Map<string, LatencyProxy>();
  /**
   * Container address per API replica and the lb's nginx master pid as last looked up, so a switch
   * is one `compose exec`; forgotten when the target starts, stops or recreates the container.
   */
  private readonly addresses = new Map<string, string>();
  private lbMaster: number | undefined;

  /**
   * API replicas as releases: a release is the replica recreated with its API_<n>_* variables, the
   * LB's weights a rewritten balancer.conf (container addresses) and `nginx -s reload`.
   */
  readonly release: ReleaseControl = {
    startRelease: (component, env) => this.startRelease(component, env),
    setWeights: (weights) => this.setWeights(weights),
    releaseSlots: () => [...API_REPLICAS],
  };

  constructor(private readonly options: ComposeTargetOptions) {
    this.run = options.run ?? spawnRunner;
    this.log = options.log ?? (() => undefined);
  }

  /** `docker compose -f <file> [-p <project>] <args...>` */
  composeArgs(...args: string[]): string[] {
    return [
      'compose',
      ...(this.options.envFiles ?? []).flatMap((f) => ['--env-file', f]),
      '-f',
      this.options.file,
      ...(this.options.project ? ['-p', this.options.project] : []),
      ...args,
    ];
  }

  /** Compose service of a lab component name; the stack runs its API replicas as api-1 and api-2. */
  service(component: string): string {
    const base = component === 'api' || component === 'owned-api' ? 'api-1' : component;
    return this.options.services?.[base] ?? base;
  }

  private async compose(...args: string[]): Promise<CommandResult> {
    return this.composeWith({}, ...args);
  }

  /** A compose command with variables for compose's interpolation (the drill knobs). */
  private async composeWith(
    env: Readonly<Record<string, string>>,
    ...args: string[]
  ): Promise<CommandResult> {
    return this.runCompose(env, args);
  }

  private async runCompose(
    env: Readonly<Record<string, string>>,
    args: readonly string[],
    input?: string,
  ): Promise<CommandResult> {
    const full = this.composeArgs(...args);
    const shown = Object.entries(env)
      .map(([k, v]) => `${k}=${v} `)
      .join('');
    this.log(`  $ ${shown}docker ${full.join(' ')}${input === undefined ? '' : ' < (new balancer.conf)'}`);
    const result = await this.run('docker', full, env, input);
    if (result.code !== 0) {
      throw new Error(
        `docker ${full.join(' ')} exited ${result.code}: ${result.stderr.trim().slice(0, 400)}`,
      );
    }
    return result;
  }

  async prepare(setup: TargetSetup): Promise<void> {
    // The load goes to the published port, the stack's load balancer, which feeds both API
    // replicas: both run, with the drill's knobs, whatever replica count the native setup names.
    const services = [
      this.service('postgres'),
      this.service('kafka'),
      this.service('prometheus'),
      this.service('api-1'),
      this.service('api-2'),
      ...(setup.pipeline ? [this.service('relay'), this.service('worker')] : []),
      this.service('lb'),
      ...(setup.ownedApi?.viaLatencyProxy ? [this.service('toxiproxy')] : []),
    ];
    const unknown = Object.keys(setup.serviceEnv).filter((k) => !COMPOSE_KNOBS.includes(k));
    if (unknown.length > 0)
      throw new Error(
        `compose passes only the drill knobs its compose file declares (${COMPOSE_KNOBS.join(', ')}); not ${unknown.join(', ')}`,
      );
    const viaProxy = setup.ownedApi?.viaLatencyProxy === true;
    if (viaProxy) {
      // api-1 reaches PostgreSQL through toxiproxy, so toxiproxy listens before api-1 is recreated.
      const toxiproxy = this.service('toxiproxy');
      this.startedToxiproxy = (await this.compose('ps', '-q', toxiproxy)).stdout.trim() === '';
      await this.compose('up', '-d', '--wait', toxiproxy);
    }
    const env = {
      ...setup.serviceEnv,
      ...(viaProxy ? { [API_1_POSTGRES_ADDRESS]: TOXIPROXY_POSTGRES_LISTENER } : {}),
    };
    // Services whose environment the knobs change are recreated with them, and put back in close().
    this.knobs = env;
    await this.composeWith(env, 'up', '-d', '--wait', ...services);
    if (Object.keys(env).length > 0 || setup.balancerReconfigured) {
      this.restore = services;
      await this.refreshBalancer();
    }
    this.replicas = 2;
    if (setup.balancerReconfigured) await this.takeOverBalancer(setup.apiReplicas);
    await this.discoverAdmin();
    // The owned API is api-1 and its load goes to the published balancer port, which feeds api-2 too.
    // Stopping api-2 to leave api-1 alone does not work: nginx keeps a stopped replica's address
    // (its name no longer resolves) and every try of it waits out the 1 s connect timeout; one such
    // request came back 504 without being retried on api-1 (docs/compose.md).
    if (setup.ownedApi) this.log('  the owned API is api-1 (with api-2 beside it behind the balancer)');
    await this.discoverStores();
    if (viaProxy && !this.options.toxiproxyUrl)
      this.toxiproxyUrl = `http://${await this.containerAddress(this.service('toxiproxy'))}:8474`;
  }

  /**
   * A release drill's balancer: the lb's own balancer.conf with the first `replicas` API replicas
   * (equal shares) and no client keep-alive (a reload closes idle connections, and a request racing
   * that close would be cut); the other replicas are stopped, as the native lab starts only these.
   */
  private async takeOverBalancer(replicas: number): Promise<void> {
    const lb = this.service('lb');
    this.balancerStock = (
      await this.compose('exec', '-T', lb, 'cat', LB_STOCK_CONF).catch((error: Error) => {
        throw new Error(
          `${lb} has no ${LB_STOCK_CONF} to reweight (an lb from an older compose.yaml? \`docker compose up -d ${lb}\` recreates it): ${error.message}`,
        );
      })
    ).stdout;
    const live = API_REPLICAS.slice(0, Math.max(1, replicas));
    await this.setWeights(Object.fromEntries(live.map((r) => [r, 1])));
    for (const r of API_REPLICAS.filter((r) => !live.includes(r))) await this.stop(r);
    this.replicas = live.length;
  }

  private async startRelease(
    component: string,
    env: Readonly<Record<string, string>>,
  ): Promise<{ httpUrl: string; adminUrl: string }> {
    if (!API_REPLICAS.includes(component))
      throw new Error(`${component} is not an API replica: choose from ${API_REPLICAS.join(', ')}`);
    const unknown = Object.keys(env).filter((k) => !PER_REPLICA_VARIABLES.includes(k));
    if (unknown.length > 0)
      throw new Error(
        `compose.yaml sets per replica only ${PER_REPLICA_VARIABLES.join(', ')}; not ${unknown.join(', ')}`,
      );
    // Out of the balancer before it is recreated: nginx must never hold a stopped replica's address.
    if ((this.weights[component] ?? 0) > 0) {
      const others = Object.fromEntries(Object.entries(this.weights).filter(([c]) => c !== component));
      if (!Object.values(others).some((w) => w > 0))
        throw new Error(
          `${component} is the only replica in the balancer: give another one a share before restarting it`,
        );
      await this.setWeights(others);
    }
    const n = component.split('-')[1];
    const own = Object.fromEntries(Object.entries(env).map(([k, v]) => [`API_${n}_${k}`, v]));
    const service = this.service(component);
    await this.composeWith(
      { ...this.knobs, ...own },
      'up',
      '-d',
      '--wait',
      '--no-deps',
      '--force-recreate',
      service,
    );
    if (!this.restore.includes(service)) this.restore = [...this.restore, service];
    if (!this.apiComponents().includes(component)) this.replicas = Math.max(this.replicas, Number(n));
    this.forget(component);
    const address = await this.replicaAddress(component);
    const adminUrl = `http://${address}:${CONTAINER_ADMIN_PORT}`;
    this.discovered = {
      ...this.discovered,
      apiAdminUrls: { ...this.discovered.apiAdminUrls, [component]: adminUrl },
    };
    await this.forwarders.get(component)?.close();
    const forwarder = new LatencyProxy(0, address, CONTAINER_HTTP_PORT);
    await forwarder.start();
    this.forwarders.set(component, forwarder);
    this.log(`  ${component}'s HTTP port forwarded from ${forwarder.address} (direct load, e.g. a warm-up)`);
    return { httpUrl: `http://${forwarder.address}`, adminUrl };
  }

  /**
   * New LB shares at once: balancer.conf rewritten with the replicas' current container addresses,
   * checked and reloaded inside the lb container; resolves when a new nginx worker runs.
   */
  private async setWeights(weights: Readonly<Record<string, number>>): Promise<void> {
    const stock = this.balancerStock;
    if (stock === undefined)
      throw new Error('no reconfigurable balancer: the drill setup must ask for balancerReconfigured');
    const unknown = Object.keys(weights).filter((c) => !API_REPLICAS.includes(c));
    if (unknown.length > 0)
      throw new Error(`no API replica ${unknown.join(', ')}: choose from ${API_REPLICAS.join(', ')}`);
    const replicas = [];
    for (const name of API_REPLICAS) {
      const weight = weights[name] ?? 0;
      const address = weight > 0 ? await this.replicaAddress(name) : undefined;
      replicas.push({ name: this.service(name), weight, ...(address ? { address } : {}) });
    }
    const text = reweightedBalancerConf(stock, replicas, false);
    const lb = this.service('lb');
    const apply = async () => {
      await this.runCompose({}, ['exec', '-T', lb, 'sh', '-c', LB_REPLACE_AND_RELOAD], text);
    };
    this.lbMaster ??= await this.pidOf('lb');
    if (this.lbMaster === undefined) throw new Error(`${lb} is not running`);
    await reloaded(this.lbMaster, apply, 5000, this.options.nginxWorkers);
    this.weights = { ...weights };
    this.log(
      `  balancer: ${replicas.map((r) => `${r.name} ${r.weight}${r.address ? ` (${r.address})` : ''}`).join(', ')}`,
    );
  }

  private async replicaAddress(component: string): Promise<string> {
    const known = this.addresses.get(component);
    if (known) return known;
    const address = await this.containerAddress(this.service(component));
    this.addresses.set(component, address);
    return address;
  }

  /** A container the target starts, stops or recreates may come back at another address. */
  private forget(component: string): void {
    for (const name of API_REPLICAS)
      if (this.service(name) === this.service(component)) this.addresses.delete(name);
    if (this.service(component) === this.service('lb')) this.lbMaster = undefined;
  }

  /**
   * Recreated API containers may come back at new addresses, and nginx keeps a name's last address
   * while it does not resolve: until its resolver's next look-up (5 s) it would connect to the old
   * one and wait out the 1 s connect timeout. Restarted before the load starts, it resolves afresh.
   */
  private async refreshBalancer(): Promise<void> {
    const lb = this.service('lb');
    this.forget('lb');
    await this.compose('restart', lb);
    await this.waitHealthy(lb, 60_000);
  }

  /**
   * The audit's way to PostgreSQL and Kafka: the containers' addresses on the project network. Kafka
   * advertises `kafka:9092`, a name only the network resolves, so the audit's client maps that name
   * to the address (kafkaHostAliases).
   */
  private async discoverStores(): Promise<void> {
    const given = this.options.connection ?? {};
    if (given.postgresUrl && given.kafkaBrokers) return;
    const postgresIp = await this.containerAddress(this.service('postgres'));
    const kafkaIp = await this.containerAddress(this.service('kafka'));
    const password = this.options.postgresPassword ?? 'orderlab';
    this.discovered = {
      ...this.discovered,
      postgresUrl: `postgres://orderlab:${encodeURIComponent(password)}@${postgresIp}:5432/orderlab`,
      kafkaBrokers: [`${kafkaIp}:9092`],
      kafkaHostAliases: { [this.service('kafka')]: kafkaIp },
    };
    this.log(
      `  audit reads PostgreSQL at ${postgresIp}:5432 and Kafka at ${kafkaIp}:9092 (container addresses)`,
    );
  }

  /**
   * Readiness and /metrics of each API replica at its container address (admin port 9464, not
   * published): drills read them, the load never goes there.
   */
  private async discoverAdmin(): Promise<void> {
    const apiAdminUrls: Record<string, string> = {};
    for (const component of API_REPLICAS) {
      const address = await this.containerAddress(this.service(component)).catch(() => undefined);
      if (address) apiAdminUrls[component] = `http://${address}:${CONTAINER_ADMIN_PORT}`;
    }
    this.discovered = { ...this.discovered, apiAdminUrls };
  }

  private async containerAddress(service: string): Promise<string> {
    const id = (await this.compose('ps', '-q', service)).stdout.trim().split('\n')[0];
    if (!id) throw new Error(`compose service ${service} has no container`);
    const inspect = await this.run('docker', [
      'inspect',
      '--format',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
      id,
    ]);
    const address = inspect.stdout.trim().split(/\s+/)[0];
    if (inspect.code !== 0 || !address)
      throw new Error(`no network address for ${service}: ${inspect.stderr.trim().slice(0, 200)}`);
    return address;
  }

  connection(): TargetConnection {
    const base = { ...COMPOSE_DEFAULT_CONNECTION, ...this.discovered, ...this.options.connection };
    // In compose the "owned" API is the api service itself (its exit code comes from `compose ps`).
    return { ...base, ownedApiUrl: base.ownedApiUrl ?? base.apiUrl };
  }

  apiComponents(): string[] {
    return Array.from({ length: this.replicas }, (_, i) => `api-${i + 1}`);
  }

  /** Starts a service and returns once its healthcheck passes (as the native lab's start waits for readiness). */
  async start(component: string): Promise<void> {
    const service = this.service(component);
    this.forget(component);
    await this.compose('start', service);
    await this.waitHealthy(service, 120_000);
  }

  async stop(component: string): Promise<void> {
    this.forget(component);
    await this.compose('stop', '-t', String(this.options.stopTimeoutS ?? 30), this.service(component));
  }

  async kill(component: string): Promise<void> {
    this.forget(component);
    await this.compose('kill', '-s', 'SIGKILL', this.service(component));
  }

  async pause(component: string): Promise<void> {
    await this.compose('pause', this.service(component));
  }

  async resume(component: string): Promise<void> {
    await this.compose('unpause', this.service(component));
  }

  async terminateOwnedApi(timeoutMs: number): Promise<TerminationResult> {
    const begin = Date.now();
    const service = this.service('owned-api');
    this.forget('owned-api');
    await this.compose('stop', '-t', String(Math.ceil(timeoutMs / 1000)), service);
    const seconds = (Date.now() - begin) / 1000;
    const ps = await this.compose('ps', '-a', '--format', 'json', service);
    const exitCode = parseComposeExitCode(ps.stdout);
    // Bring it back so the rest of the drill finds the stack as it was.
    await this.compose('start', service);
    await this.waitHealthy(service, 60_000);
    return { exitCode, signal: null, seconds };
  }

  async scaleApi(replicas: number): Promise<void> {
    for (let i = 1; i <= API_REPLICAS.length; i++) {
      this.forget(`api-${i}`);
      if (i <= replicas) await this.compose('start', this.service(`api-${i}`));
      else
        await this.compose('stop', '-t', String(this.options.stopTimeoutS ?? 30), this.service(`api-${i}`));
    }
    this.replicas = replicas;
  }

  async rollingRestartApi(onStep: (line: string) => void): Promise<void> {
    for (const component of this.apiComponents()) {
      const service = this.service(component);
      onStep(`restarting ${service}`);
      this.forget(component);
      await this.compose('restart', '-t', String(this.options.stopTimeoutS ?? 30), service);
      await this.waitHealthy(service, 60_000);
      onStep(`${service} healthy again`);
    }
  }

  /** Polls `docker compose ps` until the service reports healthy (or running without a healthcheck). */
  private async waitHealthy(service: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ps = await this.compose('ps', '--format', 'json', service);
      const state = parseComposePs(ps.stdout)[0];
      if (state?.Health === 'healthy' || (state?.State === 'running' && !state.Health)) return;
      if (Date.now() > deadline)
        throw new Error(
          `${service} not healthy after ${timeoutMs / 1000} s (${state?.State ?? 'gone'}, ${state?.Health ?? 'no health'})`,
        );
      await sleep(1000);
    }
  }

  async setDatabaseLatency(ms: number): Promise<void> {
    const base = this.options.toxiproxyUrl ?? this.toxiproxyUrl ?? 'http://127.0.0.1:8474';
    const proxy = this.options.toxiproxyPostgresProxy ?? 'postgres';
    const reachable = await fetch(`${base}/version`).then(
      (r) => r.ok,
      () => false,
    );
    if (!reachable)
      throw new Error(
        `toxiproxy's API at ${base} does not answer: a drill step that slows the database needs a setup with ownedApi.viaLatencyProxy (api-1 then reaches PostgreSQL through toxiproxy, whose API is found at its container address) or toxiproxyUrl naming where its API answers`,
      );
    await fetch(`${base}/proxies/${proxy}/toxics/drill_latency`, { method: 'DELETE' }).catch(() => undefined);
    if (ms <= 0) return;
    const response = await fetch(`${base}/proxies/${proxy}/toxics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'drill_latency',
        type: 'latency',
        stream: 'downstream',
        attributes: { latency: ms, jitter: 0 },
      }),
    });
    if (!response.ok)
      throw new Error(`toxiproxy: adding latency failed with ${response.status}: ${await response.text()}`);
  }

  prometheus(): PrometheusClient {
    return new PrometheusClient(this.connection().prometheusUrl);
  }

  async pidOf(component: string): Promise<number | undefined> {
    const id = (await this.compose('ps', '-q', this.service(component))).stdout.trim().split('\n')[0];
    if (!id) return undefined;
    const inspect = await this.run('docker', ['inspect', '--format', '{{.State.Pid}}', id]);
    const pid = Number(inspect.stdout.trim());
    if (inspect.code !== 0 || !Number.isInteger(pid) || pid <= 0) return undefined;
    return mainProcessBelowInit(pid);
  }

  async close(): Promise<void> {
    // The user owns the stack; a drill leaves it running as it found it: services recreated with
    // drill knobs are recreated again with the stack's own environment.
    const services = this.restore;
    this.restore = [];
    this.balancerStock = undefined;
    this.weights = {};
    this.addresses.clear();
    this.lbMaster = undefined;
    for (const forwarder of this.forwarders.values()) await forwarder.close();
    this.forwarders.clear();
    if (services.length > 0) {
      await this.compose('up', '-d', '--wait', ...services);
      await this.refreshBalancer();
    }
    if (this.startedToxiproxy) {
      this.startedToxiproxy = false;
      await this.compose('stop', this.service('toxiproxy'));
    }
  }
}

/**
 * The service's own process: with `init: true` the container's first process is docker-init (tini),
 * whose one child is node. Read from /proc, so only where the engine runs on this host (Linux).
 */
export function mainProcessBelowInit(
  pid: number,
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): number {
  try {
    if (!/^(docker-init|tini)$/.test(read(`/proc/${pid}/comm`).trim())) return pid;
    const child = Number(read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)[0]);
    return Number.isInteger(child) && child > 0 ? child : pid;
  } catch {
    return pid;
  }
}

/** `docker compose ps --format json` prints one JSON object per line (v2.21+) or one array (older). */
export interface ComposePsRow {
  readonly Name: string;
  readonly State?: string;
  readonly Health?: string;
  readonly ExitCode?: number;
}

export function parseComposePs(stdout: string): ComposePsRow[] {
  const text = stdout.trim();
  if (text === '') return [];
  if (text.startsWith('[')) return JSON.parse(text) as ComposePsRow[];
  return text.split('\n').map((line) => JSON.parse(line) as ComposePsRow);
}

export function parseComposeExitCode(stdout: string): number | null {
  const first = parseComposePs(stdout)[0];
  return first?.ExitCode ?? null;
}
