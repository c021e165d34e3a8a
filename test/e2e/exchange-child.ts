/**
 * The paper exchange as its own process for the end-to-end suite: exchange/server.ts
 * startPaperExchange, as exchange/main.ts runs it (state persisted in a data dir, secrets from the
 * environment), with the markets and fill model the suite chooses (exchange/main.ts takes neither
 * on its command line). Prints `LISTENING <url>`, then one access-log line per request
 * (`<METHOD> <path> <status|hung|dropped> key=...`): the suite counts the dropped submissions in
 * them. SIGTERM closes it (state flushed).
 *
 * E2E_EXCHANGE: JSON { seed, dataDir, keyId, engine } (engine: exchange/config.ts EngineConfig fields).
 * PAPER_EXCHANGE_SECRET, PAPER_EXCHANGE_ADMIN_TOKEN: the trading key's secret and the admin token.
 */
import type { EngineConfig } from '../../exchange/config';
import { startPaperExchange } from '../../exchange/server';

interface ExchangeChildSpec {
  seed: number;
  dataDir: string;
  keyId: string;
  engine: Partial<Omit<EngineConfig, 'seed'>>;
}

const spec = JSON.parse(process.env.E2E_EXCHANGE ?? 'null') as ExchangeChildSpec | null;
const secret = process.env.PAPER_EXCHANGE_SECRET;
const adminToken = process.env.PAPER_EXCHANGE_ADMIN_TOKEN;
if (!spec || !secret || !adminToken) {
  console.error('E2E_EXCHANGE, PAPER_EXCHANGE_SECRET and PAPER_EXCHANGE_ADMIN_TOKEN must be set');
  process.exit(2);
}

const exchange = await startPaperExchange({
  host: '127.0.0.1',
  port: 0,
  seed: spec.seed,
  dataDir: spec.dataDir,
  keys: [{ keyId: spec.keyId, secret }],
  adminToken,
  engine: spec.engine,
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`LISTENING ${exchange.url}\n`);
const stop = () => void exchange.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
