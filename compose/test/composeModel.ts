import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseDotEnv } from '../local/src/dotEnv';

/**
 * A small, engine-free model of the compose stack for the static checks: the root .env, compose's
 * variable interpolation, and the included compose files merged into one service map.
 * Only what our files use is supported; anything else throws rather than guessing.
 */

export const repoRoot = path.resolve(__dirname, '../../..');
export const composeDir = path.join(repoRoot, 'compose');

export type Env = Readonly<Record<string, string>>;

export { parseDotEnv };

/**
 * Compose interpolation: $$ escape, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message},
 * ${VAR?message}, with defaults that interpolate again (`${A:-${B:-x}}`, as compose v2 does).
 * Missing variables without a default become '' (compose warns); `?` forms throw.
 */
export function interpolate(text: string, env: Env): string {
  let out = '';
  for (let i = 0; i < text.length;) {
    if (text[i] !== '$') {
      out += text[i++];
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] === '{') {
      const end = closingBrace(text, i + 1);
      out += expand(text.slice(i + 2, end), env);
      i = end + 1;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0];
    out += bare === undefined ? '$' : (env[bare] ?? '');
    i += 1 + (bare?.length ?? 0);
  }
  return out;
}

/** Index of the `}` that closes the `{` at `open`, counting nested `${…}`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  throw new Error(`unterminated \${ in ${JSON.stringify(text)}`);
}

/** One `${…}` body: NAME, then an optional `-`, `:-`, `?` or `:?` and its (interpolated) argument. */
function expand(body: string, env: Env): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([\s\S]*))?$/.exec(body);
  if (!m) throw new Error(`unsupported interpolation \${${body}}`);
  const [, name, colon, op, arg] = m as unknown as [string, string, string?, string?, string?];
  const value = env[name];
  const unset = value === undefined || (colon === ':' && value === '');
  if (op === '-') return unset ? interpolate(arg ?? '', env) : value;
  if (op === '?') {
    if (unset) throw new Error(`required variable ${name} is missing: ${interpolate(arg ?? '', env)}`);
    return value;
  }
  return value ?? '';
}

/** Walks any YAML value and interpolates every string in it (compose interpolates values, not keys). */
export function interpolateDeep(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  profiles?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }> | string[];
  logging?: { driver?: string; options?: Record<string, string> };
  deploy?: { resources?: { limits?: { memory?: string } } };
  init?: boolean;
  stop_grace_period?: string;
  command?: string | string[];
}

export interface LoadedService {
  readonly name: string;
  /** Folder that relative paths in this service resolve against (the file that declares it). */
  readonly baseDir: string;
  readonly raw: ComposeService;
  readonly resolved: ComposeService;
}

export interface ComposeProject {
  readonly name: string;
  readonly env: Env;
  readonly files: readonly string[];
  readonly services: ReadonlyMap<string, LoadedService>;
  readonly volumes: readonly string[];
}

/** Loads root compose.yaml and the files it includes, with the root .env for interpolation. */
export function loadComposeProject(root = repoRoot, shellEnv: Env = {}): ComposeProject {
  const env: Env = { ...parseDotEnv(readFileSync(path.join(root, '.env'), 'utf8')), ...shellEnv };
  const rootFile = path.join(root, 'compose.yaml');
  const rootDoc = parse(readFileSync(rootFile, 'utf8'), { merge: true }) as {
    name?: string;
    include?: (string | { path: string })[];
    services?: Record<string, ComposeService>;
  };
  if (!rootDoc.name) throw new Error('root compose.yaml has no top-level name');
  const files = [rootFile];
  const services = new Map<string, LoadedService>();
  const volumes: string[] = [];
  const addFile = (file: string, doc: { services?: Record<string, ComposeService>; volumes?: object }) => {
    for (const [name, raw] of Object.entries(doc.services ?? {})) {
      if (services.has(name)) throw new Error(`service ${name} is declared twice`);
      services.set(name, {
        name,
        baseDir: path.dirname(file),
        raw,
        resolved: interpolateDeep(raw, env) as ComposeService,
      });
    }
    volumes.push(...Object.keys(doc.volumes ?? {}));
  };
  addFile(rootFile, rootDoc);
  for (const entry of rootDoc.include ?? []) {
    const file = path.resolve(root, typeof entry === 'string' ? entry : entry.path);
    files.push(file);
    addFile(file, parse(readFileSync(file, 'utf8'), { merge: true }) as object);
  }
  return { name: rootDoc.name, env, files, services, volumes };
}

const memoryUnits: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Compose byte values: "192M", "1g", "512m", "1024b" (binary units, as compose reads them). */
export function parseMemory(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg])b?$/i.exec(value.trim());
  if (!match) throw new Error(`not a compose memory size: ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * (memoryUnits[(match[2] as string).toLowerCase()] as number));
}

export interface PortBinding {
  readonly hostIp: string;
  readonly published: string;
  readonly target: string;
}

/** Short syntax [HOST_IP:]PUBLISHED:TARGET[/proto] or long syntax. An empty host ip means all interfaces. */
export function parsePort(
  port: string | { host_ip?: string; published?: string | number; target: number },
): PortBinding {
  if (typeof port !== 'string') {
    return {
      hostIp: port.host_ip ?? '',
      published: String(port.published ?? ''),
      target: String(port.target),
    };
  }
  const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
  if (parts.length === 3)
    return { hostIp: parts[0] as string, published: parts[1] as string, target: parts[2] as string };
  if (parts.length === 2) return { hostIp: '', published: parts[0] as string, target: parts[1] as string };
  return { hostIp: '', published: '', target: parts[0] as string };
}

export interface BindMount {
  readonly source: string;
  readonly target: string;
}

/** Bind mounts only (named volumes are skipped); sources resolved against the declaring file's folder. */
export function bindMounts(service: LoadedService, namedVolumes: readonly string[]): BindMount[] {
  const mounts: BindMount[] = [];
  for (const volume of service.resolved.volumes ?? []) {
    let source: string | undefined;
    let target: string;
    if (typeof volume === 'string') {
      const [first, second] = volume.split(':') as [string, string | undefined];
      if (second === undefined) continue; // anonymous volume
      source = first;
      target = second;
    } else {
      if (volume.type !== 'bind') continue;
      source = volume.source;
      target = volume.target;
    }
    if (source === undefined || namedVolumes.includes(source)) continue;
    mounts.push({ source: path.resolve(service.baseDir, source), target });
  }
  return mounts;
}

/** Image references must carry an explicit version tag (or a digest); `latest` or no tag is not pinned. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').pop() as string;
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== 'latest' && /\d+\.\d+/.test(tag);
}

/** Collects every Grafana datasource uid a dashboard JSON references (panels, targets, variables, annotations). */
export function datasourceUidsIn(dashboard: unknown): Set<string> {
  const uids = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource') {
        if (typeof value === 'string') uids.add(value);
        else if (value && typeof value === 'object' && typeof (value as { uid?: unknown }).uid === 'string') {
          uids.add((value as { uid: string }).uid);
        }
      } else if (key === 'datasourceUid' && typeof value === 'string') {
        uids.add(value);
      }
      walk(value);
    }
  };
  walk(dashboard);
  // Grafana's built-ins and template-variable indirections are not provisioned uids.
  for (const uid of [...uids]) {
    if (
      uid.startsWith('$') ||
      uid === '-- Grafana --' ||
      uid === 'grafana' ||
      uid === '-- Mixed --' ||
      uid === '-- Dashboard --'
    ) {
      uids.delete(uid);
    }
  }
  return uids;
}
