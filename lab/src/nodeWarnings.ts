import { HARMLESS_WARNINGS } from '../../service/src/telemetry/processWarnings';

/**
 * The lab's tools (lab CLI, test runner, drills) talk to Kafka through kafkajs 2.2.4, its last
 * release, which schedules a retry with a negative delay on start-up: Node 24 prints a three-line
 * TimeoutNegativeWarning (and clamps the delay to 1 ms). It says nothing a user can act on, so the
 * tools keep it out of their output; every other warning is still printed. The list is the
 * service's (service/src/telemetry/processWarnings.ts), which logs warnings as JSON lines.
 */

/** In this process: print warnings as Node would (one line), except the harmless ones. */
export function hideHarmlessNodeWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (!HARMLESS_WARNINGS.has(warning.name))
      console.error(`(node:${process.pid}) ${warning.name}: ${warning.message}`);
  });
}

/** For child Node processes (test files): NODE_OPTIONS with --disable-warning for each harmless one. */
export function nodeOptionsWithoutHarmlessWarnings(current: string | undefined): string {
  const flags = [...HARMLESS_WARNINGS]
    .map((name) => `--disable-warning=${name}`)
    .filter((flag) => !(current ?? '').split(/\s+/).includes(flag));
  return [current, ...flags].filter((part) => part !== undefined && part.trim() !== '').join(' ');
}
