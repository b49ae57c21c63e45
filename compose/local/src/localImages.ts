import type { PinnedVersions } from '../../../lab/src/repo';

/** Debian bases made with debootstrap and `docker import` (no registry to pull one from). */
export type BaseSuite = 'bookworm' | 'forky';

export const BASE_IMAGE_PREFIX = 'orderlab-local/debian';

export function baseImageTag(suite: BaseSuite): string {
  return `${BASE_IMAGE_PREFIX}:${suite}`;
}

/** The stand-ins: what each replaces, where its Dockerfile is, which base it builds on. */
export interface LocalImage {
  /** Folder under compose/local/images/. */
  readonly name: string;
  /** The .env variable the override file points at this image. */
  readonly variable: string;
  readonly base: BaseSuite;
}

export const LOCAL_IMAGES: readonly LocalImage[] = [
  { name: 'node', variable: 'NODE_IMAGE', base: 'bookworm' },
  { name: 'postgres', variable: 'POSTGRES_IMAGE', base: 'bookworm' },
  { name: 'kafka', variable: 'KAFKA_IMAGE', base: 'bookworm' },
  { name: 'prometheus', variable: 'PROMETHEUS_IMAGE', base: 'bookworm' },
  { name: 'alertmanager', variable: 'ALERTMANAGER_IMAGE', base: 'bookworm' },
  { name: 'jaeger', variable: 'JAEGER_IMAGE', base: 'bookworm' },
  // Bookworm's nginx is 1.22; the compose config needs 1.27.3+ (`resolve` in upstreams).
  { name: 'nginx', variable: 'NGINX_IMAGE', base: 'forky' },
  { name: 'toxiproxy', variable: 'TOXIPROXY_IMAGE', base: 'bookworm' },
];

/** Services of the compose stack whose images cannot be had here (AGPL, or no buildable module). */
export const NOT_RUN_HERE: Readonly<Record<string, string>> = {
  grafana: 'Grafana is AGPL: no image and no build here',
  loki: 'Loki is AGPL: no image and no build here',
  alloy: 'Alloy pulls in Loki (AGPL): no image and no build here',
  k6: 'k6 is AGPL: no image and no build here (scripts are type-checked instead)',
};

/** npm inside the node stand-in (the real image carries the npm of its Node release). */
export const NPM_IN_NODE_IMAGE = '11.19.1';

export interface StandInVersions {
  readonly node: string;
  readonly kafka: string;
  /** Prometheus release (3.13.1) and the Go module version that is that release (v0.313.1). */
  readonly prometheus: string;
  readonly prometheusModule: string;
  readonly alertmanager: string;
  readonly toxiproxy: string;
  readonly jaeger: string;
}

function tagOf(env: Readonly<Record<string, string>>, variable: string): string {
  const image = env[variable];
  if (!image) throw new Error(`.env has no ${variable}`);
  const tag = /:([^:/]+)$/.exec(image)?.[1];
  if (!tag) throw new Error(`.env ${variable}=${image} has no tag`);
  return tag;
}

/** Versions to build, read from the pinned upstream images in .env and lab/versions.json. */
export function standInVersions(
  env: Readonly<Record<string, string>>,
  pinned: PinnedVersions,
): StandInVersions {
  const node = /^(\d+\.\d+\.\d+)/.exec(tagOf(env, 'NODE_IMAGE'))?.[1];
  if (!node) throw new Error(`NODE_IMAGE=${env['NODE_IMAGE']} does not name a Node version`);
  const prometheus = tagOf(env, 'PROMETHEUS_IMAGE').replace(/^v/, '');
  const [major, minor, patch] = prometheus.split('.');
  if (major !== '3' || minor === undefined || patch === undefined)
    throw new Error(`PROMETHEUS_IMAGE tag ${prometheus}: only Prometheus 3.x maps to a Go module version`);
  return {
    node,
    kafka: pinned.kafka,
    prometheus,
    prometheusModule: `v0.3${minor.padStart(2, '0')}.${patch}`,
    alertmanager: tagOf(env, 'ALERTMANAGER_IMAGE').replace(/^v?/, 'v'),
    toxiproxy: tagOf(env, 'TOXIPROXY_IMAGE').replace(/^v/, ''),
    jaeger: pinned.jaeger,
  };
}

/** The tag each stand-in must carry: names what really runs inside (see compose/local/images.env). */
export function expectedTags(v: StandInVersions): Readonly<Record<string, string>> {
  return {
    NODE_IMAGE: `orderlab-local/node:${v.node}-slim`,
    POSTGRES_IMAGE: 'orderlab-local/postgres:debian-15',
    KAFKA_IMAGE: `orderlab-local/kafka:${v.kafka}`,
    PROMETHEUS_IMAGE: `orderlab-local/prometheus:v${v.prometheus}`,
    ALERTMANAGER_IMAGE: `orderlab-local/alertmanager:${v.alertmanager}`,
    JAEGER_IMAGE: `orderlab-local/jaeger:${v.jaeger}`,
    NGINX_IMAGE: 'orderlab-local/nginx:debian-forky',
    TOXIPROXY_IMAGE: `orderlab-local/toxiproxy:${v.toxiproxy}`,
  };
}

/** Differences between the override file and the expected tags, as sentences (empty when in step). */
export function overrideMismatches(
  overrides: Readonly<Record<string, string>>,
  expected: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  for (const [variable, tag] of Object.entries(expected)) {
    if (overrides[variable] !== tag)
      problems.push(`${variable} is ${overrides[variable] ?? 'missing'}, expected ${tag}`);
  }
  for (const variable of Object.keys(overrides)) {
    if (!(variable in expected)) problems.push(`${variable} is not an image this command builds`);
  }
  return problems;
}
