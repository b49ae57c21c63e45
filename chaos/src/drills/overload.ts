import { readFileSync } from 'node:fs';
import { percentile } from '../audit/maths';
import { check } from '../audit/verdict';
import { describeStep, findCapacity } from '../load/capacityProbe';
import type { Drill } from './drill';
import { SHED_ANYWHERE } from './expectations';
import { apiUrlOf } from './common';
import { ALERTS, SLO_LATENCY_MS } from './knobs';

/** Resident memory of a process (native target), from /proc. */
function residentMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const OVERLOAD_MEMORY_LIMIT_MIB = 768;
/**
 * The capacity ladder (open model, as `npm run bench:overload`): from 40/s, ×1.4 a step, until a
 * step sheds more than 1 % or its accepted p99 passes the SLO. A closed loop of workers measured
 * the shedding instead: against 503s answered in microseconds its workers spin.
 */
const LADDER = { startRate: 40, growth: 1.4, maxSteps: 12, maxRate: 310 } as const;
/**
 * Connections the client fleet holds before the spike: clients of a real service are connected
 * already; a generator that opens hundreds of sockets in the spike's first second measures its
 * own connection set-up (and the listen queue), not the shedding.
 */
const WARM_CONNECTIONS = 256;

export const overload: Drill = {
  name: 'overload',
  title: 'A spike to 3× capacity',
  objective:
    'Under three times the capacity the service sheds the excess with 503 + Retry-After before any DB work, so goodput stays near capacity, accepted requests keep p99 under the 250 ms SLO and memory stays bounded.',
  setup: { apiReplicas: 1, loadBalancer: false, pipeline: true, serviceEnv: {} },
  // rate 0 = measure capacity first; a given --rate is taken as the capacity.
  defaults: { rate: 0, durationS: 60, shortDurationS: 40 },
  expectations: {
    explained: [SHED_ANYWHERE],
    maxUnexplainedFailures: 0,
    acceptedP99: { maxMs: SLO_LATENCY_MS, phases: ['fault'] },
    minShedShareInFault: 0.2,
    minGoodputRatioInFault: 0.5,
    recoversWithinS: 10,
    data: { confirmWithinS: 90 },
    alerts: [
      { name: ALERTS.shedding, fires: true, resolves: true, because: 'requests are shed during the spike' },
    ],
    recoveryGraceS: 5,
  },
  async run(ctx) {
    const url = apiUrlOf(ctx);
    let capacity = ctx.args.rate;
    if (capacity <= 0) {
      const stepSeconds = ctx.args.short ? 3 : 5;
      ctx.log(
        `measuring capacity (open-model ladder from ${LADDER.startRate}/s, ×${LADDER.growth}, ${stepSeconds} s a step)…`,
      );
      const found = await findCapacity(url, {
        ...LADDER,
        client: ctx.client,
        stepSeconds,
        // A failed step runs once more, as in bench:overload: one transient second (a GC, the relay
        // draining the previous drill's backlog) stopped a CI ladder at 40/s, and the 120/s spike
        // that followed was no overload at all (4 % shed). The ladder stops at 301/s (maxRate 310):
        // the spike is 3× what is found, and in CI, beside Kafka and Prometheus, 3× the api's
        // sustained ~1,000+/s would drill the machine, not the service (a 903/s spike passes there).
        stepRetries: 1,
        sloMs: SLO_LATENCY_MS,
        seed: ctx.args.seed,
        onStep: (step, i) => ctx.log(`  ${describeStep(step, i)}`),
      });
      if (found.capacity <= 0)
        throw new Error(
          `not even ${LADDER.startRate} orders/s met the SLO: the service is too slow to drill overload`,
        );
      capacity = Math.round(found.capacity);
      ctx.log(
        found.capped
          ? `capacity ≥ ${capacity} orders/s (the ladder stops at ${LADDER.maxRate}/s; on a faster machine give --rate N, N = its capacity)`
          : `capacity ≈ ${capacity} orders/s`,
      );
      await ctx.sleep(2); // let the ladder's last step drain before the baseline
    }
    const { durationS } = ctx.args;
    const baseline = Math.max(1, Math.round(capacity * 0.5));
    const spike = Math.round(capacity * 3);
    const spikeAt = Math.round(durationS * 0.25);
    const spikeFor = Math.round(durationS * 0.4);
    ctx.log(`baseline ${baseline}/s, spike ${spike}/s from ${spikeAt} s for ${spikeFor} s`);
    const warmed = await ctx.client.warm(new URL(url), WARM_CONNECTIONS);
    ctx.log(`client fleet: ${warmed} keep-alive connections open before the load`);
    const loading = ctx.load({
      url,
      target: 'api',
      steps: [
        { atS: 0, rate: baseline },
        { atS: spikeAt, rate: spike },
        { atS: spikeAt + spikeFor, rate: baseline },
      ],
      durationS,
    });
    const startedAt = Date.now();
    await ctx.sleep(spikeAt);
    const start = Date.now();
    await ctx.sleep(spikeFor - (Date.now() - startedAt - spikeAt * 1000) / 1000);
    ctx.markFault({ name: `spike ${spike}/s (3× capacity)`, start, end: Date.now() });
    const api = ctx.target.apiComponents()[0] ?? 'api-1';
    let peakMiB = 0;
    const sampler = setInterval(
      () => void ctx.target.pidOf(api).then((pid) => (peakMiB = Math.max(peakMiB, residentMiB(pid) ?? 0))),
      1000,
    );
    try {
      await loading;
    } finally {
      clearInterval(sampler);
    }
    const endMiB = residentMiB(await ctx.target.pidOf(api));
    // Service-side time (actual send → answer) of accepted spike requests, to tell the generator's lag apart.
    const { entries } = await loading;
    const spikeOk = entries.filter(
      (e) =>
        e.status !== null &&
        e.status < 300 &&
        e.sentAt !== null &&
        e.intendedAt >= start &&
        e.intendedAt <= start + spikeFor * 1000,
    );
    const serviceP99 = percentile(
      spikeOk.map((e) => e.completedAt - (e.sentAt as number)),
      99,
    );
    return {
      referenceGoodput: capacity,
      checks: [
        check(
          `memory bounded (RSS ≤ ${OVERLOAD_MEMORY_LIMIT_MIB} MiB)`,
          endMiB === undefined || Math.max(peakMiB, endMiB) <= OVERLOAD_MEMORY_LIMIT_MIB,
          endMiB === undefined
            ? 'process memory not visible on this target (see the memory panel)'
            : `api RSS ${endMiB.toFixed(0)} MiB at the end (peak sampled after the spike ${peakMiB.toFixed(0)} MiB)`,
          endMiB !== undefined,
        ),
      ],
      facts: {
        capacityPerSecond: capacity,
        baselinePerSecond: baseline,
        spikePerSecond: spike,
        acceptedP99InSpikeFromActualSendMs: Number.isNaN(serviceP99) ? -1 : Math.round(serviceP99),
      },
    };
  },
};
