import { setTimeout as sleep } from 'node:timers/promises';
import { classifyOutcome, percentile } from '../audit/maths';
import type { LedgerEntry } from './ledger';
import type { LoadClient } from './loadClient';
import { runOpenModelLoad } from './openModelLoad';

/**
 * Capacity = the highest open-model arrival rate whose requests are (almost) all accepted and whose
 * accepted p99 stays under the latency SLO. Found with a ladder of fixed-rate steps, each `growth`
 * times the last, stopping at the first step that fails. Open model on purpose: a closed loop of
 * workers against a service that sheds in microseconds spins on 503s and measures the shedding,
 * not the service. Shared by `npm run bench:overload` and the `overload` drill.
 */
export interface StepResult {
  readonly rate: number;
  readonly sent: number;
  readonly ok: number;
  readonly shed: number;
  readonly other: number;
  readonly goodput: number;
  readonly okP99Ms: number;
  readonly shedP99Ms: number;
  /** How late the generator sent requests (sentAt − intendedAt): large values mean the client, not the service, fell behind. */
  readonly sendLagP99Ms: number;
  readonly passed: boolean;
  /** This attempt failed and the same rate was run again (the ladder's `stepRetries`). */
  readonly retried?: boolean;
}

/** Outcome of one fixed-rate run: goodput and tail latencies, and whether it met the SLO. */
export function evaluateStep(
  rate: number,
  seconds: number,
  entries: readonly LedgerEntry[],
  sloMs: number,
): StepResult {
  const ok = entries.filter((e) => classifyOutcome(e) === 'ok');
  const shed = entries.filter((e) => classifyOutcome(e) === 'shed');
  const okP99Ms = percentile(
    ok.map((e) => e.latencyMs),
    99,
  );
  const sent = entries.length;
  return {
    rate,
    sent,
    ok: ok.length,
    shed: shed.length,
    other: sent - ok.length - shed.length,
    goodput: ok.length / seconds,
    okP99Ms,
    shedP99Ms: percentile(
      shed.map((e) => e.latencyMs),
      99,
    ),
    sendLagP99Ms: percentile(
      entries.filter((e) => e.sentAt !== null).map((e) => e.sentAt! - e.intendedAt),
      99,
    ),
    passed: sent > 0 && ok.length >= 0.99 * sent && okP99Ms < sloMs,
  };
}

/**
 * Capacity = goodput of the last passing step before the first failing one (0 if none passed).
 * A failed attempt that was run again (`retried`) is not a failure: its retry decides.
 */
export function capacityFrom(steps: readonly StepResult[]): number {
  let capacity = 0;
  for (const s of steps) {
    if (s.retried) continue;
    if (!s.passed) break;
    capacity = s.goodput;
  }
  return capacity;
}

/**
 * What the ladder does after a step: grow the rate, run the same rate again, or stop. A failed
 * step is run again while `attemptsAtRate` ≤ `stepRetries`: one transient second (a GC, the limit
 * still learning the new rate, a checkpoint) can fail a 5 s step at a rate the service sustains.
 */
export function ladderDecision(
  step: StepResult,
  attemptsAtRate: number,
  stepRetries: number,
): 'grow' | 'retry' | 'stop' {
  if (step.passed) return 'grow';
  return attemptsAtRate <= stepRetries ? 'retry' : 'stop';
}

/**
 * The ladder's next rate after a passing step, or undefined when it would pass `maxRate` (the
 * ladder then stops: the caller has said how much load it can generate or wants to drive).
 */
export function nextLadderRate(rate: number, growth: number, maxRate?: number): number | undefined {
  const next = Math.round(rate * growth);
  return maxRate !== undefined && next > maxRate ? undefined : next;
}

/**
 * Pause before a failed step is run again: the retry should judge the rate once the transient has
 * passed. Without it, one ~0.3 s loop stall 8 s after the api started (shed for its event-loop delay)
 * straddled a CI ladder's 40/s step and its immediate retry, and failed both.
 */
export const RETRY_SETTLE_MS = 2000;

export interface CapacityLadder {
  readonly startRate: number;
  readonly growth: number;
  readonly maxSteps: number;
  /** No step above this rate: the ladder stops after the last step within it (`capped`). */
  readonly maxRate?: number;
  readonly stepSeconds: number;
  readonly sloMs: number;
  readonly seed: number;
  /** Times a failed step is run again at the same rate before the ladder stops (default 0). */
  readonly stepRetries?: number;
  /** Called after each step (progress lines). */
  readonly onStep?: (step: StepResult, index: number) => void;
  readonly signal?: AbortSignal;
  /** Connections shared by every step (and by whatever load follows the ladder). */
  readonly client?: LoadClient;
}

/** Runs the ladder against POST /v1/orders; every step is bounded in time and count. */
export async function findCapacity(
  baseUrl: string,
  ladder: CapacityLadder,
): Promise<{ capacity: number; steps: StepResult[]; capped: boolean }> {
  const steps: StepResult[] = [];
  let rate = ladder.startRate;
  let capped = false;
  let attemptsAtRate = 0;
  for (let i = 0; i < ladder.maxSteps && !ladder.signal?.aborted; i++) {
    const run = await runOpenModelLoad({
      baseUrl,
      steps: [{ atS: 0, rate }],
      durationS: ladder.stepSeconds,
      maxRequests: Math.ceil(rate * ladder.stepSeconds) + 10,
      seed: ladder.seed + i,
      ...(ladder.signal ? { signal: ladder.signal } : {}),
      ...(ladder.client ? { client: ladder.client } : {}),
    });
    attemptsAtRate++;
    const evaluated = evaluateStep(rate, ladder.stepSeconds, run.entries, ladder.sloMs);
    const decision = ladderDecision(evaluated, attemptsAtRate, ladder.stepRetries ?? 0);
    const step = decision === 'retry' ? { ...evaluated, retried: true } : evaluated;
    steps.push(step);
    ladder.onStep?.(step, i);
    if (decision === 'stop') break;
    if (decision === 'retry')
      await sleep(RETRY_SETTLE_MS, undefined, ladder.signal ? { signal: ladder.signal } : {}).catch(
        () => undefined,
      );
    if (decision === 'grow') {
      const next = nextLadderRate(rate, ladder.growth, ladder.maxRate);
      if (next === undefined) {
        capped = true;
        break;
      }
      rate = next;
      attemptsAtRate = 0;
    }
  }
  return { capacity: capacityFrom(steps), steps, capped };
}

/** One progress line for a ladder step. */
export function describeStep(step: StepResult, index: number): string {
  return (
    `capacity step ${index + 1}: ${step.rate.toFixed(0)} req/s → goodput ${step.goodput.toFixed(0)}/s, ` +
    `accepted p99 ${step.okP99Ms.toFixed(0)} ms, shed ${step.shed}, send lag p99 ${step.sendLagP99Ms.toFixed(0)} ms → ` +
    `${step.passed ? 'within SLO' : step.retried ? 'past SLO, running it again' : 'past SLO'}`
  );
}
