import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Client, Pool, type PoolClient, type PoolConfig } from 'pg';

/** Instrumentation scope of the PostgreSQL client spans. */
export const PG_TRACER = 'orderlab-pg';
/** Looked up once: a proxy that follows whichever tracer provider is (or later gets) registered. */
const tracer = trace.getTracer(PG_TRACER);

type QueryCallback = (err: Error | undefined, result: unknown) => void;
type PlainQuery = (this: Client, ...args: unknown[]) => unknown;

// Taken unbound on purpose: the traced client calls it with .call(this).
// eslint-disable-next-line @typescript-eslint/unbound-method
const plainQuery = Client.prototype.query as unknown as PlainQuery;

/** Operation names by SQL text: the service's statements are a fixed set, so this stays small. */
const operationNames = new Map<string, string>();
const MAX_CACHED_OPERATIONS = 512;

/** The statement's first keyword, upper-cased (`SELECT`, `INSERT`, `COMMIT`), as semconv's db.operation.name. */
export function operationNameOf(text: string): string {
  let name = operationNames.get(text);
  if (name === undefined) {
    const trimmed = text.trimStart();
    const end = trimmed.search(/[\s;(]/);
    name = (end === -1 ? trimmed : trimmed.slice(0, end)).toUpperCase();
    if (operationNames.size < MAX_CACHED_OPERATIONS) operationNames.set(text, name);
  }
  return name;
}

/** What a query call names: its SQL text and its prepared-statement name, if any. */
export function describeQuery(first: unknown): { text?: string; name?: string } {
  if (typeof first === 'string') return { text: first };
  if (first !== null && typeof first === 'object') {
    const { text, name } = first as { text?: unknown; name?: unknown };
    return {
      ...(typeof text === 'string' ? { text } : {}),
      ...(typeof name === 'string' && name !== '' ? { name } : {}),
    };
  }
  return {};
}

function endWithError(span: Span, err: unknown): void {
  if (err instanceof Error) {
    span.recordException(err);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') {
      span.setAttribute('db.response.status_code', code);
      span.setAttribute('error.type', code);
    }
  }
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

/**
 * A pg Client whose queries are CLIENT spans (`pg.query:<statement name or operation> <database>`,
 * stable database semantic conventions) — but only inside a sampled trace: relay polls, readiness
 * pings and metric queries have no parent and make none, and with no recording span active a query
 * costs one context lookup.
 * Own spans, not instrumentation-pg: it cost CPU on every query even unsampled, for the same spans
 * (docs/decisions/0002-own-pg-spans.md).
 */
export class TracedClient extends Client {}

TracedClient.prototype.query = function query(this: Client, ...args: unknown[]): unknown {
  const active = context.active();
  const parent = trace.getSpan(active);
  const first = args[0];
  if (
    parent === undefined ||
    !parent.isRecording() ||
    // Submittables (cursors, streams) report through their own events: not traced.
    (first !== null &&
      typeof first === 'object' &&
      typeof (first as { submit?: unknown }).submit === 'function')
  )
    return plainQuery.apply(this, args);
  const { text, name } = describeQuery(first);
  const operation = text === undefined ? undefined : operationNameOf(text);
  const { database, host, port } = this as Client & { database?: string; host: string; port: number };
  const attributes: Attributes = {
    'db.system.name': 'postgresql',
    'server.address': host,
    'server.port': port,
  };
  if (database !== undefined) attributes['db.namespace'] = database;
  if (text !== undefined) attributes['db.query.text'] = text;
  if (operation !== undefined) attributes['db.operation.name'] = operation;
  const span = tracer.startSpan(
    `pg.query:${name ?? (operation || 'unknown')}${database ? ` ${database}` : ''}`,
    { kind: SpanKind.CLIENT, attributes },
    active,
  );
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    const callback = last as QueryCallback;
    args[args.length - 1] = context.bind(active, (err: Error | undefined, result: unknown) => {
      if (err) endWithError(span, err);
      else span.end();
      callback(err, result);
    });
    return plainQuery.apply(this, args);
  }
  let result: unknown;
  try {
    result = plainQuery.apply(this, args);
  } catch (err) {
    endWithError(span, err);
    throw err;
  }
  return (result as Promise<unknown>).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      endWithError(span, err);
      throw err;
    },
  );
} as Client['query'];

type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

// Taken unbound on purpose: the traced pool calls it with .call(this).
// eslint-disable-next-line @typescript-eslint/unbound-method
const plainConnect = Pool.prototype.connect as (this: Pool, callback?: ConnectCallback) => unknown;

/**
 * A pg Pool of TracedClients that hands a connection to its caller in the caller's trace context.
 *
 * When every connection is busy, pg-pool queues the caller and later runs its callback from
 * whichever code releases a connection — another request's query callback, in that request's (or
 * no) context. `pool.query` goes through that callback, so under load, exactly when traces
 * matter, a query that had to wait would run outside its request's trace and its span be missing
 * (or sit in the wrong trace). Proven by service/test/component/tracing.test.ts (24 requests
 * waiting on a pool of 2). Without a trace (telemetry off, relay polls, probes) nothing is bound.
 */
export class TraceContextPool extends Pool {
  constructor(config: PoolConfig) {
    super({ Client: TracedClient, ...config });
  }
}

TraceContextPool.prototype.connect = function connect(this: Pool, callback?: ConnectCallback): unknown {
  if (typeof callback !== 'function') return plainConnect.call(this, callback);
  const active = context.active();
  return plainConnect.call(this, trace.getSpan(active) ? context.bind(active, callback) : callback);
} as Pool['connect'];
