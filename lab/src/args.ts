/** Command-line parsing for `npm run lab -- ...`; pure so it is unit tested. */
import type { PrerequisiteScope } from './prerequisites';

export const LAB_COMMANDS = [
  'up',
  'down',
  'status',
  'logs',
  'start',
  'stop',
  'kill',
  'pause',
  'resume',
  'purge',
  'prerequisites',
  'help',
] as const;
export type LabCommand = (typeof LAB_COMMANDS)[number];

const NEEDS_COMPONENT: readonly LabCommand[] = ['logs', 'start', 'stop', 'kill', 'pause', 'resume'];

export interface LabArgs {
  readonly command: LabCommand;
  readonly component?: string;
  readonly dir?: string;
  readonly portOffset?: number;
  readonly only?: string[];
  readonly services?: string;
  readonly lines: number;
  readonly json: boolean;
  /** With purge: remove relocated PostgreSQL data whose lab folder is gone, instead of one lab. */
  readonly orphans: boolean;
  /** With prerequisites: which command's packages (lab, drills, compose, tests). */
  readonly scope: PrerequisiteScope;
  /** With prerequisites: only report, install nothing. */
  readonly checkOnly: boolean;
}

export const PREREQUISITE_SCOPES: readonly PrerequisiteScope[] = ['lab', 'drills', 'compose', 'tests'];

export class UsageError extends Error {}

export function parseLabArgs(argv: readonly string[]): LabArgs {
  let command: LabCommand | undefined;
  let component: string | undefined;
  let dir: string | undefined;
  let portOffset: number | undefined;
  let only: string[] | undefined;
  let services: string | undefined;
  let lines = 30;
  let json = false;
  let orphans = false;
  let scope: PrerequisiteScope | undefined;
  let checkOnly = false;
  const rest = [...argv];
  const valueOf = (flag: string, inline: string | undefined): string => {
    const value = inline ?? rest.shift();
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    return value;
  };
  while (rest.length > 0) {
    const arg = rest.shift() as string;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    switch (flag) {
      case '-h':
      case '--help':
        command = 'help';
        break;
      case '--dir':
        dir = valueOf(flag, inline);
        break;
      case '--port-offset': {
        const text = valueOf(flag, inline);
        const value = Number(text);
        if (!/^\d+$/.test(text) || !Number.isSafeInteger(value))
          throw new UsageError(`--port-offset must be a whole number >= 0, got "${text}"`);
        portOffset = value;
        break;
      }
      case '--only':
        only = valueOf(flag, inline)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--services':
        services = valueOf(flag, inline);
        break;
      case '-n':
      case '--lines': {
        const text = valueOf(flag, inline);
        if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
        lines = Number(text);
        break;
      }
      case '--json':
        json = true;
        break;
      case '--orphans':
        orphans = true;
        break;
      case '--for': {
        const text = valueOf(flag, inline);
        if (!(PREREQUISITE_SCOPES as readonly string[]).includes(text))
          throw new UsageError(`--for must be one of ${PREREQUISITE_SCOPES.join(', ')}, got "${text}"`);
        scope = text as PrerequisiteScope;
        break;
      }
      case '--check':
        checkOnly = true;
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag} (see --help)`);
        if (command === undefined) {
          if (!(LAB_COMMANDS as readonly string[]).includes(flag))
            throw new UsageError(`unknown command "${flag}" (see --help)`);
          command = flag as LabCommand;
        } else if (component === undefined && command !== 'help') {
          component = flag;
        } else {
          throw new UsageError(`unexpected argument "${flag}"`);
        }
    }
  }
  if (command === undefined) command = 'help';
  if (NEEDS_COMPONENT.includes(command) && component === undefined)
    throw new UsageError(`${command} needs a component, e.g. \`${command} kafka\``);
  if (only !== undefined && command !== 'up') throw new UsageError('--only applies to up');
  if (orphans && command !== 'purge') throw new UsageError('--orphans applies to purge');
  if (orphans && dir !== undefined)
    throw new UsageError('purge takes --dir (one lab) or --orphans (data of deleted labs), not both');
  if ((scope !== undefined || checkOnly) && command !== 'prerequisites')
    throw new UsageError('--for and --check apply to prerequisites');
  return {
    command,
    component,
    dir,
    portOffset,
    only,
    services,
    lines,
    json,
    orphans,
    scope: scope ?? 'tests',
    checkOnly,
  };
}

/** Offset from the flag, else LAB_PORT_OFFSET, else 0. */
export function resolvePortOffset(flag: number | undefined, env: Record<string, string | undefined>): number {
  if (flag !== undefined) return flag;
  const text = env.LAB_PORT_OFFSET;
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text)) throw new UsageError(`LAB_PORT_OFFSET must be a whole number >= 0, got "${text}"`);
  return Number(text);
}

export const LAB_HELP = `Usage: npm run lab -- <command> [component] [options]

Runs Orderlab's stack natively (no Docker): PostgreSQL, Kafka (KRaft), Prometheus, Jaeger and the service roles.

Commands:
  up                 start everything (idempotent); --only postgres,kafka picks components
  down               stop everything this lab started and check that no port is left open
  status             show each component: running/stopped, pid, ports, RSS (--json for machines)
  logs <component>   print the log path and its last lines (-n/--lines N, default 30)
  start <component>  start one component (waits until it is ready)
  stop <component>   stop one component gracefully (SIGTERM, then SIGKILL after a timeout)
  kill <component>   SIGKILL one component (crash drill)
  pause <component>  SIGSTOP one component (freeze drill); resume <component> sends SIGCONT
  purge              down, then delete the lab folder and its PostgreSQL data (everything the lab wrote);
                     refuses a folder that is not a lab's (no state.json)
  purge --orphans    delete PostgreSQL data left under /var/tmp/orderlab-postgres by labs whose folder is
                     gone (a lab in a folder the postgres user cannot enter, e.g. a mktemp -d clone, keeps it there)
  prerequisites      the system packages the lab, drills and tests need (one list): installs the
                     missing ones with apt-get when root, else names them and the command; exit 1 if missing
  help               this text

Components: postgres, kafka, prometheus, jaeger, and the services (api; relay/worker and replicas with --services).

Options:
  --dir <path>          lab state folder (default .lab/default; env LAB_DIR)
  --port-offset <n>     add n to every default port (env LAB_PORT_OFFSET; default 0)
                        defaults: postgres 25432, kafka 29092 (controller 29093), prometheus 29090,
                        api http 8080 / grpc 21051 / admin 9464, relay admin 9465, worker admin 9466
  --services <list>     service processes, e.g. api or api*2,relay,worker (default api,relay,worker; env LAB_SERVICES)
  --only <list>         with up: only these components
  -n, --lines <n>       with logs: how many lines (default 30)
  --json                with status: machine-readable output
  --orphans             with purge: see above
  --for <scope>         with prerequisites: lab (lab up), drills (+ nginx), compose (docker.io, debootstrap)
                        or tests (default; all of them + chromium, amtool)
  --check               with prerequisites: report only, install nothing
  -h, --help            this text

State (pids, ports) lives in <dir>/state.json, logs in <dir>/<component>/<component>.log.
`;
