import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prometheusConfig } from '../prometheusConfig';
import { LabError, runQuick, waitUntil } from '../processes';
import { ensurePrerequisites, prerequisite } from '../prerequisites';
import { childEnv, type ComponentDriver, type LabContext, type Launch } from './types';

export const SCRAPE_INTERVAL_SECONDS = 5;

function prometheusBinary(env: Record<string, string | undefined>): string {
  return env.LAB_PROMETHEUS_BIN ?? 'prometheus';
}

/** The repo's rule files (prometheus/rules/*.yml), loaded when present. */
export function ruleFiles(repoRoot: string): string[] {
  const folder = path.join(repoRoot, 'prometheus', 'rules');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f) && !f.endsWith('.test.yml') && !f.endsWith('.test.yaml'))
    .sort()
    .map((f) => path.join(folder, f));
}

export function prometheusConfigPath(ctx: LabContext): string {
  return path.join(ctx.dir, 'prometheus', 'prometheus.yml');
}

/** Writes prometheus.yml; returns true when its content changed (a running Prometheus should reload). */
export function writePrometheusConfig(ctx: LabContext): boolean {
  const file = prometheusConfigPath(ctx);
  mkdirSync(path.dirname(file), { recursive: true });
  const text = prometheusConfig({
    plan: ctx.plan,
    services: ctx.services,
    ruleFiles: ruleFiles(ctx.repoRoot),
    scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
  });
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (before === text) return false;
  writeFileSync(file, text);
  return true;
}

export function prometheusDriver(ctx: LabContext): ComponentDriver {
  const home = path.join(ctx.dir, 'prometheus');
  const port = ctx.plan.prometheus;
  const configPath = prometheusConfigPath(ctx);
  const binary = prometheusBinary(ctx.env);

  return {
    name: 'prometheus',
    ports: [port],
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 15_000,
    async prepare() {
      await ensurePrerequisites([prerequisite('prometheus')], ctx.log, ctx.env);
      mkdirSync(path.join(home, 'data'), { recursive: true });
      writePrometheusConfig(ctx);
      const check = runQuick('promtool', ['check', 'config', configPath], 30_000);
      if (!check.missing && check.status !== 0) {
        const problem = check.output.split('\n').find((l) => /FAILED|error/i.test(l)) ?? check.output.trim();
        throw new LabError(
          `prometheus config or rules are invalid (${problem.trim()}): fix prometheus/rules/*.yml and retry`,
        );
      }
    },
    launch(): Launch {
      return {
        command: binary,
        args: [
          `--config.file=${configPath}`,
          `--storage.tsdb.path=${path.join(home, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-remote-write-receiver',
          '--enable-feature=exemplar-storage',
          '--web.enable-lifecycle',
        ],
        env: childEnv(ctx.env),
        cwd: home,
        marker: configPath,
      };
    },
    async waitReady(pid, logPath) {
      await waitUntil(
        `prometheus on 127.0.0.1:${port}`,
        async () =>
          (await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) })).status ===
          200,
        {
          timeoutMs: 30_000,
          pid,
          logPath,
        },
      );
    },
  };
}

export async function reloadPrometheus(port: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/-/reload`, {
    method: 'POST',
    signal: AbortSignal.timeout(5000),
  });
  if (response.status !== 200)
    throw new LabError(`prometheus refused to reload its config (HTTP ${response.status}): see its log`);
}
