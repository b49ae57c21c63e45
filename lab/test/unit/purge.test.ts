import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { OWNER_FILE } from '../../src/components/postgres';
import { type FolderProbe, listRelocated, orphanVerdict, purgeOrphans, purgeRefusal } from '../../src/purge';

function probe(tree: Record<string, 'file' | string[]>): FolderProbe {
  return {
    kind: (p) => (tree[p] === undefined ? undefined : tree[p] === 'file' ? 'file' : 'dir'),
    entries: (p) => (Array.isArray(tree[p]) ? tree[p] : []),
  };
}

describe('purgeRefusal: purge deletes recursively, so only a lab folder may be given', () => {
  const repo = '/work/repo';
  const tree = probe({
    '/work/repo/.lab/default': ['state.json', 'postgres', 'kafka'],
    '/work/repo/.lab/fresh': [],
    '/work/repo/src': ['index.ts'],
    '/work/repo/notes.txt': 'file',
  });

  it('lets a lab folder, an empty one and a missing one go', () => {
    assert.equal(purgeRefusal('/work/repo/.lab/default', repo, tree), undefined);
    assert.equal(purgeRefusal('/work/repo/.lab/fresh', repo, tree), undefined);
    assert.equal(purgeRefusal('/work/repo/.lab/never-made', repo, tree), undefined);
  });

  it('refuses a folder without state.json, a file, the root and anything holding the repository', () => {
    assert.match(purgeRefusal('/work/repo/src', repo, tree) ?? '', /not a lab folder \(no state\.json/);
    assert.match(purgeRefusal('/work/repo/notes.txt', repo, tree) ?? '', /not a folder/);
    assert.match(purgeRefusal('/', repo, tree) ?? '', /filesystem root/);
    assert.match(purgeRefusal('/work/repo', repo, tree) ?? '', /holds the repository/);
    assert.match(purgeRefusal('/work', repo, tree) ?? '', /holds the repository/);
    assert.match(purgeRefusal('/work/repo/.lab/../', repo, tree) ?? '', /holds the repository/);
  });
});

describe('orphanVerdict', () => {
  const facts = (labs: string[], pids: number[]) => ({
    labExists: (d: string) => labs.includes(d),
    alive: (pid: number) => pids.includes(pid),
  });
  it('an orphan is data whose lab folder is gone and on which no PostgreSQL runs', () => {
    const folder = { path: '/var/tmp/x/1', labDir: '/tmp/gone/.lab/test', postmasterPid: undefined };
    assert.equal(orphanVerdict(folder, facts([], [])), 'orphan');
    assert.equal(orphanVerdict({ ...folder, postmasterPid: 42 }, facts([], [])), 'orphan', 'stale pid file');
  });
  it('keeps data of a lab that exists, of a running PostgreSQL, and of an unknown owner', () => {
    const folder = { path: '/var/tmp/x/1', labDir: '/tmp/here/.lab/test', postmasterPid: 42 };
    assert.equal(orphanVerdict(folder, facts(['/tmp/here/.lab/test'], [])), 'lab exists');
    assert.equal(orphanVerdict(folder, facts([], [42])), 'postgres running');
    assert.equal(
      orphanVerdict({ ...folder, labDir: undefined, postmasterPid: undefined }, facts([], [])),
      'owner unknown',
    );
  });
});

describe('purgeOrphans on a real folder tree', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'orderlab-purge-'));
  after(() => rmSync(base, { recursive: true, force: true }));

  it('removes the data of deleted labs only, and says why it kept the rest', () => {
    const root = path.join(base, 'relocated');
    const liveLab = path.join(base, 'clone-a', '.lab', 'test');
    mkdirSync(liveLab, { recursive: true });
    const make = (key: string, owner: string | undefined, pid?: number): string => {
      const folder = path.join(root, key);
      mkdirSync(path.join(folder, 'data'), { recursive: true });
      writeFileSync(path.join(folder, 'data', 'PG_VERSION'), '15\n');
      if (owner !== undefined) writeFileSync(path.join(folder, OWNER_FILE), `${owner}\n`);
      if (pid !== undefined) writeFileSync(path.join(folder, 'data', 'postmaster.pid'), `${pid}\n/x\n`);
      return folder;
    };
    const orphan = make('aaaa', path.join(base, 'clone-gone', '.lab', 'test'));
    const live = make('bbbb', liveLab);
    const unknown = make('cccc', undefined);
    const running = make('dddd', path.join(base, 'clone-gone-2', '.lab', 'drills'), process.pid);

    assert.equal(listRelocated(root).length, 4);
    const { removed, kept } = purgeOrphans(root);
    assert.deepEqual(
      removed.map((r) => r.path),
      [orphan],
    );
    assert.ok((removed[0]?.bytes ?? 0) > 0, 'reports what it freed');
    assert.equal(existsSync(orphan), false);
    assert.deepEqual(
      kept.map((k) => [k.path, k.verdict]),
      [
        [live, 'lab exists'],
        [unknown, 'owner unknown'],
        [running, 'postgres running'],
      ],
    );
    assert.deepEqual(purgeOrphans(path.join(base, 'no-such-root')), { removed: [], kept: [] });
  });
});
