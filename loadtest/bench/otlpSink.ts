import http from 'node:http';

/**
 * Stands in for the OpenTelemetry Collector during the benchmark: accepts OTLP/HTTP exports and
 * answers 200 with an empty (valid) response, so the observed variant pays the real export cost
 * instead of retrying against a closed port.
 */
export interface OtlpSink {
  readonly url: string;
  readonly stats: { exports: number; bytes: number };
  close(): Promise<void>;
}

export async function startOtlpSink(port: number): Promise<OtlpSink> {
  const stats = { exports: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      stats.bytes += chunk.length;
    });
    req.on('end', () => {
      stats.exports += 1;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
