import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above this file whose package.json is orderlab's. */
export function findRepoRoot(start: string = __dirname): string {
  let dir = start;
  for (let i = 0; i < 10; i++) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'orderlab'
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`could not find the orderlab repository root above ${start}`);
}

export interface PinnedVersions {
  /** Apache Kafka version: the Maven artifact here and the apache/kafka image tag in compose. */
  readonly kafka: string;
  /** log4j version of the slf4j binding; must match the log4j-core Kafka brings. */
  readonly log4j: string;
  /** maven-dependency-plugin that copies the jars (named in full so Maven need not guess a version). */
  readonly mavenDependencyPlugin: string;
  /** Jaeger v2 module version (github.com/jaegertracing/jaeger), built once from the Go module proxy. */
  readonly jaeger: string;
}

export function readPinnedVersions(repoRoot: string): PinnedVersions {
  return JSON.parse(readFileSync(path.join(repoRoot, 'lab', 'versions.json'), 'utf8')) as PinnedVersions;
}
