import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseProfileArgs } from '../bench/profile/profileArgs';
import { testLab } from '../../lab/src/testing';
import { isProfileArtefact, runProfile } from '../bench/profile/profile';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** A free port with three more after it (HTTP, admin, gRPC, OTLP sink); the OS picks, we only probe. */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
      s.once('error', reject);
    });
    if (port + 3 > 65535) continue;
    const free = await Promise.all(
      [port + 1, port + 2, port + 3].map(
        (p) =>
          new Promise<boolean>((resolve) => {
            const s = net.createServer().listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
            s.once('error', () => resolve(false));
          }),
      ),
    );
    if (free.every(Boolean)) return port;
  }
  throw new Error('no four free ports in a row');
}

describe('profile alternatives that need no clinic', () => {
  for (const [tool, check] of [
    [
      'cpu-prof',
      (p: { nodes?: unknown[]; samples?: unknown[] }) =>
        (p.nodes?.length ?? 0) > 0 && (p.samples?.length ?? 0) > 0,
    ],
    ['heap-prof', (p: { head?: { children?: unknown[] } }) => (p.head?.children?.length ?? 0) > 0],
  ] as const) {
    it(`${tool} writes a non-empty profile of the service under load`, { timeout: 120_000 }, async () => {
      const portBase = await freePortBase();
      const opts = parseProfileArgs(
        [
          tool,
          '-d',
          '2',
          '-c',
          '4',
          '--port-base',
          String(portBase),
          '--out',
          'reports/profile-test',
          '--timeout',
          '90',
        ],
        { ORDERLAB_BENCH_PG_ADMIN_URL: (await testLab()).postgres.adminUrl },
      );
      const result = await runProfile(opts, { repoRoot, log: () => undefined });
      try {
        assert.deepEqual(
          result.problems.filter((p) => !p.includes('not built')),
          [],
        );
        assert.equal(result.profiles.length, 1, `expected one ${tool} file in ${result.outDir}`);
        assert.ok(isProfileArtefact(tool, result.profiles[0]!));
        assert.ok((result.load?.requests ?? 0) > 0, 'the load ran');
        const profile: unknown = JSON.parse(readFileSync(result.profiles[0]!, 'utf8'));
        assert.ok(check(profile as never), `${tool} profile has no samples`);
      } finally {
        rmSync(result.outDir, { recursive: true, force: true });
      }
    });
  }
});

describe('clinic on Node 24', () => {
  // Without NO_INSIGHT clinic 13 exits 0 at once and writes nothing (see profile.ts).
  it('clinic doctor writes its HTML report', { timeout: 240_000 }, async () => {
    const portBase = await freePortBase();
    const opts = parseProfileArgs(
      [
        'doctor',
        '-d',
        '3',
        '-c',
        '4',
        '--port-base',
        String(portBase),
        '--out',
        'reports/profile-test',
        '--timeout',
        '200',
      ],
      { ORDERLAB_BENCH_PG_ADMIN_URL: (await testLab()).postgres.adminUrl },
    );
    const result = await runProfile(opts, { repoRoot, log: () => undefined });
    try {
      assert.deepEqual(
        result.problems.filter((p) => !p.includes('not built')),
        [],
      );
      assert.equal(result.profiles.length, 1);
      assert.match(readFileSync(result.profiles[0]!, 'utf8').slice(0, 2000), /<html/i);
    } finally {
      rmSync(result.outDir, { recursive: true, force: true });
    }
  });
});
