/**
 * The order a process closes its parts once readiness has flipped and the drain delay has passed.
 * Doors first: in-flight requests finish while everything behind them is still open. Then the
 * pipeline: the relay publishes what the drained requests wrote, the worker commits its message.
 * Then what every role uses, and telemetry last, so the shutdown's own spans are exported.
 * docs/overload-and-shutdown.md describes this list; the shutdown test asserts it from the logs.
 */
export const SHUTDOWN_ORDER = [
  'http server',
  'grpc server',
  'shed log summary',
  'overload guard',
  'outbox relay',
  'fulfilment worker',
  'consumer lag poller',
  'admin server',
  'database health',
  'database pool',
  'telemetry',
] as const;

export type ComponentName = (typeof SHUTDOWN_ORDER)[number];
