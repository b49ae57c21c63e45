import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** One request as the client saw it. Times are epoch milliseconds. */
export interface LedgerEntry {
  readonly requestId: string;
  readonly idempotencyKey: string;
  /** Which endpoint the request went to (e.g. `lb`, `api`, `single`); drills with one target use `api`. */
  readonly target: string;
  /** When the open-model schedule wanted the request sent; latency is measured from here. */
  readonly intendedAt: number;
  /** When it really left (later than intendedAt when the generator fell behind); null if never sent. */
  readonly sentAt: number | null;
  readonly completedAt: number;
  /** HTTP status, or null when no response arrived (connection refused/reset, timeout). */
  readonly status: number | null;
  /** completedAt - intendedAt (no coordinated omission). */
  readonly latencyMs: number;
  readonly orderId?: string;
  /** Trace id the request carried in its W3C traceparent (sampled): the trace audit looks it up in Jaeger. */
  readonly traceId?: string;
  /** Transport error code (ECONNREFUSED, ECONNRESET, timeout, client_overflow) or problem type of an error body. */
  readonly errorCode?: string;
  /** `detail` of a problem+json error body (e.g. which limit shed the request), shortened. */
  readonly errorDetail?: string;
  /** Retry-After header of an error response, as sent. */
  readonly retryAfter?: string;
}

/** Appends ledger lines to an NDJSON file as requests complete, so a crash keeps what was seen. */
export class LedgerWriter {
  private readonly stream: WriteStream;
  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'a' });
  }
  write(entry: LedgerEntry): void {
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }
  private closing: Promise<void> | undefined;

  /** Flushes and closes the file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stream.end();
      if (!this.stream.writableFinished) await once(this.stream, 'finish');
    })();
    return this.closing;
  }
}

export function parseLedger(text: string): LedgerEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LedgerEntry);
}
