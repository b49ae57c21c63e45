import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { decideVerdict, fail } from '../../src/audit/verdict';
import { renderReportHtml } from '../../src/report/html';
import { syntheticBrokerLossReport } from '../support/syntheticDrill';
import { launchChromium } from '../../src/report/chromium';

const CHARTS = ['chart-throughput', 'chart-latency', 'chart-outbox', 'chart-lag'];

test('a drill report opens in Chromium with its verdict and every chart drawn', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orderlab-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = syntheticBrokerLossReport(dir);
  assert.equal(report.verdict.label, 'PASS', report.verdict.reasons.join('; '));

  const { context, close } = await launchChromium();
  t.after(close);
  const page = await context.newPage();
  const blocked: string[] = [];
  // The report is self-contained: any request other than the file itself is a defect.
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith('file:')) return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  await page.goto(pathToFileURL(report.files.html).toString());

  assert.equal((await page.locator('#verdict').textContent())?.trim(), 'PASS');
  assert.equal(await page.title(), 'Drill broker-loss: PASS');
  const rows = await page.locator('#checks tbody tr').count();
  assert.equal(rows, report.checks.length, 'one verdict row per check');
  assert.equal(await page.locator('#checks tr.fail').count(), 0);

  for (const id of CHARTS) {
    const chart = page.locator(`#${id} svg`);
    assert.equal(await chart.count(), 1, `${id} exists`);
    const box = await chart.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100, `${id} is laid out (${JSON.stringify(box)})`);
    // Runs in the page; the tests compile without the DOM library, so the element's shape is stated here.
    type SvgPath = { getAttribute(name: string): string | null; getTotalLength(): number };
    const drawn = await page.locator(`#${id} path.series`).evaluateAll((paths) =>
      paths.map((element) => {
        const p = element as unknown as SvgPath;
        return { d: p.getAttribute('d') ?? '', length: p.getTotalLength() };
      }),
    );
    assert.ok(drawn.length > 0, `${id} has series paths`);
    assert.ok(
      drawn.every((p) => p.d.length > 10 && p.length > 0),
      `${id} paths are not empty`,
    );
    assert.equal(await page.locator(`#${id} text.empty`).count(), 0, `${id} shows data, not an empty state`);
    assert.ok((await page.locator(`#${id} rect.fault`).count()) >= 1, `${id} shades the fault window`);
  }
  assert.deepEqual(blocked, []);
});

test('a failing drill report shows FAIL and the failed reason in the verdict table', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orderlab-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = syntheticBrokerLossReport(dir);
  const checks = [
    ...report.checks,
    fail('every 2xx order is in the topic', '1/1600 acknowledged orders not in the topic: order-7'),
  ];
  const broken = { ...report, checks, verdict: decideVerdict(checks) };
  writeFileSync(report.files.html, renderReportHtml(broken));

  const { context, close } = await launchChromium();
  t.after(close);
  const page = await context.newPage();
  await page.goto(pathToFileURL(report.files.html).toString());
  assert.equal((await page.locator('#verdict').textContent())?.trim(), 'FAIL');
  assert.match((await page.locator('#reasons').textContent()) ?? '', /not in the topic: order-7/);
  assert.equal(await page.locator('#checks tr.fail').count(), 1);
});
