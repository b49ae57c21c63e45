import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseServiceSpecs, planPorts } from '../../src/ports';
import { prometheusConfig } from '../../src/prometheusConfig';

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs: { targets: string[]; labels: Record<string, string> }[];
}

interface GeneratedConfig {
  global: Record<string, unknown>;
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
}

function generate(services: string, ruleFiles: string[] = []): GeneratedConfig {
  const specs = parseServiceSpecs(services);
  return parse(
    prometheusConfig({ plan: planPorts(100, specs), services: specs, ruleFiles, scrapeIntervalSeconds: 5 }),
  ) as GeneratedConfig;
}

test('scrapes every service process on its admin port with role and instance labels', () => {
  const config = generate('api*2,worker');
  assert.equal(config.global.scrape_interval, '5s');
  const job = config.scrape_configs.find((c) => c.job_name === 'orderlab');
  assert.equal(job?.metrics_path, '/metrics');
  assert.deepEqual(job?.static_configs, [
    { targets: ['127.0.0.1:9564'], labels: { role: 'api', instance: 'api-1' } },
    { targets: ['127.0.0.1:9574'], labels: { role: 'api', instance: 'api-2' } },
    { targets: ['127.0.0.1:9566'], labels: { role: 'worker', instance: 'worker' } },
  ]);
});

test('always scrapes Prometheus itself', () => {
  const job = generate('api').scrape_configs.find((c) => c.job_name === 'prometheus');
  assert.deepEqual(job?.static_configs[0]?.targets, ['127.0.0.1:29190']);
});

test('always scrapes Jaeger on its own metrics port', () => {
  const job = generate('api').scrape_configs.find((c) => c.job_name === 'jaeger');
  assert.deepEqual(job?.static_configs[0]?.targets, ['127.0.0.1:28988']);
});

test('rule files are listed only when there are some', () => {
  assert.equal(generate('api').rule_files, undefined);
  assert.deepEqual(generate('api', ['/repo/prometheus/rules/slo.yml']).rule_files, [
    '/repo/prometheus/rules/slo.yml',
  ]);
});

test('no service job without services: only the infra jobs', () => {
  const specs = parseServiceSpecs('');
  const config = parse(
    prometheusConfig({ plan: planPorts(0, specs), services: specs, ruleFiles: [], scrapeIntervalSeconds: 5 }),
  ) as { scrape_configs: ScrapeConfig[] };
  assert.deepEqual(
    config.scrape_configs.map((c) => c.job_name),
    ['prometheus', 'jaeger'],
  );
});
