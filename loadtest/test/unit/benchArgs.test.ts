import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs, UsageError } from '../../bench/benchArgs';
import { parseProfileArgs, ProfileUsageError } from '../../bench/profile/profileArgs';
import { VARIANT_NAMES } from '../../bench/variants';

const parse = (argv: string[], env: Record<string, string> = {}) => parseBenchArgs(argv, env, VARIANT_NAMES);

describe('parseBenchArgs', () => {
  it('has bounded defaults', () => {
    const o = parse([]);
    assert.equal(o.connections, 32);
    assert.equal(o.durationSeconds, 10);
    assert.equal(o.rounds, 3);
    assert.deepEqual(o.endpoints, ['post', 'get']);
    assert.equal(o.variants, undefined);
    assert.equal(o.compare, true);
    assert.equal(o.updateBaseline, false);
    assert.equal(o.pgAdminUrl, undefined);
  });

  it('reads short and long flags, lists and the PostgreSQL URL from the environment', () => {
    const o = parse(
      [
        '-c',
        '8',
        '-d',
        '5',
        '-r',
        '2',
        '--endpoints',
        'get',
        '--variants',
        'bare,observed',
        '--update-baseline',
      ],
      {
        ORDERLAB_BENCH_PG_ADMIN_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      },
    );
    assert.equal(o.connections, 8);
    assert.equal(o.durationSeconds, 5);
    assert.equal(o.rounds, 2);
    assert.deepEqual(o.endpoints, ['get']);
    assert.deepEqual(o.variants, ['bare', 'observed']);
    assert.equal(o.updateBaseline, true);
    assert.equal(o.pgAdminUrl, 'postgres://postgres@127.0.0.1:5432/postgres');
  });

  it('lets the flag win over the environment', () => {
    const o = parse(['--pg-admin-url', 'postgres://a@127.0.0.1:1/x'], {
      ORDERLAB_BENCH_PG_ADMIN_URL: 'postgres://b@h/y',
    });
    assert.equal(o.pgAdminUrl, 'postgres://a@127.0.0.1:1/x');
  });

  for (const [argv, message] of [
    [['-c', '0'], /connections/],
    [['-d', 'ten'], /duration/],
    [['--endpoints', 'put'], /unknown put/],
    [['--variants', 'fastify'], /unknown fastify/],
    [['--tolerance', '1.5'], /tolerance/],
    [['--port-base', '80'], /port-base/],
    [['--pg-admin-url', 'mysql://x'], /postgres/],
    [['--update-baseline', '--no-compare'], /contradict/],
    [['--bogus'], /bogus/],
  ] as const) {
    it(`refuses ${argv.join(' ')}`, () => {
      assert.throws(
        () => parse([...argv]),
        (err: Error) => err instanceof UsageError && message.test(err.message),
      );
    });
  }
});

describe('parseProfileArgs', () => {
  it('takes one tool and bounds the run by default', () => {
    const o = parseProfileArgs(['flame', '--duration', '7'], {});
    assert.equal(o.tool, 'flame');
    assert.equal(o.durationSeconds, 7);
    assert.equal(o.timeoutSeconds, 247);
    assert.equal(o.telemetry, true);
    assert.equal(o.load, 'mix');
  });

  it('accepts the Node-native alternatives and telemetry off', () => {
    const o = parseProfileArgs(['cpu-prof', '--telemetry', 'off', '--load', 'post'], {});
    assert.equal(o.tool, 'cpu-prof');
    assert.equal(o.telemetry, false);
    assert.equal(o.load, 'post');
  });

  it('allows --help without a tool', () => {
    assert.equal(parseProfileArgs(['--help'], {}).help, true);
  });

  for (const argv of [
    [],
    ['perf'],
    ['doctor', 'flame'],
    ['doctor', '--telemetry', 'maybe'],
    ['doctor', '--load', 'put'],
    ['doctor', '-d', '0'],
  ]) {
    it(`refuses '${argv.join(' ')}'`, () => {
      assert.throws(() => parseProfileArgs(argv, {}), ProfileUsageError);
    });
  }
});
