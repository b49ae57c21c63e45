import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  baselineFrom,
  boundBy,
  compareWithBaseline,
  computeRatios,
  median,
  reqPerCpuSecond,
  type RoundSample,
  roundOrder,
  summarise,
  variantCores,
} from '../../bench/benchMath';

function sample(
  round: number,
  variant: string,
  endpoint: string,
  reqPerSec: number,
  extra: Partial<RoundSample> = {},
): RoundSample {
  return {
    round,
    variant,
    endpoint,
    reqPerSec,
    p50Ms: 10,
    p975Ms: 20,
    p99Ms: 30,
    requests: 1000,
    okResponses: 1000,
    errors: 0,
    non2xx: 0,
    ...extra,
  };
}

describe('reqPerCpuSecond', () => {
  it('divides 2xx responses by the CPU seconds of the variant, and knows when it cannot', () => {
    assert.equal(reqPerCpuSecond(sample(0, 'a', 'get', 100, { okResponses: 500, cpuSeconds: 2 })), 250);
    assert.equal(reqPerCpuSecond(sample(0, 'a', 'get', 100)), undefined);
    assert.equal(reqPerCpuSecond(sample(0, 'a', 'get', 100, { cpuSeconds: 0 })), undefined);
  });
});

describe('variantCores and boundBy', () => {
  it("turns a step's CPU seconds into cores over its wall-clock duration", () => {
    assert.equal(variantCores(sample(0, 'a', 'get', 1, { cpuSeconds: 3, durationSeconds: 3 })), 1);
    assert.equal(variantCores(sample(0, 'a', 'get', 1, { cpuSeconds: 1.5, durationSeconds: 3 })), 0.5);
    assert.equal(variantCores(sample(0, 'a', 'get', 1, { cpuSeconds: 3 })), undefined);
    assert.equal(variantCores(sample(0, 'a', 'get', 1, { durationSeconds: 3 })), undefined);
    assert.equal(variantCores(sample(0, 'a', 'get', 1, { cpuSeconds: 3, durationSeconds: 0 })), undefined);
  });
  it('says event loop at ~1 core whatever the machine did', () => {
    assert.equal(boundBy(1.02, 0.5), 'event loop');
    assert.equal(boundBy(0.9, undefined), 'event loop');
  });
  it('says machine below a core when the CPUs were all but full, neither when they were not', () => {
    assert.equal(boundBy(0.78, 0.97), 'machine');
    assert.equal(boundBy(0.78, 0.85), 'machine');
    assert.equal(boundBy(0.78, 0.84), 'neither');
  });
  it('says unknown without the readings it needs', () => {
    assert.equal(boundBy(undefined, 0.97), 'unknown');
    assert.equal(boundBy(0.5, undefined), 'unknown');
  });
});

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle two of an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });
  it('refuses no values', () => {
    assert.throws(() => median([]), /no values/);
  });
});

describe('summarise', () => {
  it('gives the median, range and relative spread per variant and endpoint, and sums failures', () => {
    const [s] = summarise([
      sample(0, 'a', 'post', 900, { errors: 1, p99Ms: 50 }),
      sample(1, 'a', 'post', 1000, { non2xx: 2, p99Ms: 40 }),
      sample(2, 'a', 'post', 1100, { p99Ms: 60 }),
    ]);
    assert.ok(s);
    assert.equal(s.reqPerSec, 1000);
    assert.equal(s.reqPerSecMin, 900);
    assert.equal(s.reqPerSecMax, 1100);
    assert.ok(Math.abs(s.relativeSpread - 0.2) < 1e-9);
    assert.equal(s.p99Ms, 50);
    assert.equal(s.errors, 1);
    assert.equal(s.non2xx, 2);
    assert.equal(s.requests, 3000);
  });
  it('gives the median cores and machine share of the rounds and what bound the variant', () => {
    const [s] = summarise([
      sample(0, 'a', 'get', 900, { cpuSeconds: 3.0, durationSeconds: 3, machineBusy: 0.8 }),
      sample(1, 'a', 'get', 1000, { cpuSeconds: 2.97, durationSeconds: 3, machineBusy: 0.95 }),
      sample(2, 'a', 'get', 1100, { cpuSeconds: 1.5, durationSeconds: 3, machineBusy: 0.99 }),
    ]);
    assert.ok(s);
    assert.ok(Math.abs((s.cores ?? 0) - 0.99) < 1e-9);
    assert.equal(s.machineBusy, 0.95);
    assert.equal(s.boundBy, 'event loop');
    const [none] = summarise([sample(0, 'b', 'get', 1)]);
    assert.equal(none?.cores, undefined);
    assert.equal(none?.boundBy, 'unknown');
  });
  it('keeps variants and endpoints apart', () => {
    const out = summarise([sample(0, 'a', 'post', 1), sample(0, 'a', 'get', 2), sample(0, 'b', 'post', 3)]);
    assert.equal(out.length, 3);
  });
});

describe('computeRatios', () => {
  const def = { name: 'post.a/b', endpoint: 'post', numerator: 'a', denominator: 'b', target: 0.85 };

  it('divides the medians and pairs rounds for the per-round range', () => {
    const [r] = computeRatios(
      [def],
      [
        sample(0, 'a', 'post', 800),
        sample(0, 'b', 'post', 1000),
        sample(1, 'a', 'post', 900),
        sample(1, 'b', 'post', 900),
        sample(2, 'a', 'post', 850),
        sample(2, 'b', 'post', 1100),
      ],
    );
    assert.ok(r);
    assert.equal(r.value, 850 / 1000);
    assert.equal(r.roundMin, 850 / 1100);
    assert.equal(r.roundMax, 1);
    assert.equal(r.meetsTarget, true);
  });

  it('gives the CPU-normalised ratio beside the throughput ratio', () => {
    const [r] = computeRatios(
      [def],
      [
        sample(0, 'a', 'post', 500, { okResponses: 5000, cpuSeconds: 10 }),
        sample(0, 'b', 'post', 1000, { okResponses: 10000, cpuSeconds: 8 }),
      ],
    );
    assert.equal(r?.value, 0.5);
    assert.equal(r?.cpuValue, 500 / 1250);
  });

  it('reports a missed target', () => {
    const [r] = computeRatios([def], [sample(0, 'a', 'post', 500), sample(0, 'b', 'post', 1000)]);
    assert.equal(r?.meetsTarget, false);
  });

  it('leaves the ratio undefined when a side is missing or did nothing', () => {
    const [missing] = computeRatios([def], [sample(0, 'a', 'post', 500)]);
    assert.equal(missing?.value, undefined);
    assert.equal(missing?.meetsTarget, undefined);
    const [zero] = computeRatios([def], [sample(0, 'a', 'post', 500), sample(0, 'b', 'post', 0)]);
    assert.equal(zero?.value, undefined);
  });
});

describe('compareWithBaseline', () => {
  const baseline = { tolerance: 0.1, ratios: { x: 0.9, y: 0.75 } };

  it('passes a ratio within the tolerance, including exactly at it', () => {
    const { checks, failed } = compareWithBaseline(
      [
        { name: 'x', value: 0.85 },
        { name: 'y', value: 0.65 },
      ],
      baseline,
    );
    assert.equal(failed, false);
    assert.deepEqual(
      checks.map((c) => c.verdict),
      ['ok', 'ok'],
    );
  });

  it('fails when a ratio drops more than the tolerance below its baseline', () => {
    const { checks, failed } = compareWithBaseline(
      [
        { name: 'x', value: 0.79 },
        { name: 'y', value: 0.75 },
      ],
      baseline,
    );
    assert.equal(failed, true);
    assert.equal(checks[0]?.verdict, 'regressed');
    assert.ok(Math.abs((checks[0]?.delta ?? 0) + 0.11) < 1e-9);
  });

  it('calls a big rise an improvement, not a failure', () => {
    const { checks, failed } = compareWithBaseline(
      [
        { name: 'x', value: 1.1 },
        { name: 'y', value: 0.75 },
      ],
      baseline,
    );
    assert.equal(failed, false);
    assert.equal(checks[0]?.verdict, 'improved');
  });

  it('fails when a baseline ratio was not measured, and lists new ones without failing', () => {
    const { checks, failed } = compareWithBaseline(
      [
        { name: 'x', value: undefined },
        { name: 'y', value: 0.75 },
        { name: 'z', value: 0.5 },
      ],
      baseline,
    );
    assert.equal(failed, true);
    assert.deepEqual(
      checks.map((c) => [c.name, c.verdict]),
      [
        ['x', 'missing'],
        ['y', 'ok'],
        ['z', 'new'],
      ],
    );
  });
});

describe('baselineFrom', () => {
  it('rounds to three decimals and refuses an unmeasured ratio', () => {
    const b = baselineFrom([{ name: 'x', value: 0.87654 }], 0.1, 'cpu', '2026-01-01T00:00:00Z', 'n');
    assert.deepEqual(b.ratios, { x: 0.877 });
    assert.equal(b.tolerance, 0.1);
    assert.equal(b.gate, 'cpu');
    assert.throws(
      () => baselineFrom([{ name: 'x', value: undefined }], 0.1, 'throughput', 't', 'n'),
      /not measured/,
    );
  });
});

describe('roundOrder', () => {
  it('rotates the variants so each goes first once every n rounds', () => {
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 2), ['c', 'a', 'b']);
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 3), ['a', 'b', 'c']);
    assert.deepEqual(roundOrder([], 1), []);
  });
});
