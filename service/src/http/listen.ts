import type { Server } from 'node:http';

/**
 * Starts listening and resolves to the bound port (port 0 picks a free one). `backlog` is the
 * kernel's queue of connections not yet accepted: Node's default 511 overflows when a spike opens
 * thousands of connections at once, and a dropped SYN is retried by the client only after 1 s, 3 s, 7 s.
 */
export function listen(server: Server, host: string, port: number, backlog = 511): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host, backlog }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops accepting, lets in-flight requests finish, and closes idle keep-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}
