import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isRoot, missingMessage, nginxBinary, prerequisite } from '../../../lab/src/prerequisites';
import { atNormalPriority } from '../../../lab/src/threadPriority';
import { killOnExit } from './childProcesses';
import { setTimeout as sleep } from 'node:timers/promises';

/** An API replica behind the balancer and its traffic weight (nginx's weighted round robin). */
export interface WeightedUpstream {
  readonly address: string;
  /** Relative share of new requests; 0 takes the replica out of the balancer (it keeps running). */
  readonly weight: number;
}

export interface NginxBalancerOptions {
  readonly dir: string;
  readonly listenPort: number;
  /** host:port of each API replica (equal weights), or replicas with weights. */
  readonly upstreams: readonly (string | WeightedUpstream)[];
  /** The nginx executable (default: NGINX_BIN, else /usr/sbin/nginx). */
  readonly binary?: string;
  /**
   * Keep client connections open between requests (default true). Off for drills that reload the
   * weights: a reload closes idle keep-alive connections, and a request racing the close is reset.
   */
  readonly clientKeepAlive?: boolean;
}

/**
 * nginx config for the API replicas. POST is retried on the next replica after a connection error
 * or 502/503 (`non_idempotent`): safe because every drill request carries an Idempotency-Key.
 */
export function nginxConfig(
  dir: string,
  listenPort: number,
  upstreams: readonly (string | WeightedUpstream)[],
  runAsRoot: boolean,
  clientKeepAlive = true,
): string {
  const tmp = path.join(dir, 'tmp');
  const servers = weighted(upstreams).filter((u) => u.weight > 0);
  return `# written by the drill runner; nginx is stopped when the drill ends
${runAsRoot ? 'user root root;\n' : ''}worker_processes 1;
daemon off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
${clientKeepAlive ? '' : '  keepalive_timeout 0; # one request per client connection: a reload cuts no idle one\n'}  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  upstream orderlab_api {
${servers.map((u) => `    server ${u.address} weight=${u.weight} max_fails=1 fail_timeout=1s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://orderlab_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 15s;
    }
  }
}
`;
}

/** Upstreams with their weights (a bare address weighs 1), refused unless whole, ≥ 0 and one > 0. */
export function weighted(upstreams: readonly (string | WeightedUpstream)[]): WeightedUpstream[] {
  const list = upstreams.map((u) => (typeof u === 'string' ? { address: u, weight: 1 } : u));
  const bad = list.filter((u) => !Number.isInteger(u.weight) || u.weight < 0);
  if (bad.length > 0)
    throw new Error(
      `nginx weights are whole numbers ≥ 0: ${bad.map((u) => `${u.address}=${u.weight}`).join(', ')}`,
    );
  if (!list.some((u) => u.weight > 0))
    throw new Error('the balancer needs at least one upstream with a weight > 0');
  return list;
}

/** A replica of the compose stack's balancer.conf with its container address and share. */
export interface AddressedReplica {
  /** Name the stock file uses for it (e.g. api-2 in `server api-2:8080 resolve …`). */
  readonly name: string;
  /** Container address, for a replica with a share. */
  readonly address?: string;
  readonly weight: number;
}

/**
 * The compose LB's balancer.conf (compose/nginx/balancer.conf) with new weights. Each
 * `server <name>:<port> resolve …;` becomes `server <address>:<port> weight=N …;` for a replica with
 * a share and is dropped for share 0, so nginx never tries it (a stopped replica's last address only
 * times out). Container addresses, not names: nginx re-resolves a name every 5 s and could keep a
 * just-recreated replica's old address that long. The file's other settings (max_fails,
 * fail_timeout, keepalive) stay as the stack sets them. Without client keep-alive, a reload closes
 * no idle connection a request could race (as nginxConfig).
 */
export function reweightedBalancerConf(
  stock: string,
  replicas: readonly AddressedReplica[],
  clientKeepAlive: boolean,
): string {
  weighted(replicas.map((r) => ({ address: r.name, weight: r.weight })));
  const byName = new Map(replicas.map((r) => [r.name, r]));
  const kept = new Map<string, number>();
  let upstream: string | undefined;
  let sawKeepAlive = false;
  const lines: string[] = [
    '# balancer.conf rewritten by the drill runner: weights on container addresses. Restarting the',
    "# lb service puts the stack's own file back.",
  ];
  for (const line of stock.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const opening = /^\s*upstream\s+(\S+)\s*\{/.exec(line);
    if (opening) {
      upstream = opening[1];
      kept.set(upstream!, 0);
    }
    if (/^\s*\}/.test(line)) upstream = undefined;
    const timeout = /^(\s*)keepalive_timeout\s[^;]*;/.exec(line);
    if (timeout && upstream === undefined) {
      sawKeepAlive = true;
      lines.push(
        clientKeepAlive
          ? line
          : `${timeout[1]}keepalive_timeout 0; # one request per client connection while the drill reloads`,
      );
      continue;
    }
    const server = /^(\s*)server\s+([A-Za-z0-9_.-]+):(\d+)((?:\s+[^\s;]+)*)\s*;/.exec(line);
    if (!server || upstream === undefined) {
      lines.push(line);
      continue;
    }
    const [, indent, name, port, params] = server as unknown as [string, string, string, string, string];
    const replica = byName.get(name);
    if (!replica)
      throw new Error(
        `balancer.conf sends upstream ${upstream} to ${name}, which is not one of ${[...byName.keys()].join(', ')}`,
      );
    if (replica.weight === 0) continue;
    if (!replica.address) throw new Error(`no container address for ${name}, which has a share`);
    const rest = params
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '' && p !== 'resolve' && !p.startsWith('weight='));
    lines.push(
      `${indent}server ${replica.address}:${port} ${[`weight=${replica.weight}`, ...rest].join(' ')};`,
    );
    kept.set(upstream, (kept.get(upstream) ?? 0) + 1);
  }
  const empty = [...kept].filter(([, n]) => n === 0).map(([u]) => u);
  if (empty.length > 0) throw new Error(`upstream ${empty.join(', ')} would have no server left`);
  if (kept.size === 0) throw new Error('balancer.conf has no upstream block');
  if (!clientKeepAlive && !sawKeepAlive)
    lines.unshift('keepalive_timeout 0; # one request per client connection while the drill reloads');
  return lines.join('\n');
}

export class NginxBalancer {
  private child: ChildProcess | undefined;
  private upstreams: readonly (string | WeightedUpstream)[];
  constructor(private readonly options: NginxBalancerOptions) {
    this.upstreams = options.upstreams;
  }

  private get confPath(): string {
    return path.join(this.options.dir, 'nginx.conf');
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.listenPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const { dir, listenPort } = this.options;
    mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    const conf = this.confPath;
    writeFileSync(
      conf,
      nginxConfig(dir, listenPort, this.upstreams, process.getuid?.() === 0, this.options.clientKeepAlive),
    );
    const binary = this.options.binary ?? nginxBinary(process.env);
    if (!existsSync(binary))
      throw new Error(
        `nginx is not installed at ${binary}: ${missingMessage([prerequisite('nginx')], isRoot())}`,
      );
    const child = atNormalPriority(() =>
      spawn(binary, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
        stdio: 'ignore',
      }),
    );
    this.child = child;
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error)); // unhandled, it would throw outside the drill
    killOnExit(child, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (!(await isListening(listenPort))) {
      if (spawnError || child.exitCode !== null || Date.now() > deadline) {
        let log = '';
        try {
          log = readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-800);
        } catch {
          // no log yet
        }
        throw new Error(
          `nginx did not listen on 127.0.0.1:${listenPort}: ${spawnError ? `${spawnError.message}; ` : ''}${log}`,
        );
      }
      await sleep(100);
    }
  }

  /**
   * New weights at once: the config is rewritten, checked (`nginx -t`) and reloaded (SIGHUP). New
   * workers take new requests; the old ones finish theirs and exit, so nothing in flight is cut.
   * Resolves when a new worker runs.
   */
  async setUpstreams(upstreams: readonly WeightedUpstream[]): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) throw new Error('nginx is not running: start() first');
    const { dir, listenPort } = this.options;
    const text = nginxConfig(
      dir,
      listenPort,
      upstreams,
      process.getuid?.() === 0,
      this.options.clientKeepAlive,
    );
    const candidate = path.join(dir, 'nginx.next.conf');
    writeFileSync(candidate, text);
    const binary = this.options.binary ?? nginxBinary(process.env);
    const test = spawnSync(
      binary,
      ['-t', '-q', '-p', dir, '-c', candidate, '-e', path.join(dir, 'error.log')],
      {
        encoding: 'utf8',
      },
    );
    if (test.status !== 0) throw new Error(`nginx refused the new weights: ${test.stderr.trim()}`);
    const pid = child.pid;
    await reloaded(pid, () => {
      writeFileSync(this.confPath, text);
      process.kill(pid, 'SIGHUP');
    });
    this.upstreams = upstreams;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGQUIT'); // graceful: finish open requests
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}

/**
 * Runs `reload` (which makes the nginx master at `masterPid` reload) and resolves once a new worker
 * runs: from then on new requests go by the new config, while old workers finish theirs.
 */
export async function reloaded(
  masterPid: number,
  reload: () => void | Promise<void>,
  timeoutMs = 5000,
  workers: (masterPid: number) => number[] = workerPids,
): Promise<void> {
  const before = new Set(workers(masterPid));
  await reload();
  const deadline = Date.now() + timeoutMs;
  while (!workers(masterPid).some((pid) => !before.has(pid))) {
    if (Date.now() > deadline)
      throw new Error(`nginx started no new worker within ${timeoutMs / 1000} s of the reload`);
    await sleep(20);
  }
}

/** Worker processes of an nginx master (Linux: the kernel's child list of its one thread). */
export function workerPids(masterPid: number): number[] {
  try {
    return readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
