/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half random, so many
 * relays or workers that lost the broker at the same moment do not come back in lock step.
 * `attempt` starts at 1.
 */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(maxMs, minMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * A wake-up call several loops can wait on: `wait` resolves on the next `notify`, after `ms`, or
 * at once once `cancel` was called. Each waiter gets its own timer, released when it resolves.
 */
export class WakeSignal {
  private waiters = new Map<() => void, boolean>();
  private cancelled = false;

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Like `wait` but ignores `notify`: only the timer or `cancel` ends it (backoff pauses). */
  sleep(ms: number): Promise<'timeout' | 'cancelled'> {
    return this.wait(ms, false) as Promise<'timeout' | 'cancelled'>;
  }

  wait(ms: number, wakeOnNotify = true): Promise<'woken' | 'timeout' | 'cancelled'> {
    if (this.cancelled) return Promise.resolve('cancelled');
    return new Promise((resolve) => {
      const done = (why: 'woken' | 'timeout' | 'cancelled'): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(why);
      };
      const wake = (): void => done(this.cancelled ? 'cancelled' : 'woken');
      const timer = setTimeout(() => done('timeout'), ms);
      this.waiters.set(wake, wakeOnNotify);
    });
  }

  notify(): void {
    for (const [wake, wakeOnNotify] of [...this.waiters]) if (wakeOnNotify) wake();
  }

  cancel(): void {
    this.cancelled = true;
    for (const wake of [...this.waiters.keys()]) wake();
  }
}
