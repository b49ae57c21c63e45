import type { FaultWindow } from '../audit/maths';
import type { LedgerEntry } from '../load/ledger';
import type { DrillContext } from './drill';

/** Where the drill's load goes; fails clearly when the setup gave no API. */
export function apiUrlOf(ctx: DrillContext, which: 'api' | 'owned' = 'api'): string {
  const conn = ctx.target.connection();
  const url = which === 'owned' ? conn.ownedApiUrl : conn.apiUrl;
  if (!url)
    throw new Error(`the target gave no ${which === 'owned' ? 'owned API' : 'API'} URL for this drill`);
  return url;
}

/** Where the fault sits in the run, as fractions of the duration (default: from 25 % for 35 %). */
export interface FaultPlacement {
  readonly at: number;
  readonly for: number;
}

export function faultTiming(
  durationS: number,
  placement: FaultPlacement = { at: 0.25, for: 0.35 },
): { atS: number; forS: number } {
  return {
    atS: Math.max(3, Math.round(durationS * placement.at)),
    forS: Math.max(4, Math.round(durationS * placement.for)),
  };
}

/** Steady open-model load with one fault in the middle. */
export async function steadyLoadWithFault(
  ctx: DrillContext,
  fault: {
    name: string;
    inject: () => Promise<void>;
    heal: () => Promise<void>;
    url?: string;
    target?: string;
    placement?: FaultPlacement;
  },
): Promise<{ entries: LedgerEntry[]; window: FaultWindow }> {
  const { durationS, rate } = ctx.args;
  const timing = faultTiming(durationS, fault.placement);
  const loading = ctx.load({
    url: fault.url ?? apiUrlOf(ctx),
    target: fault.target ?? 'api',
    steps: [{ atS: 0, rate }],
    durationS,
  });
  await ctx.sleep(timing.atS);
  const window = await ctx.fault(fault.name, fault.inject, timing.forS, fault.heal);
  const { entries } = await loading;
  return { entries, window };
}

/** Polls a URL's status every `everyMs` until `until()` is true; returns the statuses seen (0 = no answer). */
export async function pollStatuses(url: string, everyMs: number, until: () => boolean): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 10 * 60_000;
  while (!until() && Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      seen.push(r.status);
      await r.arrayBuffer();
    } catch {
      seen.push(0);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return seen;
}
