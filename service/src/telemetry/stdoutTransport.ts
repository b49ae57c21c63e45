import { writeSync } from 'node:fs';
import { MESSAGE } from 'triple-beam';
import Transport from 'winston-transport';

/**
 * winston transport writing JSON lines to stdout, batched: the lines of one event-loop turn go out
 * in one write. winston's Console transport does one write per line (synchronous for files and
 * pipes on Linux, i.e. one syscall per request for the access log) plus a setImmediate per line.
 * Lines still leave within the same turn of the loop; at exit whatever is pending is written
 * synchronously, so a crash (uncaught exception, process.exit) loses nothing; SIGKILL loses at
 * most the current turn's lines.
 */
export class BatchedStdoutTransport extends Transport {
  private pending: string[] = [];
  private scheduled = false;
  private readonly flushOnExit = (): void => this.flushSync();

  constructor(
    options: Transport.TransportStreamOptions = {},
    private readonly out: { write(text: string): unknown } = process.stdout,
  ) {
    super(options);
    process.once('exit', this.flushOnExit);
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.pending.push(`${String(info[MESSAGE])}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    next();
  }

  /** Writes the pending lines (one write call). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.out.write(text);
  }

  private flushSync(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    // At exit nothing asynchronous runs any more: write straight to the descriptor.
    if (this.out === process.stdout) writeSync(1, text);
    else this.out.write(text);
  }

  override close(): void {
    this.flushSync();
    process.off('exit', this.flushOnExit);
  }
}
