import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrometheusClient } from '../audit/prometheus';
import { LatencyProxy } from '../infra/latencyProxy';
import { NginxBalancer } from '../infra/nginxBalancer';
import { OwnedProcess } from '../infra/ownedProcess';
import { ensurePortsFree, nginxBinary } from '../../../lab/src/prerequisites';
import { DrillLock } from './drillLock';
import { LAB_INFRA, type LabLike, openLab } from './labRuntime';
import type { ReleaseControl, Target, TargetConnection, TargetSetup, TerminationResult } from './target';

export interface NativeTargetOptions {
  readonly repoRoot: string;
  /** Lab folder for drills (kept apart from the developer's lab and the test lab). */
  readonly labDir: string;
  readonly portOffset: number;
  /** Folder for this run's logs and nginx files. */
  readonly workDir: string;
  /** Leave the lab running after the drill (it is stopped only if this drill started it). */
  readonly keepLab?: boolean;
  readonly log: (line: string) => void;
  /** Opens the lab; injectable for tests. */
  readonly open?: typeof openLab;
  /** The drill's name, written in the drill lab's lock. */
  readonly drillName?: string;
  /** Environment of the drill runner (NGINX_BIN); default process.env. */
  readonly env?: Record<string, string | undefined>;
}

/** Every service role the drills use; replicas that a drill does not need stay stopped. */
const DRILL_LAB_SERVICES = 'api*2,relay,worker';
const API_REPLICAS = ['api-1', 'api-2'];
const SERVICES = [...API_REPLICAS, 'relay', 'worker'];
const ALL_COMPONENTS = [...LAB_INFRA, ...SERVICES];
/** Pause between one replica being ready and restarting the next (longer than nginx's fail_timeout). */
const ROLLING_SETTLE_MS = 3000;

/**
 * A port another process holds for a moment (a socket of a process that is just exiting) makes the
 * lab refuse to start a replica; retry a couple of times before giving up. (Lab ports all sit below
 * the kernel's ephemeral range, so no outgoing connection can hold one.)
 */
async function startWithRetry(lab: LabLike, name: string, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await lab.start(name);
      return;
    } catch (error) {
      const message = (error as Error).message;
      if (attempt >= 3 || !/already in use|address already in use|EADDRINUSE/i.test(message)) throw error;
      log(`${name}: ${message.split(':')[0]}; retrying in 5 s (attempt ${attempt + 1} of 3)`);
      await sleep(5000);
    }
  }
}

/** Ports of the drill runner's own processes, shifted by the same offset as the lab. */
export function ownedPorts(offset: number) {
  return {
    ownedApiHttp: 8095 + offset,
    ownedApiGrpc: 21066 + offset,
    ownedApiAdmin: 9467 + offset,
    balancer: 8096 + offset,
    postgresProxy: 25433 + offset,
  };
}

/** The native lab (lab/src/lab.ts) plus nginx, an owned API process and a latency proxy when a drill needs them. */
export class NativeTarget implements Target {
  readonly kind = 'native' as const;
  private lab: LabLike | undefined;
  private startedLab = false;
  private lock: DrillLock | undefined;
  /** Lab components that were running (and not paused) when prepare() began: close() restores that. */
  private foundRunning = new Set<string>();
  private setup: TargetSetup | undefined;
  private balancer: NginxBalancer | undefined;
  private ownedApi: OwnedProcess | undefined;
  private proxy: LatencyProxy | undefined;
  private readonly ports;
  /** Ports of the owned API (api-1's planned ports when no replica runs, so Prometheus scrapes it). */
  private ownedApiPorts: { http: number; grpc: number; admin: number } | undefined;

  constructor(private readonly options: NativeTargetOptions) {
    this.ports = ownedPorts(options.portOffset);
  }

  /** Lab api replicas as releases behind the drill's nginx (weights rewritten and reloaded). */
  readonly release: ReleaseControl = {
    startRelease: async (component, env) => {
      if (!API_REPLICAS.includes(component))
        throw new Error(`${component} is not an API replica: choose from ${API_REPLICAS.join(', ')}`);
      const lab = this.requireLab;
      if (lab.isRunning(component)) await lab.stop(component);
      for (let attempt = 1; ; attempt++) {
        try {
          await lab.start(component, { env });
          break;
        } catch (error) {
          const message = (error as Error).message;
          if (attempt >= 3 || !/already in use|EADDRINUSE/i.test(message)) throw error;
          await sleep(5000);
        }
      }
      const conn = this.serviceConn(component);
      return { httpUrl: conn.httpUrl, adminUrl: conn.adminUrl };
    },
    setWeights: async (weights) => {
      if (!this.balancer) throw new Error('no balancer: the drill setup must ask for loadBalancer');
      const unknown = Object.keys(weights).filter((c) => !API_REPLICAS.includes(c));
      if (unknown.length > 0)
        throw new Error(`no API replica ${unknown.join(', ')}: choose from ${API_REPLICAS.join(', ')}`);
      await this.balancer.setUpstreams(
        Object.entries(weights).map(([component, weight]) => ({
          address: new URL(this.serviceConn(component).httpUrl).host,
          weight,
        })),
      );
    },
    releaseSlots: () => [...API_REPLICAS],
  };

  private get requireLab(): LabLike {
    if (!this.lab) throw new Error('native target: prepare() first');
    return this.lab;
  }

  async prepare(setup: TargetSetup): Promise<void> {
    const { log } = this.options;
    this.setup = setup;
    if (!existsSync(path.join(this.options.repoRoot, 'dist', 'service', 'src', 'main.js'))) {
      throw new Error('dist/service/src/main.js is missing: run `npm run build` first');
    }
    mkdirSync(this.options.workDir, { recursive: true });
    const open = this.options.open ?? openLab;
    this.lab = open({
      dir: this.options.labDir,
      portOffset: this.options.portOffset,
      services: DRILL_LAB_SERVICES,
      env: { ...process.env, ...setup.serviceEnv },
      log: (line) => log(`  lab:${line}`),
    });
    const lab = this.lab;
    // One drill at a time on this lab; a dead drill's nginx or owned api is stopped here.
    this.lock = new DrillLock(path.join(lab.dir, 'drill.lock'), this.options.drillName ?? 'drill', log);
    mkdirSync(lab.dir, { recursive: true });
    await this.lock.acquire();
    // Known state: nothing frozen by an earlier drill, every infra component up, no service left
    // running with another drill's environment, the runner's own ports free.
    for (const name of ALL_COMPONENTS) if (lab.isRunning(name)) this.foundRunning.add(name);
    for (const { name } of lab.status().filter((c) => c.state === 'paused')) {
      await lab.resume(name);
      log(`${name} was left paused (SIGSTOP) by an earlier drill: resumed`);
    }
    this.startedLab = !LAB_INFRA.some((c) => lab.isRunning(c));
    log(`lab ${lab.dir}: ${this.startedLab ? 'starting' : 'reusing'} ${LAB_INFRA.join(', ')}`);
    await lab.up([...LAB_INFRA]);

    const wanted = new Set<string>();
    if (setup.pipeline) wanted.add('relay').add('worker');
    for (const r of API_REPLICAS.slice(0, setup.apiReplicas)) wanted.add(r);
    // Services restart with this drill's environment (shedding bounds differ per drill).
    for (const name of SERVICES) {
      if (lab.isRunning(name)) await lab.stop(name);
    }
    await ensurePortsFree(
      Object.entries(this.ports).map(([component, port]) => ({
        component: `drill runner's ${component}`,
        port,
      })),
    );
    for (const name of wanted) await startWithRetry(lab, name, log);

    if (setup.ownedApi) await this.startOwnedApi(setup);
    if (setup.loadBalancer && setup.apiReplicas > 0) {
      const nginxDir = path.join(this.options.workDir, 'nginx');
      this.balancer = new NginxBalancer({
        dir: nginxDir,
        binary: nginxBinary(this.options.env ?? process.env),
        listenPort: this.ports.balancer,
        clientKeepAlive: !setup.balancerReconfigured,
        upstreams: API_REPLICAS.slice(0, setup.apiReplicas).map(
          (r) => new URL(this.serviceConn(r).httpUrl).host,
        ),
      });
      await this.balancer.start();
      if (this.balancer.pid !== undefined)
        this.lock.recordOwned({ name: 'nginx', pid: this.balancer.pid, marker: nginxDir });
      log(`nginx balancer on ${this.balancer.url} → ${API_REPLICAS.slice(0, setup.apiReplicas).join(', ')}`);
    }
  }

  private serviceConn(name: string) {
    const conn = this.requireLab.connection().services[name];
    if (!conn) throw new Error(`the drill lab has no ${name}`);
    return conn;
  }

  private async startOwnedApi(setup: TargetSetup): Promise<void> {
    const conn = this.requireLab.connection();
    let databaseUrl = conn.postgres.url;
    if (setup.ownedApi?.viaLatencyProxy) {
      this.proxy = new LatencyProxy(this.ports.postgresProxy, '127.0.0.1', conn.postgres.port);
      await this.proxy.start();
      const url = new URL(conn.postgres.url);
      url.port = String(this.ports.postgresProxy);
      databaseUrl = url.toString();
      this.options.log(`latency proxy ${this.proxy.address} → PostgreSQL 127.0.0.1:${conn.postgres.port}`);
    }
    const node = path.join(this.options.repoRoot, 'node_modules', '.bin', 'node');
    // With no lab replica running, the owned API takes api-1's ports: the lab's Prometheus scrapes
    // them, so SLO figures and burn-rate alerts see its requests.
    const planned = conn.services['api-1'];
    const ports =
      setup.apiReplicas === 0 && planned
        ? {
            http: Number(new URL(planned.httpUrl).port),
            grpc: Number(planned.grpcAddress.split(':').at(-1)),
            admin: Number(new URL(planned.adminUrl).port),
          }
        : { http: this.ports.ownedApiHttp, grpc: this.ports.ownedApiGrpc, admin: this.ports.ownedApiAdmin };
    this.ownedApiPorts = ports;
    this.ownedApi = new OwnedProcess({
      command: existsSync(node) ? node : process.execPath,
      args: [
        '--enable-source-maps',
        '--require',
        path.join(this.options.repoRoot, 'dist', 'service', 'src', 'telemetry', 'preload.js'),
        path.join(this.options.repoRoot, 'dist', 'service', 'src', 'main.js'),
      ],
      cwd: this.options.repoRoot,
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
        ),
        ROLES: 'api',
        HOST: '127.0.0.1',
        HTTP_PORT: String(ports.http),
        GRPC_PORT: String(ports.grpc),
        ADMIN_PORT: String(ports.admin),
        DATABASE_URL: databaseUrl,
        KAFKA_BROKERS: conn.kafka.brokers.join(','),
        LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: conn.jaeger.otlpHttpUrl,
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        ORDERLAB_DRILL_WORK: this.options.workDir, // marks it as this drill's (drill.lock)
        ...setup.serviceEnv,
      },
      logPath: path.join(this.options.workDir, 'owned-api.log'),
      readyUrl: `http://127.0.0.1:${ports.admin}/readyz`,
    });
    await this.ownedApi.start();
    if (this.ownedApi.pid !== undefined)
      this.lock?.recordOwned({ name: 'owned api', pid: this.ownedApi.pid, marker: this.options.workDir });
    this.options.log(`owned api (pid ${this.ownedApi.pid}) on http://127.0.0.1:${ports.http}`);
  }

  connection(): TargetConnection {
    const conn = this.requireLab.connection();
    const setup = this.setup;
    const apiAdminUrls: Record<string, string> = {};
    for (const name of this.apiComponents()) apiAdminUrls[name] = this.serviceConn(name).adminUrl;
    const owned = this.ownedApiPorts;
    if (owned) apiAdminUrls['owned-api'] = `http://127.0.0.1:${owned.admin}`;
    const apiUrl = this.balancer
      ? this.balancer.url
      : (setup?.apiReplicas ?? 0) > 0
        ? this.serviceConn('api-1').httpUrl
        : undefined;
    return {
      ...(apiUrl !== undefined ? { apiUrl } : {}),
      ...(owned ? { ownedApiUrl: `http://127.0.0.1:${owned.http}` } : {}),
      apiAdminUrls,
      postgresUrl: conn.postgres.url,
      kafkaBrokers: conn.kafka.brokers,
      prometheusUrl: conn.prometheus.url,
      jaegerUrl: conn.jaeger.queryUrl,
      topic: 'orders.v1',
      dlqTopic: 'orders.v1.dlq',
    };
  }

  apiComponents(): string[] {
    return API_REPLICAS.slice(0, this.setup?.apiReplicas ?? 0);
  }

  async start(component: string): Promise<void> {
    await this.requireLab.start(component);
  }
  async stop(component: string): Promise<void> {
    await this.requireLab.stop(component);
  }
  async kill(component: string): Promise<void> {
    if (!(await this.requireLab.kill(component))) throw new Error(`${component} was not running`);
  }
  async pause(component: string): Promise<void> {
    if (!(await this.requireLab.pause(component))) throw new Error(`${component} was not running`);
  }
  async resume(component: string): Promise<void> {
    if (!(await this.requireLab.resume(component))) throw new Error(`${component} was not running`);
  }

  async terminateOwnedApi(timeoutMs: number): Promise<TerminationResult> {
    if (!this.ownedApi) throw new Error('no owned api: the drill setup must ask for ownedApi');
    return this.ownedApi.terminate(timeoutMs);
  }

  async scaleApi(replicas: number): Promise<void> {
    const lab = this.requireLab;
    for (const [i, name] of API_REPLICAS.entries()) {
      if (i < replicas && !lab.isRunning(name)) await lab.start(name);
      if (i >= replicas && lab.isRunning(name)) await lab.stop(name);
    }
  }

  async rollingRestartApi(onStep: (line: string) => void): Promise<void> {
    const lab = this.requireLab;
    for (const name of this.apiComponents()) {
      onStep(`SIGTERM ${name} (graceful stop)`);
      await lab.stop(name);
      onStep(`${name} exited; starting it again`);
      await lab.start(name); // waits for /readyz
      onStep(`${name} ready again; ${ROLLING_SETTLE_MS / 1000} s for the balancer to use it before the next`);
      // Like minReadySeconds: nginx retries a failed peer only after its fail_timeout, so restarting
      // the next replica at once could leave the balancer with no live upstream.
      await sleep(ROLLING_SETTLE_MS);
    }
  }

  setDatabaseLatency(ms: number): Promise<void> {
    if (!this.proxy)
      return Promise.reject(
        new Error('no latency proxy: the drill setup must ask for ownedApi.viaLatencyProxy'),
      );
    this.proxy.latencyMs = ms;
    return Promise.resolve();
  }

  prometheus(): PrometheusClient {
    return new PrometheusClient(this.requireLab.connection().prometheus.url);
  }

  pidOf(component: string): Promise<number | undefined> {
    if (component === 'owned-api') return Promise.resolve(this.ownedApi?.pid);
    const conn = this.lab?.connection();
    return Promise.resolve(conn?.services[component]?.pid);
  }

  async close(): Promise<void> {
    const { log } = this.options;
    const problems: string[] = [];
    const attempt = async (what: string, action: () => Promise<unknown>): Promise<void> => {
      try {
        await action();
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`);
      }
    };
    await attempt('stopping nginx', async () => this.balancer?.stop());
    await attempt('stopping the owned api', async () => this.ownedApi?.kill());
    await attempt('closing the latency proxy', async () => this.proxy?.close());
    const lab = this.lab;
    if (lab) {
      // Heal anything a failed drill left broken, then put the lab back as prepare() found it.
      for (const name of ALL_COMPONENTS) await lab.resume(name).catch(() => false);
      if (this.startedLab && !this.options.keepLab) {
        log('stopping the drill lab (it was started by this run)');
        await attempt('stopping the drill lab', () => lab.down());
      } else {
        for (const name of SERVICES)
          if (lab.isRunning(name) && !this.foundRunning.has(name))
            await attempt(`stopping ${name}`, () => lab.stop(name));
        for (const name of ALL_COMPONENTS)
          if (!lab.isRunning(name) && this.foundRunning.has(name))
            await attempt(`starting ${name} again`, () => startWithRetry(lab, name, log));
        log(`drill lab left as found in ${lab.dir} (stop it: npm run lab -- down --dir ${lab.dir})`);
      }
    }
    this.lock?.release();
    if (problems.length > 0) throw new Error(problems.join('; '));
  }
}
