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
 * or `debug` for the known-harmless ones above. Returns a function that puts Node's printer back.
 */
export function logProcessWarnings(
  logger: Logger,
  proc: Pick<NodeJS.Process, 'listeners' | 'removeAllListeners' | 'on' | 'off'> = process,
): () => void {
  const nodePrinters = proc.listeners('warning') as ((w: Error) => void)[];
  proc.removeAllListeners('warning');
  const onWarning = (warning: Error): void => {
    const code = (warning as Error & { code?: unknown }).code;
    const fields = {
      warning: warning.name,
      ...(typeof code === 'string' ? { code } : {}),
      detail: warning.message,
    };
    if (HARMLESS_WARNINGS.has(warning.name)) logger.debug('node warning (harmless)', fields);
    else logger.warn('node warning', fields);
  };
  proc.on('warning', onWarning);
  return () => {
    proc.off('warning', onWarning);
    for (const printer of nodePrinters) proc.on('warning', printer);
  };
}
