import { parseArgs } from 'node:util';

/** clinic's four tools, and the Node-native alternatives that need no clinic. */
export const CLINIC_TOOLS = ['doctor', 'flame', 'bubbleprof', 'heapprofiler'] as const;
export const NATIVE_TOOLS = ['cpu-prof', 'heap-prof', '0x'] as const;
export type ProfileTool = (typeof CLINIC_TOOLS)[number] | (typeof NATIVE_TOOLS)[number];
export const PROFILE_TOOLS: readonly ProfileTool[] = [...CLINIC_TOOLS, ...NATIVE_TOOLS];

export const LOAD_MIXES = ['post', 'get', 'mix'] as const;
export type LoadMix = (typeof LOAD_MIXES)[number];

export interface ProfileOptions {
  readonly tool: ProfileTool;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly load: LoadMix;
  readonly telemetry: boolean;
  readonly portBase: number;
  readonly pgAdminUrl: string | undefined;
  readonly outDir: string;
  /** Hard bound on the whole profiling run (collection + clinic's analysis). */
  readonly timeoutSeconds: number;
  readonly help: boolean;
}

export const PROFILE_HELP = `npm run profile -- <tool> [options]

Runs the service (dist/service/src/main.js, with the tracing preload unless --telemetry off) under
a profiler while an autocannon load runs against it, then stops it and writes the profile to
<out>/<timestamp>-<tool>/.

tools (clinic 13):  doctor | flame | bubbleprof | heapprofiler
tools (Node only):  cpu-prof   node --cpu-prof  → .cpuprofile (Chrome DevTools / speedscope)
                    heap-prof  node --heap-prof → .heapprofile (Chrome DevTools, Memory tab)
                    0x         0x flame graph   → flamegraph.html

  -d, --duration S        seconds of load                                  (default 20)
  -c, --connections N     autocannon connections                           (default 16)
      --load post|get|mix requests to send                                 (default mix)
      --telemetry on|off  load the tracing preload (TELEMETRY_ENABLED)     (default on)
      --port-base P       service HTTP on P, admin P+1, gRPC P+2, OTLP sink P+3 (default 18750)
      --pg-admin-url URL  PostgreSQL to create the profiling database in
                          (default $ORDERLAB_BENCH_PG_ADMIN_URL, else the native lab's PostgreSQL)
      --out DIR           report folder (git-ignored)                      (default reports/profile)
      --timeout S         bound on the whole run incl. analysis            (default duration+240)
  -h, --help              this text

Exit code: 0 profile written, 1 profiler failed or wrote nothing, 2 bad arguments.
See docs/profiling.md for how to read each profile.`;

export class ProfileUsageError extends Error {}

function int(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new ProfileUsageError(`--${name} must be an integer >= ${min}`);
  return Number(text);
}

export function parseProfileArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ProfileOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        duration: { type: 'string', short: 'd' },
        connections: { type: 'string', short: 'c' },
        load: { type: 'string' },
        telemetry: { type: 'string' },
        'port-base': { type: 'string' },
        'pg-admin-url': { type: 'string' },
        out: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new ProfileUsageError((err as Error).message);
  }
  const v = parsed.values;
  const help = v.help ?? false;
  const [tool, ...extra] = parsed.positionals;
  if (!help) {
    if (tool === undefined) throw new ProfileUsageError(`name a tool: ${PROFILE_TOOLS.join(' | ')}`);
    if (!PROFILE_TOOLS.includes(tool as ProfileTool))
      throw new ProfileUsageError(`unknown tool '${tool}': use ${PROFILE_TOOLS.join(' | ')}`);
    if (extra.length > 0)
      throw new ProfileUsageError(`one tool at a time (got ${parsed.positionals.join(' ')})`);
  }
  const load = v.load ?? 'mix';
  if (!LOAD_MIXES.includes(load as LoadMix)) throw new ProfileUsageError('--load must be post, get or mix');
  const telemetry = v.telemetry ?? 'on';
  if (telemetry !== 'on' && telemetry !== 'off') throw new ProfileUsageError('--telemetry must be on or off');
  const durationSeconds = int('duration', v.duration, 20, 1);
  const portBase = int('port-base', v['port-base'], 18750, 1024);
  if (portBase + 3 > 65535) throw new ProfileUsageError('--port-base must leave room for 4 ports');
  const pgAdminUrl = v['pg-admin-url'] ?? env['ORDERLAB_BENCH_PG_ADMIN_URL'];
  if (pgAdminUrl !== undefined && !/^postgres(ql)?:\/\//.test(pgAdminUrl))
    throw new ProfileUsageError('--pg-admin-url must be a postgres:// URL');
  return {
    tool: (tool ?? 'doctor') as ProfileTool,
    durationSeconds,
    connections: int('connections', v.connections, 16, 1),
    load: load as LoadMix,
    telemetry: telemetry === 'on',
    portBase,
    pgAdminUrl,
    outDir: v.out ?? 'reports/profile',
    timeoutSeconds: int('timeout', v.timeout, durationSeconds + 240, 10),
    help,
  };
}
