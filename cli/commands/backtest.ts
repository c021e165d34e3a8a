/** `backtest`: the offline replay of cli/backtest-cli.ts, with a progress bar on a terminal. */
import type { Command } from 'commander';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../runtime/config';
import type { CliContext } from '../context';
import { progressBar } from '../progress';
import { withJson } from './common';

/** Replays shorter than this finish before a bar would say anything. */
/** cli/backtest-cli.ts's default, named here without loading it for --help. */
const DEFAULT_DATA_DIR = join(PROJECT_ROOT, 'samples');

const BAR_FROM_QUOTES = 20_000;

interface BacktestOptions {
  data?: string;
  markets?: string;
  model?: string;
  strategy?: string;
  seed?: string;
  timeZone?: string;
  fillModel?: string;
  paper?: string;
  live?: string;
  json?: boolean;
}

export function backtestArgv(opts: BacktestOptions): string[] {
  const argv: string[] = [];
  for (const key of ['data', 'markets', 'model', 'strategy', 'seed', 'timeZone', 'fillModel', 'paper', 'live'] as const) {
    const v = opts[key];
    if (v !== undefined) argv.push(`--${key === 'fillModel' ? 'fill-model' : key === 'timeZone' ? 'time-zone' : key}=${v}`);
  }
  if (opts.json) argv.push('--json');
  return argv;
}

export function registerBacktestCommand(program: Command, ctx: CliContext): void {
  withJson(program.command('backtest'))
    .description('replay a quotes file through the live strategy, sizing, risk, fill-model and ledger code (offline: no Temporal, no records)')
    .option('--data <path>', `directory with quotes.csv and markets.csv (and model.csv), or a quotes CSV with markets.csv beside it (default ${DEFAULT_DATA_DIR})`)
    .option('--markets <file>', 'markets file, instead of the one found from --data')
    .option('--model <file>', 'model estimates file (edge strategy)')
    .option('--strategy <name>', 'ema (default), ema-live, ma or edge')
    .option('--seed <n>', 'seed of the fill model draws (default 1)')
    .option('--time-zone <zone>', "the trading days' zone: a report day is a calendar day there (default TRADING_TIME_ZONE, else UTC)")
    .option('--fill-model <preset|json>', 'paper fill model: chapter, pre-live (default) or post-live, or JSON overrides')
    .option('--paper <file>', "a paper run's figures (stage-report JSON), shown beside the backtest")
    .option('--live <file>', "a live run's figures (stage-report JSON), shown beside the backtest")
    .addHelpText('after', '\nBad data in the files exits 1 naming file, line and field; bad arguments exit 2.')
    .action((opts: BacktestOptions) =>
      ctx.run(async () => (await import('../backtest-cli')).runBacktestCli(backtestArgv(opts), { stdout: (t) => ctx.out(t), stderr: (t) => ctx.err(t) }, progressBar(ctx.io.progressStream, 'Replaying quotes', BAR_FROM_QUOTES))),
    );
}
