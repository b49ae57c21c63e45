import type { Logger } from '../telemetry/logger';

export interface Closable<Name extends string = string> {
  readonly name: Name;
  close(): Promise<void>;
  /** What is still outstanding (e.g. requests in flight), logged if the deadline passes. */
  describePending?(): string | undefined;
  /**
   * Optional hard stop (e.g. gRPC forceShutdown), called only when the shutdown deadline passes
   * while this component is still closing or not yet closed.
   */
  forceClose?(): void;
}

/**
 * Owns start-up order and shutdown. Components register as they start; on the first SIGTERM or
 * SIGINT the `stopping` listeners run at once (readiness → 503), then after the drain delay the
 * components close in the stated order (for the service: lifecycle/shutdownOrder.ts), all under
 * one deadline. A second signal or the
 * deadline ends the process with exit code 1 and a log line naming what was still pending.
 */
export class Lifecycle<Name extends string = string> {
  private readonly components: Closable<Name>[] = [];
  private readonly stoppingListeners: (() => void)[] = [];
  private stopping: Promise<number> | undefined;
  private pending: Closable<Name> | string | undefined;
  private readonly closed = new Set<Closable<Name>>();

  constructor(
    private readonly logger: Logger,
    private readonly options: { timeoutMs: number; drainDelayMs: number },
    /** Every component name, in the order they close. */
    private readonly order: readonly Name[],
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Registers a started component; shutdown closes it at its place in the order. */
  add(component: Closable<Name>): void {
    if (!this.order.includes(component.name)) {
      throw new Error(`lifecycle: ${component.name} has no place in the shutdown order`);
    }
    if (this.components.some((c) => c.name === component.name)) {
      throw new Error(`lifecycle: ${component.name} is registered twice`);
    }
    this.components.push(component);
  }

  /** The registered components in closing order. */
  private closingOrder(): Closable<Name>[] {
    const rank = (c: Closable<Name>) => this.order.indexOf(c.name);
    return [...this.components].sort((a, b) => rank(a) - rank(b));
  }

  /** Called synchronously the moment shutdown begins (flip readiness, mark health NOT_SERVING). */
  onStopping(listener: () => void): void {
    this.stoppingListeners.push(listener);
  }

  installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (this.stopping) {
          this.logger.error('second signal: exiting now', {
            signal,
            pending: this.describePending() ?? 'none',
          });
          this.exit(1);
          return;
        }
        void this.shutdown(signal).then((code) => this.exit(code));
      });
    }
  }

  /** Runs the shutdown sequence once; resolves to the exit code. */
  shutdown(reason: string): Promise<number> {
    this.stopping ??= this.runShutdown(reason);
    return this.stopping;
  }

  private describePending(): string | undefined {
    const p = this.pending;
    if (p === undefined || typeof p === 'string') return p;
    const detail = p.describePending?.();
    return detail ? `${p.name}: ${detail}` : p.name;
  }

  private async runShutdown(reason: string): Promise<number> {
    const started = Date.now();
    this.logger.info('shutdown started', { reason, drainDelayMs: this.options.drainDelayMs });
    for (const listener of this.stoppingListeners) listener();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.options.timeoutMs);
      timer.unref();
    });
    const sequence = (async () => {
      if (this.options.drainDelayMs > 0) {
        this.pending = 'drain delay';
        await new Promise((r) => setTimeout(r, this.options.drainDelayMs));
      }
      for (const component of this.closingOrder()) {
        this.pending = component;
        const t0 = Date.now();
        try {
          await component.close();
          this.closed.add(component);
          this.logger.info('closed', { component: component.name, ms: Date.now() - t0 });
        } catch (err) {
          this.logger.error('close failed', { component: component.name, err });
        }
      }
      this.pending = undefined;
      return 'done' as const;
    })();
    const outcome = await Promise.race([sequence, deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.logger.error('shutdown deadline passed', {
        timeoutMs: this.options.timeoutMs,
        pending: this.describePending(),
      });
      this.forceCloseUnclosed();
      return 1;
    }
    this.logger.info('shutdown complete', { ms: Date.now() - started });
    return 0;
  }

  private forceCloseUnclosed(): void {
    for (const component of this.closingOrder()) {
      if (this.closed.has(component) || !component.forceClose) continue;
      try {
        component.forceClose();
        this.logger.warn('forced close', { component: component.name });
      } catch (err) {
        this.logger.error('forced close failed', { component: component.name, err });
      }
    }
  }
}
