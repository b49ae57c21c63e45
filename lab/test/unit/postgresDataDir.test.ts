import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relocatedDataDir, unenterableAncestor } from '../../src/components/postgres';

const postgres = { uid: 110, gid: 118 };
const folders: Record<string, { mode: number; uid: number; gid: number }> = {
  '/': { mode: 0o755, uid: 0, gid: 0 },
  '/root': { mode: 0o700, uid: 0, gid: 0 },
  '/work': { mode: 0o755, uid: 0, gid: 0 },
  '/work/repo': { mode: 0o755, uid: 0, gid: 0 },
  '/srv': { mode: 0o750, uid: 0, gid: 118 },
  '/home': { mode: 0o755, uid: 0, gid: 0 },
  '/home/pg': { mode: 0o700, uid: 110, gid: 118 },
};
const stat = (p: string) => folders[p];

describe('the PostgreSQL data folder must be reachable by the postgres user', () => {
  it('names the first folder on the way that the postgres user cannot enter', () => {
    assert.deepEqual(unenterableAncestor('/root/orderlab/.lab/default/postgres', postgres, stat), {
      path: '/root',
      mode: 0o700,
    });
  });

  it('passes when every existing folder is searchable by others, the group or the owner, as applies', () => {
    assert.equal(unenterableAncestor('/work/repo/.lab/default/postgres', postgres, stat), undefined);
    assert.equal(unenterableAncestor('/srv/lab', postgres, stat), undefined, 'group search bit');
    assert.equal(unenterableAncestor('/home/pg/lab', postgres, stat), undefined, 'owner search bit');
  });
});

describe('a lab the postgres user cannot reach keeps its PostgreSQL data under /var/tmp', () => {
  it('one stable folder per lab folder', () => {
    const a = relocatedDataDir('/root/orderlab/.lab/test/postgres');
    assert.equal(a, relocatedDataDir('/root/orderlab/.lab/test/postgres'), 'same lab, same folder');
    assert.notEqual(a, relocatedDataDir('/root/orderlab/.lab/drills/postgres'), 'another lab, another');
    assert.match(a, /^\/var\/tmp\/orderlab-postgres\/[0-9a-f]{16}\/data$/);
  });
});
