import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { runQuick } from '../../src/processes';
import { atNormalPriority, raiseThreadPriority, restoreThreadPriority } from '../../src/threadPriority';

/** Nice value of a fresh child (field 19 of its /proc/<pid>/stat), as the lab's spawns start them. */
function childNice(): number {
  const run = runQuick('sh', ['-c', "cut -d ' ' -f 19 /proc/self/stat"]);
  assert.equal(run.status, 0, run.output);
  return Number(run.output.trim());
}

const privileged = process.getuid?.() === 0;

test(
  'a raised thread keeps its priority while the processes it starts fork at the normal one',
  { skip: privileged ? false : 'raising a priority needs root or CAP_SYS_NICE: run the suite as root' },
  (t) => {
    t.after(() => restoreThreadPriority());
    const normal = getPriority(0);
    const raised = raiseThreadPriority(normal - 5);
    assert.deepEqual(raised, { raised: true, before: normal });
    assert.equal(getPriority(0), normal - 5, 'the calling thread is raised');
    assert.equal(childNice(), normal, 'a child started through the lab forks at the normal priority');
    assert.equal(getPriority(0), normal - 5, 'and the thread is raised again afterwards');
    restoreThreadPriority();
    assert.equal(getPriority(0), normal);
    assert.equal(childNice(), normal);
  },
);

test('raising to the current priority or lower changes nothing and says why', () => {
  const normal = getPriority(0);
  const result = raiseThreadPriority(normal);
  assert.deepEqual(result, { raised: false, reason: `already at nice ${normal}` });
  assert.equal(getPriority(0), normal);
  assert.equal(
    atNormalPriority(() => 42),
    42,
  );
  restoreThreadPriority(); // nothing raised: a no-op
  assert.equal(getPriority(0), normal);
});
