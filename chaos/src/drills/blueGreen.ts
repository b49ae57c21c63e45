import { classifyOutcome } from '../audit/maths';
import { check } from '../audit/verdict';
import type { LedgerEntry } from '../load/ledger';
import { collectReleaseEvidence, releaseControlOf } from '../release/releaseEvidence';
import { readVersionWindows, serviceScrapeIntervalS } from '../release/versionMetrics';
import { apiUrlOf } from './common';
import type { Drill, DrillContext } from './drill';
import { NOT_OVERLOAD_ENV, RELEASE_VERSIONS, SERVICE_ENV } from './knobs';

/** Direct load on green before the switch: its JIT, pools and connections warm (audited like the rest). */
const WARM_UP_S = 5;

export const blueGreen: Drill = {
  name: 'blue-green',
  title: 'Blue/green release: green warmed beside blue, the balancer switched at once and back',
  objective:
    'Green (the new version) starts beside blue, is warmed and checked ready; the balancer moves all traffic to green at once, then back to blue at once; clients see no failure at any point and every acknowledged order is kept.',
  setup: {
    apiReplicas: 1,
    loadBalancer: true,
    balancerReconfigured: true,
    pipeline: true,
    serviceEnv: {
      ...NOT_OVERLOAD_ENV,
      [SERVICE_ENV.targetLatencyMs]: '0',
      [SERVICE_ENV.serviceVersion]: RELEASE_VERSIONS.baseline,
    },
  },
  defaults: { rate: 40, durationS: 90, shortDurationS: 45 },
  expectations: {
    explained: [],
    maxUnexplainedFailures: 0,
    data: { confirmWithinS: 60 },
    traces: { minCompleteShare: 1 },
    alerts: [],
    recoveryGraceS: 0,
  },
  async run(ctx) {
    const release = releaseControlOf(ctx, 'blue-green');
    const [blue, green] = release.releaseSlots();
    if (!blue || !green) throw new Error('the blue-green drill needs two API replica slots');
    const { rate, durationS } = ctx.args;
    const scrapeS = await serviceScrapeIntervalS(ctx.target.prometheus());
    // Each colour serves alone for this long: several scrapes, so Prometheus can show who served.
    const holdS = Math.max(3 * scrapeS, Math.round(durationS / 4));
    const versions = { [blue]: RELEASE_VERSIONS.baseline, [green]: RELEASE_VERSIONS.good };
    const events: { at: number; version: string; share: number; action: string; detail: string }[] = [];
    const note = (version: string, action: string, detail: string) => {
      const event = { at: Date.now(), version, share: 100, action, detail };
      events.push(event);
      ctx.log(`  ${action}: ${detail}`);
      void ctx.annotate?.(`blue-green: ${action} — ${detail}`, ['release', 'blue-green', action]);
    };

    const stop = new AbortController();
    const loading = ctx.load({
      url: apiUrlOf(ctx),
      target: 'lb',
      steps: [{ atS: 0, rate }],
      durationS: 900,
      signal: stop.signal,
    });
    const switches: { name: string; at: number; tookMs: number }[] = [];
    let greenReady = false;
    let servedAlone: { colour: string; others: number; own: number }[] = [];
    let warmEntries: LedgerEntry[] = [];
    try {
      await ctx.sleep(holdS);
      ctx.log(`green: ${green} as ${versions[green]} beside blue ${blue} (${versions[blue]})`);
      const greenUrls = await release.startRelease(green, { [SERVICE_ENV.serviceVersion]: versions[green]! });
      note(versions[green]!, 'green ready', `${green} answers /readyz, no traffic yet`);
      warmEntries = (
        await ctx.load({
          url: greenUrls.httpUrl,
          target: 'green-warm-up',
          steps: [{ atS: 0, rate: Math.min(rate, 20) }],
          durationS: WARM_UP_S,
        })
      ).entries;
      greenReady = await isReady(greenUrls.adminUrl);
      if (!greenReady) throw new Error(`${green} is not ready after its warm-up: not switching`);

      const cut = async (name: string, to: string, from: string): Promise<number> => {
        const begin = Date.now();
        await release.setWeights({ [to]: 100, [from]: 0 });
        const tookMs = Date.now() - begin;
        switches.push({ name, at: begin, tookMs });
        note(versions[to]!, name, `all new requests to ${to} (${versions[to]}) in ${tookMs} ms`);
        return begin;
      };
      const toGreen = await cut('switch to green', green, blue);
      await ctx.sleep(holdS);
      const onGreen = await servedBy(ctx, toGreen, versions, green, scrapeS);
      const back = await cut('switch back to blue', blue, green);
      await ctx.sleep(holdS);
      const onBlue = await servedBy(ctx, back, versions, blue, scrapeS);
      servedAlone = [onGreen, onBlue];
      await ctx.target.stop(green);
      note(versions[green]!, 'green retired', `${green} stopped (SIGTERM) after the switch back`);
    } finally {
      stop.abort();
    }
    const { entries, start, end } = await loading;
    const evidence = await collectReleaseEvidence(ctx.target.prometheus(), start, end, events, scrapeS);
    return {
      checks: blueGreenChecks({ entries, warmEntries, greenReady, switches, servedAlone }),
      facts: {
        'hold per colour (s)': holdS,
        ...Object.fromEntries(switches.map((s) => [`${s.name} took (ms)`, s.tookMs])),
      },
      release: evidence,
    };
  },
};

async function isReady(adminUrl: string): Promise<boolean> {
  try {
    const r = await fetch(new URL('/readyz', adminUrl), { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/**
 * Requests Prometheus saw per colour after a switch: from one scrape after it (requests in flight
 * at the switch finish on the old colour) to now.
 */
async function servedBy(
  ctx: DrillContext,
  switchedAt: number,
  versions: Record<string, string>,
  colour: string,
  scrapeS: number,
): Promise<{ colour: string; others: number; own: number }> {
  const windowS = (Date.now() - switchedAt) / 1000 - scrapeS;
  if (windowS < scrapeS) throw new Error(`hold too short to judge who served (${windowS.toFixed(0)} s)`);
  const windows = await readVersionWindows(ctx.target.prometheus(), windowS);
  let own = 0;
  let others = 0;
  for (const [version, w] of windows) {
    if (version === versions[colour]) own += w.requests;
    else others += w.requests;
  }
  return { colour, own, others };
}

export function blueGreenChecks(input: {
  entries: readonly LedgerEntry[];
  warmEntries: readonly LedgerEntry[];
  greenReady: boolean;
  switches: readonly { name: string; tookMs: number }[];
  servedAlone: readonly { colour: string; others: number; own: number }[];
}) {
  const failed = input.entries.filter((e) => e.target === 'lb' && classifyOutcome(e) !== 'ok');
  const lb = input.entries.filter((e) => e.target === 'lb').length;
  const warmOk = input.warmEntries.filter((e) => classifyOutcome(e) === 'ok').length;
  return [
    check(
      'green warmed and ready before the switch',
      input.greenReady && input.warmEntries.length > 0 && warmOk === input.warmEntries.length,
      `${warmOk}/${input.warmEntries.length} warm-up requests on green answered 2xx; /readyz ${input.greenReady ? '200' : 'not 200'}`,
    ),
    check(
      'switched at once, and back',
      input.switches.length === 2,
      input.switches.map((s) => `${s.name} in ${s.tookMs} ms`).join('; ') || 'no switch happened',
    ),
    check(
      'each colour served alone after its switch (Prometheus by version)',
      input.servedAlone.length === 2 && input.servedAlone.every((s) => s.own > 0 && s.others === 0),
      input.servedAlone.map((s) => `${s.colour}: ${s.own} requests, others ${s.others}`).join('; ') ||
        'not measured',
    ),
    check(
      'zero client-visible failures through the switches',
      lb > 0 && failed.length === 0,
      `${lb - failed.length}/${lb} requests through the balancer answered 2xx`,
    ),
  ];
}
