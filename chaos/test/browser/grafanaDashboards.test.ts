import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchChromium } from '../../src/report/chromium';

const GRAFANA_URL = process.env['GRAFANA_URL'] ?? 'http://127.0.0.1:3000';

async function grafanaAnswers(): Promise<boolean> {
  try {
    const r = await fetch(new URL('/api/health', GRAFANA_URL), { signal: AbortSignal.timeout(1500) });
    return r.ok;
  } catch {
    return false;
  }
}

test('Grafana dashboards load with no panel error and no "No data"', async (t) => {
  if (!(await grafanaAnswers())) {
    t.skip(`no Grafana at ${GRAFANA_URL} (set GRAFANA_URL; runs against the compose stack)`);
    return;
  }
  const search = (await (await fetch(new URL('/api/search?type=dash-db', GRAFANA_URL))).json()) as {
    uid: string;
    title: string;
    url: string;
  }[];
  assert.ok(search.length > 0, 'Grafana has provisioned dashboards');
  const { context, close } = await launchChromium();
  t.after(close);
  const page = await context.newPage();
  await page.setViewportSize({ width: 1600, height: 2400 });
  const problems: string[] = [];
  for (const dashboard of search) {
    await page.goto(new URL(`${dashboard.url}?orgId=1&from=now-30m&to=now&kiosk`, GRAFANA_URL).toString(), {
      waitUntil: 'networkidle',
    });
    const panels = await page.locator('[data-viz-panel-key], .react-grid-item').count();
    if (panels === 0) problems.push(`${dashboard.title}: no panels rendered`);
    const errors = await page.locator('[data-testid="data-testid Panel status error"]').count();
    if (errors > 0) problems.push(`${dashboard.title}: ${errors} panel(s) in error`);
    const noData = await page.getByText('No data', { exact: true }).count();
    if (noData > 0) problems.push(`${dashboard.title}: ${noData} panel(s) show "No data"`);
  }
  assert.deepEqual(problems, []);
});
