import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { shutdownChecks } from '../../src/audit/shutdownChecks';
import { decideVerdict } from '../../src/audit/verdict';
import { OwnedProcess } from '../../src/infra/ownedProcess';
import { runOpenModelLoad } from '../../src/load/openModelLoad';
import { entry } from '../support/ledgerFixtures';

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Runs load against the fixture, SIGTERMs it mid-load, and judges the shutdown as the sigterm drill does. */
async function sigtermUnderLoad(mode: 'drain' | 'exit-at-once' | 'hang') {
  const port = await freePort();
  const fixture = path.join(__dirname, '..', 'fixtures', 'shutdownBehaviourServer.js');
  const proc = new OwnedProcess({
    command: process.execPath,
    args: [fixture, mode, String(port)],
    env: {},
    cwd: __dirname,
    logPath: '/dev/null',
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  await proc.start();
  const loading = runOpenModelLoad({
    baseUrl: `http://127.0.0.1:${port}`,
    steps: [{ atS: 0, rate: 40 }],
    durationS: 2,
    seed: 1,
  });
  await sleep(1000);
  const sigtermAt = Date.now();
  const termination = await proc.terminate(2500);
  const { entries } = await loading;
  return { checks: shutdownChecks(entries, sigtermAt, termination, 2000), entries, termination };
}

test('sigterm checks PASS for a process that drains its in-flight requests', async () => {
  const { checks, termination } = await sigtermUnderLoad('drain');
  const verdict = decideVerdict(checks);
  assert.equal(verdict.label, 'PASS', verdict.reasons.join('; '));
  assert.equal(termination.exitCode, 0);
  assert.match(checks[0]?.detail ?? '', /\d+ requests in flight at SIGTERM, all answered 2xx/);
});

test('deliberately broken: a process that exits on SIGTERM without draining FAILS, naming it', async () => {
  const { checks, termination } = await sigtermUnderLoad('exit-at-once');
  assert.equal(termination.exitCode, 0, 'it even exits 0: only the in-flight check can catch it');
  const verdict = decideVerdict(checks);
  assert.equal(verdict.label, 'FAIL');
  assert.match(
    verdict.reasons.join('\n'),
    /in-flight requests completed after SIGTERM: \d+ requests sent before SIGTERM failed .* the process did not drain/,
  );
});

test('deliberately broken: a process that ignores SIGTERM FAILS on the deadline', async () => {
  const { checks } = await sigtermUnderLoad('hang');
  const verdict = decideVerdict(checks);
  assert.equal(verdict.label, 'FAIL');
  assert.match(verdict.reasons.join('\n'), /exited within the 2 s deadline/);
  assert.match(verdict.reasons.join('\n'), /exit code none \(SIGKILL \(deadline passed\)\)/);
});

test('shutdown checks from a recorded ledger: a reset request sent before SIGTERM fails the drill', () => {
  const sigtermAt = 10_000;
  const entries = [
    entry(9_000, 201),
    { ...entry(9_800, null, { errorCode: 'ECONNRESET' }), completedAt: 10_100 },
  ];
  const checks = shutdownChecks(entries, sigtermAt, { exitCode: 0, signal: null, seconds: 0.4 }, 5000);
  assert.equal(checks[0]?.status, 'fail');
  assert.match(checks[0]?.detail ?? '', /1× ECONNRESET/);
  assert.equal(checks[1]?.status, 'pass');
  assert.equal(checks[2]?.status, 'pass');
});
