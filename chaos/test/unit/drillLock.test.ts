import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DrillLock, lockState, parseLockRecord } from '../../src/targets/drillLock';

const record = { pid: 42, token: 't', drill: 'sigterm', startedAt: '2026-12-06T00:00:00Z', owned: [] };

test('a lock is free without a record, held while its drill lives, stale once it is gone', () => {
  assert.equal(
    lockState(undefined, () => true),
    'free',
  );
  assert.equal(
    lockState(record, () => true),
    'held',
  );
  assert.equal(
    lockState(record, () => false),
    'stale',
  );
});

test('an unreadable lock file reads as no record (so it is treated as stale, never trusted)', () => {
  assert.equal(parseLockRecord('{"pid": 4'), undefined);
  assert.equal(parseLockRecord('{"token": "x"}'), undefined);
  assert.deepEqual(parseLockRecord(JSON.stringify(record)), record);
});

test(
  "a stale lock is taken over and the dead drill's recorded leftovers are stopped",
  { timeout: 10_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orderlab-lock-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const marker = path.join(dir, 'work');
    // A leftover "nginx" of the dead drill: a process whose command line carries the drill's marker.
    const leftover = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], {
      stdio: 'ignore',
    });
    t.after(() => leftover.kill('SIGKILL'));
    const exited = new Promise((resolve) => leftover.once('exit', resolve));
    const file = path.join(dir, 'drill.lock');
    const deadPid = 2 ** 22 + 1; // above pid_max: never a live process
    writeFileSync(
      file,
      JSON.stringify({ ...record, pid: deadPid, owned: [{ name: 'nginx', pid: leftover.pid, marker }] }),
    );
    const lines: string[] = [];
    const lock = new DrillLock(file, 'broker-loss', (l) => lines.push(l));
    await lock.acquire(1000);
    await exited;
    assert.match(
      lines.join('\n'),
      new RegExp(`stale lock of drill sigterm .*stopped its leftovers: nginx \\(pid ${leftover.pid}\\)`),
    );
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { drill: string }).drill, 'broker-loss');
    lock.release();
    assert.equal(existsSync(file), false);
  },
);

test('a lock held by a live drill makes the next one wait, then fail naming it', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orderlab-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'drill.lock');
  const first = new DrillLock(file, 'overload', () => undefined);
  await first.acquire();
  const second = new DrillLock(file, 'db-loss', () => undefined);
  await assert.rejects(second.acquire(600), /another drill \(overload, pid \d+.*--lab-dir/);
  first.release();
  await second.acquire(600);
  second.release();
});
