import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drillPortOffset, parseCliArgs } from '../../src/cliArgs';
import { DRILLS } from '../../src/drills';

test('drill arguments parse with defaults', () => {
  const args = parseCliArgs(['broker-loss', '--rate', '25', '--duration', '30', '--seed', '7', '--short']);
  assert.equal(args.command, 'run');
  assert.equal(args.drill, 'broker-loss');
  assert.equal(args.rate, 25);
  assert.equal(args.durationS, 30);
  assert.equal(args.seed, 7);
  assert.equal(args.short, true);
  assert.equal(args.target, 'native');
  assert.equal(args.reportDir, 'reports/drills');
  assert.equal(args.generatorNice, -10);
  assert.equal(parseCliArgs(['x', '--generator-nice', '0']).generatorNice, 0);
  assert.equal(parseCliArgs(['x', '--generator-nice', '-5']).generatorNice, -5);
  assert.equal(parseCliArgs(['list']).command, 'list');
  assert.equal(parseCliArgs([]).command, 'help');
  assert.equal(parseCliArgs(['x', '--help']).command, 'help');
  assert.equal(parseCliArgs(['x', '--target', 'compose']).target, 'compose');
  assert.equal(
    parseCliArgs(['x'], { GRAFANA_URL: 'http://127.0.0.1:3000' }).grafanaUrl,
    'http://127.0.0.1:3000',
  );
});

test('bad drill arguments are rejected with the flag named', () => {
  assert.throws(() => parseCliArgs(['x', '--target', 'k8s']), /--target must be native or compose/);
  assert.throws(() => parseCliArgs(['x', '--rate']), /--rate needs a number/);
  assert.throws(() => parseCliArgs(['x', '--rate', 'fast']), /--rate needs a number ≥ 0, got "fast"/);
  assert.throws(() => parseCliArgs(['x', '--duration', '1']), /--duration needs a number ≥ 5/);
  assert.throws(() => parseCliArgs(['x', '--nope']), /unknown option --nope/);
  assert.throws(
    () => parseCliArgs(['x', '--generator-nice', '5']),
    /--generator-nice needs a whole number from -20 to 0, got "5"/,
  );
  assert.throws(
    () => parseCliArgs(['x', '--generator-nice', '-2.5']),
    /--generator-nice needs a whole number/,
  );
  assert.throws(() => parseCliArgs(['x', '--generator-nice']), /--generator-nice needs a whole number/);
  assert.throws(() => parseCliArgs(['a', 'b']), /one drill at a time/);
});

test('the drill lab port offset keeps away from the developer and test labs', () => {
  assert.equal(drillPortOffset(5, {}), 5);
  assert.equal(drillPortOffset(undefined, { DRILL_PORT_OFFSET: '700' }), 700);
  assert.equal(drillPortOffset(undefined, { LAB_PORT_OFFSET: '100' }), 2200);
  assert.equal(drillPortOffset(undefined, {}), 2100);
});

test('every drill is data next to code: unique name, objective, defaults, expectations', () => {
  const names = DRILLS.map((d) => d.name);
  assert.deepEqual(names, [
    'sigterm',
    'broker-loss',
    'db-loss',
    'overload',
    'worker-crash',
    'poison-message',
    'slow-dependency',
    'canary',
    'blue-green',
  ]);
  for (const d of DRILLS) {
    assert.ok(d.objective.length > 40, `${d.name} explains its objective`);
    assert.ok(d.defaults.shortDurationS <= 60, `${d.name} short form stays within a minute of load`);
    assert.equal(d.expectations.maxUnexplainedFailures, 0, `${d.name} tolerates no unexplained failure`);
    for (const rule of d.expectations.explained) {
      assert.notEqual(rule.outcome, 'ok');
      assert.ok(rule.because.length > 10, `${d.name}: every explained failure says why`);
    }
  }
});

test('release drill flags: the analysis and the bad release are configurable and checked', () => {
  const defaults = parseCliArgs(['canary']);
  assert.deepEqual(defaults.release.plan, [10, 50, 100]);
  const a = parseCliArgs([
    'canary',
    '--canary-plan',
    '5,25,100',
    '--analysis-interval',
    '10',
    '--min-requests',
    '50',
    '--max-error-increase',
    '0.05',
    '--bad-error-rate',
    '0.5',
    '--bad-latency-ms',
    '0',
  ]);
  assert.deepEqual(a.release.plan, [5, 25, 100]);
  assert.equal(a.release.intervalS, 10);
  assert.equal(a.release.minRequests, 50);
  assert.equal(a.release.maxErrorRatioIncrease, 0.05);
  assert.equal(a.release.badErrorRate, 0.5);
  assert.equal(a.release.badLatencyMs, 0);
  assert.throws(() => parseCliArgs(['canary', '--canary-plan', '10,50']), /the last share must be 100/);
  assert.throws(
    () => parseCliArgs(['canary', '--bad-error-rate', '1.5']),
    /--bad-error-rate is a share 0\.\.1/,
  );
  assert.throws(
    () => parseCliArgs(['canary', '--analysis-window', '3']),
    /--analysis-window needs a number ≥ 10/,
  );
});
