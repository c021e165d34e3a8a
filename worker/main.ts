/**
 * `npm start`: the main job on embedded defaults.
 *
 * 1. The paper exchange, as its own process (unless PAPER_EXCHANGE_URL names one), with its state
 *    and a generated dev key under <data>/exchange. A new exchange opens with four days of price
 *    history, which the session's market watch reads to warm its strategy up (activities/warmup.ts).
 * 2. The worker (worker/worker.ts): records in PostgreSQL when DATABASE_URL is set, otherwise PGlite
 *    under <data>/pglite; Temporal at TEMPORAL_ADDRESS, otherwise a local dev server with its Web UI;
 *    the schedules; and today's trading session on the exchange's open markets the default
 *    strategy can still enter (unless SESSION_MARKETS names them).
 *
 * With TRADING_STAGE=LIVE neither step 1 nor the choice of markets happens: LIVE trades on Kalshi
 * (docs/live.md), never on a paper exchange, and trades the markets SESSION_MARKETS names.
 *
 * Stops on Ctrl-C, stopping the exchange it started. `npm run backtest` replays data offline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { loadOrCreateSecret } from '../exchange/cli';
import { loadPaperCredentials } from '../activities/venue/credentials';
import { createPaperVenue } from '../activities/venue/paper-venue';
import type { Market } from '../domain/market';
import { DAY_MS } from '../domain/strategy';
import { emaMeanReversion } from '../domain/strategies/ema-mean-reversion';
import { DEFAULTS, ENV, PROJECT_ROOT } from '../runtime/config';
import { main as runWorkerProcess } from './worker';

const DEFAULT_EXCHANGE_PORT = '8787';
/**
 * Every default market of the paper exchange (exchange/config.ts says why sixteen). Watching a
 * market costs one quote a poll; how many positions open is risk's limit (5), not this one.
 */
const MAX_SESSION_MARKETS = 16;

/**
 * The markets a session on the default strategy can trade: open, and not resolving within its
 * blackout. The case-study strategy (the default, DEFAULTS.strategyName) enters no new position
 * within 3 days of resolution, where it says fundamental uncertainty dominates; a market already
 * inside that window would only be watched, never traded. Markets that never resolve qualify.
 */
function tradeableMarkets(markets: readonly Market[], now: number, max = MAX_SESSION_MARKETS): string[] {
  const blackoutMs = emaMeanReversion.defaults.blackoutDays * DAY_MS;
  return markets
    .filter((m) => m.outcome === null && (m.resolvesAt === null || m.resolvesAt - now > blackoutMs))
    .slice(0, max)
    .map((m) => m.marketId);
}

/** Starts `exchange/main.ts` as a child process and resolves with its URL once it listens. */
function startExchange(env: NodeJS.ProcessEnv, dataDir: string, secret: string): Promise<{ child: ChildProcess; url: string }> {
  const port = env.PAPER_EXCHANGE_PORT ?? DEFAULT_EXCHANGE_PORT;
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'exchange', 'main.ts'), '--port', port, '--data-dir', dataDir], {
    cwd: PROJECT_ROOT,
    env: { ...env, [ENV.paperSecret]: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the paper exchange did not start within 60 s')), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the paper exchange exited with code ${code} (is port ${port} taken? set PAPER_EXCHANGE_PORT or PAPER_EXCHANGE_URL)`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      console.log(`[exchange] ${line}`);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
  });
}

async function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  let exchange: ChildProcess | null = null;
  try {
    const live = env[ENV.stage]?.trim().toUpperCase() === 'LIVE';
    if (!live && !env[ENV.paperUrl]) {
      const dataDir = join(env[ENV.dataDir] ?? join(PROJECT_ROOT, 'data'), 'exchange');
      const { secret } = loadOrCreateSecret(env[ENV.paperSecret], dataDir, 'dev-key.secret');
      const started = await startExchange(env, dataDir, secret);
      exchange = started.child;
      env[ENV.paperUrl] = started.url;
      env[ENV.paperKeyId] = 'dev';
      env[ENV.paperSecret] = secret;
    }
    if (!live && !env[ENV.sessionMarkets]) {
      const venue = createPaperVenue(loadPaperCredentials(env));
      env[ENV.sessionMarkets] = tradeableMarkets(await venue.listMarkets(), Date.now()).join(',');
      console.log(`Trading session markets (${DEFAULTS.strategyName}, open and outside its blackout): ${env[ENV.sessionMarkets] || '(none)'}`);
    }
    return await runWorkerProcess(env);
  } finally {
    exchange?.kill('SIGTERM');
  }
}

process.exitCode = await main();
