import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isRoot, missingMessage, nginxBinary, prerequisite } from '../../../lab/src/prerequisites';
import { atNormalPriority } from '../../../lab/src/threadPriority';
import { killOnExit } from './childProcesses';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NginxBalancerOptions {
  readonly dir: string;
  readonly listenPort: number;
  /** host:port of each API replica. */
  readonly upstreams: readonly string[];
  /** The nginx executable (default: NGINX_BIN, else /usr/sbin/nginx). */
  readonly binary?: string;
}

/**
 * nginx config for the API replicas. POST is retried on the next replica after a connection error
 * or 502/503 (`non_idempotent`): safe because every drill request carries an Idempotency-Key.
 */
export function nginxConfig(
  dir: string,
  listenPort: number,
  upstreams: readonly string[],
  runAsRoot: boolean,
): string {
  const tmp = path.join(dir, 'tmp');
  return `# written by the drill runner; nginx is stopped when the drill ends
${runAsRoot ? 'user root root;\n' : ''}worker_processes 1;
daemon off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  upstream orderlab_api {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=1s;`).join('\n')}
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

export class NginxBalancer {
  private child: ChildProcess | undefined;
  constructor(private readonly options: NginxBalancerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.listenPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const { dir, listenPort, upstreams } = this.options;
    mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(dir, listenPort, upstreams, process.getuid?.() === 0));
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
