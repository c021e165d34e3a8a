/**
 * `npm run sample-data`: writes the deterministic sample the backtest CLI runs by default
 * (samples/markets.csv, quotes.csv, model.csv; formats in cli/quotes-csv.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatMarketsCsv, formatModelCsv, formatQuotesCsv } from '../cli/quotes-csv';
import { generateSampleData, SAMPLE_OPTIONS, type SampleOptions } from '../testkit/sample-data';

export function writeSampleData(dir: string, options: SampleOptions = SAMPLE_OPTIONS): { files: string[]; bytes: number } {
  const data = generateSampleData(options);
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['markets.csv', formatMarketsCsv(data.markets)],
    ['quotes.csv', formatQuotesCsv(data.snapshots)],
    ['model.csv', formatModelCsv(data.model)],
  ];
  let bytes = 0;
  for (const [name, text] of files) {
    writeFileSync(join(dir, name), text);
    bytes += Buffer.byteLength(text);
  }
  return { files: files.map(([name]) => join(dir, name)), bytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = join(import.meta.dirname, '..', 'samples');
  const { files, bytes } = writeSampleData(dir);
  console.log(`wrote ${files.join(', ')} (${(bytes / 1_048_576).toFixed(2)} MiB)`);
}
