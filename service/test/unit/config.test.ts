import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config';

describe('loadConfig', () => {
  it('has defaults that work on a laptop', () => {
    const c = loadConfig({});
    assert.deepEqual(c.roles, ['api']);
    assert.equal(c.http.port, 8080);
    assert.equal(c.admin.port, 9464);
    assert.equal(c.http.host, '127.0.0.1');
  });

  it('parses roles, numbers and booleans; empty strings mean the default', () => {
    const c = loadConfig({
      ROLES: 'api, relay,worker',
      HTTP_PORT: '0',
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: '',
    });
    assert.deepEqual(c.roles, ['api', 'relay', 'worker']);
    assert.equal(c.http.port, 0);
    assert.equal(c.database.migrateOnStart, false);
    assert.equal(c.log.level, 'info');
  });

  it('bounds the adaptive in-flight limit: floor 2 unless set, never above the cap; two congestion targets', () => {
    const d = loadConfig({});
    assert.deepEqual([d.overload.minInFlight, d.overload.maxInFlight], [2, 64]);
    assert.equal(d.overload.targetLatencyMs, 50);
    assert.equal(d.overload.targetEventLoopUtilization, 0.8);
    assert.equal(
      loadConfig({ SHED_TARGET_EVENT_LOOP_UTILIZATION: '0' }).overload.targetEventLoopUtilization,
      0,
    );
    assert.throws(
      () => loadConfig({ SHED_TARGET_EVENT_LOOP_UTILIZATION: '85' }),
      /SHED_TARGET_EVENT_LOOP_UTILIZATION/,
      'a share, not a percentage',
    );
    assert.equal(loadConfig({ SHED_MIN_IN_FLIGHT: '3' }).overload.minInFlight, 3);
    assert.equal(loadConfig({ SHED_MAX_IN_FLIGHT: '1' }).overload.minInFlight, 1, 'the cap wins');
    assert.equal(loadConfig({ SHED_TARGET_LATENCY_MS: '0' }).overload.targetLatencyMs, 0);
    assert.throws(() => loadConfig({ SHED_LIMIT_WINDOW_MS: '10' }), /SHED_LIMIT_WINDOW_MS/);
    assert.throws(() => loadConfig({ SHED_MIN_IN_FLIGHT: '0' }), /SHED_MIN_IN_FLIGHT/);
  });

  it('keeps a fixed-size database pool unless PG_POOL_MIN says otherwise, never more than the max', () => {
    assert.equal(loadConfig({}).database.poolMin, 10);
    assert.equal(loadConfig({ PG_POOL_MAX: '4' }).database.poolMin, 4);
    assert.equal(loadConfig({ PG_POOL_MIN: '0' }).database.poolMin, 0);
    assert.equal(loadConfig({ PG_POOL_MIN: '50' }).database.poolMin, 10, 'capped at PG_POOL_MAX');
    assert.throws(() => loadConfig({ PG_POOL_MIN: '-1' }), /PG_POOL_MIN/);
  });

  it('has gRPC defaults matching the HTTP limits, and reads the gRPC variables', () => {
    const d = loadConfig({});
    assert.equal(d.grpc.port, 50051);
    assert.equal(d.grpc.maxReceiveBytes, d.http.bodyLimitBytes);
    assert.equal(d.grpc.minDeadlineMs, 5);
    const c = loadConfig({ GRPC_PORT: '0', GRPC_MAX_RECEIVE_BYTES: '1024', GRPC_MIN_DEADLINE_MS: '0' });
    assert.deepEqual([c.grpc.port, c.grpc.maxReceiveBytes, c.grpc.minDeadlineMs], [0, 1024, 0]);
    assert.throws(
      () => loadConfig({ GRPC_MAX_RECEIVE_BYTES: '0', GRPC_KEEPALIVE_TIME_MS: 'soon' }),
      (err) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), [
          'GRPC_KEEPALIVE_TIME_MS',
          'GRPC_MAX_RECEIVE_BYTES',
        ]);
        return true;
      },
    );
  });

  it('names every bad variable at once and never echoes secrets', () => {
    try {
      loadConfig({
        HTTP_PORT: 'eighty',
        ROLES: 'api,cook',
        DATABASE_URL: 'mysql://u:hunter2@h/db',
        CURSOR_SECRET: 'short',
        PG_POOL_MAX: '0',
      });
      assert.fail('expected ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const names = err.problems.map((p) => p.split(':')[0]).sort();
      assert.deepEqual(names, ['CURSOR_SECRET', 'DATABASE_URL', 'HTTP_PORT', 'PG_POOL_MAX', 'ROLES.1']);
      assert.doesNotMatch(err.message, /hunter2|short"/);
    }
  });

  it('names the release: the package version by default, a label-safe SERVICE_VERSION, nothing else', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(loadConfig({}).service.version, pkg.version);
    assert.equal(loadConfig({ SERVICE_VERSION: '1.4.0-rc.1+build.7' }).service.version, '1.4.0-rc.1+build.7');
    for (const bad of ['1.0 beta', 'v"2"', '-1', 'x'.repeat(65)])
      assert.throws(
        () => loadConfig({ SERVICE_VERSION: bad }),
        (err) => err instanceof ConfigError && /^SERVICE_VERSION: use 1-64 letters/.test(err.problems[0]!),
        bad,
      );
  });

  it('keeps the release regression switch off unless asked, and checks its values', () => {
    assert.deepEqual(loadConfig({}).regression, { errorRate: 0, latencyMs: 0, routes: ['POST /v1/orders'] });
    assert.deepEqual(
      loadConfig({
        REGRESSION_ERROR_RATE: '0.25',
        REGRESSION_LATENCY_MS: '300',
        REGRESSION_ROUTES: 'POST  /v1/orders, GET /v1/orders/:id',
      }).regression,
      { errorRate: 0.25, latencyMs: 300, routes: ['POST /v1/orders', 'GET /v1/orders/:id'] },
    );
    assert.throws(
      () =>
        loadConfig({
          REGRESSION_ERROR_RATE: '1.5',
          REGRESSION_LATENCY_MS: '-1',
          REGRESSION_ROUTES: '/v1/orders',
        }),
      (err) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), [
          'REGRESSION_ERROR_RATE',
          'REGRESSION_LATENCY_MS',
          'REGRESSION_ROUTES.0',
        ]);
        assert.match(err.message, /each route must be "METHOD \/template"/);
        return true;
      },
    );
  });
});
