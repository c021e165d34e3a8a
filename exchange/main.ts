/** CLI: `npm run exchange -- --port 8787 --seed 1 --data-dir data/exchange` (see exchange/cli.ts USAGE). */
import { InvalidInput } from '../domain/errors';
import { loadOrCreateSecret, parseCliArgs, USAGE } from './cli';
import { startPaperExchange } from './server';

async function main(): Promise<void> {
  let args;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof InvalidInput) {
      console.error(`paper exchange: bad arguments:\n${e.problems.map((p) => `  ${p.field}: ${p.problem} (got ${JSON.stringify(p.value)})`).join('\n')}\n\n${USAGE}`);
      process.exit(2);
    }
    throw e;
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const key = loadOrCreateSecret(process.env.PAPER_EXCHANGE_SECRET, args.dataDir, 'dev-key.secret');
  const admin = loadOrCreateSecret(process.env.PAPER_EXCHANGE_ADMIN_TOKEN, args.dataDir, 'admin.token');
  const exchange = await startPaperExchange({
    host: args.host,
    port: args.port,
    seed: args.seed,
    dataDir: args.dataDir,
    keys: [{ keyId: args.keyId, secret: key.secret }],
    adminToken: admin.secret,
    latencyMeanMs: args.latencyMeanMs,
    engine: { fillModel: args.fillModel },
    faults: args.faults,
    log: (line) => console.log(line),
  });
  console.log(`paper exchange listening on ${exchange.url}`);
  console.log(`trading key id: ${args.keyId} (secret from ${key.source})`);
  console.log(`admin token from ${admin.source}; state in ${args.dataDir}`);
  const stop = () => {
    void exchange.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
