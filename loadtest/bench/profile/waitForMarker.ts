/**
 * The command clinic runs once the service listens (`--on-port`): it waits until the profiling
 * runner, which drives the load itself, writes the marker file, then exits so clinic stops
 * collecting. Bounded: gives up after --timeout seconds.
 */
import { existsSync } from 'node:fs';

const [marker, timeoutText = '600'] = process.argv.slice(2);
if (!marker) {
  console.error('waitForMarker <file> [timeout seconds]');
  process.exit(2);
}
const deadline = Date.now() + Number(timeoutText) * 1000;
const poll = (): void => {
  if (existsSync(marker) || Date.now() > deadline) return;
  setTimeout(poll, 200);
};
poll();
