import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { envSchema } from '../../src/config/config';

it('docs/configuration.md documents every variable of the config schema, and no other', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../../../docs/configuration.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` *\|/gm)].map((m) => m[1]!));
  const declared = Object.keys(envSchema.shape);
  assert.deepEqual(
    declared.filter((k) => !documented.has(k)),
    [],
    'variables missing from docs/configuration.md',
  );
  assert.deepEqual(
    [...documented].filter((k) => !declared.includes(k) && !k.startsWith('OTEL_')),
    [],
    'documented variables the schema does not know',
  );
});
