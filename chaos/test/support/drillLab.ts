import path from 'node:path';
import { after, before } from 'node:test';
import { drillPortOffset } from '../../src/cliArgs';
import { repoRoot } from '../../src/cli';
import { LAB_INFRA, type LabLike, openLab } from '../../src/targets/labRuntime';

/** The drill lab the native drill tests share: .lab/drills at DRILL_PORT_OFFSET (or LAB_PORT_OFFSET + 2000). */
export const DRILL_LAB_DIR = path.join(repoRoot(), '.lab', 'drills');

/**
 * Registers the file's before/after hooks: the drill lab's infrastructure is started when none of it
 * runs, and stopped at the end only if started here. `lab()` is the open lab inside the tests.
 */
export function useDrillLab(): { lab: () => LabLike } {
  let lab: LabLike | undefined;
  let startedHere = false;
  before(async () => {
    lab = openLab({
      dir: DRILL_LAB_DIR,
      portOffset: drillPortOffset(undefined, process.env),
      services: 'api*2,relay,worker',
      env: process.env,
      log: (line) => console.log(`  lab:${line}`),
    });
    startedHere = !LAB_INFRA.some((c) => lab?.isRunning(c));
    await lab.up([...LAB_INFRA]);
  });
  after(async () => {
    if (lab && startedHere) await lab.down();
  });
  return {
    lab: () => {
      if (!lab) throw new Error('the drill lab is opened in before(): use it inside a test');
      return lab;
    },
  };
}
