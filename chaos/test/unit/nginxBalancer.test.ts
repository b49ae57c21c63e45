import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { nginxConfig, reweightedBalancerConf } from '../../src/infra/nginxBalancer';

/** The compose stack's own balancer.conf, as the lb container runs it before a drill rewrites it. */
const STOCK = readFileSync(path.resolve(__dirname, '../../../../compose/nginx/balancer.conf'), 'utf8');

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

test('compose balancer.conf: shares become weights on container addresses, share 0 drops the replica', () => {
  const conf = reweightedBalancerConf(
    STOCK,
    [
      { name: 'api-1', address: '172.18.0.5', weight: 90 },
      { name: 'api-2', address: '172.18.0.6', weight: 10 },
    ],
    false,
  );
  // Both upstreams (HTTP and gRPC), the stack's own failure settings kept, no name left to resolve.
  assert.match(conf, /^\s*server 172\.18\.0\.5:8080 weight=90 max_fails=1 fail_timeout=2s;$/m);
  assert.match(conf, /^\s*server 172\.18\.0\.6:8080 weight=10 max_fails=1 fail_timeout=2s;$/m);
  assert.match(conf, /^\s*server 172\.18\.0\.5:50051 weight=90 max_fails=1 fail_timeout=2s;$/m);
  assert.match(conf, /^\s*server 172\.18\.0\.6:50051 weight=10 /m);
  assert.doesNotMatch(conf, /api-[12]:|resolve/);
  assert.match(conf, /^\s*keepalive 32;$/m, 'upstream keep-alive to the replicas stays');
  assert.match(conf, /^keepalive_timeout 0;/m, 'no client keep-alive while the drill reloads');
  assert.doesNotMatch(conf, /keepalive_timeout 65s/);

  const alone = reweightedBalancerConf(
    STOCK,
    [
      { name: 'api-1', weight: 0 },
      { name: 'api-2', address: '172.18.0.6', weight: 100 },
    ],
    true,
  );
  assert.doesNotMatch(alone, /172\.18\.0\.5|api-1/, 'a replica with share 0 is not in the file at all');
  assert.equal([...alone.matchAll(/server 172\.18\.0\.6:/g)].length, 2);
  assert.match(alone, /keepalive_timeout 65s;/, 'client keep-alive kept when asked');
});

test('compose balancer.conf: refused when no replica keeps a share, a replica is unknown or lacks an address', () => {
  assert.throws(
    () =>
      reweightedBalancerConf(
        STOCK,
        [
          { name: 'api-1', weight: 0 },
          { name: 'api-2', weight: 0 },
        ],
        false,
      ),
    /at least one upstream with a weight > 0/,
  );
  assert.throws(
    () => reweightedBalancerConf(STOCK, [{ name: 'api-1', address: '172.18.0.5', weight: 1 }], false),
    /sends upstream orderlab_http to api-2, which is not one of api-1/,
  );
  assert.throws(
    () =>
      reweightedBalancerConf(
        STOCK,
        [
          { name: 'api-1', weight: 1 },
          { name: 'api-2', weight: 0 },
        ],
        false,
      ),
    /no container address for api-1/,
  );
  assert.throws(
    () =>
      reweightedBalancerConf('keepalive_timeout 5s;\n', [{ name: 'api-1', address: 'a', weight: 1 }], true),
    /no upstream block/,
  );
});
