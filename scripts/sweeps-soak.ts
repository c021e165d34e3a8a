/**
 * `npm run sweeps:soak [-- --runs N] [--scale K] [--min-inputs M] [file filter ...]`: runs every
 * bad-input sweep (test/sweeps/) and every fast-check property (any test file calling fc.assert
 * or fc.check) N times (default 20), each run in one vitest process from a fresh random seed
 * (FC_SEED; CI unset, so no pinned seed; TEST_DATABASE_URL passes through). `--scale` sets
 * SWEEP_SCALE. Prints each failing seed with the test, fast-check's counterexample and the
 * command that replays it, and the inputs tried per boundary (test-results/sweeps/<boundary>.json)
 * per run and in total. Exits 1 on any failure, or when a boundary's total is below `--min-inputs`
 * (default 0); 2 on bad arguments. Each run's vitest output is kept in test-results/soak/.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const COUNTS_DIR = join(ROOT, 'test-results', 'sweeps');
const OUT_DIR = join(ROOT, 'test-results', 'soak');

/** The boundaries issue 11 names, by the counter each sweep writes. */
export const BOUNDARIES: Record<string, string> = {
  cli: 'CLI',
  config: 'config',
  signals: 'signal and update payloads',
  'venue-responses': 'venue responses',
  csv: 'CSV',
  'dashboard-http': 'dashboard HTTP',
  'exchange-http': 'exchange HTTP',
};

export interface SoakArgs {
  runs: number;
  scale: number | null;
  minInputs: number;
  filters: string[];
}

export function parseSoakArgs(argv: readonly string[]): SoakArgs | { problems: string[] } {
  const out: SoakArgs = { runs: 20, scale: null, minInputs: 0, filters: [] };
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (name === '--runs' || name === '--min-inputs') {
      const raw = value();
      const n = Number(raw);
      const least = name === '--runs' ? 1 : 0;
      if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < least) problems.push(`${name}: expected a whole number of at least ${least}, got ${JSON.stringify(raw)}`);
      else if (name === '--runs') out.runs = n;
      else out.minInputs = n;
    } else if (name === '--scale') {
      const raw = value();
      const n = Number(raw);
      if (raw === undefined || !Number.isFinite(n) || n <= 0) problems.push(`--scale: expected a positive number, got ${JSON.stringify(raw)}`);
      else out.scale = n;
    } else if (name.startsWith('-')) problems.push(`unknown option ${JSON.stringify(arg)}`);
    else out.filters.push(arg);
  }
  return problems.length > 0 ? { problems } : out;
}

/** test/sweeps/*.test.ts and every other test file that runs a fast-check property, relative to the root. */
export function soakFiles(root: string, filters: readonly string[] = []): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.test.ts')) {
        const rel = relative(root, full).replaceAll('\\', '/');
        if (rel.startsWith('test/sweeps/') || /\bfc\.(assert|check)\(/.test(readFileSync(full, 'utf8'))) found.push(rel);
      }
    }
  };
  walk(join(root, 'test'));
  return filters.length === 0 ? found : found.filter((f) => filters.some((x) => f.includes(x)));
}

export interface Failure {
  seed: number;
  file: string;
  /** The full name (describe blocks and title). */
  test: string;
  /** The test's own title, for `vitest -t`; null for a failure outside a test. */
  title: string | null;
  /** fast-check's "Property failed after ...", "{ seed: ..., path: ... }" and "Counterexample: ..." lines, or the error's first line. */
  details: string[];
}

interface VitestJson {
  testResults?: { name: string; status: string; message?: string; assertionResults?: { fullName: string; title?: string; status: string; failureMessages?: string[] }[] }[];
}

const clip = (line: string, max = 400): string => (line.length > max ? `${line.slice(0, max)}… (${line.length} characters)` : line);
// Colour codes vitest may leave in messages.
const plain = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '');

/**
 * The lines of a failure message worth printing: fast-check's report (FC_ERROR_IN_REPORT puts the
 * predicate's error in it as "Got ..."), else the error's first line.
 */
export function failureDetails(message: string): string[] {
  const lines = plain(message)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '));
  if (lines.length === 0) return ['failed (no message)'];
  const picked = lines.filter((l) => /^(Error: Property failed after|\{ seed: |Counterexample: |Shrunk \d+ time|Got )/.test(l));
  return (picked.length > 0 ? picked : [lines[0]!]).map((l) => clip(l.replace(/^Error: (?=Property failed)/, '')));
}

/** Every failed test (and every file that failed outside a test) in a vitest JSON report. */
export function failuresOf(report: VitestJson, seed: number, root: string): Failure[] {
  const out: Failure[] = [];
  for (const file of report.testResults ?? []) {
    const rel = relative(root, file.name).replaceAll('\\', '/');
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) out.push({ seed, file: rel, test: a.fullName, title: a.title ?? null, details: failureDetails((a.failureMessages ?? []).join('\n')) });
    if (file.status === 'failed' && failed.length === 0) out.push({ seed, file: rel, test: '(the file itself)', title: null, details: failureDetails(file.message ?? '') });
  }
  return out;
}

/** The shell command that runs the failing test again from its seed (`-t` takes a regular expression). */
export function replayCommand(f: Failure): string {
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  const pattern = f.title === null ? '' : ` -t ${quote(f.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))}`;
  return `FC_SEED=${f.seed} npx vitest run ${f.file}${pattern}`;
}

/** Inputs tried per boundary in the run just finished. */
function readCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(COUNTS_DIR)) return out;
  for (const name of readdirSync(COUNTS_DIR).filter((n) => n.endsWith('.json'))) {
    const c = JSON.parse(readFileSync(join(COUNTS_DIR, name), 'utf8')) as { boundary: string; total: number };
    out[c.boundary] = c.total;
  }
  return out;
}

function vitestRun(files: readonly string[], seed: number, args: SoakArgs, reportPath: string, logPath: string): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, FC_SEED: String(seed), FC_ERROR_IN_REPORT: 'true' };
  delete env.CI;
  if (args.scale !== null) env.SWEEP_SCALE = String(args.scale);
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  return new Promise((resolveExit) =>
    child.on('close', (code, signal) => {
      log.end();
      resolveExit(code ?? (signal === null ? 1 : 128));
    }),
  );
}

const label = (boundary: string): string => BOUNDARIES[boundary] ?? boundary;
const thousands = (n: number): string => n.toLocaleString('en-US');
const duration = (ms: number): string => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

export function summaryTable(perRun: Record<string, number>[], minInputs: number): { text: string; short: string[] } {
  const boundaries = [...new Set([...Object.keys(BOUNDARIES), ...perRun.flatMap((r) => Object.keys(r))])].filter((b) => perRun.some((r) => b in r));
  const rows = boundaries.map((b) => {
    const counts = perRun.map((r) => r[b] ?? 0);
    const total = counts.reduce((x, y) => x + y, 0);
    return [label(b), `${thousands(Math.min(...counts))}-${thousands(Math.max(...counts))}`, thousands(total), total >= minInputs ? '' : `below ${thousands(minInputs)}`, total] as const;
  });
  const head = ['boundary', 'inputs per run (min-max)', 'total', ''];
  const width = (i: number) => Math.max(head[i]!.length, ...rows.map((r) => String(r[i]).length));
  const line = (cells: readonly (string | number)[]) =>
    cells
      .slice(0, 4)
      .map((c, i) => (i === 0 ? String(c).padEnd(width(i)) : String(c).padStart(width(i))))
      .join('  ')
      .trimEnd();
  const missing = Object.keys(BOUNDARIES).filter((b) => !boundaries.includes(b));
  const text = [line(head), ...rows.map(line), ...(missing.length > 0 ? [`not run: ${missing.map(label).join(', ')}`] : [])].join('\n');
  return { text, short: rows.filter((r) => r[4] < minInputs).map((r) => r[0]) };
}

async function main(): Promise<number> {
  const parsed = parseSoakArgs(process.argv.slice(2));
  if ('problems' in parsed) {
    process.stderr.write(`${parsed.problems.join('\n')}\nusage: npm run sweeps:soak -- [--runs N] [--scale K] [--min-inputs M] [file filter ...]\n`);
    return 2;
  }
  const files = soakFiles(ROOT, parsed.filters);
  if (files.length === 0) {
    process.stderr.write(`no sweep or property test file matches ${parsed.filters.join(', ')}\n`);
    return 2;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const started = performance.now();
  const database = process.env.TEST_DATABASE_URL ? 'PostgreSQL variants on (TEST_DATABASE_URL)' : 'PGlite only (TEST_DATABASE_URL unset)';
  process.stdout.write(`soak: ${parsed.runs} runs of ${files.length} files, SWEEP_SCALE ${parsed.scale ?? 1}, ${database}\n${files.map((f) => `  ${f}`).join('\n')}\n\n`);

  const failures: Failure[] = [];
  const perRun: Record<string, number>[] = [];
  const seeds: number[] = [];
  for (let run = 1; run <= parsed.runs; run++) {
    const seed = randomInt(-(2 ** 31), 2 ** 31);
    seeds.push(seed);
    rmSync(COUNTS_DIR, { recursive: true, force: true });
    const reportPath = join(OUT_DIR, `run-${run}.json`);
    const logPath = join(OUT_DIR, `run-${run}.log`);
    rmSync(reportPath, { force: true });
    const t0 = performance.now();
    const code = await vitestRun(files, seed, parsed, reportPath, logPath);
    const counts = readCounts();
    perRun.push(counts);
    const found = existsSync(reportPath) ? failuresOf(JSON.parse(readFileSync(reportPath, 'utf8')) as VitestJson, seed, ROOT) : [];
    if (code !== 0 && found.length === 0) found.push({ seed, file: '(vitest)', test: `exited ${code} without a report of failed tests`, title: null, details: [`see ${relative(ROOT, logPath)}`] });
    failures.push(...found);
    const countText = Object.entries(counts)
      .map(([b, n]) => `${b} ${n}`)
      .join(', ');
    process.stdout.write(`run ${String(run).padStart(String(parsed.runs).length)}/${parsed.runs}  seed ${String(seed).padStart(11)}  ${found.length === 0 ? 'ok    ' : `FAILED ${found.length}`}  ${duration(performance.now() - t0).padStart(8)}  ${countText}\n`);
    for (const f of found) process.stdout.write(`    ${f.file} > ${f.test}\n${f.details.map((d) => `      ${d}`).join('\n')}\n`);
  }

  const { text, short } = summaryTable(perRun, parsed.minInputs);
  const failingSeeds = [...new Set(failures.map((f) => f.seed))];
  process.stdout.write(`\n${'='.repeat(72)}\n`);
  process.stdout.write(`runs: ${parsed.runs}, failing: ${failingSeeds.length}, wall time ${duration(performance.now() - started)}, SWEEP_SCALE ${parsed.scale ?? 1}\n`);
  process.stdout.write(`seeds: ${seeds.join(' ')}\n\n${text}\n\n`);
  if (failures.length === 0) process.stdout.write('failing seeds: none\n');
  else {
    process.stdout.write('failing seeds:\n');
    for (const f of failures) {
      process.stdout.write(`  FC_SEED=${f.seed}  ${f.file} > ${f.test}\n${f.details.map((d) => `      ${d}`).join('\n')}\n      replay: ${replayCommand(f)}\n`);
    }
  }
  if (short.length > 0) process.stdout.write(`\nbelow --min-inputs ${thousands(parsed.minInputs)}: ${short.join(', ')}\n`);
  return failures.length > 0 || short.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
