/**
 * The README's picture of a drill report, taken from a real drill run:
 *
 *   npm run docs:drill-picture [-- --report reports/drills/<run>/report.html] [--drill broker-loss]
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { executeDrill, summaryLine } from '../chaos/src/cli';
import { parseCliArgs } from '../chaos/src/cliArgs';
import { launchChromium } from '../chaos/src/report/chromium';
import type { DrillReport } from '../chaos/src/report/reportModel';
import { hideHarmlessNodeWarnings } from '../lab/src/nodeWarnings';
import { ensurePrerequisites, prerequisitesFor } from '../lab/src/prerequisites';
import { findRepoRoot } from '../lab/src/repo';

const HELP = `Usage: npm run docs:drill-picture -- [--report <report.html>] [--drill <name>] [--out <png>]

Writes docs/images/drill-report.png (the README's picture) from a real drill report: by default it
runs \`npm run drill -- broker-loss --short\` on the native drill lab first (about 2 minutes), then
screenshots its report.html in Chromium. The drill must PASS (the README shows a passing report).

  --report <path>   screenshot this existing report.html instead of running a drill
  --drill <name>    the drill to run (default broker-loss)
  --out <path>      where the PNG goes (default docs/images/drill-report.png)
  -h, --help        this text
`;

interface PictureArgs {
  report?: string;
  drill: string;
  out: string;
}

function parseArgs(argv: readonly string[], repoRoot: string): PictureArgs | 'help' {
  const args: PictureArgs = {
    drill: 'broker-loss',
    out: path.join(repoRoot, 'docs', 'images', 'drill-report.png'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new Error(`${flag} needs a value (see --help)`);
      return v;
    };
    if (flag === '-h' || flag === '--help') return 'help';
    else if (flag === '--report') args.report = path.resolve(value());
    else if (flag === '--drill') args.drill = value();
    else if (flag === '--out') args.out = path.resolve(value());
    else throw new Error(`unknown argument ${flag} (see --help)`);
  }
  return args;
}

async function main(): Promise<number> {
  const repoRoot = findRepoRoot();
  const args = parseArgs(process.argv.slice(2), repoRoot);
  if (args === 'help') {
    console.log(HELP);
    return 0;
  }
  const log = (line: string): void => console.log(`  ${line}`);
  await ensurePrerequisites(prerequisitesFor('tests'), log);
  let html = args.report;
  if (html === undefined) {
    console.log(`drill-picture: running ${args.drill} --short on the native drill lab ...`);
    const result = await executeDrill(
      parseCliArgs([args.drill, '--short', '--report-dir', 'reports/drills']),
      log,
    );
    console.log(summaryLine(result));
    html = result.report.files.html;
  }
  if (!existsSync(html)) throw new Error(`${html} does not exist`);
  const reportJson = path.join(path.dirname(html), 'report.json');
  const report = JSON.parse(readFileSync(reportJson, 'utf8')) as DrillReport;
  if (!report.verdict.passed)
    throw new Error(
      `${path.relative(repoRoot, html)} is a ${report.verdict.label} report: the README shows a passing one`,
    );

  const { context, close } = await launchChromium();
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(html).toString());
    await page.locator('#verdict').waitFor();
    await page.screenshot({ path: args.out, fullPage: true, clip: { x: 0, y: 0, width: 860, height: 1480 } });
  } finally {
    await close();
  }
  const size = statSync(args.out).size;
  console.log(
    `drill-picture: ${path.relative(repoRoot, args.out)} (${Math.round(size / 1024)} KiB) from ${report.drill.name} ${report.verdict.label} at ${report.startedAt}; report ${path.relative(repoRoot, html)}`,
  );
  return 0;
}

hideHarmlessNodeWarnings();
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`drill-picture: ${(error as Error).message}`);
    process.exit(1);
  },
);
