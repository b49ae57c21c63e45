import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { OWNER_FILE, relocatedDataDir } from '../src/components/postgres';
import { Lab } from '../src/lab';
import { isPortListening } from '../src/processes';
import { findRepoRoot } from '../src/repo';
import { testLabPortOffset } from '../src/testing';

// A lab under a 0700 folder (as in a `mktemp -d` clone run as root) keeps its PostgreSQL data
// under /var/tmp; purge must take that too. Its own lab, 80 ports above the shared test lab.
const repoRoot = findRepoRoot();
const closed = mkdtempSync(path.join('/tmp', 'orderlab-purge-')); // mode 0700
const labDir = path.join(closed, 'clone', '.lab', 'test');
const cli = path.join(repoRoot, 'dist', 'lab', 'src', 'cli.js');

describe('lab purge', { timeout: 120_000 }, () => {
  after(async () => {
    await new Lab({ dir: labDir, repoRoot, log: () => undefined }).down().catch(() => undefined);
    rmSync(closed, { recursive: true, force: true });
  });

  test('stops the lab and deletes its folder and the PostgreSQL data it kept outside it', async () => {
    const lab = new Lab({
      dir: labDir,
      portOffset: testLabPortOffset() + 80,
      repoRoot,
      log: () => undefined,
    });
    await lab.up(['postgres']);
    const port = lab.plan.postgres;
    const relocated = path.dirname(relocatedDataDir(path.join(labDir, 'postgres')));
    if (process.getuid?.() === 0) {
      // Only root runs PostgreSQL as another user; as that user, the lab folder itself holds the data.
      assert.ok(existsSync(path.join(relocated, 'data', 'PG_VERSION')), 'data relocated under /var/tmp');
      assert.equal(readFileSync(path.join(relocated, OWNER_FILE), 'utf8').trim(), labDir, 'owner recorded');
    }

    const run = spawnSync(process.execPath, [cli, 'purge', '--dir', labDir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /lab purge: stopped postgres, removed .*MiB/);
    assert.equal(existsSync(labDir), false, 'lab folder gone');
    assert.equal(existsSync(relocated), false, 'relocated data gone');
    assert.equal(await isPortListening(port), false, 'postgres stopped');

    const again = spawnSync(process.execPath, [cli, 'purge', '--dir', labDir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /stopped nothing, removed nothing/);
  });

  test('refuses a folder that is not a lab, and deletes nothing', () => {
    const notALab = path.join(repoRoot, 'lab', 'src');
    const run = spawnSync(process.execPath, [cli, 'purge', '--dir', notALab], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /refusing to purge .*lab\/src: not a lab folder/);
    assert.ok(existsSync(path.join(notALab, 'purge.ts')));
    const root = spawnSync(process.execPath, [cli, 'purge', '--dir', repoRoot], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(root.status, 1);
    assert.match(root.stderr, /holds the repository/);
  });
});
