import { existsSync } from 'node:fs';
import path from 'node:path';
import { LAB_HELP, parseLabArgs, resolvePortOffset, UsageError } from './args';
import { DEFAULT_LAB_DIR, Lab } from './lab';
import { hideHarmlessNodeWarnings } from './nodeWarnings';
import {
  formatBytes as formatSize,
  purgeOrphans,
  purgeRefusal,
  relocatedFolderOf,
  type Removed,
  removeFolder,
} from './purge';
import { findRepoRoot } from './repo';
import { LabError, tailFile } from './processes';
import {
  ensureJava,
  ensurePrerequisites,
  isRoot,
  missingMessage,
  missingPrerequisites,
  type PrerequisiteScope,
  prerequisitesFor,
} from './prerequisites';

function formatBytes(bytes: number | undefined): string {
  return bytes === undefined ? '' : `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(`  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
}

function printConnection(lab: Lab): void {
  const c = lab.connection();
  const status = new Map(lab.status().map((s) => [s.name, s]));
  const state = (name: string): string => status.get(name)?.state ?? 'stopped';
  const rows = [
    ['component', 'state', 'address'],
    ['postgres', state('postgres'), c.postgres.url],
    ['kafka', state('kafka'), c.kafka.brokers.join(',')],
    ['prometheus', state('prometheus'), c.prometheus.url],
    [
      'jaeger',
      state('jaeger'),
      `${c.jaeger.queryUrl}/api/traces/<trace id>  (OTLP in ${c.jaeger.otlpHttpUrl})`,
    ],
  ];
  for (const [name, s] of Object.entries(c.services))
    rows.push([name, state(name), `${s.httpUrl}  grpc ${s.grpcAddress}  admin ${s.adminUrl}`]);
  printTable(rows);
}

/** `lab prerequisites`: one line per package, installs what is missing (root), a one-line summary. */
async function prerequisites(scope: PrerequisiteScope, checkOnly: boolean): Promise<number> {
  const wanted = prerequisitesFor(scope);
  console.log(`lab prerequisites for ${scope}:`);
  for (const p of wanted)
    console.log(
      `  ${p.present(process.env) ? 'ok     ' : 'MISSING'} ${p.aptPackage.padEnd(24)} ${p.what}: ${p.neededFor}`,
    );
  const missing = missingPrerequisites(wanted, process.env);
  if (missing.length > 0 && checkOnly) {
    console.error(`lab prerequisites: ${missingMessage(missing, isRoot())}`);
    return 1;
  }
  if (missing.length > 0) {
    await ensurePrerequisites(missing, (line) => console.log(line));
    await ensureJava((line) => console.log(line));
  } else if (wanted.some((p) => p.aptPackage === 'default-jdk-headless')) {
    await ensureJava((line) => console.log(line));
  }
  console.log(
    `lab prerequisites: all ${wanted.length} present for ${scope}${missing.length > 0 ? ` (installed ${missing.map((p) => p.aptPackage).join(' ')})` : ''}`,
  );
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseLabArgs(argv);
  if (args.command === 'help') {
    console.log(LAB_HELP);
    return 0;
  }
  if (args.command === 'purge') return purge(args.dir, args.orphans, args.portOffset);
  if (args.command === 'prerequisites') return prerequisites(args.scope, args.checkOnly);
  const lab = new Lab({
    ...(args.dir !== undefined ? { dir: args.dir } : {}),
    portOffset: resolvePortOffset(args.portOffset, process.env),
    ...(args.services !== undefined ? { services: args.services } : {}),
  });
  const where = `${path.relative(process.cwd(), lab.dir) || lab.dir}, port offset ${lab.plan.offset}`;
  const name = args.component as string;
  switch (args.command) {
    case 'up': {
      console.log(`lab up (${where})`);
      const result = await lab.up(args.only);
      console.log(
        `lab up: ${result.started.length} started, ${result.alreadyRunning.length} already running${result.skipped.length ? `, ${result.skipped.length} skipped` : ''}, all ready in ${result.seconds.toFixed(1)} s; state ${path.join(lab.dir, 'state.json')}`,
      );
      printConnection(lab);
      return 0;
    }
    case 'down': {
      console.log(`lab down (${where})`);
      const result = await lab.down();
      console.log(
        `lab down: stopped ${result.stopped.length ? result.stopped.join(', ') : 'nothing (nothing was running)'} in ${result.seconds.toFixed(1)} s; no lab port is listening`,
      );
      return 0;
    }
    case 'status': {
      const status = lab.status();
      if (args.json) {
        console.log(JSON.stringify({ connection: lab.connection(), components: status }, null, 2));
        return 0;
      }
      console.log(`lab status (${where})`);
      printTable([
        ['component', 'state', 'pid', 'rss', 'ports', 'log'],
        ...status.map((s) => [
          s.name,
          s.state,
          s.pid === undefined ? '' : String(s.pid),
          formatBytes(s.rssBytes),
          s.ports.join(','),
          path.relative(process.cwd(), s.logPath),
        ]),
      ]);
      const running = status.filter((s) => s.state !== 'stopped').length;
      console.log(`lab status: ${running} of ${status.length} components running`);
      return 0;
    }
    case 'logs': {
      const logPath = lab.logsPath(name);
      console.log(`==> ${logPath} (last ${args.lines} lines)`);
      console.log(tailFile(logPath, args.lines));
      return 0;
    }
    case 'start': {
      const begin = Date.now();
      const started = await lab.start(name);
      console.log(
        `lab start ${name}: ${started ? 'started' : 'was already running'} (${((Date.now() - begin) / 1000).toFixed(1)} s)`,
      );
      return 0;
    }
    case 'stop':
    case 'kill': {
      const begin = Date.now();
      const done = args.command === 'stop' ? await lab.stop(name) : await lab.kill(name);
      console.log(
        `lab ${args.command} ${name}: ${done ? `${args.command === 'stop' ? 'stopped' : 'killed'} in ${((Date.now() - begin) / 1000).toFixed(1)} s` : 'was not running'}`,
      );
      return 0;
    }
    case 'pause':
    case 'resume': {
      const done = args.command === 'pause' ? await lab.pause(name) : await lab.resume(name);
      console.log(
        `lab ${args.command} ${name}: ${done ? (args.command === 'pause' ? 'paused (SIGSTOP)' : 'resumed (SIGCONT)') : 'not running'}`,
      );
      return 0;
    }
  }
}

/** `purge` must look at the folder before a Lab is made for it (that creates the folder). */
async function purge(
  dir: string | undefined,
  orphans: boolean,
  portOffset: number | undefined,
): Promise<number> {
  const show = (p: string): string =>
    p.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), p) : p;
  const listRemoved = (removed: readonly Removed[]): string =>
    removed.length === 0
      ? 'nothing'
      : removed.map((r) => `${show(r.path)} (${formatSize(r.bytes)})`).join(', ');
  if (orphans) {
    const { removed, kept } = purgeOrphans();
    for (const k of kept)
      console.log(`  kept ${k.path}: ${k.verdict}${k.labDir !== undefined ? ` (lab ${k.labDir})` : ''}`);
    const freed = removed.reduce((sum, r) => sum + r.bytes, 0);
    console.log(
      `lab purge --orphans: removed ${listRemoved(removed)}; ${kept.length} kept; ${formatSize(freed)} freed`,
    );
    return 0;
  }
  const repoRoot = findRepoRoot();
  const target = path.resolve(dir ?? process.env['LAB_DIR'] ?? path.join(repoRoot, DEFAULT_LAB_DIR));
  const refusal = purgeRefusal(target, repoRoot);
  if (refusal) throw new LabError(refusal);
  if (!existsSync(target)) {
    // No lab folder (never made, or purged): only data it may have left outside it can remain.
    const r = removeFolder(relocatedFolderOf(target));
    console.log(
      `lab purge: no lab in ${show(target)}; stopped nothing, removed ${listRemoved(r ? [r] : [])}`,
    );
    return 0;
  }
  const lab = new Lab({ dir: target, portOffset: resolvePortOffset(portOffset, process.env) });
  console.log(`lab purge (${show(target)})`);
  const result = await lab.purge();
  console.log(
    `lab purge: stopped ${result.stopped.length ? result.stopped.join(', ') : 'nothing'}, removed ${listRemoved(result.removed)} in ${result.seconds.toFixed(1)} s`,
  );
  return 0;
}

hideHarmlessNodeWarnings();

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`lab: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof LabError) {
      console.error(`lab: ${error.message}`);
      if (error.logTail) console.error(`---- last lines of the log ----\n${error.logTail}`);
      process.exit(1);
    }
    console.error(`lab: unexpected failure: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
