import type { ChildProcess } from 'node:child_process';

/**
 * Children the drill runner starts itself (nginx, the owned API). They are plain children, so if the
 * runner exits early (an error, Ctrl-C, SIGTERM from a test timeout) they would outlive it: on exit
 * every one still running gets SIGKILL.
 */
const running = new Map<ChildProcess, NodeJS.Signals>();
let hooked = false;

/** `signal`: SIGKILL by default; nginx gets SIGTERM so its master takes its workers down with it. */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  running.set(child, signal);
  child.once('exit', () => running.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const [c, sig] of running) {
      try {
        c.kill(sig);
      } catch {
        // already gone
      }
    }
  });
}
