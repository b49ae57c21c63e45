/**
 * The k6 scenarios without a k6 binary (k6 is AGPL and not installed here): the scripts type-check
 * against @types/k6, every scenario file exports what k6 needs, and the options every file builds
 * (loaded from the same pure modules k6 runs, via Node's type stripping) are open-model, bounded
 * and carry exactly the SLOs of loadtest/k6/config/slo.json.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, before } from 'node:test';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const repoRoot = path.resolve(__dirname, '../../..');
const k6Dir = path.join(repoRoot, 'loadtest/k6');
const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');

/* Local shapes of the modules under test (they are compiled by k6's tsconfig, not this one). */
interface Stage {
  duration: string;
  target: number;
}
interface ScenarioOptions {
  executor: string;
  exec?: string;
  rate?: number;
  startRate?: number;
  timeUnit?: string;
  duration?: string;
  stages?: Stage[];
  preAllocatedVUs?: number;
  maxVUs?: number;
  vus?: number;
  iterations?: number;
  maxDuration?: string;
}
type Threshold = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };
interface K6Options {
  scenarios: Record<string, ScenarioOptions>;
  thresholds: Record<string, Threshold[]>;
  systemTags: string[];
  summaryTrendStats: string[];
  tags: Record<string, string>;
}
interface Slo {
  availability: {
    objective: number;
    badHttpStatus: { atLeast: number; also: number[] };
    badGrpcCodes: string[];
  };
  latency: { objective: number; thresholdSeconds: number };
  freshness: { objective: number; thresholdSeconds: number };
}
interface ScenarioFile {
  file: string;
  protocol: 'http' | 'grpc';
  kind: 'smoke' | 'load' | 'stress' | 'spike' | 'soak';
}
interface Modules {
  settings: {
    readSettings(env: Record<string, string>): Record<string, unknown>;
    durationSeconds(text: string): number;
    MAX_DURATION_SECONDS: number;
  };
  slo: {
    parseSlo(json: unknown): Slo;
    errorBudget(objective: number): number;
    percentileFor(objective: number): string;
    isBadHttpStatus(slo: Slo, status: number): boolean;
    isBadGrpcCode(slo: Slo, code: number): boolean;
    expectedHttpStatusRanges(slo: Slo): { min: number; max: number }[];
  };
  scenarios: {
    buildOptions(kind: string, protocol: string, settings: unknown, slo: Slo): K6Options;
    INFORMATIONAL_THRESHOLD: string;
    formatDuration(seconds: number): string;
    stagesSeconds(stages: Stage[]): number;
  };
  catalog: { SCENARIO_FILES: ScenarioFile[] };
  names: { EXEC: Record<string, string>; METRIC: Record<string, string> };
  summaryText: {
    renderTextSummary(data: unknown, context: unknown): string;
    rateAt(ramp: { startRate: number; stages: Stage[] }, seconds: number): number;
    observedValue(expression: string, values: Record<string, number>): number | undefined;
  };
  orders: {
    newOrderBody(
      customer: string,
      random?: () => number,
    ): {
      customerId: string;
      items: { sku: string; quantity: number; unitPriceCents: number }[];
      currency: string;
    };
    idempotencyKey(runId: string, scenario: string, iteration: number, purpose: string): string;
    newRunId(now: number, random?: () => number): string;
    isProcessed(status: unknown): boolean;
    toGrpcCreateRequest(body: unknown, key: string): Record<string, unknown>;
  };
}

async function load<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(path.join(k6Dir, relative)).href)) as T;
}

let m: Modules;
let slo: Slo;
const OPEN_MODEL = new Set(['constant-arrival-rate', 'ramping-arrival-rate']);

before(async () => {
  m = {
    settings: await load('config/settings.ts'),
    slo: await load('config/slo.ts'),
    scenarios: await load('config/scenarios.ts'),
    catalog: await load('config/catalog.ts'),
    names: await load('config/names.ts'),
    summaryText: await load('lib/summaryText.ts'),
    orders: await load('data/orders.ts'),
  };
  slo = m.slo.parseSlo(JSON.parse(readFileSync(path.join(k6Dir, 'config/slo.json'), 'utf8')));
});

function expressionOf(threshold: Threshold): string {
  return typeof threshold === 'string' ? threshold : threshold.threshold;
}

describe('k6 scripts type-check against @types/k6', () => {
  it('tsc -p loadtest/k6/tsconfig.json --noEmit exits 0', () => {
    const run = spawnSync(process.execPath, [tsc, '-p', path.join(k6Dir, 'tsconfig.json'), '--noEmit'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `tsc reported:\n${run.stdout}${run.stderr}`);
  });

  it('checks every scenario file together with the k6 type definitions', () => {
    const run = spawnSync(
      process.execPath,
      [tsc, '-p', path.join(k6Dir, 'tsconfig.json'), '--listFilesOnly'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const files = run.stdout.split('\n').map((f) => path.resolve(f.trim()));
    for (const entry of m.catalog.SCENARIO_FILES)
      assert.ok(files.includes(path.join(k6Dir, entry.file)), entry.file);
    assert.ok(files.some((f) => f.endsWith(path.join('@types', 'k6', 'net', 'grpc', 'index.d.ts'))));
    assert.ok(files.some((f) => f.endsWith(path.join('@types', 'k6', 'http', 'index.d.ts'))));
  });
});

describe('scenario files', () => {
  it('the catalogue lists exactly the files in loadtest/k6/http and loadtest/k6/grpc', () => {
    const onDisk = ['http', 'grpc'].flatMap((dir) =>
      readdirSync(path.join(k6Dir, dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `${dir}/${f}`),
    );
    assert.deepEqual(m.catalog.SCENARIO_FILES.map((s) => s.file).sort(), onDisk.sort());
    assert.equal(m.catalog.SCENARIO_FILES.length, 10);
  });

  it('each exports a default function, options, handleSummary, setup and every function its scenarios exec', () => {
    const program = ts.createProgram(
      m.catalog.SCENARIO_FILES.map((s) => path.join(k6Dir, s.file)),
      {
        noEmit: true,
        allowImportingTsExtensions: true,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        target: ts.ScriptTarget.ES2022,
        types: ['k6'],
        typeRoots: [path.join(repoRoot, 'node_modules/@types')],
      },
    );
    const checker = program.getTypeChecker();
    const settings = m.settings.readSettings({});
    for (const entry of m.catalog.SCENARIO_FILES) {
      const source = program.getSourceFile(path.join(k6Dir, entry.file));
      assert.ok(source, entry.file);
      const moduleSymbol = checker.getSymbolAtLocation(source);
      assert.ok(moduleSymbol, `${entry.file} is not a module`);
      const exported = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.getName(), s]));
      const callable = (name: string): boolean => {
        const symbol = exported.get(name);
        if (symbol === undefined) return false;
        return checker.getTypeOfSymbolAtLocation(symbol, source).getCallSignatures().length > 0;
      };
      assert.ok(callable('default'), `${entry.file}: export default function`);
      assert.ok(callable('handleSummary'), `${entry.file}: export handleSummary`);
      assert.ok(callable('setup'), `${entry.file}: export setup`);
      assert.ok(exported.has('options'), `${entry.file}: export options`);
      const options = m.scenarios.buildOptions(entry.kind, entry.protocol, settings, slo);
      for (const [name, scenario] of Object.entries(options.scenarios)) {
        assert.ok(scenario.exec, `${entry.file}: scenario ${name} names its exec function`);
        assert.ok(
          callable(scenario.exec),
          `${entry.file}: scenario ${name} runs ${scenario.exec}, not exported`,
        );
      }
      const text = readFileSync(path.join(k6Dir, entry.file), 'utf8');
      assert.match(text, new RegExp(`buildOptions\\('${entry.kind}', '${entry.protocol}'`), entry.file);
      assert.match(text, new RegExp(`summaryHandler\\('${entry.protocol}', '${entry.kind}'`), entry.file);
    }
  });
});

describe('scenario options', () => {
  const environments: Record<string, Record<string, string>> = {
    defaults: {},
    'fractional rates': {
      RATE: '2.5',
      FRESHNESS_PROBE_RATE: '0.2',
      READS_PER_WRITE: '1.5',
      STRESS_START_RATE: '0.5',
    },
    'no reads, short runs': {
      READS_PER_WRITE: '0',
      LOAD_DURATION: '30s',
      SOAK_DURATION: '10m',
      MAX_VUS: '50',
    },
  };

  for (const [label, env] of Object.entries(environments)) {
    it(`are open-model, positive and bounded (${label})`, () => {
      const settings = m.settings.readSettings(env);
      for (const entry of m.catalog.SCENARIO_FILES) {
        const options = m.scenarios.buildOptions(entry.kind, entry.protocol, settings, slo);
        const scenarios = Object.entries(options.scenarios);
        assert.ok(scenarios.length > 0, entry.file);
        for (const [name, s] of scenarios) {
          const where = `${entry.file} ${name}`;
          if (entry.kind === 'smoke') {
            assert.equal(s.executor, 'per-vu-iterations', where);
            assert.ok((s.iterations ?? 0) >= 1 && s.maxDuration !== undefined, where);
            continue;
          }
          assert.ok(OPEN_MODEL.has(s.executor), `${where}: ${s.executor} is not an arrival-rate executor`);
          assert.ok(s.timeUnit === '1s' || s.timeUnit === '1m', where);
          const rates =
            s.executor === 'constant-arrival-rate'
              ? [s.rate]
              : [s.startRate, ...(s.stages ?? []).map((t) => t.target)];
          for (const rate of rates) {
            assert.ok(
              Number.isInteger(rate) && (rate ?? 0) >= 1,
              `${where}: rate ${rate} must be a positive integer`,
            );
          }
          const seconds =
            s.executor === 'constant-arrival-rate'
              ? m.settings.durationSeconds(s.duration ?? '')
              : m.scenarios.stagesSeconds(s.stages ?? []);
          assert.ok(seconds > 0 && seconds <= m.settings.MAX_DURATION_SECONDS, `${where}: ${seconds}s`);
          assert.ok((s.preAllocatedVUs ?? 0) >= 1, where);
          assert.ok((s.maxVUs ?? 0) >= (s.preAllocatedVUs ?? 0), where);
          assert.ok((s.maxVUs ?? 0) <= Math.max(Number(settings['maxVUs']), s.preAllocatedVUs ?? 0), where);
        }
        if (entry.kind !== 'smoke') {
          assert.ok(options.scenarios['writes'] && options.scenarios['freshness'], entry.file);
          assert.equal(
            options.scenarios['reads'] === undefined,
            Number(settings['readsPerWrite']) === 0,
            entry.file,
          );
        }
      }
    });
  }

  it('turn fractional per-second rates into per-minute rates instead of rounding them away', () => {
    const options = m.scenarios.buildOptions('load', 'http', m.settings.readSettings({ RATE: '2.5' }), slo);
    assert.deepEqual([options.scenarios['writes']?.rate, options.scenarios['writes']?.timeUnit], [150, '1m']);
  });

  it('ramp the stress run from the start rate to the maximum and the spike by its factor', () => {
    const settings = m.settings.readSettings({
      RATE: '30',
      SPIKE_FACTOR: '4',
      STRESS_START_RATE: '5',
      STRESS_MAX_RATE: '300',
    });
    const stress = m.scenarios.buildOptions('stress', 'grpc', settings, slo).scenarios['writes'];
    assert.equal(stress?.startRate, 5);
    assert.deepEqual(
      stress?.stages?.map((s) => s.target),
      [300],
    );
    const spike = m.scenarios.buildOptions('spike', 'http', settings, slo).scenarios['writes'];
    assert.equal(Math.max(...(spike?.stages ?? []).map((s) => s.target)), 120);
    assert.equal(spike?.stages?.at(-1)?.target, 30, 'the spike ends back at the base rate');
  });

  it('keep url out of the tags (it holds order ids: unbounded labels under remote write)', () => {
    const options = m.scenarios.buildOptions('load', 'http', m.settings.readSettings({}), slo);
    assert.ok(!options.systemTags.includes('url'));
    assert.ok(!options.systemTags.includes('vu') && !options.systemTags.includes('iter'));
    assert.ok(options.systemTags.includes('name') && options.systemTags.includes('status'));
    assert.ok(options.summaryTrendStats.includes(m.slo.percentileFor(slo.latency.objective)));
  });
});

describe('thresholds are the SLOs', () => {
  it('slo.json holds the numbers of DESIGN.md §4', () => {
    assert.equal(slo.availability.objective, 0.999);
    assert.equal(slo.latency.objective, 0.99);
    assert.equal(slo.latency.thresholdSeconds, 0.25);
    assert.equal(slo.freshness.objective, 0.99);
    assert.equal(slo.freshness.thresholdSeconds, 5);
  });

  it('every scenario carries the three SLO thresholds, derived from slo.json', () => {
    const settings = m.settings.readSettings({});
    for (const entry of m.catalog.SCENARIO_FILES) {
      const { thresholds } = m.scenarios.buildOptions(entry.kind, entry.protocol, settings, slo);
      const expr = (key: string): string[] => (thresholds[key] ?? []).map(expressionOf);
      assert.deepEqual(expr(m.names.METRIC['sloBadRequests'] ?? ''), ['rate<=0.001'], entry.file);
      assert.deepEqual(expr(m.names.METRIC['freshnessWithinSlo'] ?? ''), ['rate>=0.99'], entry.file);
      const latencyKey =
        entry.protocol === 'http'
          ? 'http_req_duration{name:/v1/orders,method:POST,expected_response:true}'
          : 'grpc_req_duration{name:order.v1.OrderService/CreateOrder}';
      assert.deepEqual(expr(latencyKey), ['p(99)<250'], entry.file);
      // Nothing else may fail a run except checks in smoke.
      for (const [key, list] of Object.entries(thresholds)) {
        for (const t of list.map(expressionOf)) {
          const isSlo = [
            m.names.METRIC['sloBadRequests'],
            m.names.METRIC['freshnessWithinSlo'],
            latencyKey,
          ].includes(key);
          const isSmokeChecks = entry.kind === 'smoke' && key === 'checks' && t === 'rate==1';
          assert.ok(
            isSlo || isSmokeChecks || t === m.scenarios.INFORMATIONAL_THRESHOLD,
            `${entry.file}: ${key} ${t}`,
          );
        }
      }
    }
  });

  it('follow a changed slo.json (no number is copied into the options)', () => {
    const stricter = m.slo.parseSlo({
      ...slo,
      availability: { ...slo.availability, objective: 0.9995 },
      latency: { objective: 0.995, thresholdSeconds: 0.1 },
      freshness: { objective: 0.95, thresholdSeconds: 2 },
    });
    const { thresholds, scenarios } = m.scenarios.buildOptions(
      'load',
      'grpc',
      m.settings.readSettings({}),
      stricter,
    );
    assert.deepEqual(thresholds['orderlab_slo_bad_requests'], ['rate<=0.0005']);
    assert.deepEqual(thresholds['grpc_req_duration{name:order.v1.OrderService/CreateOrder}'], [
      'p(99.5)<100',
    ]);
    assert.deepEqual(thresholds['orderlab_freshness_within_slo'], ['rate>=0.95']);
    assert.equal(scenarios['freshness']?.preAllocatedVUs, 5, 'probe VUs follow the freshness threshold');
  });

  it('abort on failure where a run is long or meant to find a limit: stress and soak, never smoke or load', () => {
    const settings = m.settings.readSettings({});
    for (const entry of m.catalog.SCENARIO_FILES) {
      const { thresholds } = m.scenarios.buildOptions(entry.kind, entry.protocol, settings, slo);
      const aborting = Object.values(thresholds)
        .flat()
        .filter((t): t is Exclude<Threshold, string> => typeof t !== 'string' && t.abortOnFail === true);
      const expected = entry.kind === 'stress' || entry.kind === 'soak' ? 3 : 0;
      assert.equal(aborting.length, expected, entry.file);
      for (const t of aborting)
        assert.ok(m.settings.durationSeconds(t.delayAbortEval ?? '') >= 30, entry.file);
    }
  });

  it('classifies availability like the SLO: 5xx, 429 and no answer are bad, other 4xx are not', () => {
    for (const status of [0, 429, 500, 502, 503, 504])
      assert.ok(m.slo.isBadHttpStatus(slo, status), String(status));
    for (const status of [200, 201, 400, 404, 409, 422])
      assert.ok(!m.slo.isBadHttpStatus(slo, status), String(status));
    assert.deepEqual(m.slo.expectedHttpStatusRanges(slo), [
      { min: 200, max: 428 },
      { min: 430, max: 499 },
    ]);
    for (const code of [2, 4, 8, 13, 14]) assert.ok(m.slo.isBadGrpcCode(slo, code), String(code));
    for (const code of [0, 3, 5, 6, 9]) assert.ok(!m.slo.isBadGrpcCode(slo, code), String(code));
  });

  it('derives budgets and percentiles without floating-point noise', () => {
    assert.equal(m.slo.errorBudget(0.999), 0.001);
    assert.equal(m.slo.errorBudget(0.9999), 0.0001);
    assert.equal(m.slo.percentileFor(0.99), 'p(99)');
    assert.equal(m.slo.percentileFor(0.999), 'p(99.9)');
  });

  it('rejects a malformed slo.json, naming every problem', () => {
    assert.throws(
      () => m.slo.parseSlo({ availability: { objective: 1.5, badGrpcCodes: ['NOPE'] }, latency: {} }),
      (error: Error) =>
        /availability\.objective/.test(error.message) &&
        /badGrpcCodes/.test(error.message) &&
        /latency\.thresholdSeconds/.test(error.message) &&
        /freshness section is missing/.test(error.message),
    );
  });
});

describe('run settings', () => {
  it('default to the compose service names and a modest rate', () => {
    const s = m.settings.readSettings({});
    assert.equal(s['baseUrl'], 'http://api:8080');
    assert.equal(s['grpcAddress'], 'api:50051');
    assert.equal(s['writeRate'], 20);
    assert.equal(s['soakRate'], 16);
    assert.equal(s['resultsDir'], 'reports/k6');
  });

  it('reject bad values, listing every one', () => {
    assert.throws(
      () =>
        m.settings.readSettings({
          RATE: '-1',
          LOAD_DURATION: '5 minutes',
          SOAK_DURATION: '48h',
          BASE_URL: 'api:8080',
          GRPC_ADDR: 'http://api:50051',
          STRESS_START_RATE: '100',
          STRESS_MAX_RATE: '50',
          GRPC_PROTO: 'order/v1/order.proto',
          CUSTOMERS: '50',
        }),
      (error: Error) =>
        [
          'RATE',
          'LOAD_DURATION',
          'SOAK_DURATION',
          'BASE_URL',
          'GRPC_ADDR',
          'STRESS_MAX_RATE',
          'GRPC_PROTO_IMPORT_PATH',
          'CUSTOMERS',
        ].every((name) => error.message.includes(name)),
    );
  });

  it('parse k6 durations', () => {
    assert.equal(m.settings.durationSeconds('1h30m'), 5400);
    assert.equal(m.settings.durationSeconds('250ms'), 0.25);
    assert.throws(() => m.settings.durationSeconds('10'));
    assert.equal(m.scenarios.formatDuration(5420), '1h30m20s');
    assert.equal(m.scenarios.formatDuration(320), '5m20s');
  });
});

describe('test data', () => {
  it('builds orders the service accepts', async () => {
    const { validateNewOrder } = (await import(
      pathToFileURL(path.join(repoRoot, 'dist/service/src/orders/order.js')).href
    )) as {
      validateNewOrder: (input: unknown) => number;
    };
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 200; i += 1) {
      const body = m.orders.newOrderBody(`k6-run-c${i}`, random);
      const total = validateNewOrder(body);
      assert.equal(
        total,
        body.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
      );
    }
  });

  it('makes idempotency keys unique per run, scenario, iteration and purpose', () => {
    const keys = new Set<string>();
    for (const run of ['a', 'b']) {
      for (const scenario of ['setup', 'writes', 'freshness', 'smoke']) {
        for (let iteration = 0; iteration < 50; iteration += 1) {
          for (const purpose of ['write', 'probe'])
            keys.add(m.orders.idempotencyKey(run, scenario, iteration, purpose));
        }
      }
    }
    assert.equal(keys.size, 2 * 4 * 50 * 2);
    for (const key of keys) assert.ok(key.length <= 255);
    assert.notEqual(
      m.orders.newRunId(1000, () => 0.1),
      m.orders.newRunId(1000, () => 0.2),
    );
  });

  it('maps a body to the proto field names and reads proto enum statuses', () => {
    const body = m.orders.newOrderBody('c1', () => 0);
    assert.deepEqual(m.orders.toGrpcCreateRequest(body, 'k1'), {
      customer_id: 'c1',
      items: [{ sku: 'SKU-0001', quantity: 1, unit_price_cents: 100 }],
      currency: 'EUR',
      idempotency_key: 'k1',
    });
    assert.ok(m.orders.isProcessed('confirmed') && m.orders.isProcessed('ORDER_STATUS_REJECTED'));
    assert.ok(
      !m.orders.isProcessed('pending') &&
        !m.orders.isProcessed('ORDER_STATUS_PENDING') &&
        !m.orders.isProcessed(undefined),
    );
  });
});

describe('text summary', () => {
  const context = {
    title: 'http-stress',
    sloLabels: {
      orderlab_slo_bad_requests: 'availability',
      'http_req_duration{name:/v1/orders,method:POST,expected_response:true}': 'latency',
      orderlab_freshness_within_slo: 'freshness',
    },
    ramp: { startRate: 10, stages: [{ duration: '10m', target: 500 }] },
  };
  const data = (latencyOk: boolean, dropped: number): unknown => ({
    state: { testRunDurationMs: 300_000 },
    metrics: {
      orderlab_slo_bad_requests: {
        type: 'rate',
        values: { rate: 0.0002, passes: 3, fails: 14997 },
        thresholds: { 'rate<=0.001': { ok: true } },
      },
      'http_req_duration{name:/v1/orders,method:POST,expected_response:true}': {
        type: 'trend',
        contains: 'time',
        values: { 'p(99)': latencyOk ? 180.5 : 412.25, med: 20 },
        thresholds: { 'p(99)<250': { ok: latencyOk } },
      },
      'http_req_duration{operation:getOrder}': {
        type: 'trend',
        contains: 'time',
        values: { count: 9000, med: 4.2, 'p(95)': 11, 'p(99)': 30, max: 95 },
        thresholds: { 'max>=0': { ok: true } },
      },
      checks: { type: 'rate', values: { rate: 1, passes: 15000, fails: 0 } },
      dropped_iterations: { type: 'counter', values: { count: dropped, rate: 0 } },
    },
  });

  it('says PASS, shows observed values per SLO and per operation', () => {
    const text = m.summaryText.renderTextSummary(data(true, 0), context);
    assert.match(text.split('\n')[0] ?? '', /http-stress: PASS/);
    assert.match(text, /ok\s+latency\s+p\(99\)<250\s+180\.5ms/);
    assert.match(text, /ok\s+availability\s+rate<=0\.001\s+2\.00e-4/);
    assert.match(text, /getOrder\s+9000\s+4\.2ms\s+11\.0ms\s+30\.0ms\s+95\.0ms/);
    assert.match(text, /Requests counted against availability: 3 of 15000/);
    assert.doesNotMatch(text, /max>=0/);
    assert.doesNotMatch(text, /WARNING/);
  });

  it('says FAIL, warns about dropped iterations and names the rate a stress run ended at', () => {
    const text = m.summaryText.renderTextSummary(data(false, 42), context);
    assert.match(text.split('\n')[0] ?? '', /FAIL \(1 threshold/);
    assert.match(text, /FAIL\s+latency\s+p\(99\)<250\s+412\.3ms/);
    assert.match(text, /WARNING: 42 iterations dropped/);
    assert.match(text, /about 255\.0 orders\/s — the breakpoint lies at or below/);
  });

  it('interpolates ramps like k6 and reads the compared statistic of an expression', () => {
    const ramp = {
      startRate: 20,
      stages: [
        { duration: '1m', target: 20 },
        { duration: '10s', target: 200 },
        { duration: '1m', target: 200 },
      ],
    };
    assert.equal(m.summaryText.rateAt(ramp, 30), 20);
    assert.equal(m.summaryText.rateAt(ramp, 65), 110);
    assert.equal(m.summaryText.rateAt(ramp, 500), 200);
    assert.equal(m.summaryText.observedValue('p(99.9)<250', { 'p(99.9)': 7 }), 7);
    assert.equal(m.summaryText.observedValue('rate>=0.99', { rate: 0.5 }), 0.5);
    assert.equal(m.summaryText.observedValue('nonsense', { rate: 0.5 }), undefined);
  });
});
