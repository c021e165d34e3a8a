/**
 * The pinned Temporal CLI (its dev server carries Temporal Server 1.29 and the Web UI), built from
 * its Go module into a cache folder that git ignores, and reused from there.
 *
 * One place names the version. Later CLI releases carry a `replace` directive in their go.mod, so
 * `go install` refuses them; v1.5.1 is the newest that builds this way.
 *
 * `npx tsx runtime/temporal-cli.ts ensure` prints the binary's path, building it first when it is
 * missing (used by .ci/run); `path` prints where it would be.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from './config';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** Overrides where the cache lives (default: <project>/.cache/temporal-cli). */
export const CACHE_ENV = 'TEMPORAL_CLI_CACHE';
/** Where Go is looked for besides PATH. */
const GO_CANDIDATES = ['/usr/local/go/bin/go'];

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[CACHE_ENV]?.trim();
  return join(dir ? dir : join(PROJECT_ROOT, '.cache', 'temporal-cli'), TEMPORAL_CLI_VERSION);
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'temporal');
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cached binary when it is there and executable, else null. */
export function findCachedCli(env: NodeJS.ProcessEnv = process.env): string | null {
  const path = cachedCliPath(env);
  return isExecutable(path) ? path : null;
}

/** The go command: on PATH, or in /usr/local/go/bin; null when this machine has no Go. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'go'))) return join(dir, 'go');
  }
  return GO_CANDIDATES.find(isExecutable) ?? null;
}

export interface BuildProgress {
  (line: string): void;
}

/**
 * Builds the pinned CLI with `go install` into a staging folder, then moves it into the cache
 * (a half-written binary never sits at the cached path). Resolves with the binary's path.
 */
export async function buildCli(env: NodeJS.ProcessEnv = process.env, progress: BuildProgress = (l) => console.error(l)): Promise<string> {
  const go = findGo(env);
  if (go === null) throw new Error(`cannot build the Temporal CLI: no go command on PATH or in ${GO_CANDIDATES.join(', ')}`);
  const target = cachedCliPath(env);
  const staging = join(cacheDir(env), `.build-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  progress(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go} into ${cacheDir(env)} (once; this takes a few minutes on a fresh machine)...`);
  const started = Date.now();
  const ticker = setInterval(() => progress(`  still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)...`), 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
        env: { ...env, GOBIN: staging, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} exited with code ${code}`))));
    });
    const built = join(staging, 'temporal');
    if (!existsSync(built)) throw new Error(`go install finished but ${built} is missing`);
    renameSync(built, target);
  } finally {
    clearInterval(ticker);
    rmSync(staging, { recursive: true, force: true });
  }
  progress(`Temporal CLI ${TEMPORAL_CLI_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  return target;
}

/** The cached binary, built first when missing. */
export async function ensureCli(env: NodeJS.ProcessEnv = process.env, progress?: BuildProgress): Promise<string> {
  return findCachedCli(env) ?? buildCli(env, progress);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const command = process.argv[2] ?? 'ensure';
  if (command === 'path') {
    console.log(cachedCliPath());
  } else if (command === 'ensure') {
    ensureCli().then(
      (path) => console.log(path),
      (e: unknown) => {
        console.error(e instanceof Error ? e.message : String(e));
        process.exit(1);
      },
    );
  } else {
    console.error(`usage: tsx runtime/temporal-cli.ts [ensure|path]; got ${JSON.stringify(command)}`);
    process.exit(2);
  }
}
