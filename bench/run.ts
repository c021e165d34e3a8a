/**
 * `npm run bench [-- name-filter]`: runs every bench/*.bench.ts module (each exports
 * `run(): Promise<BenchResult[]>`) and prints one table.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import { type BenchResult, formatResults } from './harness';

const filter = process.argv[2];
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();

const results: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run: () => Promise<BenchResult[]> };
  process.stderr.write(`running ${file}…\n`);
  results.push(...(await mod.run()));
}
console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, node ${process.version}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
console.log(formatResults(results));
