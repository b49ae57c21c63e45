import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LatencyProxy } from '../../src/infra/latencyProxy';

async function roundTrip(port: number, payload: string): Promise<{ ms: number; reply: string }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const begin = Date.now();
  socket.write(payload);
  const reply = await new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
  socket.destroy();
  return { ms: Date.now() - begin, reply };
}

test('the latency proxy relays bytes and delays replies by the injected latency, in order', async (t) => {
  const echo = net.createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.after(() => echo.close());
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const proxyPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const proxy = new LatencyProxy(proxyPort, '127.0.0.1', (echo.address() as AddressInfo).port);
  await proxy.start();
  t.after(() => proxy.close());

  const fast = await roundTrip(proxyPort, 'hello');
  assert.equal(fast.reply, 'hello');
  assert.ok(fast.ms < 100, `no latency: ${fast.ms} ms`);
  proxy.latencyMs = 200;
  const slow = await roundTrip(proxyPort, 'world');
  assert.equal(slow.reply, 'world');
  assert.ok(slow.ms >= 190, `with latency: ${slow.ms} ms`);
  assert.ok(proxy.bytes.up >= 10 && proxy.bytes.down >= 10);

  // Order is kept even when latency drops while bytes are held.
  const socket = net.connect(proxyPort, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  socket.write('A');
  await new Promise((r) => setTimeout(r, 50));
  proxy.latencyMs = 0;
  socket.write('B');
  await new Promise((r) => setTimeout(r, 300));
  socket.destroy();
  assert.equal(received, 'AB');
});
