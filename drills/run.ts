/**
 * `npm run drills [-- --trials N] [--quick] [--seed S] [--only 1,3] [drill id ...]`: runs the
 * failure drills (those whose id starts with one named, if any) and prints the table; with TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH set, the server form of
 * drills 1 and 5 (drills/temporal/) runs after them. Exits 1 when a target is missed, 2 on bad arguments.
 */
import { formatReport, runAllDrills } from './index';
import { targetsMet } from './types';

function parseArgs(argv: readonly string[]): { trials?: number; quick: boolean; seed?: number; only?: string[] } {
  const out: { trials?: number; quick: boolean; seed?: number; only?: string[] } = { quick: false };
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i];
    if (arg === '--quick') out.quick = true;
    else if (arg === '--trials' || arg === '--seed') {
      const raw = value();
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || (arg === '--trials' && n < 1)) problems.push(`${arg}: expected ${arg === '--trials' ? 'a whole number of at least 1' : 'an integer'}, got ${JSON.stringify(raw)}`);
      else if (arg === '--trials') out.trials = n;
      else out.seed = n;
    } else if (arg === '--only') {
      const raw = value();
      if (!raw) problems.push('--only: expected drill numbers, e.g. 1,3');
      else out.only = raw.split(',').map((s) => s.trim());
    } else if (/^[a-z0-9][a-z0-9-]*$/.test(arg)) (out.only ??= []).push(arg);
    else problems.push(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\nusage: npm run drills -- [--trials N] [--quick] [--seed S] [--only 1,3] [drill id ...]\n`);
    process.exit(2);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const { results, server } = await runAllDrills({ ...args, log: (line) => process.stdout.write(`${line}\n`) });
process.stdout.write(`\n${formatReport(results)}\n`);
// Without TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH the server form (drills/temporal/) is skipped and says why.
process.stdout.write(`\n${server.summary}\n`);
process.exit(results.every(targetsMet) && server.error === null ? 0 : 1);
