import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LabError, runQuick, runWithTimeout } from './processes';

const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 25 * 60_000;

/** `go` on PATH, else the official tarball's place. */
export function goBinary(): string | undefined {
  if (!runQuick('go', ['version']).missing) return 'go';
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

export interface GoBuild {
  /** Module path and version as the Go module proxy serves them. */
  readonly module: string;
  readonly version: string;
  /** Packages of the module to build, e.g. `./cmd/jaeger`, each to `<outDir>/<output name>`. */
  readonly packages: readonly { readonly pkg: string; readonly output: string }[];
  readonly ldflags?: string;
  readonly outDir: string;
  /** Name in progress lines. */
  readonly label: string;
}

/**
 * Builds binaries of a module from the Go module proxy once, inside the module's own folder:
 * `go install module@version` refuses modules whose go.mod has replace directives (Jaeger,
 * Prometheus), and a go.work naming folders the module zip leaves out is ignored (GOWORK=off).
 * Returns the paths of the outputs; outputs already present are not rebuilt.
 */
export async function ensureGoBinaries(build: GoBuild, log: (line: string) => void): Promise<string[]> {
  const outputs = build.packages.map((p) => path.join(build.outDir, p.output));
  if (outputs.every((o) => existsSync(o))) return outputs;
  const go = goBinary();
  if (!go)
    throw new LabError(
      `Go 1.24+ is needed once to build ${build.label} ${build.version} from the Go module proxy: install it from go.dev/dl (to /usr/local/go) and retry`,
    );
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  log(`  ${build.label}: downloading ${build.module}@${build.version} from the Go module proxy (once) ...`);
  const download = await runWithTimeout(
    go,
    ['mod', 'download', '-json', `${build.module}@${build.version}`],
    {
      timeoutMs: DOWNLOAD_TIMEOUT_MS,
      env,
    },
  );
  const dir = /"Dir":\s*"([^"]+)"/.exec(download.output)?.[1];
  if (download.status !== 0 || !dir)
    throw new LabError(
      `could not download ${build.module}@${build.version} (${download.timedOut ? 'timed out' : (download.output.trim().split('\n').slice(-1)[0] ?? '')}): check access to the Go module proxy (GOPROXY) and retry`,
    );
  mkdirSync(build.outDir, { recursive: true });
  for (const [i, p] of build.packages.entries()) {
    const output = outputs[i] as string;
    if (existsSync(output)) continue;
    log(`  ${build.label}: building ${p.pkg} ${build.version} into ${output} (once; minutes on 2 cores) ...`);
    const partial = `${output}.partial`;
    rmSync(partial, { force: true });
    const result = await runWithTimeout(
      go,
      ['build', '-trimpath', '-ldflags', `-s -w ${build.ldflags ?? ''}`.trim(), '-o', partial, p.pkg],
      {
        timeoutMs: BUILD_TIMEOUT_MS,
        cwd: dir,
        env: { ...env, GOFLAGS: '', GOWORK: 'off', CGO_ENABLED: '0' },
      },
    );
    if (result.status !== 0 || !existsSync(partial))
      throw new LabError(
        `building ${build.label} ${build.version} (${p.pkg}) failed (${result.timedOut ? `timed out after ${BUILD_TIMEOUT_MS / 60_000} min` : result.output.trim().split('\n').slice(-3).join(' | ') || `exit ${result.status}`}): Go 1.24+ is needed`,
      );
    renameSync(partial, output);
  }
  return outputs;
}
