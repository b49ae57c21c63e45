import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkShippedQueries, repoRoot } from './telemetryQueries';

const HELP = `Usage: npm run check:queries -- --prometheus <url> [--rate-interval 1m] [--report <file>]

Runs every PromQL expression of every dashboard panel and every recording rule against a live
Prometheus (Grafana variables set to "All", $__rate_interval replaced) and fails if any returns
no series. Run it after a short load against the lab (npm run lab -- up, then some traffic).

  --prometheus     Prometheus base URL (default http://127.0.0.1:9090)
  --rate-interval  value for $__rate_interval (default 1m; Grafana uses 4 × scrape interval)
  --report         JSON report path (default reports/telemetry-queries.json)
  --help           this text`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      prometheus: { type: 'string', default: 'http://127.0.0.1:9090' },
      'rate-interval': { type: 'string', default: '1m' },
      report: { type: 'string', default: path.join(repoRoot, 'reports', 'telemetry-queries.json') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const results = await checkShippedQueries(values.prometheus, values['rate-interval'], (done, total) => {
    if (done % 10 === 0 || done === total) process.stderr.write(`  ${done}/${total} queries\n`);
  });
  const empty = results.filter((r) => r.series === 0);
  for (const r of empty)
    console.log(
      `NO DATA  ${r.source}${r.error ? ` (${r.error})` : ''}\n         ${r.expr.replace(/\s+/g, ' ')}`,
    );
  mkdirSync(path.dirname(values.report), { recursive: true });
  writeFileSync(values.report, `${JSON.stringify({ prometheus: values.prometheus, results }, null, 2)}\n`);
  console.log(
    `${empty.length === 0 ? 'PASS' : 'FAIL'}: ${results.length - empty.length}/${results.length} queries return data; report ${path.relative(process.cwd(), values.report)}`,
  );
  process.exitCode = empty.length === 0 ? 0 : 1;
}

void main();
