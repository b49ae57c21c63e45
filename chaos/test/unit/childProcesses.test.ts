import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

/** Running (a killed child whose parent is gone may linger as a zombie until init reaps it). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
};

test('children the runner started do not outlive it when it exits early', async () => {
  const registry = path.join(__dirname, '..', '..', 'src', 'infra', 'childProcesses.js');
  const script = `
    const { spawn } = require('node:child_process');
    const { killOnExit } = require(${JSON.stringify(registry)});
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    killOnExit(child);
    console.log(child.pid);
    setTimeout(() => process.exit(1), 100);
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  const pid = Number(result.stdout.trim());
  assert.ok(pid > 0, `child pid printed (${result.stdout} ${result.stderr})`);
  for (let i = 0; i < 20 && alive(pid); i++) await sleep(50);
  assert.equal(alive(pid), false, `child ${pid} was killed when the runner exited`);
});
