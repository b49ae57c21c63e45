import type { LedgerEntry } from '../load/ledger';
import type { TerminationResult } from '../targets/target';
import { classifyOutcome, describeFailures } from './maths';
import { type Check, check } from './verdict';

/**
 * Checks of one process's SIGTERM: every request sent before the signal completed with 2xx
 * (in-flight ones included), the process exited 0, and before its deadline.
 */
export function shutdownChecks(
  entries: readonly LedgerEntry[],
  sigtermAt: number,
  termination: TerminationResult,
  deadlineMs: number,
): Check[] {
  // A refused connection never reached the process (fetch connects after it was called), so it was
  // not in flight; without a balancer in front such requests are expected once the listener closes.
  const sentBefore = entries.filter(
    (e) => e.sentAt !== null && e.sentAt < sigtermAt && e.errorCode !== 'ECONNREFUSED',
  );
  const refused = entries.filter(
    (e) => e.sentAt !== null && e.sentAt < sigtermAt && e.errorCode === 'ECONNREFUSED',
  );
  const inFlight = sentBefore.filter((e) => e.completedAt >= sigtermAt);
  const failedBefore = sentBefore.filter((e) => classifyOutcome(e) !== 'ok');
  const failedInFlight = inFlight.filter((e) => classifyOutcome(e) !== 'ok');
  const refusedNote = refused.length > 0 ? ` (${refused.length} refused at connect: never reached it)` : '';
  return [
    check(
      'in-flight requests completed after SIGTERM',
      failedInFlight.length === 0 && failedBefore.length === 0,
      failedBefore.length === 0
        ? `${inFlight.length} requests in flight at SIGTERM, all answered 2xx${refusedNote}`
        : `${failedBefore.length} requests sent before SIGTERM failed (${inFlight.length} were in flight): ${describeFailures(
            failedBefore.map((entry) => ({
              entry,
              outcome: classifyOutcome(entry),
              phase: 'fault' as const,
            })),
          )} — the process did not drain`,
    ),
    check(
      'exit code 0 after SIGTERM',
      termination.exitCode === 0,
      `exit code ${termination.exitCode ?? 'none'}${termination.signal ? ` (${termination.signal})` : ''}`,
    ),
    check(
      `exited within the ${deadlineMs / 1000} s deadline`,
      termination.seconds * 1000 <= deadlineMs && termination.signal === null,
      `exited ${termination.seconds.toFixed(2)} s after SIGTERM`,
    ),
  ];
}
