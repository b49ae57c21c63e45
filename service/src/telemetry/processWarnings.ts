import type { Logger } from './logger';

/**
 * Warnings Node raises that say nothing an operator can act on. kafkajs 2.2.4 (the last release)
 * schedules a retry with a negative delay on start-up; Node 24 warns and clamps it to 1 ms.
 */
export const HARMLESS_WARNINGS: ReadonlySet<string> = new Set(['TimeoutNegativeWarning']);

/**
 * Node prints process warnings to stderr as plain text (`(node:123) DeprecationWarning: …` plus a
 * hint line), which breaks the one-JSON-object-per-line output that Loki/Alloy parse. This replaces
 * Node's printer with the logger: one JSON line per warning — `warn` with its name, code and message,
 * or `debug` for the known-harmless ones above.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error): void => {
    const code = (warning as Error & { code?: unknown }).code;
    const fields = {
      warning: warning.name,
      ...(typeof code === 'string' ? { code } : {}),
      detail: warning.message,
    };
    if (HARMLESS_WARNINGS.has(warning.name)) logger.debug('node warning (harmless)', fields);
    else logger.warn('node warning', fields);
  });
}
