import http from 'node:http';

/**
 * The load generator's HTTP client: node:http on a keep-alive agent with no socket cap.
 *
 * Not fetch: its CPU per request is taken from the service under test on a shared host
 * (docs/decisions/0007-load-client-on-node-http.md). An open model needs one socket per request in
 * flight (HTTP/1.1, no pipelining), so the agent opens as many as the arrivals need; Node 24's
 * agent honours the server's `Keep-Alive: timeout` hint and `Connection: close`, so sockets are
 * retired before the server closes them.
 */
export interface LoadResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export class LoadClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });

  /** Sends one request; rejects with the transport error (ECONNREFUSED, ECONNRESET, AbortError …). */
  request(
    url: URL,
    options: {
      method: string;
      headers: Record<string, string>;
      body?: string;
      timeoutMs: number;
      signal?: AbortSignal;
    },
  ): Promise<LoadResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...options.headers };
      if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: options.method,
          headers,
          agent: this.agent,
          ...(options.signal ? { signal: options.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', fail);
        },
      );
      // A plain timer per request: AbortSignal.timeout() stalled the generator (docs/decisions/0007).
      const timer = setTimeout(() => {
        const err = new Error(`no complete response within ${options.timeoutMs} ms`);
        err.name = 'TimeoutError';
        req.destroy(err);
      }, options.timeoutMs);
      function fail(err: Error): void {
        clearTimeout(timer);
        reject(err);
      }
      req.on('error', fail);
      req.end(options.body);
    });
  }

  /**
   * Opens up to `connections` keep-alive connections to `url`'s server by sending that many
   * requests at once (GET of `path`, a cheap static resource), so a later spike finds a connected
   * fleet instead of opening hundreds of sockets in its first second. Not part of any ledger.
   */
  async warm(url: URL, connections: number, path = '/openapi.json'): Promise<number> {
    const target = new URL(path, url);
    const results = await Promise.allSettled(
      Array.from({ length: connections }, () =>
        this.request(target, { method: 'GET', headers: {}, timeoutMs: 5000 }),
      ),
    );
    return results.filter((r) => r.status === 'fulfilled' && r.value.status < 400).length;
  }

  /** Closes every socket (idle and in use). */
  close(): void {
    this.agent.destroy();
  }
}
