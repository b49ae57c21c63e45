import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CpuReading,
  cpuWindow,
  machineCpu,
  parseMachineCpu,
  processCpuSeconds,
} from '../../bench/cpuAccounting';
import type { StepResult } from '../../../chaos/src/load/capacityProbe';
import { apiCpuPerResponse, describeCpu } from '../../bench/overload';

const step = (ok: number, shed: number, other = 0): StepResult => ({
  rate: 0,
  sent: ok + shed + other,
  ok,
  shed,
  other,
  goodput: ok,
  okP99Ms: 0,
  shedP99Ms: 0,
  sendLagP99Ms: 0,
  passed: true,
});

describe('CPU accounting for the benchmarks', () => {
  it('reads busy and total time from the aggregate cpu line of /proc/stat (steal is busy, iowait idle)', () => {
    const text = 'cpu  100 10 40 800 30 5 5 10 7 0\ncpu0 50 5 20 400 15 2 3 5 0 0\nintr 1 2 3\n';
    // busy = user 100 + nice 10 + system 40 + irq 5 + softirq 5 + steal 10; guest (7) is inside user.
    assert.deepEqual(parseMachineCpu(text, 100), { busySeconds: 1.7, totalSeconds: 10 });
    assert.equal(parseMachineCpu('intr 1 2 3\n', 100), undefined);
    assert.equal(parseMachineCpu('cpu0 1 2 3 4\n', 100), undefined, 'a per-CPU line is not the aggregate');
  });

  it('reads this machine and this process', () => {
    const machine = machineCpu();
    assert.ok(machine && machine.totalSeconds > 0 && machine.busySeconds <= machine.totalSeconds);
    const before = processCpuSeconds(process.pid);
    let spin = 0;
    for (let i = 0; i < 5e6; i++) spin += i % 7;
    assert.ok(spin > 0);
    const after = processCpuSeconds(process.pid);
    assert.ok(before !== undefined && after !== undefined && after >= before);
    assert.equal(processCpuSeconds(2 ** 30), undefined, 'no such process');
    assert.equal(processCpuSeconds(undefined), undefined);
  });

  it('turns two readings into cores per process and the machine busy share', () => {
    const before: CpuReading = {
      atMs: 1000,
      processSeconds: { api: 10, generator: 2, gone: 1 },
      machine: { busySeconds: 100, totalSeconds: 400 },
    };
    const after: CpuReading = {
      atMs: 3000,
      processSeconds: { api: 11.8, generator: 2.8, gone: undefined },
      machine: { busySeconds: 103.6, totalSeconds: 404 },
    };
    const w = cpuWindow(before, after);
    assert.equal(w.seconds, 2);
    assert.deepEqual(Object.keys(w.coresByProcess).sort(), ['api', 'generator']);
    assert.ok(Math.abs((w.coresByProcess['api'] ?? 0) - 0.9) < 1e-9);
    assert.ok(Math.abs((w.coresByProcess['generator'] ?? 0) - 0.4) < 1e-9);
    assert.ok(Math.abs((w.machineBusy ?? 0) - 0.9) < 1e-9);
    assert.equal(w.cpuCount, 2);
    const blind = cpuWindow({ ...before, machine: undefined }, after);
    assert.equal(blind.machineBusy, undefined);
    assert.equal(blind.cpuCount, undefined);
  });

  it("gives the api's CPU per answered request and says it in one line", () => {
    const cpu = {
      seconds: 30,
      coresByProcess: { api: 1, generator: 0.4 },
      machineBusy: 0.97,
      cpuCount: 2,
    };
    // 30 CPU-seconds over 60,000 + 240,000 answers = 100 µs each.
    assert.equal(apiCpuPerResponse(cpu, step(60_000, 240_000)), 100);
    assert.equal(apiCpuPerResponse(cpu, step(0, 0)), undefined);
    assert.equal(apiCpuPerResponse({ ...cpu, coresByProcess: {} }, step(10, 10)), undefined);
    assert.equal(
      describeCpu(cpu, step(60_000, 240_000)),
      'CPU during the overload: api 1.00 cores (100 µs per answered request), load generator 0.40 cores, machine 97 % busy (2 CPUs)',
    );
    assert.equal(
      describeCpu(
        { seconds: 30, coresByProcess: {}, machineBusy: undefined, cpuCount: undefined },
        step(1, 1),
      ),
      'CPU during the overload: api n/a cores, load generator n/a cores, machine busy n/a',
    );
  });
});
