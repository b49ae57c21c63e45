import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import winston from 'winston';
import { BatchedStdoutTransport } from '../../src/telemetry/stdoutTransport';
import { measureConsumerLag, type OffsetsAdmin } from '../../src/telemetry/consumerLag';
import {
  createLogger,
  REDACTED,
  redactCardNumbers,
  redactValue,
  serializeError,
} from '../../src/telemetry/logger';
import { acceptsOpenMetrics, ServiceMetrics } from '../../src/telemetry/metrics';
import { loadTracingSettings } from '../../src/config/config';

describe('log redaction', () => {
  it('hides sensitive fields at any depth and keeps the rest', () => {
    const out = redactValue(
      '',
      {
        headers: { Authorization: 'Bearer abc', cookie: 'sid=1', 'content-type': 'application/json' },
        user: { password: 'hunter2', name: 'Ada' },
        cursorSecret: 'x'.repeat(20),
        refreshToken: 't',
        api_key: 'k',
        count: 3,
        absent: undefined,
      },
      0,
    ) as Record<string, Record<string, unknown>>;
    assert.equal(out['headers']!['Authorization'], REDACTED);
    assert.equal(out['headers']!['cookie'], REDACTED);
    assert.equal(out['headers']!['content-type'], 'application/json');
    assert.equal(out['user']!['password'], REDACTED);
    assert.equal(out['user']!['name'], 'Ada');
    assert.equal(out['cursorSecret'], REDACTED);
    assert.equal(out['refreshToken'], REDACTED);
    assert.equal(out['api_key'], REDACTED);
    assert.equal(out['count'], 3);
  });

  it('replaces card numbers that pass the Luhn check, not other long numbers', () => {
    assert.equal(redactCardNumbers('card 4111 1111 1111 1111 declined'), `card ${REDACTED} declined`);
    assert.equal(redactCardNumbers('pan=5500-0000-0000-0004'), `pan=${REDACTED}`);
    assert.equal(redactCardNumbers('order 1234567890123 total'), 'order 1234567890123 total');
    assert.equal(redactCardNumbers('2026-11-24T00:00:00.000Z'), '2026-11-24T00:00:00.000Z');
  });

  it('serialises errors with stack, code and the cause chain', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const err = new Error('database unavailable', { cause });
    const out = serializeError(err);
    assert.equal(out['message'], 'database unavailable');
    assert.match(String(out['stack']), /database unavailable\n\s+at /);
    const outCause = out['cause'] as Record<string, unknown>;
    assert.equal(outCause['code'], 'ECONNREFUSED');
    assert.equal(outCause['message'], 'connect ECONNREFUSED');
  });
});

describe('metrics exposition', () => {
  it('negotiates OpenMetrics only when the scraper accepts it', () => {
    assert.equal(acceptsOpenMetrics(undefined), false);
    assert.equal(acceptsOpenMetrics('text/plain;version=0.0.4'), false);
    assert.equal(
      acceptsOpenMetrics(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
      true,
    );
    assert.equal(acceptsOpenMetrics('application/openmetrics-text;q=0'), false);
  });

  it('keeps counter names with _total in the text format after an OpenMetrics scrape', async () => {
    const metrics = new ServiceMetrics({ eventLoopResolutionMs: 20, serviceVersion: '0.1.0' });
    metrics.onShed('concurrency');
    metrics.onShed('made-up-reason');
    const [om, text] = await Promise.all([
      metrics.render('application/openmetrics-text'),
      metrics.render(undefined),
    ]);
    assert.match(om.contentType, /^application\/openmetrics-text/);
    assert.match(om.body, /# EOF\n$/);
    assert.match(text.contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(text.body, /^# TYPE orderlab_shed_requests_total counter$/m);
    assert.match(text.body, /^orderlab_shed_requests_total\{reason="concurrency"\} 1$/m);
    assert.match(text.body, /^orderlab_shed_requests_total\{reason="other"\} 1$/m);
    assert.doesNotMatch(text.body, /nodejs_active_handles_total/);
  });

  it('maps numeric gRPC codes to their names', async () => {
    const metrics = new ServiceMetrics({ eventLoopResolutionMs: 20, serviceVersion: '0.1.0' });
    metrics.onCallFinished({
      service: 'order.v1.OrderService',
      method: 'GetOrder',
      code: 5,
      durationSeconds: 0.01,
    });
    metrics.onCallFinished({ method: '/order.v1.OrderService/GetOrder', code: 'OK', durationSeconds: 0.01 });
    const { body } = await metrics.render(undefined);
    assert.match(
      body,
      /grpc_server_request_duration_seconds_count\{method="\/order\.v1\.OrderService\/GetOrder",code="NOT_FOUND"\} 1/,
    );
    assert.match(
      body,
      /grpc_server_request_duration_seconds_bucket\{le="0\.25",method="\/order\.v1\.OrderService\/GetOrder",code="OK"\} 1/,
    );
  });

  it('observes confirmation delay from the acceptance time with 5 s as a bucket boundary', async () => {
    const metrics = new ServiceMetrics({ eventLoopResolutionMs: 20, serviceVersion: '0.1.0' });
    metrics.pipelineHooks.onConfirmed(4);
    metrics.pipelineHooks.onConfirmed(6);
    const { body } = await metrics.render(undefined);
    assert.match(body, /^orderlab_order_confirmation_delay_seconds_bucket\{le="5"\} 1$/m);
    assert.match(body, /^orderlab_order_confirmation_delay_seconds_bucket\{le="10"\} 2$/m);
  });

  it('counts pipeline outcomes and dead-letter reasons in closed label sets', async () => {
    const metrics = new ServiceMetrics({ eventLoopResolutionMs: 20, serviceVersion: '0.1.0' });
    metrics.pipelineHooks.onPublished(3, 0.02);
    metrics.pipelineHooks.onProcessed('order.created.v1', 'confirmed', 0.01);
    metrics.pipelineHooks.onProcessed('x', 'something-new', 0.01);
    metrics.pipelineHooks.onDeadLettered('unparseable');
    metrics.pipelineHooks.onDeadLettered('weird');
    const { body } = await metrics.render(undefined);
    assert.match(body, /^orderlab_outbox_events_published_total 3$/m);
    assert.match(body, /^orderlab_outbox_publish_duration_seconds_count 1$/m);
    assert.match(body, /^orderlab_events_processed_total\{outcome="confirmed"\} 1$/m);
    assert.match(body, /^orderlab_events_processed_total\{outcome="other"\} 1$/m);
    assert.match(body, /^orderlab_dead_letters_total\{reason="unparseable"\} 1$/m);
    assert.match(body, /^orderlab_dead_letters_total\{reason="other"\} 1$/m);
  });
});

describe('consumer lag', () => {
  it('is end offset minus committed offset per partition; never-committed partitions count from 0', async () => {
    const admin: OffsetsAdmin = {
      fetchTopicOffsets: () =>
        Promise.resolve([
          { partition: 0, high: '100' },
          { partition: 1, high: '50' },
          { partition: 2, high: '10' },
        ]),
      fetchOffsets: () =>
        Promise.resolve([
          {
            topic: 'orders.v1',
            partitions: [
              { partition: 0, offset: '90' },
              { partition: 1, offset: '-1' },
              { partition: 2, offset: '10' },
            ],
          },
        ]),
    };
    assert.deepEqual(await measureConsumerLag(admin, 'g', 'orders.v1'), [
      { partition: 0, lag: 10 },
      { partition: 1, lag: 50 },
      { partition: 2, lag: 0 },
    ]);
  });
});

describe('tracing settings', () => {
  it('name the service per role, and TELEMETRY_ENABLED=false turns tracing off', () => {
    assert.deepEqual(loadTracingSettings({ ROLES: 'relay,worker' }), {
      enabled: true,
      serviceName: 'orderlab-relay-worker',
      serviceVersion: '0.1.0',
      roles: ['relay', 'worker'],
    });
    assert.equal(loadTracingSettings({ OTEL_SERVICE_NAME: 'custom' }).serviceName, 'custom');
    assert.equal(loadTracingSettings({ TELEMETRY_ENABLED: 'false' }).enabled, false);
    assert.equal(loadTracingSettings({ TELEMETRY_ENABLED: 'maybe' }).enabled, false);
  });
});

describe('logger', () => {
  it('writes JSON with the level from config, errors with stack and cause, and secrets redacted', () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: 'warn', service: 'orderlab', roles: ['api', 'worker'] });
    logger.clear();
    logger.add(new winston.transports.Stream({ stream }));
    logger.info('not at this level');
    const cause = new Error('socket hang up');
    logger.error('request failed', {
      err: new Error('database unavailable', { cause }),
      headers: { authorization: 'Bearer abc' },
      note: 'card 4111111111111111',
    });
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line['level'], 'error');
    assert.equal(line['service'], 'orderlab');
    assert.equal(line['role'], 'api,worker');
    const err = line['err'] as Record<string, unknown>;
    assert.equal(err['message'], 'database unavailable');
    assert.match(String(err['stack']), /at /);
    assert.equal((err['cause'] as Record<string, unknown>)['message'], 'socket hang up');
    assert.deepEqual(line['headers'], { authorization: REDACTED });
    assert.equal(line['note'], `card ${REDACTED}`);
  });
});

describe('batched stdout transport', () => {
  it('writes the lines of one event-loop turn in one write, in order', async () => {
    const writes: string[] = [];
    const transport = new BatchedStdoutTransport({}, { write: (text: string) => writes.push(text) });
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
    logger.info('one');
    logger.info('two');
    logger.warn('three');
    assert.equal(writes.length, 0, 'nothing written inside the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length, 1);
    assert.deepEqual(
      writes[0]!
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { message: string }).message),
      ['one', 'two', 'three'],
    );
    logger.info('four');
    transport.close();
    assert.equal(writes.length, 2, 'close writes what is pending');
    assert.match(writes[1]!, /"four"/);
  });

  it('loses no line when the process exits or crashes in the same turn', () => {
    const loggerModule = path.resolve(__dirname, '../../src/telemetry/logger.js');
    for (const ending of ['process.exit(3)', "throw new Error('boom')"]) {
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          `const l = require(${JSON.stringify(loggerModule)}).createLogger({ level: 'info', service: 's', roles: ['api'] });
           for (let i = 0; i < 100; i++) l.info('line ' + i);
           ${ending};`,
        ],
        { encoding: 'utf8' },
      );
      assert.notEqual(r.status, 0);
      const messages = r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { message: string }).message);
      assert.equal(messages.length, 100, `${ending}: ${messages.length} lines`);
      assert.equal(messages[99], 'line 99');
    }
  });
});

describe('tracing preload', () => {
  const preload = path.resolve(__dirname, '../../src/telemetry/preload.js');
  const tracingModule = path.resolve(__dirname, '../../src/telemetry/tracing.js');
  const probe = `const t = require(${JSON.stringify(tracingModule)}).activeTracing();
    process.stdout.write(JSON.stringify({ started: !!t, name: t && t.serviceName }));
    if (t) t.shutdown();`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--require', preload, '-e', probe], {
      env: { PATH: process.env['PATH'] ?? '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { started: boolean; name?: string };
  };

  it('starts the SDK named after the roles', () => {
    assert.deepEqual(run({ ROLES: 'worker' }), { started: true, name: 'orderlab-worker' });
  });

  it('starts no SDK at all with TELEMETRY_ENABLED=false', () => {
    assert.deepEqual(run({ TELEMETRY_ENABLED: 'false' }), { started: false });
  });
});

describe('process warnings', () => {
  const loggerModule = path.join(__dirname, '../../src/telemetry/logger.js');
  const warningsModule = path.join(__dirname, '../../src/telemetry/processWarnings.js');
  const run = (level: string) =>
    spawnSync(
      process.execPath,
      [
        '-e',
        `const l = require(${JSON.stringify(loggerModule)}).createLogger({ level: ${JSON.stringify(level)}, service: 's', roles: ['relay'] });
         require(${JSON.stringify(warningsModule)}).logProcessWarnings(l);
         setTimeout(() => {}, -5);
         process.emitWarning('old API', { type: 'DeprecationWarning', code: 'DEP0999' });
         setTimeout(() => {}, 20);`,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );

  it('become JSON log lines instead of plain text on stderr; the known-harmless one at debug', () => {
    const r = run('debug');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing printed by Node itself');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byWarning = new Map(lines.map((l) => [l['warning'], l]));
    assert.equal(byWarning.get('TimeoutNegativeWarning')?.['level'], 'debug');
    assert.match(String(byWarning.get('TimeoutNegativeWarning')?.['detail']), /-5 is a negative number/);
    assert.deepEqual(
      [byWarning.get('DeprecationWarning')?.['level'], byWarning.get('DeprecationWarning')?.['code']],
      ['warn', 'DEP0999'],
    );
  });

  it('at the default level the harmless one leaves no trace and the rest still shows', () => {
    const r = run('info');
    assert.equal(r.stderr, '');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.equal((JSON.parse(lines[0]!) as { warning: string }).warning, 'DeprecationWarning');
  });
});
