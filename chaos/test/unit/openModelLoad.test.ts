import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LedgerWriter, parseLedger } from '../../src/load/ledger';
import {
  arrivalSchedule,
  assertLoopback,
  rateAt,
  runOpenModelLoad,
  seededRandom,
} from '../../src/load/openModelLoad';

test('arrival schedule follows the rate steps, bounded by duration and count', () => {
  const constant = arrivalSchedule([{ atS: 0, rate: 10 }], 2, 1000, seededRandom(1), false);
  assert.equal(constant.length, 19); // 100 ms apart, first at 100 ms, the one at 2000 ms is outside
  assert.equal(constant[0], 100);
  const stepped = arrivalSchedule(
    [
      { atS: 0, rate: 10 },
      { atS: 1, rate: 100 },
      { atS: 2, rate: 0 },
    ],
    3,
    10_000,
    seededRandom(1),
    false,
  );
  const inFirst = stepped.filter((t) => t < 1000).length;
  const inSecond = stepped.filter((t) => t >= 1000 && t < 2000).length;
  assert.ok(inFirst >= 9 && inFirst <= 10, `first second ${inFirst}`);
  assert.ok(inSecond >= 98 && inSecond <= 100, `second second ${inSecond}`);
  assert.equal(stepped.filter((t) => t >= 2000).length, 0);
  assert.equal(arrivalSchedule([{ atS: 0, rate: 1000 }], 10, 50, seededRandom(1), false).length, 50);
  const poisson = arrivalSchedule([{ atS: 0, rate: 200 }], 5, 100_000, seededRandom(3), true);
  assert.ok(poisson.length > 850 && poisson.length < 1150, `poisson count ${poisson.length}`);
  assert.deepEqual(
    poisson,
    arrivalSchedule([{ atS: 0, rate: 200 }], 5, 100_000, seededRandom(3), true),
    'seeded',
  );
  assert.equal(
    rateAt(
      [
        { atS: 0, rate: 1 },
        { atS: 5, rate: 3 },
      ],
      4.9,
    ),
    1,
  );
  assert.equal(
    rateAt(
      [
        { atS: 0, rate: 1 },
        { atS: 5, rate: 3 },
      ],
      5,
    ),
    3,
  );
});

test('load goes to loopback only', () => {
  assert.throws(() => assertLoopback('http://10.0.0.1:8080'), /127\.0\.0\.1 only/);
  assert.doesNotThrow(() => assertLoopback('http://127.0.0.1:8080'));
});

test('open model: a stalled server does not slow the arrivals, latency counts from the intended time', async (t) => {
  // The server holds every request for 300 ms: a closed loop would send far fewer.
  const seenKeys = new Set<string>();
  const server = http.createServer((req, res) => {
    seenKeys.add(String(req.headers['idempotency-key']));
    req.resume();
    const nth = seenKeys.size;
    setTimeout(() => {
      if (nth % 5 === 0) {
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'https://orderlab.dev/problems/overloaded' }));
      } else {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `order-${nth}` }));
      }
    }, 300);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const started = Date.now();
  const result = await runOpenModelLoad({
    baseUrl: `http://127.0.0.1:${port}`,
    steps: [{ atS: 0, rate: 50 }],
    durationS: 1,
    seed: 1,
  });
  assert.equal(result.entries.length, 49);
  assert.ok(Date.now() - started < 2500, 'the run is not serialised behind slow answers');
  const ok = result.entries.filter((e) => e.status === 201);
  assert.ok(ok.every((e) => e.orderId?.startsWith('order-')));
  assert.ok(
    result.entries.every((e) => e.latencyMs >= 290),
    'latency includes the server hold',
  );
  assert.ok(result.entries.every((e) => e.latencyMs === e.completedAt - e.intendedAt));
  const shed = result.entries.filter((e) => e.status === 503);
  assert.ok(
    shed.length > 0 && shed.every((e) => e.retryAfter === '1' && e.errorCode?.endsWith('overloaded')),
  );
  assert.equal(new Set(result.entries.map((e) => e.idempotencyKey)).size, 49, 'one key per request');
});

test('connection refused is recorded as a transport error, not dropped', async () => {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const result = await runOpenModelLoad({
    baseUrl: `http://127.0.0.1:${closedPort}`,
    steps: [{ atS: 0, rate: 20 }],
    durationS: 0.5,
    seed: 1,
  });
  assert.ok(result.entries.length >= 8);
  assert.ok(result.entries.every((e) => e.status === null && e.errorCode === 'ECONNREFUSED'));
});

test('the ledger writer closes once however often it is asked (a second close must not hang)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ledger-'));
  try {
    const writer = new LedgerWriter(path.join(dir, 'ledger.ndjson'));
    writer.write({
      requestId: 'a',
      idempotencyKey: 'k',
      target: 'api',
      intendedAt: 1,
      sentAt: 1,
      completedAt: 2,
      status: 201,
      latencyMs: 1,
    });
    await writer.close();
    await writer.close();
    assert.equal(parseLedger(readFileSync(path.join(dir, 'ledger.ndjson'), 'utf8')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a request with no answer before its timeout is recorded as a timeout, and the run still ends', async (t) => {
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((_req, res) => held.add(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  const started = Date.now();
  const result = await runOpenModelLoad({
    baseUrl: `http://127.0.0.1:${port}`,
    steps: [{ atS: 0, rate: 20 }],
    durationS: 0.3,
    requestTimeoutMs: 200,
    seed: 1,
  });
  assert.ok(result.entries.length >= 4);
  assert.ok(result.entries.every((e) => e.status === null && e.errorCode === 'timeout'));
  assert.ok(result.entries.every((e) => e.completedAt - (e.sentAt as number) >= 195));
  assert.ok(Date.now() - started < 2000, 'timeouts end the run');
});
