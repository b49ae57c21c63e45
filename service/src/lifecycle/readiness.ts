export interface ReadinessCheck {
  readonly name: string;
  /** Resolves true when the dependency answers; must time out on its own. */
  check(): Promise<boolean>;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly stopping: boolean;
  readonly checks: Record<string, 'ok' | 'failing'>;
}

/** Ready = not shutting down and every dependency answers. Liveness never depends on this. */
export class Readiness {
  private stopping = false;
  private readonly checks: ReadinessCheck[] = [];

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  markStopping(): void {
    this.stopping = true;
  }

  async report(): Promise<ReadinessReport> {
    if (this.stopping) return { ready: false, stopping: true, checks: {} };
    const results = await Promise.all(
      this.checks.map(async (c) => [c.name, await c.check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'ok' : 'failing'] as const));
    return { ready: results.every(([, ok]) => ok), stopping: false, checks };
  }
}
