import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServiceSpecs, planPorts, portsByComponent } from '../../src/ports';
import { testLabPortOffset } from '../../src/testing';

test('planPorts shifts every default port by the offset', () => {
  const plan = planPorts(100, parseServiceSpecs('api'));
  assert.equal(plan.postgres, 25532);
  assert.equal(plan.kafka, 29192);
  assert.equal(plan.kafkaController, 29193);
  assert.equal(plan.prometheus, 29190);
  assert.deepEqual(plan.services.api, { http: 8180, grpc: 21151, admin: 9564 });
});

test('replicas get distinct ports and no two components of a lab share one', () => {
  const plan = planPorts(0, parseServiceSpecs('api*3,relay*2,worker*4'));
  assert.deepEqual(Object.keys(plan.services), [
    'api-1',
    'api-2',
    'api-3',
    'relay-1',
    'relay-2',
    'worker-1',
    'worker-2',
    'worker-3',
    'worker-4',
  ]);
  assert.deepEqual(plan.services['api-2'], { http: 8081, grpc: 21052, admin: 9474 });
  const ports = portsByComponent(plan).map((p) => p.port);
  assert.equal(new Set(ports).size, ports.length);
});

test('labs 100 ports apart never share a port, even with the most replicas', () => {
  const specs = parseServiceSpecs('api*4,relay*4,worker*4');
  const a = portsByComponent(planPorts(100, specs)).map((p) => p.port);
  const b = new Set(portsByComponent(planPorts(200, specs)).map((p) => p.port));
  assert.deepEqual(
    a.filter((p) => b.has(p)),
    [],
  );
});

test("every lab port stays below the kernel's ephemeral range, at the offsets the repo uses", () => {
  // In 32768–60999 an outgoing connection (load generator, Kafka or pg client) can hold a port for
  // as long as it is open, and the component owning that port then cannot start.
  const specs = parseServiceSpecs('api*4,relay*4,worker*4');
  for (const offset of [0, 1000, 2100, 3000, 3500]) {
    const high = portsByComponent(planPorts(offset, specs)).filter((p) => p.port >= 32768);
    assert.deepEqual(high, [], `offset ${offset}`);
  }
});

test('relay and worker keep their documented admin ports', () => {
  const plan = planPorts(0, parseServiceSpecs('api,relay,worker'));
  assert.equal(plan.services.relay?.admin, 9465);
  assert.equal(plan.services.worker?.admin, 9466);
});

test('bad offsets and service lists are refused with a reason', () => {
  assert.throws(() => planPorts(-1, []), /whole number/);
  assert.throws(() => planPorts(40_000, []), /past 65535/);
  // 8080 + 2000 = 10080, on fetch's blocked-port list: every HTTP client would fail with "bad port".
  assert.throws(() => planPorts(2000, parseServiceSpecs('api')), /10080, which fetch refuses/);
  assert.throws(() => parseServiceSpecs('billing'), /unknown service role "billing"/);
  assert.throws(() => parseServiceSpecs('api*0'), /1\.\.4/);
  assert.throws(() => parseServiceSpecs('api*5'), /1\.\.4/);
  assert.throws(() => parseServiceSpecs('api,api'), /twice/);
  assert.throws(() => parseServiceSpecs('api*x'), /role\*count/);
});

test('the shared test lab sits 1000 ports above the developer lab unless told otherwise', () => {
  assert.equal(testLabPortOffset({}), 1000);
  assert.equal(testLabPortOffset({ LAB_PORT_OFFSET: '100' }), 1100);
  assert.equal(testLabPortOffset({ LAB_PORT_OFFSET: '100', LAB_TEST_PORT_OFFSET: '3000' }), 3000);
});
