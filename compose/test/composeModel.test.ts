import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  datasourceUidsIn,
  interpolate,
  isPinnedImage,
  parseDotEnv,
  parseMemory,
  parsePort,
} from './composeModel';

test('interpolate follows compose rules for defaults, required variables and $$', () => {
  const env = { SET: 'x', EMPTY: '' };
  assert.equal(interpolate('${SET}/$SET/${MISSING}', env), 'x/x/');
  assert.equal(interpolate('${MISSING:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:-d}', env), 'd d  x');
  assert.equal(interpolate('$${NOT_A_VAR} $$HOME', env), '${NOT_A_VAR} $HOME');
  assert.equal(interpolate('${SET:?needed}', env), 'x');
  assert.throws(() => interpolate('${EMPTY:?set EMPTY}', env), /EMPTY is missing: set EMPTY/);
  assert.throws(() => interpolate('${MISSING?gone}', env), /MISSING/);
  assert.equal(interpolate('${EMPTY?ok-when-empty}', env), '');
  assert.equal(
    interpolate('${MISSING:-${SET:-d}} ${MISSING:-${EMPTY:-d}} ${SET:-${MISSING:?no}}', env),
    'x d x',
  );
  assert.equal(interpolate('a:${MISSING:-p:5432}/b $ 5', env), 'a:p:5432/b $ 5');
  assert.throws(() => interpolate('${MISSING:-${SET}', env), /unterminated/);
});

test('parseDotEnv reads KEY=value lines, skips comments and strips quotes', () => {
  assert.deepEqual(parseDotEnv('# c\nA=1\n\nB="two words"\nC=\n'), { A: '1', B: 'two words', C: '' });
  assert.throws(() => parseDotEnv('not a line'), /line 1/);
});

test('parseMemory reads compose byte sizes in binary units', () => {
  assert.equal(parseMemory('192M'), 192 * 1024 ** 2);
  assert.equal(parseMemory('1g'), 1024 ** 3);
  assert.equal(parseMemory('512mb'), 512 * 1024 ** 2);
  assert.equal(parseMemory('1.5G'), 1.5 * 1024 ** 3);
  assert.throws(() => parseMemory('lots'), /not a compose memory size/);
});

test('parsePort tells a loopback binding from an all-interfaces one', () => {
  assert.deepEqual(parsePort('127.0.0.1:3000:3000'), {
    hostIp: '127.0.0.1',
    published: '3000',
    target: '3000',
  });
  assert.deepEqual(parsePort('8080:80/tcp'), { hostIp: '', published: '8080', target: '80' });
  assert.deepEqual(parsePort('9000'), { hostIp: '', published: '', target: '9000' });
  assert.deepEqual(parsePort({ host_ip: '127.0.0.1', published: 1, target: 2 }), {
    hostIp: '127.0.0.1',
    published: '1',
    target: '2',
  });
});

test('isPinnedImage accepts version tags and digests, rejects latest and bare names', () => {
  assert.ok(isPinnedImage('quay.io/prometheus/prometheus:v3.13.1'));
  assert.ok(isPinnedImage('localhost:5000/nginx:1.28.0-alpine'));
  assert.ok(isPinnedImage(`busybox@sha256:${'a'.repeat(64)}`));
  assert.equal(isPinnedImage('grafana/grafana'), false);
  assert.equal(isPinnedImage('grafana/grafana:latest'), false);
  assert.equal(isPinnedImage('localhost:5000/nginx'), false, 'a registry port is not a tag');
  assert.equal(isPinnedImage('node:lts-slim'), false);
});

test('datasourceUidsIn finds uids in panels, targets, variables and links, skipping built-ins', () => {
  const dashboard = {
    annotations: { list: [{ datasource: { type: 'grafana', uid: '-- Grafana --' } }] },
    templating: { list: [{ name: 'ds', datasource: { uid: '${ds}' } }, { datasource: 'loki' }] },
    panels: [
      {
        datasource: { type: 'prometheus', uid: 'prometheus' },
        targets: [{ datasource: { uid: 'typo-uid' } }],
      },
      {
        type: 'row',
        panels: [{ fieldConfig: { defaults: { links: [{ internal: { datasourceUid: 'jaeger' } }] } } }],
      },
    ],
  };
  assert.deepEqual([...datasourceUidsIn(dashboard)].sort(), ['jaeger', 'loki', 'prometheus', 'typo-uid']);
});
