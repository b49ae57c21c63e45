import type { LedgerEntry } from '../load/ledger';
import type { DrillExpectations } from '../drills/expectations';
import {
  classifyOutcome,
  classifyWindow,
  describeFailures,
  type FaultWindow,
  goodputPerSecond,
  percentile,
  recoveredAt,
  unexplainedFailures,
} from './maths';
import { type Check, check, skip } from './verdict';

export interface LedgerCheckInput {
  readonly entries: readonly LedgerEntry[];
  readonly faults: readonly FaultWindow[];
  readonly expectations: DrillExpectations;
  /** Load start/end (epoch ms). */
  readonly loadStart: number;
  readonly loadEnd: number;
  readonly sloLatencyMs: number;
  /** Goodput to compare the fault against (e.g. measured capacity); default: goodput before the fault. */
  readonly referenceGoodput?: number;
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${Math.round(ms)} ms`);
const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** Verdict checks that the client ledger alone can decide (pure: unit-tested). */
export function ledgerChecks(input: LedgerCheckInput): Check[] {
  const { entries, faults, expectations: x } = input;
  const recoveryMs = x.recoveryGraceS * 1000;
  const phaseOf = (e: LedgerEntry) => classifyWindow(e.intendedAt, faults, recoveryMs);
  const checks: Check[] = [];

  checks.push(check('load ran', entries.length > 0, `${entries.length} requests in the ledger`));

  const unexplained = unexplainedFailures(entries, x.explained, faults, recoveryMs);
  checks.push(
    check(
      'no unexplained failures',
      unexplained.length <= x.maxUnexplainedFailures,
      unexplained.length === 0
        ? `every non-2xx is explained (${x.explained.map((r) => r.because).join('; ') || 'none allowed'})`
        : `${unexplained.length} unexplained: ${describeFailures(unexplained)}`,
    ),
  );

  if (x.acceptedP99) {
    const { maxMs, phases } = x.acceptedP99;
    const ok = entries.filter((e) => classifyOutcome(e) === 'ok' && phases.includes(phaseOf(e)));
    const p99 = percentile(
      ok.map((e) => e.latencyMs),
      99,
    );
    checks.push(
      ok.length === 0
        ? check(`accepted p99 ≤ ${maxMs} ms (${phases.join('+')})`, false, 'no request was accepted there')
        : check(
            `accepted p99 ≤ ${maxMs} ms (${phases.join('+')})`,
            p99 <= maxMs,
            `p99 ${fmt(p99)} over ${ok.length} accepted requests, from intended send time`,
          ),
    );
  }

  if (x.minAcceptedShare) {
    const { share, phases } = x.minAcceptedShare;
    const inPhase = entries.filter((e) => phases.includes(phaseOf(e)));
    const accepted = inPhase.filter((e) => classifyOutcome(e) === 'ok').length;
    const got = inPhase.length === 0 ? 0 : accepted / inPhase.length;
    checks.push(
      check(
        `accepted share ≥ ${pct(share)} (${phases.join('+')})`,
        inPhase.length > 0 && got >= share,
        `${accepted}/${inPhase.length} accepted (${pct(got)})`,
      ),
    );
  }

  if (x.failFastP99Ms !== undefined) {
    const failed = entries.filter((e) => classifyOutcome(e) !== 'ok' && phaseOf(e) === 'fault');
    const p99 = percentile(
      failed.map((e) => e.latencyMs),
      99,
    );
    checks.push(
      failed.length === 0
        ? skip(`fails fast (p99 ≤ ${x.failFastP99Ms} ms)`, 'no request failed during the fault')
        : check(
            `fails fast (p99 ≤ ${x.failFastP99Ms} ms)`,
            p99 <= x.failFastP99Ms,
            `p99 of ${failed.length} failed requests during the fault: ${fmt(p99)}`,
          ),
    );
  }

  if (x.minShedShareInFault !== undefined) {
    const inFault = entries.filter((e) => phaseOf(e) === 'fault');
    const shed = inFault.filter((e) => classifyOutcome(e) === 'shed').length;
    const got = inFault.length === 0 ? 0 : shed / inFault.length;
    checks.push(
      check(
        `sheds with Retry-After ≥ ${pct(x.minShedShareInFault)} in the fault`,
        inFault.length > 0 && got >= x.minShedShareInFault,
        `${shed}/${inFault.length} shed with Retry-After (${pct(got)})`,
      ),
    );
  }

  if (x.minGoodputRatioInFault !== undefined) {
    const firstFault = Math.min(...faults.map((f) => f.start));
    const lastFaultEnd = Math.max(...faults.map((f) => f.end));
    if (
      faults.length === 0 ||
      (input.referenceGoodput === undefined && firstFault - input.loadStart < 2000)
    ) {
      checks.push(skip('goodput holds in the fault', 'no steady period before the fault to compare with'));
    } else {
      const reference =
        input.referenceGoodput ?? goodputPerSecond(entries, input.loadStart, firstFault, input.sloLatencyMs);
      const during = goodputPerSecond(entries, firstFault, lastFaultEnd, input.sloLatencyMs);
      const ratio = reference === 0 ? 0 : during / reference;
      checks.push(
        check(
          `goodput in the fault ≥ ${pct(x.minGoodputRatioInFault)} of ${input.referenceGoodput !== undefined ? 'capacity' : 'before'}`,
          ratio >= x.minGoodputRatioInFault,
          `${during.toFixed(1)} good req/s during vs ${reference.toFixed(1)} ${input.referenceGoodput !== undefined ? 'capacity' : 'before'} (${pct(ratio)})`,
        ),
      );
    }
  }

  if (x.recoversWithinS !== undefined && faults.length > 0) {
    const healed = Math.max(...faults.map((f) => f.end));
    const back = recoveredAt(entries, healed);
    const lastIntended = Math.max(...entries.map((e) => e.intendedAt));
    if (lastIntended - healed < x.recoversWithinS * 1000) {
      checks.push(
        skip(
          `recovers within ${x.recoversWithinS} s`,
          `load stopped ${((lastIntended - healed) / 1000).toFixed(1)} s after healing: too short to judge`,
        ),
      );
    } else {
      checks.push(
        check(
          `recovers within ${x.recoversWithinS} s`,
          back !== undefined && back - healed <= x.recoversWithinS * 1000,
          back === undefined
            ? 'requests still failed at the end of the load'
            : `every request succeeded from ${((back - healed) / 1000).toFixed(1)} s after healing`,
        ),
      );
    }
  }
  return checks;
}
