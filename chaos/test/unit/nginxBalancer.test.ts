import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nginxConfig } from '../../src/infra/nginxBalancer';

test('nginx config: weighted upstreams, a weight of 0 takes a replica out, bad weights are refused', () => {
  const conf = nginxConfig(
    '/tmp/lb',
    8096,
    [
      { address: '127.0.0.1:8081', weight: 90 },
      { address: '127.0.0.1:8082', weight: 10 },
      { address: '127.0.0.1:8083', weight: 0 },
    ],
    false,
  );
  assert.match(conf, /server 127\.0\.0\.1:8081 weight=90 max_fails=1/);
  assert.match(conf, /server 127\.0\.0\.1:8082 weight=10 max_fails=1/);
  assert.doesNotMatch(conf, /127\.0\.0\.1:8083/);
  assert.match(nginxConfig('/tmp/lb', 8096, ['127.0.0.1:8081'], false), /server 127\.0\.0\.1:8081 weight=1 /);
  assert.throws(
    () => nginxConfig('/tmp/lb', 8096, [{ address: 'a:1', weight: 0 }], false),
    /at least one upstream with a weight > 0/,
  );
  assert.throws(
    () => nginxConfig('/tmp/lb', 8096, [{ address: 'a:1', weight: 2.5 }], false),
    /whole numbers ≥ 0: a:1=2\.5/,
  );
});

test('nginx config: client keep-alive stays on unless the drill reloads the weights', () => {
  assert.doesNotMatch(nginxConfig('/tmp/lb', 8096, ['a:1'], false), /keepalive_timeout 0/);
  assert.match(nginxConfig('/tmp/lb', 8096, ['a:1'], false, false), /^\s*keepalive_timeout 0;/m);
});
