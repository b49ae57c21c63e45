import { context, trace } from '@opentelemetry/api';
import { Pool, type PoolClient } from 'pg';

type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

const plainConnect = Pool.prototype.connect as (this: Pool, callback?: ConnectCallback) => unknown;

/**
 * A pg Pool that hands a connection to its caller in the caller's trace context.
 *
 * When every connection is busy, pg-pool queues the caller and later runs its callback from
 * whichever code releases a connection — another request's query callback, in that request's (or
 * no) context. `pool.query` goes through that callback, so under load, exactly when traces
 * matter, a query that had to wait ran outside its request's trace: @opentelemetry/instrumentation-pg
 * binds the callback only when it makes connect spans, which we turn off (`ignoreConnectSpans`:
 * a span per checkout is noise). Its query span was then missing from the request's trace (or
 * sat in the wrong one). Proven by service/test/component/tracing.test.ts (24 requests waiting on
 * a pool of 2). Without a trace (telemetry off, relay polls, probes) nothing is bound.
 */
export class TraceContextPool extends Pool {}

TraceContextPool.prototype.connect = function connect(this: Pool, callback?: ConnectCallback): unknown {
  if (typeof callback !== 'function') return plainConnect.call(this, callback);
  const active = context.active();
  return plainConnect.call(this, trace.getSpan(active) ? context.bind(active, callback) : callback);
} as Pool['connect'];
