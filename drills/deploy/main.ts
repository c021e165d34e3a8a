/**
 * `npx tsx drills/deploy/main.ts [--quick]`: the deploy drill (drill.ts) at full size (or the
 * quick form of test/drills/deploy.test.ts) on TEMPORAL_ADDRESS, or on a dev server of its own
 * from TEMPORAL_CLI_PATH; records on TEST_DATABASE_URL/DATABASE_URL, else PGlite. Prints the
 * drill's row; exits 1 when a check or target is missed, 2 on bad arguments or without a server.
 */
import { formatReport } from '../table';
import { serverGate } from '../temporal/gate';
import { DrillTemporal } from '../temporal/server';
import { targetsMet } from '../types';
import { FULL_SIZES, QUICK_SIZES, installQuietRuntime, runDeployDrill } from './drill';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--quick');
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${JSON.stringify(unknown[0])}\nusage: npx tsx drills/deploy/main.ts [--quick]\n`);
  process.exit(2);
}
const gate = serverGate(process.env);
if (!gate.configured) {
  process.stderr.write(`${gate.reason}\n`);
  process.exit(2);
}
installQuietRuntime();
const log = (line: string) => process.stdout.write(`${line}\n`);
const temporal = await DrillTemporal.open(gate, process.env);
let ok = false;
try {
  const report = await runDeployDrill(temporal, args.includes('--quick') ? QUICK_SIZES : FULL_SIZES, log);
  process.stdout.write(`\n${formatReport([report.result])}\n`);
  ok = targetsMet(report.result);
} finally {
  await temporal.close();
}
process.exit(ok ? 0 : 1);
