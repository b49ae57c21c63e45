import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ensureTopics as ensureKafkaTopics,
  kafkaDriver,
  SERVICE_TOPICS,
  type TopicSpec,
} from './components/kafka';
import { postgresDriver, postgresUrls } from './components/postgres';
import { jaegerDriver, jaegerUrls } from './components/jaeger';
import { prometheusDriver, reloadPrometheus, writePrometheusConfig } from './components/prometheus';
import { isServiceBuilt, serviceDriver } from './components/service';
import type { ComponentDriver, LabContext } from './components/types';
import { parseServiceSpecs, planPorts, type PortPlan, type ServiceSpec } from './ports';
import { ensureDiskSpace, ensurePortsFree, ensurePrerequisites, prerequisitesFor } from './prerequisites';
import {
  isAlive,
  isOurs,
  isPortListening,
  LabError,
  residentBytes,
  signalGroupOrPid,
  spawnDetached,
  tailFile,
  waitForExit,
} from './processes';
import { type Removed, relocatedFolderOf, removeFolder } from './purge';
import { findRepoRoot } from './repo';

export const INFRA_COMPONENTS = ['postgres', 'kafka', 'prometheus', 'jaeger'] as const;
export const DEFAULT_LAB_DIR = path.join('.lab', 'default');
const MAX_START_ATTEMPTS = 3;
/** Log lines of a server that lost its port between our check and its bind. */
const BIND_FAILURE = /address already in use|BindException|Unable to start acceptor|could not bind/i;

export interface LabOptions {
  /** State folder; default LAB_DIR or <repo>/.lab/default. */
  readonly dir?: string;
  /** Added to every default port; default LAB_PORT_OFFSET or 0. Ignored while the lab in `dir` runs. */
  readonly portOffset?: number;
  /** Service processes, e.g. `api` or `api*2,relay,worker`; default LAB_SERVICES or `api`. */
  readonly services?: string;
  readonly repoRoot?: string;
  /** Shared jar cache; default LAB_CACHE_DIR or <repo>/.cache. */
  readonly cacheDir?: string;
  readonly env?: Record<string, string | undefined>;
  /** Progress lines; default console.log. */
  readonly log?: (line: string) => void;
}

interface ComponentRecord {
  pid: number;
  marker: string;
  startedAt: string;
}

interface LabState {
  portOffset: number;
  services: string;
  plan: PortPlan;
  components: Record<string, ComponentRecord>;
}

export type ComponentState = 'running' | 'paused' | 'stopped';

export interface ComponentStatus {
  readonly name: string;
  readonly state: ComponentState;
  readonly pid?: number;
  readonly ports: readonly number[];
  readonly rssBytes?: number;
  readonly logPath: string;
}

export interface LabConnection {
  readonly dir: string;
  readonly postgres: { url: string; port: number; adminUrl: string };
  readonly kafka: { brokers: string[] };
  /** Jaeger's query API (traces by id, services) and where the services send OTLP. */
  readonly jaeger: { queryUrl: string; otlpHttpUrl: string };
  readonly prometheus: { url: string };
  readonly services: Record<string, { httpUrl: string; grpcAddress: string; adminUrl: string; pid?: number }>;
}

export interface UpResult {
  readonly started: string[];
  readonly alreadyRunning: string[];
  readonly skipped: string[];
  readonly seconds: number;
}

/**
 * One native lab: its components, their processes (pids in <dir>/state.json so every process sees
 * the same lab) and how to reach them. Used by the CLI, the test runner and the drills.
 */
export class Lab {
  readonly dir: string;
  readonly repoRoot: string;
  private readonly ctx: LabContext;
  private readonly state: LabState;
  private readonly specs: ServiceSpec[];

  constructor(options: LabOptions = {}) {
    const env = options.env ?? process.env;
    this.repoRoot = options.repoRoot ?? findRepoRoot();
    this.dir = path.resolve(options.dir ?? env.LAB_DIR ?? path.join(this.repoRoot, DEFAULT_LAB_DIR));
    mkdirSync(this.dir, { recursive: true });
    const saved = this.readState();
    const savedRunning =
      saved !== undefined && Object.values(saved.components).some((c) => isOurs(c.pid, c.marker));
    // While a lab runs in this folder, its saved ports win: `status` or `stop` from another shell must find it.
    if (saved && savedRunning) {
      // A lab started before Jaeger was a component has no Jaeger ports in its saved plan.
      this.state = saved.plan.jaeger
        ? saved
        : { ...saved, plan: { ...saved.plan, jaeger: planPorts(saved.portOffset, []).jaeger } };
    } else {
      const portOffset = options.portOffset ?? (env.LAB_PORT_OFFSET ? Number(env.LAB_PORT_OFFSET) : 0);
      const services = options.services ?? env.LAB_SERVICES ?? 'api,relay,worker';
      this.state = {
        portOffset,
        services,
        plan: planPorts(portOffset, parseServiceSpecs(services)),
        components: saved?.components ?? {},
      };
    }
    this.specs = parseServiceSpecs(this.state.services);
    this.ctx = {
      dir: this.dir,
      repoRoot: this.repoRoot,
      cacheDir: path.resolve(options.cacheDir ?? env.LAB_CACHE_DIR ?? path.join(this.repoRoot, '.cache')),
      plan: this.state.plan,
      services: this.specs,
      env,
      log: options.log ?? ((line) => console.log(line)),
    };
  }

  get plan(): PortPlan {
    return this.state.plan;
  }

  /** Names of every component of this lab, infrastructure first. */
  componentNames(): string[] {
    return [...INFRA_COMPONENTS, ...this.specs.map((s) => s.name)];
  }

  logsPath(name: string): string {
    this.driver(name); // validates the name
    return path.join(this.dir, name, `${name}.log`);
  }

  /**
   * Starts the named components (default: infrastructure plus the services when the service is
   * built) and waits until each answers. Idempotent: running components are checked, not restarted.
   */
  async up(components?: readonly string[]): Promise<UpResult> {
    const begin = Date.now();
    const skipped: string[] = [];
    let names = components ? [...components] : this.componentNames();
    for (const name of names) this.driver(name);
    if (!components && !isServiceBuilt(this.repoRoot)) {
      skipped.push(...this.specs.map((s) => s.name));
      names = names.filter((n) => !skipped.includes(n));
      this.ctx.log(
        `  services skipped (${skipped.join(', ')}): dist/service/src/main.js is not built yet (npm run build)`,
      );
    }
    ensureDiskSpace(this.dir);
    return this.withLock(async () => {
      const started: string[] = [];
      const alreadyRunning: string[] = [];
      const record = (name: string, wasStarted: boolean): void =>
        void (wasStarted ? started : alreadyRunning).push(name);
      const infra = names.filter((n) => (INFRA_COMPONENTS as readonly string[]).includes(n));
      const services = names.filter((n) => !infra.includes(n));
      // One apt-get for everything missing, before the parallel starts (dpkg takes one install at a time).
      if (infra.some((n) => !this.isRunning(n)))
        await ensurePrerequisites(prerequisitesFor('lab'), this.ctx.log, this.ctx.env);
      // Infrastructure starts in parallel; services need PostgreSQL and Kafka (with their topics) first.
      const results = await Promise.allSettled(infra.map(async (n) => record(n, await this.startLocked(n))));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      if (services.length > 0) {
        if (this.isRunning('kafka')) await this.ensureTopics(SERVICE_TOPICS);
        const serviceResults = await Promise.allSettled(
          services.map(async (n) => record(n, await this.startLocked(n))),
        );
        const serviceFailure = serviceResults.find(
          (r): r is PromiseRejectedResult => r.status === 'rejected',
        );
        if (serviceFailure) throw serviceFailure.reason;
      }
      return { started, alreadyRunning, skipped, seconds: (Date.now() - begin) / 1000 };
    });
  }

  /** Stops every component this lab started (services first) and checks that none of its ports still listens. */
  async down(): Promise<{ stopped: string[]; seconds: number }> {
    const begin = Date.now();
    return this.withLock(async () => {
      const stopped: string[] = [];
      const order = [...this.specs.map((s) => s.name), 'jaeger', 'prometheus', 'kafka', 'postgres'];
      const services = order.filter((n) => this.specs.some((s) => s.name === n));
      await Promise.all(services.map(async (n) => (await this.stopLocked(n)) && stopped.push(n)));
      for (const name of ['jaeger', 'prometheus', 'kafka', 'postgres'])
        if (await this.stopLocked(name)) stopped.push(name);
      const open: string[] = [];
      for (const name of order) {
        for (const port of this.driver(name).ports)
          if (await isPortListening(port)) open.push(`${port} (${name})`);
      }
      if (open.length > 0)
        throw new LabError(
          `after down, ports still listen: ${open.join(', ')}: another process holds them (see \`ss -ltnp\`)`,
        );
      return { stopped, seconds: (Date.now() - begin) / 1000 };
    });
  }

  /**
   * `down`, then deletes the lab folder and the PostgreSQL data kept outside it (see
   * relocatedDataDir): everything the lab wrote. The CLI checks the folder with purgeRefusal first.
   */
  async purge(): Promise<{ stopped: string[]; removed: Removed[]; seconds: number }> {
    const begin = Date.now();
    const { stopped } = await this.down();
    const removed: Removed[] = [];
    for (const folder of [relocatedFolderOf(this.dir), this.dir]) {
      const r = removeFolder(folder);
      if (r) removed.push(r);
    }
    return { stopped, removed, seconds: (Date.now() - begin) / 1000 };
  }

  /**
   * Starts one component and waits until it is ready; returns false when it was already running.
   * `env` adds to a service's environment for this start only (a release drill starts a replica as
   * another version); infrastructure takes none.
   */
  async start(
    name: string,
    options: { readonly env?: Readonly<Record<string, string>> } = {},
  ): Promise<boolean> {
    const isInfra = (INFRA_COMPONENTS as readonly string[]).includes(name);
    if (isInfra && options.env && Object.keys(options.env).length > 0)
      throw new LabError(`${name}: extra environment is for service components only`);
    return this.withLock(async () => {
      if (!isInfra && this.isRunning('kafka')) await this.ensureTopics(SERVICE_TOPICS);
      return this.startLocked(name, options.env);
    });
  }

  /** Graceful stop: the component's stop signal, then SIGKILL after its timeout. False when not running. */
  async stop(name: string): Promise<boolean> {
    return this.withLock(() => this.stopLocked(name));
  }

  /** SIGKILL the component's whole process group (crash drill). False when not running. */
  async kill(name: string): Promise<boolean> {
    const record = this.ownRecord(name);
    if (!record) return false;
    signalGroupOrPid(record.pid, 'SIGKILL', true);
    if (!(await waitForExit(record.pid, 10_000)))
      throw new LabError(`${name} (pid ${record.pid}) survived SIGKILL for 10 s`);
    return true;
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing (freeze drill). False when not running. */
  async pause(name: string): Promise<boolean> {
    return this.signalAndAwaitState(name, 'SIGSTOP', (state) => state === 'T');
  }

  /** SIGCONT after pause. False when not running. */
  async resume(name: string): Promise<boolean> {
    return this.signalAndAwaitState(name, 'SIGCONT', (state) => state !== 'T');
  }

  private async signalAndAwaitState(
    name: string,
    signal: NodeJS.Signals,
    reached: (state: string | undefined) => boolean,
  ): Promise<boolean> {
    const record = this.ownRecord(name);
    if (!record) return false;
    signalGroupOrPid(record.pid, signal, true);
    const deadline = Date.now() + 5000;
    while (!reached(processState(record.pid)) && Date.now() < deadline) await sleep(20);
    if (!reached(processState(record.pid)))
      throw new LabError(`${name} (pid ${record.pid}) did not react to ${signal} within 5 s`);
    return true;
  }

  isRunning(name: string): boolean {
    return this.ownRecord(name) !== undefined;
  }

  status(): ComponentStatus[] {
    return this.componentNames().map((name) => {
      const record = this.ownRecord(name);
      const base = { name, ports: this.driver(name).ports, logPath: this.logsPath(name) };
      if (!record) return { ...base, state: 'stopped' as const };
      const paused = processState(record.pid) === 'T';
      return {
        ...base,
        state: paused ? ('paused' as const) : ('running' as const),
        pid: record.pid,
        rssBytes: residentBytes(record.pid),
      };
    });
  }

  connection(): LabConnection {
    const plan = this.state.plan;
    const services: LabConnection['services'] = {};
    for (const spec of this.specs) {
      const ports = plan.services[spec.name];
      if (!ports) continue;
      services[spec.name] = {
        httpUrl: `http://127.0.0.1:${ports.http}`,
        grpcAddress: `127.0.0.1:${ports.grpc}`,
        adminUrl: `http://127.0.0.1:${ports.admin}`,
        ...(this.ownRecord(spec.name) ? { pid: this.ownRecord(spec.name)?.pid } : {}),
      };
    }
    return {
      dir: this.dir,
      postgres: { ...postgresUrls(plan.postgres), port: plan.postgres },
      kafka: { brokers: [`127.0.0.1:${plan.kafka}`] },
      prometheus: { url: `http://127.0.0.1:${plan.prometheus}` },
      jaeger: jaegerUrls(plan.jaeger),
      services,
    };
  }

  /** Creates missing topics (and grows partition counts) on this lab's broker. */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    await ensureKafkaTopics(this.connection().kafka.brokers, topics);
  }

  private async startLocked(name: string, env?: Readonly<Record<string, string>>): Promise<boolean> {
    const driver = this.driver(name, env);
    const logPath = this.logsPath(name);
    const existing = this.ownRecord(name);
    if (existing) {
      if (processState(existing.pid) === 'T')
        throw new LabError(`${name} is paused (pid ${existing.pid}): \`resume ${name}\` first`);
      await driver.waitReady(existing.pid, logPath);
      this.ctx.log(`  ${name.padEnd(11)} already running (pid ${existing.pid})`);
      return false;
    }
    const begin = Date.now();
    mkdirSync(path.dirname(logPath), { recursive: true });
    await driver.prepare();
    let pid = 0;
    for (let attempt = 1; ; attempt++) {
      await ensurePortsFree(driver.ports.map((port) => ({ component: name, port })));
      pid = this.launch(name, driver, logPath);
      try {
        await driver.waitReady(pid, logPath);
        break;
      } catch (error) {
        // Leave nothing half-started behind: the failure message carries the log tail.
        signalGroupOrPid(pid, 'SIGKILL', true);
        await waitForExit(pid, 5000);
        // Our ports are in the ephemeral range: a passing connection can grab one between check and bind.
        const lostBindRace = error instanceof LabError && BIND_FAILURE.test(tailFile(logPath, 300));
        if (!lostBindRace || attempt >= MAX_START_ATTEMPTS) throw error;
        this.ctx.log(
          `  ${name}: port taken while it started (attempt ${attempt} of ${MAX_START_ATTEMPTS}), retrying`,
        );
        await sleep(1000);
      }
    }
    if (name === 'prometheus') {
      // nothing more: its config was written in prepare()
    } else if (
      this.specs.some((s) => s.name === name) &&
      this.isRunning('prometheus') &&
      writePrometheusConfig(this.ctx)
    ) {
      await reloadPrometheus(this.state.plan.prometheus);
    }
    const ports = driver.ports.map((p) => `127.0.0.1:${p}`).join(', ');
    this.ctx.log(
      `  ${name.padEnd(11)} ready in ${((Date.now() - begin) / 1000).toFixed(1)} s (pid ${pid}, ${ports})`,
    );
    return true;
  }

  private launch(name: string, driver: ComponentDriver, logPath: string): number {
    const launch = driver.launch();
    writeFileSync(
      logPath,
      `\n===== ${new Date().toISOString()} lab starts ${name}: ${launch.command} ${launch.args.join(' ')}\n`,
      { flag: 'a' },
    );
    const { pid } = spawnDetached({ ...launch, logPath });
    this.state.components[name] = { pid, marker: launch.marker, startedAt: new Date().toISOString() };
    this.writeState();
    return pid;
  }

  private async stopLocked(name: string): Promise<boolean> {
    const driver = this.driver(name);
    const record = this.ownRecord(name);
    if (!record) {
      delete this.state.components[name];
      this.writeState();
      return false;
    }
    signalGroupOrPid(record.pid, 'SIGCONT', true); // a paused process cannot act on SIGTERM
    signalGroupOrPid(record.pid, driver.stopSignal, false);
    if (!(await waitForExit(record.pid, driver.stopTimeoutMs))) {
      this.ctx.log(
        `  ${name}: no exit ${driver.stopTimeoutMs / 1000} s after ${driver.stopSignal}, sending SIGKILL`,
      );
    }
    // Stragglers in its process group (e.g. PostgreSQL backends) go too.
    signalGroupOrPid(record.pid, 'SIGKILL', true);
    await waitForExit(record.pid, 5000);
    delete this.state.components[name];
    this.writeState();
    return true;
  }

  /** The component's record when its pid is alive and really ours (cmdline/environ carries our marker). */
  private ownRecord(name: string): ComponentRecord | undefined {
    const record = this.readState()?.components[name] ?? this.state.components[name];
    if (record && isOurs(record.pid, record.marker)) {
      this.state.components[name] = record;
      return record;
    }
    return undefined;
  }

  private driver(name: string, env?: Readonly<Record<string, string>>): ComponentDriver {
    switch (name) {
      case 'postgres':
        return postgresDriver(this.ctx);
      case 'kafka':
        return kafkaDriver(this.ctx);
      case 'prometheus':
        return prometheusDriver(this.ctx);
      case 'jaeger':
        return jaegerDriver(this.ctx);
      default: {
        const spec = this.specs.find((s) => s.name === name);
        if (!spec)
          throw new LabError(`unknown component "${name}": choose from ${this.componentNames().join(', ')}`);
        return serviceDriver(env ? { ...this.ctx, env: { ...this.ctx.env, ...env } } : this.ctx, spec);
      }
    }
  }

  private statePath(): string {
    return path.join(this.dir, 'state.json');
  }

  private readState(): LabState | undefined {
    try {
      return JSON.parse(readFileSync(this.statePath(), 'utf8')) as LabState;
    } catch {
      return undefined;
    }
  }

  private writeState(): void {
    const temporary = `${this.statePath()}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(temporary, this.statePath());
  }

  /** One `up`/`down`/`start`/`stop` at a time per lab folder, across processes (tests start it concurrently). */
  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const lockPath = path.join(this.dir, 'lock');
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      try {
        closeSync(openSync(lockPath, 'wx'));
        writeFileSync(lockPath, String(process.pid));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : '0');
        if (holder > 0 && !isAlive(holder)) rmSync(lockPath, { force: true });
        else if (Date.now() > deadline)
          throw new LabError(
            `${lockPath} is held by pid ${holder} for 10 min: if no lab command runs, remove it`,
          );
        else await sleep(200);
      }
    }
    try {
      // Another process may have changed the lab while we waited.
      const saved = this.readState();
      if (saved) Object.assign(this.state.components, saved.components);
      return await work();
    } finally {
      rmSync(lockPath, { force: true });
    }
  }
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}
