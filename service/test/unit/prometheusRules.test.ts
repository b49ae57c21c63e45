import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  dashboardQueries,
  dashboardsDir,
  loadRules,
  repoRoot,
  ruleFiles,
  ruleTestsDir,
  substituteGrafanaVariables,
} from '../../../scripts/telemetryQueries';

const promtool = process.env['PROMTOOL'] ?? 'promtool';
const work = mkdtempSync(path.join(tmpdir(), 'orderlab-rules-'));
after(() => rmSync(work, { recursive: true, force: true }));

function runPromtool(args: string[], input?: string): { code: number; output: string } {
  const r = spawnSync(promtool, args, { cwd: repoRoot, encoding: 'utf8', input, timeout: 120_000 });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

describe('Prometheus rules', () => {
  it('promtool check rules passes for every rule file', () => {
    const r = runPromtool(['check', 'rules', ...ruleFiles()]);
    assert.equal(r.code, 0, r.output);
  });

  it('promtool test rules passes for every test file', () => {
    const tests = readdirSync(ruleTestsDir).filter((f) => f.endsWith('.test.yml'));
    assert.ok(tests.length >= 4);
    const r = runPromtool(['test', 'rules', ...tests.map((f) => path.join(ruleTestsDir, f))]);
    assert.equal(r.code, 0, r.output);
  });

  it('a broken expectation makes promtool test rules fail (the suite can fail)', () => {
    const original = readFileSync(path.join(ruleTestsDir, 'symptom-alerts.test.yml'), 'utf8');
    const broken = original.replace('description: 1500 events', 'description: 1499 events');
    assert.notEqual(broken, original);
    const file = path.join(ruleTestsDir, `.broken-${process.pid}.test.yml`);
    writeFileSync(file, broken);
    try {
      assert.notEqual(runPromtool(['test', 'rules', file]).code, 0);
    } finally {
      rmSync(file);
    }
  });

  it('every alert has a runbook file, a severity and both a firing and a silent promtool test', () => {
    const tests = readdirSync(ruleTestsDir)
      .filter((f) => f.endsWith('.test.yml'))
      .map((f) => readFileSync(path.join(ruleTestsDir, f), 'utf8'))
      .join('\n');
    const alerts = loadRules().filter((r) => r.rule.alert);
    assert.ok(alerts.length >= 13, `only ${alerts.length} alerts`);
    for (const { rule } of alerts) {
      const name = rule.alert!;
      const runbook = rule.annotations?.['runbook_url'];
      assert.equal(runbook, `docs/runbooks/${name}.md`, name);
      assert.ok(existsSync(path.join(repoRoot, runbook)), `${runbook} missing`);
      assert.match(rule.labels?.['severity'] ?? '', /^(page|ticket|warning)$/, name);
      const blocks = tests.split(/\n\s+- eval_time:/).filter((b) => b.includes(`alertname: ${name}\n`));
      assert.ok(
        blocks.some((b) => /exp_alerts:\s*\[\]/.test(b)),
        `${name}: no test showing it silent`,
      );
      assert.ok(
        blocks.some((b) => /exp_alerts:\s*\n\s+- exp_labels/.test(b)),
        `${name}: no test showing it firing`,
      );
    }
  });

  it('bucket matchers accept both stored forms of le (5 and 5.0)', () => {
    for (const { rule } of loadRules()) {
      for (const m of rule.expr.matchAll(/le=~?"([^"]*)"/g)) {
        // The YAML text holds PromQL string escapes (`\\.`); the regex Prometheus runs has `\.`.
        const source = m[1]!.replace(/\\\\/g, '\\');
        const pattern = new RegExp(`^(?:${source})$`);
        const bound = Number(source.split('|')[0]!.replace(/\\/g, ''));
        const forms = Number.isInteger(bound) ? [String(bound), bound.toFixed(1)] : [String(bound)];
        for (const form of forms)
          assert.ok(pattern.test(form), `${rule.record ?? rule.alert}: ${m[0]} misses le="${form}"`);
      }
    }
  });

  it('promtool check config accepts a Prometheus config that loads the rules', () => {
    const configFile = path.join(work, 'prometheus.yml');
    writeFileSync(
      configFile,
      stringify({
        global: { scrape_interval: '5s', evaluation_interval: '5s' },
        rule_files: ruleFiles(),
        scrape_configs: [
          {
            job_name: 'orderlab',
            static_configs: [{ targets: ['127.0.0.1:9464'], labels: { role: 'api' } }],
          },
        ],
      }),
    );
    const r = runPromtool(['check', 'config', configFile]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS: \d+ rule files found/);
  });
});

describe('Grafana dashboards', () => {
  const queries = dashboardQueries();

  it('have the four dashboards with unique uids and only the provisioned datasource uids', () => {
    const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
    const uids = files.map(
      (f) => (JSON.parse(readFileSync(path.join(dashboardsDir, f), 'utf8')) as { uid: string }).uid,
    );
    for (const uid of ['orderlab-overview', 'orderlab-slo', 'orderlab-pipeline', 'orderlab-runtime'])
      assert.ok(uids.includes(uid), uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const f of files) {
      const text = readFileSync(path.join(dashboardsDir, f), 'utf8');
      for (const m of text.matchAll(/"uid": "([^"]+)"/g)) {
        if (uids.includes(m[1]!) || m[1] === '-- Grafana --') continue;
        assert.ok(['prometheus', 'jaeger', 'loki'].includes(m[1]!), `${f}: unknown datasource uid ${m[1]}`);
      }
    }
  });

  it('every panel query parses (promtool check rules on a file made of them) and rates use $__rate_interval', () => {
    assert.ok(queries.length >= 40, `only ${queries.length} queries`);
    for (const q of queries) {
      for (const range of q.expr.matchAll(/\[([^\]]+)\]/g))
        assert.equal(range[1], '$__rate_interval', `${q.dashboard} / ${q.panel}`);
    }
    const file = path.join(work, 'dashboard-queries.yml');
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard-queries',
            rules: queries.map((q, i) => ({
              record: `dashboard:query_${i}`,
              expr: substituteGrafanaVariables(q.expr, '1m'),
            })),
          },
        ],
      }),
    );
    const r = runPromtool(['check', 'rules', file]);
    assert.equal(r.code, 0, r.output);
  });

  it('the Overview splits rate, 5xx and p99 by version and shows release annotations (issue 23)', () => {
    const overview = JSON.parse(readFileSync(path.join(dashboardsDir, 'orderlab-overview.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string; legendFormat?: string }[] }[];
      annotations: { list: { name: string; target?: { tags?: string[] } }[] };
    };
    for (const title of ['Request rate by version', '5xx rate by version', 'p99 latency by version']) {
      const panel = overview.panels.find((p) => p.title === title);
      assert.ok(panel, `no panel "${title}"`);
      const target = panel.targets?.[0];
      assert.match(target?.expr ?? '', /by \(version(, le)?\) .*group_left \(version\) orderlab_build_info/);
      assert.equal(target?.legendFormat, '{{version}}');
    }
    const releases = overview.annotations.list.find((a) => a.target?.tags?.includes('release'));
    assert.ok(releases, 'no annotation query for the release drills tag');
  });

  it('a malformed query is caught by the same check', () => {
    const file = path.join(work, 'bad-query.yml');
    writeFileSync(
      file,
      stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum(rate(foo[1m])' }] }] }),
    );
    assert.notEqual(runPromtool(['check', 'rules', file]).code, 0);
  });
});
