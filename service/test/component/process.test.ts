import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, type FreshDatabase } from '../../../lab/src/testing';

const MAIN = path.resolve(__dirname, '../../src/main.js');

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the service process', () => {
  let db: FreshDatabase;
  before(async () => {
    db = await freshDatabase('proc');
  });
  after(async () => {
    await db?.drop();
  });

  it('refuses to start on bad config, naming every bad variable (exit 2)', async () => {
    const { child, output } = run({ HTTP_PORT: 'abc', ROLES: 'chef', LOG_LEVEL: 'loud' });
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    for (const name of ['HTTP_PORT', 'ROLES', 'LOG_LEVEL']) assert.match(output().stderr, new RegExp(name));
  });

  it('starts, serves, and exits 0 on SIGTERM with every component closed', async () => {
    const { child, output } = run({ DATABASE_URL: db.url, HTTP_PORT: '0', ADMIN_PORT: '0', GRPC_PORT: '0' });
    await waitFor(() => output().stdout.includes('"service started"'), 20_000);
    const started = JSON.parse(
      output()
        .stdout.split('\n')
        .find((l) => l.includes('"service started"'))!,
    ) as {
      httpPort: number;
    };
    const res = await fetch(`http://127.0.0.1:${started.httpPort}/v1/orders?customerId=x`);
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, output().stderr);
    assert.match(output().stdout, /"shutdown complete"/);
    for (const c of ['http server', 'admin server', 'database pool'])
      assert.match(output().stdout, new RegExp(`"component":"${c}"`));
  });
});
