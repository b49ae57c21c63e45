import net from 'node:net';

/**
 * A real TCP proxy with injectable latency (the native stand-in for Toxiproxy's `latency` toxic):
 * bytes from the upstream (e.g. PostgreSQL) back to the client are held for `latencyMs` before
 * delivery, in order. Latency can change while connections are open.
 */
export class LatencyProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  latencyMs = 0;
  /** Bytes relayed in each direction (evidence that traffic really went through). */
  readonly bytes = { up: 0, down: 0 };

  constructor(
    readonly listenPort: number,
    readonly upstreamHost: string,
    readonly upstreamPort: number,
  ) {}

  /** Where it listens (the port the kernel chose when constructed with port 0). */
  get address(): string {
    const bound = this.server?.address();
    return `127.0.0.1:${bound && typeof bound === 'object' ? bound.port : this.listenPort}`;
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => this.relay(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const queue: { releaseAt: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let lastRelease = 0;
    let upstreamEnded = false;
    const drain = (): void => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0] as { releaseAt: number }).releaseAt <= now) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!client.destroyed) client.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, (queue[0] as { releaseAt: number }).releaseAt - now);
      else if (upstreamEnded) client.end();
    };
    upstream.on('data', (chunk: Buffer) => {
      this.bytes.down += chunk.length;
      // Never release before an earlier chunk, even if latency was lowered meanwhile.
      const releaseAt = Math.max(Date.now() + this.latencyMs, lastRelease);
      lastRelease = releaseAt;
      queue.push({ releaseAt, chunk });
      timer ??= setTimeout(drain, Math.max(0, releaseAt - Date.now()));
    });
    client.on('data', (chunk: Buffer) => {
      this.bytes.up += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('end', () => {
      upstreamEnded = true;
      timer ??= setTimeout(drain, 0);
    });
    client.on('end', () => upstream.end());
    const closeBoth = (): void => {
      if (timer) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', () => {
      if (queue.length === 0) closeBoth();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }
}
